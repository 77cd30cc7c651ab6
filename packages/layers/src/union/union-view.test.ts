import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, link, chmod, chown } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInvalidArgument, isNotFound } from '@lab/oci';
import { listTree, listUnionView } from '../testsuite/tree-listing.js';
import { isMountPoint, mountAll, unmount } from '../snapshots/mount.js';
import { openUnionView } from './union-view.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn('skipping overlay-format union tests: mknod and trusted.* xattrs need root');

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-union-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes files into a layer dir: keys ending in / are dirs, values starting with -> are symlinks. */
async function layer(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  await mkdir(root, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    if (rel.endsWith('/')) await mkdir(file, { recursive: true });
    else if (content.startsWith('->')) await symlink(content.slice(2), file);
    else await writeFile(file, content);
  }
  return root;
}

function whiteout(file: string): void {
  execFileSync('mknod', [file, 'c', '0', '0']);
}

function opaque(dir: string): void {
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
}

describe('openUnionView, merged (tar-style) layers', () => {
  it('hides .wh. deletions, honours opaque markers and never shows the markers', async () => {
    const l0 = await layer('l0', {
      'a/x': 'x0',
      'a/y': 'y0',
      'keep/k': 'k',
      'gone/g': 'g',
      'file-then-dir': 'f',
      top: 'old',
    });
    const l1 = await layer('l1', {
      'a/.wh.x': '',
      'keep/.wh..wh..opq': '',
      'keep/new': 'n',
      '.wh.gone': '',
      '.wh.file-then-dir': '',
      'file-then-dir/inside': 'i',
      top: 'new',
    });
    const view = await openUnionView([l0, l1], { format: 'merged' });
    expect(await view.readdir('/')).toEqual(['a', 'file-then-dir', 'keep', 'top']);
    expect(await view.readdir('/a')).toEqual(['y']);
    expect(await view.readdir('/keep')).toEqual(['new']);
    expect(await view.readdir('/file-then-dir')).toEqual(['inside']);
    expect((await view.readFile('/top')).toString()).toBe('new');
    expect(await view.lookup('/a/x')).toBeUndefined();
    expect(await view.lookup('/a/.wh.x')).toBeUndefined();
    expect(await view.lookup('/gone/g')).toBeUndefined();
    expect((await view.stat('/a/y')).layer).toBe(0);
    await expect(view.stat('/gone')).rejects.toSatisfy(isNotFound);
    const paths: string[] = [];
    for await (const entry of view.walk()) paths.push(`${entry.type} ${entry.path}`);
    expect(paths).toEqual([
      'dir /',
      'dir /a',
      'file /a/y',
      'dir /file-then-dir',
      'file /file-then-dir/inside',
      'dir /keep',
      'file /keep/new',
      'file /top',
    ]);
  });

  it('a dir replacing a file and a file replacing a dir hide what was below', async () => {
    const l0 = await layer('l0', { 'd/child': 'c', f: 'file' });
    const l1 = await layer('l1', { d: 'now a file', 'f/inner': 'now a dir' });
    const view = await openUnionView([l0, l1], { format: 'merged' });
    expect((await view.stat('/d')).type).toBe('file');
    expect(await view.lookup('/d/child')).toBeUndefined();
    expect(await view.readdir('/f')).toEqual(['inner']);
    await expect(view.readdir('/d')).rejects.toSatisfy(isInvalidArgument);
  });

  it('resolves symlinks inside the view: absolute targets and .. never leave it', async () => {
    const l0 = await layer('l0', {
      'etc/passwd': 'root:x:0:0',
      'etc/abs': '->/etc/passwd',
      'etc/rel': '->../etc/./passwd',
      'escape/up': '->../../../../../etc/passwd',
      'escape/host': '->/proc/self/status',
      dirlink: '->/etc',
      'loop/a': '->b',
      'loop/b': '->a',
    });
    const view = await openUnionView([l0], { format: 'merged' });
    expect((await view.readFile('/etc/abs')).toString()).toBe('root:x:0:0');
    expect((await view.readFile('/etc/rel')).toString()).toBe('root:x:0:0');
    expect((await view.readFile('/escape/up')).toString()).toBe('root:x:0:0');
    expect((await view.readFile('/dirlink/passwd')).toString()).toBe('root:x:0:0');
    expect(await text(await view.createReadStream('/dirlink/abs'))).toBe('root:x:0:0');
    expect(await view.lookup('/escape/host')).toMatchObject({ type: 'symlink' });
    await expect(view.stat('/escape/host')).rejects.toSatisfy(isNotFound);
    expect(await view.readlink('/etc/abs')).toBe('/etc/passwd');
    expect((await view.stat('/dirlink')).type).toBe('dir');
    expect((await view.lstat('/dirlink')).type).toBe('symlink');
    expect(await view.readdir('/dirlink')).toEqual(['abs', 'passwd', 'rel']);
    await expect(view.stat('/loop/a')).rejects.toSatisfy(isInvalidArgument);
    expect(await view.lookup('/../../etc/passwd')).toMatchObject({ path: '/etc/passwd' });
  });

  it('refuses a missing layer directory', async () => {
    await expect(openUnionView([path.join(tmp, 'nope')], { format: 'merged' })).rejects.toSatisfy(
      isNotFound,
    );
    await expect(openUnionView([], { format: 'merged' })).rejects.toSatisfy(isInvalidArgument);
  });
});

describe.skipIf(!isRoot)('openUnionView, overlay-format layers', () => {
  it('honours 0/0 char-device whiteouts, opaque xattrs and xattr whiteouts', async () => {
    const l0 = await layer('l0', {
      'a/x': 'x',
      'a/y': 'y',
      'o/old': 'o',
      gone: 'g',
      '.wh.real': 'r',
    });
    const l1 = await layer('l1', { 'o/fresh': 'f', 'a/z': 'z', 'a/xattr-wh': '' });
    whiteout(path.join(l1, 'a', 'x'));
    whiteout(path.join(l1, 'gone'));
    opaque(path.join(l1, 'o'));
    const l2 = await layer('l2', { 'a/': '' });
    await writeFile(path.join(l2, 'a', 'y'), '');
    execFileSync('setfattr', [
      '-n',
      'trusted.overlay.whiteout',
      '-v',
      'y',
      path.join(l2, 'a', 'y'),
    ]);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'x', path.join(l2, 'a')]);
    const view = await openUnionView([l0, l1, l2], { format: 'overlay' });
    expect(await view.readdir('/')).toEqual(['.wh.real', 'a', 'o']);
    expect(await view.readdir('/a')).toEqual(['xattr-wh', 'z']);
    expect(await view.readdir('/o')).toEqual(['fresh']);
    expect(await view.lookup('/gone')).toBeUndefined();
    expect(await view.lookup('/a/y')).toBeUndefined();
    expect((await view.readFile('/.wh.real')).toString()).toBe('r');
  });

  it('refuses layers written with redirect_dir', async () => {
    const l0 = await layer('l0', { 'moved/': '' });
    execFileSync('setfattr', [
      '-n',
      'trusted.overlay.redirect',
      '-v',
      '/orig',
      path.join(l0, 'moved'),
    ]);
    await expect(openUnionView([l0], { format: 'overlay' })).rejects.toSatisfy(isInvalidArgument);
  });

  it('shows exactly what a read-only kernel overlay mount of the same layers shows', async () => {
    const l0 = await layer('l0', {
      'bin/sh': '#!sh',
      'etc/conf': 'v1',
      'etc/link': '->conf',
      'data/a': 'a',
      'data/b': 'b',
      'tree/sub/leaf': 'l',
      swap: 'file',
    });
    await chmod(path.join(l0, 'bin', 'sh'), 0o4755);
    await chown(path.join(l0, 'data', 'a'), 1000, 1001);
    await link(path.join(l0, 'bin', 'sh'), path.join(l0, 'bin', 'ash'));
    execFileSync('mkfifo', [path.join(l0, 'fifo')]);
    execFileSync('mknod', [path.join(l0, 'null'), 'c', '1', '3']);
    const l1 = await layer('l1', {
      'etc/conf': 'v2',
      'swap/inner': 'dir now',
      'tree/': '',
      'data/': '',
    });
    whiteout(path.join(l1, 'data', 'b'));
    opaque(path.join(l1, 'tree'));
    await writeFile(path.join(l1, 'tree', 'only'), 'only');
    const l2 = await layer('l2', { 'etc/': '', 'data/c': 'c' });
    whiteout(path.join(l2, 'etc', 'link'));
    await chmod(path.join(l2, 'etc'), 0o700);

    const layers = [l0, l1, l2];
    const target = path.join(tmp, 'mnt');
    await mkdir(target);
    await mountAll(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: ['ro', `lowerdir=${[...layers].reverse().join(':')}`],
        },
      ],
      target,
    );
    try {
      const kernel = await listTree(target);
      const model = await listUnionView(await openUnionView(layers, { format: 'overlay' }));
      expect(model).toEqual(kernel);
      expect(model.find((e) => e.path === '/bin/ash')?.linkedTo).toBe('/bin/ash');
      expect(model.map((e) => e.path)).not.toContain('/data/b');
    } finally {
      await unmount(target);
    }
    expect(await isMountPoint(target)).toBe(false);
  });
});
