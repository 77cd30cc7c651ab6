import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import {
  BINARY_XATTR,
  describeTree,
  hasTool,
  isRoot,
  makeFixtureTree,
  xattrsOf,
} from '../tar/fixture-tree.js';
import { TarWriter, type TarHeaderInput } from '../tar/index.js';
import { applyLayer } from './index.js';

let tmp: string;
let tree: string;
let layer: Buffer;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-apply-'));
  tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  makeFixtureTree(tree);
  layer = execFileSync(
    'tar',
    ['--format=pax', '--xattrs', '--xattrs-include=*', '-C', tree, '-cf', '-', '.'],
    {
      maxBuffer: 64 << 20,
    },
  );
  if (!isRoot) console.warn('apply tests: not root, owners and devices are not exercised');
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fresh(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function chunks(data: Buffer, size = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function tarOf(entries: [TarHeaderInput, Buffer?][]): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of w.readable) parts.push(c as Buffer);
  })();
  for (const [h, b] of entries) await w.addEntry(h, b);
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

describe('applyLayer matches GNU tar -x', () => {
  it('modes, owners, sizes, contents, links, devices, times and xattrs', async () => {
    const ours = fresh('ours');
    const theirs = fresh('theirs');
    const result = await applyLayer(chunks(layer), ours);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', theirs, '-xf', '-'], {
      input: layer,
    });
    expect(result.diffID).toBe(sha256(layer));
    expect(result.size).toBe(layer.length);
    expect(result.compression).toBe('none');
    expect(result.warnings).toEqual([]);
    const expected = describeTree(theirs, { dirMtimes: true, inodes: true });
    const actual = describeTree(ours, { dirMtimes: true, inodes: true });
    // inode numbers differ between trees; compare which paths share one instead
    const groups = (t: Record<string, { ino?: number }>): string[][] => {
      const m = new Map<number, string[]>();
      for (const [p, e] of Object.entries(t))
        if (e.ino !== undefined) m.set(e.ino, [...(m.get(e.ino) ?? []), p]);
      return [...m.values()];
    };
    expect(groups(actual)).toEqual(groups(expected));
    const strip = (t: Record<string, { ino?: number }>): unknown =>
      Object.fromEntries(Object.entries(t).map(([p, e]) => [p, { ...e, ino: undefined }]));
    expect(strip(actual)).toEqual(strip(expected));
    expect(xattrsOf(path.join(ours, 'etc/hosts'))).toEqual(
      xattrsOf(path.join(theirs, 'etc/hosts')),
    );
    expect(xattrsOf(path.join(ours, 'etc/hosts'))['user.binary']).toBe(
      BINARY_XATTR.toString('hex'),
    );
    // nanosecond-exact mtimes from PAX
    expect(fs.statSync(path.join(ours, 'etc/hosts')).mtimeMs).toBe(
      fs.statSync(path.join(theirs, 'etc/hosts')).mtimeMs,
    );
    if (isRoot)
      expect(fs.statSync(path.join(ours, 'null-dev')).rdev).toBe(fs.statSync('/dev/null').rdev);
  });

  it('reads gzip and zstd layers and reports the DiffID of the uncompressed tar', async () => {
    const gz = await applyLayer(chunks(gzipSync(layer)), fresh('gz'));
    expect(gz).toMatchObject({ diffID: sha256(layer), compression: 'gzip' });
    expect(describeTree(path.join(tmp, 'gz'))).toEqual(describeTree(tree));
    if (hasTool('zstd')) {
      const zst = execFileSync('zstd', ['-q', '-c'], { input: layer, maxBuffer: 64 << 20 });
      const z = await applyLayer(chunks(zst, 1000), fresh('zst'));
      expect(z).toMatchObject({ diffID: sha256(layer), compression: 'zstd' });
      expect(describeTree(path.join(tmp, 'zst'))).toEqual(describeTree(tree));
    } else {
      console.warn('zstd CLI missing: zstd layer apply not tested');
    }
  });

  it('applies from a blob file path (read synchronously in large chunks)', async () => {
    const file = path.join(tmp, 'layer.tar.gz');
    fs.writeFileSync(file, gzipSync(layer));
    const dir = fresh('from-path');
    const result = await applyLayer(file, dir);
    expect(result).toMatchObject({
      diffID: sha256(layer),
      compression: 'gzip',
      size: layer.length,
    });
    expect(describeTree(dir)).toEqual(describeTree(tree));
  });

  it('rejects a layer whose DiffID is not the expected one, naming both', async () => {
    const err = await applyLayer(chunks(layer), fresh('wrong-diffid'), {
      expectedDiffID: `sha256:${'0'.repeat(64)}`,
    }).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain(sha256(layer));
  });
});

describe('whiteouts', () => {
  const lower = (dir: string): void => {
    fs.mkdirSync(path.join(dir, 'keep'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'keep/a'), 'a');
    fs.writeFileSync(path.join(dir, 'gone'), 'x');
    fs.mkdirSync(path.join(dir, 'gonedir/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'gonedir/sub/f'), 'f');
    fs.mkdirSync(path.join(dir, 'opaque/old'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'opaque/old/f'), 'old');
    fs.writeFileSync(path.join(dir, 'opaque/oldfile'), 'old');
    fs.mkdirSync(path.join(dir, 'opaque/kept'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'opaque/kept/lowerchild'), 'old');
  };
  const entries: [TarHeaderInput, Buffer?][] = [
    [{ name: '.wh.gone', type: 'file' }],
    [{ name: '.wh.gonedir', type: 'file' }],
    [{ name: 'opaque/', type: 'dir', mode: 0o755 }],
    [{ name: 'opaque/kept/', type: 'dir', mode: 0o750 }],
    [{ name: 'opaque/new', type: 'file' }, Buffer.from('new')],
    [{ name: 'opaque/.wh..wh..opq', type: 'file' }], // after its siblings: applies first anyway
    [{ name: 'opaque/later', type: 'file' }, Buffer.from('later')],
    [{ name: 'readded', type: 'file' }, Buffer.from('r')],
    [{ name: '.wh.readded', type: 'file' }], // same layer: does not hide
    [{ name: '.wh.never-existed', type: 'file' }],
  ];

  it('merged: deletes files and dirs, empties opaque dirs of lower content only', async () => {
    const dir = fresh('wh-merged');
    lower(dir);
    await applyLayer(Readable.from([await tarOf(entries)]), dir);
    expect(Object.keys(describeTree(dir)).sort()).toEqual(
      ['keep', 'keep/a', 'opaque', 'opaque/kept', 'opaque/later', 'opaque/new', 'readded'].sort(),
    );
    expect(fs.statSync(path.join(dir, 'opaque/kept')).mode & 0o777).toBe(0o750);
  });

  it.skipIf(!isRoot)(
    'overlay: char 0/0 whiteouts and trusted.overlay.opaque=y, nothing deleted',
    async () => {
      const dir = fresh('wh-overlay');
      await applyLayer(Readable.from([await tarOf(entries)]), dir, {
        format: 'overlay',
      });
      const t = describeTree(dir);
      expect(t['gone']).toMatchObject({ type: 'char', rdev: 0 });
      expect(t['gonedir']).toMatchObject({ type: 'char', rdev: 0 });
      expect(t['never-existed']).toMatchObject({ type: 'char', rdev: 0 });
      expect(xattrsOf(path.join(dir, 'opaque'))['trusted.overlay.opaque']).toBe(
        Buffer.from('y').toString('hex'),
      );
      expect(t['opaque/new']?.type).toBe('file');
      expect(t['readded']?.type).toBe('file'); // a whiteout does not hide its own layer's entry
      expect(t['.wh.gone']).toBeUndefined();
    },
  );

  it('rejects a whiteout with no name', async () => {
    const err = await applyLayer(
      Readable.from([await tarOf([[{ name: 'd/.wh.', type: 'file' }]])]),
      fresh('wh-bad'),
    ).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain('d/.wh.');
  });
});

describe('traversal never writes outside the target', () => {
  let outside: string;
  beforeAll(() => {
    outside = fresh('outside');
    fs.writeFileSync(path.join(outside, 'victim'), 'safe');
  });
  const target = (name: string): string => fresh(path.join('jail', name));

  it('rejects ../ names, naming the entry', async () => {
    const dir = target('dotdot');
    const data = await tarOf([
      [{ name: '../../outside/victim', type: 'file' }, Buffer.from('pwned')],
    ]);
    const err = await applyLayer(Readable.from([data]), dir).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain('"../../outside/victim"');
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('safe');
  });

  it('contains absolute names inside the root', async () => {
    const dir = target('abs');
    const victim = path.join(outside, 'victim');
    await applyLayer(
      Readable.from([await tarOf([[{ name: victim, type: 'file' }, Buffer.from('contained')]])]),
      dir,
    );
    expect(fs.readFileSync(victim, 'utf8')).toBe('safe');
    expect(fs.readFileSync(path.join(dir, victim), 'utf8')).toBe('contained');
  });

  it('resolves an absolute symlink parent inside the root (a -> /outside, then a/victim)', async () => {
    const dir = target('abs-symlink');
    const data = await tarOf([
      [{ name: 'a', type: 'symlink', linkname: outside }],
      [{ name: 'a/victim', type: 'file' }, Buffer.from('contained')],
    ]);
    await applyLayer(Readable.from([data]), dir);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('safe');
    expect(fs.readFileSync(path.join(dir, outside, 'victim'), 'utf8')).toBe('contained');
    expect(fs.readlinkSync(path.join(dir, 'a'))).toBe(outside); // link kept verbatim
  });

  it('clamps a relative symlink parent at the root (b -> ../../../x, then b/y)', async () => {
    const dir = target('rel-symlink');
    const data = await tarOf([
      [{ name: 'b', type: 'symlink', linkname: '../../../outside' }],
      [{ name: 'b/victim', type: 'file' }, Buffer.from('contained')],
      [{ name: 'c', type: 'symlink', linkname: '/etc' }],
      [{ name: 'c/passwd', type: 'file' }, Buffer.from('contained')],
    ]);
    await applyLayer(Readable.from([data]), dir);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('safe');
    expect(fs.readFileSync(path.join(dir, 'outside/victim'), 'utf8')).toBe('contained');
    expect(fs.readFileSync(path.join(dir, 'etc/passwd'), 'utf8')).toBe('contained');
    expect(fs.readFileSync('/etc/passwd', 'utf8')).not.toBe('contained');
  });

  it('a symlink pre-existing in the target is followed inside the root only', async () => {
    const dir = target('pre-existing');
    fs.symlinkSync(outside, path.join(dir, 'lnk'));
    await applyLayer(
      Readable.from([await tarOf([[{ name: 'lnk/victim', type: 'file' }, Buffer.from('x')]])]),
      dir,
    );
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('safe');
  });

  it('a file entry replaces a symlink instead of writing through it', async () => {
    const dir = target('replace-link');
    fs.symlinkSync(path.join(outside, 'victim'), path.join(dir, 'f'));
    await applyLayer(
      Readable.from([await tarOf([[{ name: 'f', type: 'file' }, Buffer.from('x')]])]),
      dir,
    );
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('safe');
    expect(fs.lstatSync(path.join(dir, 'f')).isFile()).toBe(true);
  });

  it('rejects hard links that escape or point at nothing', async () => {
    const dir = target('hardlinks');
    for (const linkname of ['../../outside/victim', path.join(outside, 'victim')]) {
      const data = await tarOf([[{ name: 'h', type: 'hardlink', linkname }]]);
      const err = await applyLayer(Readable.from([data]), dir).catch((e: unknown) => e);
      expect(isInvalidArgument(err)).toBe(true);
      expect((err as Error).message).toContain('"h"');
    }
    expect(fs.statSync(path.join(outside, 'victim')).nlink).toBe(1);
  });

  it('whiteouts cannot delete outside the root', async () => {
    const dir = target('whiteout-escape');
    const data = await tarOf([
      [{ name: 'w', type: 'symlink', linkname: outside }],
      [{ name: 'w/.wh.victim', type: 'file' }],
    ]);
    await applyLayer(Readable.from([data]), dir);
    expect(fs.existsSync(path.join(outside, 'victim'))).toBe(true);
  });
});

describe('broken input', () => {
  it('truncated tar: invalid-argument naming the entry', async () => {
    const cut = layer.subarray(0, Math.floor(layer.length / 2));
    const err = await applyLayer(Readable.from([cut]), fresh('trunc')).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/truncated.*entry "/);
  });

  it('corrupt gzip: invalid-argument', async () => {
    const gz = Buffer.from(gzipSync(layer));
    for (let i = 200; i < 260; i++) gz[i] = gz[i]! ^ 0x5a;
    const err = await applyLayer(Readable.from([gz]), fresh('badgz')).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/gzip/);
  });

  it('bad header checksum: invalid-argument with the offset', async () => {
    const bad = Buffer.from(layer);
    bad[100] = bad[100]! ^ 1;
    const err = await applyLayer(Readable.from([bad]), fresh('badsum')).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/byte 0.*checksum/);
  });
});
