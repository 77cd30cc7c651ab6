import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import {
  compactOverlayOptions,
  isMountPoint,
  listMountPoints,
  mountAll,
  unmount,
} from './mount.js';
import { openSnapshotter } from './open.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('skipping overlay mount tests: mounting needs root');

describe('compactOverlayOptions', () => {
  it('leaves options that fit in a page alone', () => {
    const options = ['index=off', 'lowerdir=/a/1/fs:/a/2/fs'];
    expect(compactOverlayOptions(options)).toEqual({ options });
  });

  it('rewrites long layer paths relative to their common parent', () => {
    const base = `/var/lib/${'x'.repeat(200)}/snapshots`;
    const lower = Array.from({ length: 30 }, (_, i) => `${base}/${i + 1}/fs`);
    const { options, cwd } = compactOverlayOptions([
      'index=off',
      `workdir=${base}/99/work`,
      `upperdir=${base}/99/fs`,
      `lowerdir=${lower.join(':')}`,
    ]);
    expect(cwd).toBe(base);
    expect(options).toEqual([
      'index=off',
      'workdir=99/work',
      'upperdir=99/fs',
      `lowerdir=${lower.map((_, i) => `${i + 1}/fs`).join(':')}`,
    ]);
  });

  it('refuses a stack too long even with relative paths', () => {
    const lower = Array.from({ length: 1000 }, (_, i) => `/s/${i}/fs`);
    let caught: unknown;
    try {
      compactOverlayOptions([`lowerdir=${lower.join(':')}`]);
    } catch (err) {
      caught = err;
    }
    expect(isInvalidArgument(caught)).toBe(true);
  });
});

describe.skipIf(!isRoot)('overlay mounts of deep stacks', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-mount-'));
  });
  afterEach(async () => {
    const left = (await listMountPoints()).filter((m) => m.startsWith(`${tmp}/`));
    expect(left, 'mounts left behind').toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });

  it('mounts 40 layers under a long root, where absolute lowerdir paths exceed a page', async () => {
    const root = path.join(tmp, 'r'.repeat(120), 's'.repeat(120));
    const sn = await openSnapshotter('overlay', root);
    let parent: string | undefined;
    const count = 40;
    for (let i = 0; i < count; i++) {
      await sn.prepare(`p-${i}`, parent);
      const dir = await sn.writableDir(`p-${i}`);
      await writeFile(path.join(dir, `f-${i}`), `layer ${i}`);
      await writeFile(path.join(dir, 'top'), `written by ${i}`);
      await sn.commit(`c-${i}`, `p-${i}`);
      parent = `c-${i}`;
    }
    const mounts = await sn.prepare('active', parent);
    const lowerdir = mounts[0]!.options.find((o) => o.startsWith('lowerdir='))!;
    expect(mounts[0]!.options.join(',').length).toBeGreaterThan(4096);
    expect(lowerdir.split(':')).toHaveLength(count);

    const target = path.join(tmp, 'mnt');
    await mkdir(target);
    await mountAll(mounts, target);
    try {
      expect(await isMountPoint(target)).toBe(true);
      const names = await readdir(target);
      expect(names).toHaveLength(count + 1);
      expect(await readFile(path.join(target, 'f-0'), 'utf8')).toBe('layer 0');
      expect(await readFile(path.join(target, 'top'), 'utf8')).toBe(`written by ${count - 1}`);
      await writeFile(path.join(target, 'new'), 'new');
    } finally {
      await unmount(target);
    }
    expect(await isMountPoint(target)).toBe(false);
    expect(await readdir(await sn.writableDir('active'))).toEqual(['new']);

    const view = path.join(tmp, 'view');
    await mkdir(view);
    await mountAll(await sn.view('view', parent), view);
    try {
      expect(await readdir(view)).toHaveLength(count + 1);
      await expect(writeFile(path.join(view, 'x'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
    } finally {
      await unmount(view);
    }
  });
});

describe.skipIf(!isRoot)('mountAll failures', () => {
  it('unmounts what it mounted when a later mount fails', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-mount-fail-'));
    try {
      const source = path.join(tmp, 'src');
      const target = path.join(tmp, 'mnt');
      await mkdir(source);
      await mkdir(target);
      await expect(
        mountAll(
          [
            { type: 'bind', source, options: ['rbind', 'ro'] },
            { type: 'bind', source: path.join(tmp, 'missing'), options: ['rbind', 'ro'] },
          ],
          target,
        ),
      ).rejects.toThrow(/missing/);
      expect(await isMountPoint(target)).toBe(false);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
