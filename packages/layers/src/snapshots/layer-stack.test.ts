import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTree, listUnionView, type TreeEntry } from '../testsuite/tree-listing.js';
import { openUnionView } from '../union/union-view.js';
import { LAYERS, toTarStyle } from './layer-stack.fixture.js';
import { listMountPoints, mountAll, unmount } from './mount.js';
import { openSnapshotter } from './open.js';
import type { Mount, Snapshotter } from './types.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn('skipping layer-stack tests: mounting overlay and bind mounts needs root');

describe.skipIf(!isRoot)('one layer stack, four ways to see it', () => {
  let tmp: string;
  let overlay: Snapshotter;
  let native: Snapshotter;
  let counter = 0;

  async function mounted<T>(mounts: Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
    const target = path.join(tmp, `mnt-${counter++}`);
    await mkdir(target);
    await mountAll(mounts, target);
    try {
      return await fn(target);
    } finally {
      await unmount(target);
    }
  }

  async function build(sn: Snapshotter): Promise<void> {
    let parent: string | undefined;
    for (const [i, apply] of LAYERS.entries()) {
      await mounted(await sn.prepare(`build-${i}`, parent), apply);
      await sn.commit(`layer-${i}`, `build-${i}`);
      parent = `layer-${i}`;
    }
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-layer-stack-'));
    overlay = await openSnapshotter('overlay', path.join(tmp, 'root'));
    native = await openSnapshotter('native', path.join(tmp, 'root'));
    await build(overlay);
    await build(native);
  });

  afterAll(async () => {
    const left = (await listMountPoints()).filter((m) => m.startsWith(`${tmp}/`));
    expect(left, 'mounts left behind').toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });

  it.each(LAYERS.map((_, i) => i))(
    'after layer %i: kernel overlay, native copy and both union views list identical trees',
    async (i) => {
      const name = `layer-${i}`;
      const kernel = await mounted(await overlay.view(`kernel-${i}`, name), listTree);
      const copied = await mounted(await native.view(`native-${i}`, name), listTree);
      const stack = await overlay.layerStack(name);
      const overlayModel = await listUnionView(await openUnionView(stack, { format: 'overlay' }));
      const tarStyle: string[] = [];
      for (const [j, dir] of stack.entries()) {
        const out = path.join(tmp, `tar-style-${i}-${j}`);
        await mkdir(out);
        await toTarStyle(dir, out);
        tarStyle.push(out);
      }
      const tarModel = await listUnionView(await openUnionView(tarStyle, { format: 'merged' }));

      expect(copied).toEqual(kernel);
      expect(overlayModel).toEqual(kernel);
      expect(tarModel).toEqual(kernel);
      expect(kernel.length).toBeGreaterThan(10);
    },
  );

  it('the final tree holds what the five layers say', async () => {
    const tree = await mounted(await overlay.view('final', 'layer-4'), listTree);
    const byPath = new Map<string, TreeEntry>(tree.map((e) => [e.path, e]));
    expect(byPath.get('/data')).toMatchObject({ type: 'dir', mode: 0o750 });
    expect([...byPath.keys()].filter((p) => p.startsWith('/data/'))).toEqual(['/data/fresh']);
    expect(byPath.get('/dirtofile')?.type).toBe('file');
    expect(byPath.get('/filetodir/new')?.type).toBe('file');
    expect(byPath.has('/etc/conf')).toBe(false);
    expect(byPath.has('/etc/link')).toBe(false);
    expect(byPath.get('/abs')).toMatchObject({ type: 'symlink', target: '/etc/conf' });
    expect(byPath.get('/bin/tool2')).toMatchObject({ mode: 0o700, uid: 1000, gid: 1000 });
    expect(byPath.get('/bin/su')?.mode).toBe(0o4755);
    expect(byPath.get('/tmp')?.mode).toBe(0o1777);
    expect(byPath.get('/dev/null')).toMatchObject({ type: 'char', rdev: 259 });
    expect(byPath.has('/dev/fifo')).toBe(false);
    expect(byPath.get('/hl/two')?.linkedTo).toBeUndefined();
    expect(byPath.get('/pair-b')?.linkedTo).toBe('/pair-a');
    expect(byPath.get('/deep/a/b')?.type).toBe('file');
    expect(byPath.get('/usr/lib/y.so')?.type).toBe('file');
    expect(byPath.has('/usr/lib/x.so')).toBe(false);
  });

  it('copy-on-write: changes in an active overlay snapshot leave committed layers untouched', async () => {
    const stack = await overlay.layerStack('layer-4');
    const fingerprint = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const dir of stack) {
        for (const entry of await listTree(dir)) {
          const st = await lstat(path.join(dir, entry.path));
          out.push(`${dir} ${JSON.stringify(entry)} ${st.mtimeMs} ${st.ino}`);
        }
        out.push(
          execFileSync('getfattr', [
            '--absolute-names',
            '-R',
            '-P',
            '-h',
            '-d',
            '-m',
            '-',
            dir,
          ]).toString(),
        );
      }
      return out;
    };
    const before = await fingerprint();
    const original = await mounted(await overlay.view('cow-original', 'layer-4'), listTree);

    await mounted(await overlay.prepare('cow-writer', 'layer-4'), async (m) => {
      await writeFile(path.join(m, 'bin', 'su'), 'patched');
      await chmod(path.join(m, 'bin', 'su'), 0o700);
      await rm(path.join(m, 'usr'), { recursive: true });
      await unlink(path.join(m, 'hl', 'two'));
      await writeFile(path.join(m, 'data', 'fresh'), 'changed', { flag: 'a' });
      await mkdir(path.join(m, 'brand-new'));
    });
    expect(await fingerprint()).toEqual(before);

    const sibling = await mounted(await overlay.prepare('cow-sibling', 'layer-4'), listTree);
    expect(sibling).toEqual(original);
    const writer = await mounted(await overlay.mounts('cow-writer'), listTree);
    expect(writer).not.toEqual(original);
    expect(writer.map((e) => e.path)).not.toContain('/usr');
  });
});
