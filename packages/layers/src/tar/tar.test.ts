import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import {
  BINARY_XATTR,
  LONG_NAME,
  UNICODE_NAME,
  hasTool,
  isRoot,
  makeFixtureTree,
  xattrsOf,
} from './fixture-tree.js';
import { collectBody, readTar, TarWriter, type TarHeader, type TarHeaderInput } from './index.js';

let tmp: string;
let tree: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-tar-'));
  tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  makeFixtureTree(tree);
  if (!isRoot) console.warn('tar tests: not root, device nodes and owners are not exercised');
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function gnuTar(format: string): Buffer {
  return execFileSync(
    'tar',
    [`--format=${format}`, '--xattrs', '--xattrs-include=*', '-C', tree, '-cf', '-', '.'],
    {
      maxBuffer: 64 << 20,
    },
  );
}

async function readAll(
  data: Buffer,
  chunkSize = 1000,
): Promise<{ header: TarHeader; body: Buffer }[]> {
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
  }
  const out: { header: TarHeader; body: Buffer }[] = [];
  for await (const entry of readTar(chunks())) {
    out.push({ header: entry.header, body: await collectBody(entry.body) });
  }
  return out;
}

function byName(
  entries: { header: TarHeader; body: Buffer }[],
): Map<string, { header: TarHeader; body: Buffer }> {
  return new Map(entries.map((e) => [e.header.name.replace(/^\.\//, '').replace(/\/$/, ''), e]));
}

async function writeAll(entries: [TarHeaderInput, Buffer?][]): Promise<Buffer> {
  const w = new TarWriter({ highWaterMark: 4096 });
  const parts: Buffer[] = [];
  const consumed = (async () => {
    for await (const chunk of w.readable) parts.push(chunk as Buffer);
  })();
  for (const [h, body] of entries) await w.addEntry(h, body);
  await w.finish();
  await consumed;
  return Buffer.concat(parts);
}

describe('readTar reads what GNU tar writes', () => {
  it.each(['pax', 'gnu', 'posix'])(
    '%s format: names, types, modes, owners, links, sizes, bodies',
    async (format) => {
      const entries = byName(await readAll(gnuTar(format), 777));
      const hosts = entries.get('etc/hosts')!;
      expect(hosts.header.type).toBe('file');
      expect(hosts.body.toString()).toBe('127.0.0.1 localhost\n');
      expect(hosts.header.mtime.sec).toBe(1_600_000_000);
      const tool = [entries.get('bin/tool')!, entries.get('bin/tool-link')!].find(
        (e) => e.header.type === 'file',
      )!;
      expect(tool.header.mode).toBe(0o4755);
      expect(tool.body.length).toBe(300_000);
      expect(tool.body.equals(fs.readFileSync(path.join(tree, 'bin/tool')))).toBe(true);
      const link = entries.get('bin/tool-link') ?? entries.get('bin/tool');
      const hard = [...entries.values()].find((e) => e.header.type === 'hardlink')!;
      expect(link).toBeDefined();
      expect(hard.header.linkname.replace(/^\.\//, '')).toMatch(/^bin\/tool(-link)?$/);
      expect(entries.get('bin/tool-sym')!.header).toMatchObject({
        type: 'symlink',
        linkname: 'tool',
      });
      expect(entries.get(LONG_NAME)!.body.toString()).toBe('long\n');
      expect(entries.get('long-link')!.header.linkname).toBe(LONG_NAME);
      expect(entries.get(UNICODE_NAME)!.body.toString()).toBe('unicode\n');
      expect(entries.get('tmp')!.header).toMatchObject({ type: 'dir', mode: 0o1777 });
      expect(entries.get('setgid-dir')!.header.mode).toBe(0o2775);
      expect(entries.get('fifo')!.header.type).toBe('fifo');
      if (isRoot) {
        expect(entries.get('null-dev')!.header).toMatchObject({
          type: 'char',
          devmajor: 1,
          devminor: 3,
        });
        expect(hosts.header).toMatchObject({ uid: 1234, gid: 5678 });
        expect(entries.get('tmp')!.header).toMatchObject({ uid: 3_000_000, gid: 3_000_001 });
      }
    },
  );

  it('pax format: binary xattrs byte-exact and nanosecond mtimes', async () => {
    const entries = byName(await readAll(gnuTar('pax')));
    const hosts = entries.get('etc/hosts')!.header;
    expect(hosts.xattrs['user.binary']).toEqual(BINARY_XATTR);
    expect(entries.get('etc')!.header.xattrs['user.text']?.toString()).toBe('hello world');
    expect(hosts.mtime).toEqual({ sec: 1_600_000_000, nsec: 500_000_000 });
    expect(hosts.pax['SCHILY.xattr.user.binary']).toEqual(BINARY_XATTR);
  });

  it('reads v7 and ustar archives of short names', async () => {
    const small = path.join(tmp, 'small');
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(small, 'a.txt'), 'aaa');
    for (const format of ['v7', 'ustar', 'oldgnu']) {
      const data = execFileSync('tar', [`--format=${format}`, '-C', small, '-cf', '-', 'a.txt']);
      const [entry] = await readAll(data);
      expect(entry!.header).toMatchObject({ name: 'a.txt', type: 'file', size: 3 });
      expect(entry!.body.toString()).toBe('aaa');
    }
  });

  it('applies PAX global headers to the entries that follow', async () => {
    const data = execFileSync('tar', [
      '--format=pax',
      '--pax-option=globexthdr.name=glob,comment=hello',
      '-C',
      tree,
      '-cf',
      '-',
      'empty',
    ]);
    const entries = await readAll(data);
    expect(entries.map((e) => e.header.name)).toEqual(['empty']);
  });

  it('skips unread bodies and accepts one-byte chunks', async () => {
    const data = gnuTar('pax');
    const names: string[] = [];
    function* bytes(): Generator<Buffer> {
      for (let i = 0; i < data.length; i += 1) yield data.subarray(i, i + 1);
    }
    let viaBytes = 0;
    for await (const e of readTar(bytes())) viaBytes += e.header.size;
    for await (const e of readTar([data])) names.push(e.header.name);
    const listed = execFileSync('tar', ['-tf', '-'], { input: data, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(names).toEqual(listed);
    expect(viaBytes).toBeGreaterThan(300_000);
  });
});

describe('readTar rejects broken archives', () => {
  it('names the entry and offset of a truncated body', async () => {
    const data = gnuTar('pax');
    const cut = data.subarray(0, data.indexOf(Buffer.from('ustar')) + 512 * 40);
    const err = await readAll(cut).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/truncated.*entry ".*" \(header at byte \d+\)/);
  });

  it('names the offset of a bad checksum', async () => {
    const data = Buffer.from(gnuTar('ustar'));
    const corrupted = Buffer.from(data);
    corrupted[5] = corrupted[5]! ^ 0x01; // inside the first header's name field
    const err = await readAll(corrupted).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/corrupt at byte 0.*checksum mismatch/);
  });

  it('rejects text that is not a tar', async () => {
    const err = await readAll(Buffer.alloc(1024, 0x41)).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
  });

  it('rejects a header cut in the middle', async () => {
    const data = gnuTar('ustar').subarray(0, 300);
    const err = await readAll(data).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/truncated: a header block/);
  });
});

describe('TarWriter', () => {
  const entries: [TarHeaderInput, Buffer?][] = [
    [{ name: 'dir/', type: 'dir', mode: 0o755, mtime: { sec: 1_700_000_000, nsec: 0 } }],
    [
      {
        name: 'dir/file',
        type: 'file',
        mode: 0o4755,
        uid: 1000,
        gid: 1000,
        mtime: { sec: 1_700_000_000, nsec: 0 },
      },
      Buffer.from('hello\n'),
    ],
    [
      {
        name: `dir/${'x'.repeat(150)}`,
        type: 'file',
        mode: 0o644,
        mtime: { sec: 1_700_000_001, nsec: 123_456_789 },
      },
      Buffer.alloc(70_000, 7),
    ],
    [
      { name: `dir/${UNICODE_NAME}`, type: 'file', xattrs: { 'user.bin': BINARY_XATTR } },
      Buffer.from('u'),
    ],
    [{ name: 'dir/hard', type: 'hardlink', linkname: 'dir/file' }],
    [{ name: 'dir/sym', type: 'symlink', linkname: `../${'y'.repeat(140)}` }],
    [
      { name: 'dir/big-ids', type: 'file', uid: 5_000_000, gid: 6_000_000, uname: 'ü'.repeat(20) },
      Buffer.alloc(0),
    ],
    [{ name: 'dev', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
    [{ name: 'pipe', type: 'fifo', mode: 0o600 }],
  ];

  it('round-trips every field through readTar', async () => {
    const data = await writeAll(entries);
    const back = await readAll(data, 4096);
    expect(back.map((e) => e.header.name)).toEqual(entries.map(([h]) => h.name));
    for (const [i, [input, body]] of entries.entries()) {
      const { header, body: read } = back[i]!;
      const expected = { uid: 0, gid: 0, linkname: '', mtime: { sec: 0, nsec: 0 }, ...input };
      delete expected.xattrs;
      expect(header).toMatchObject(expected);
      expect(read.equals(body ?? Buffer.alloc(0))).toBe(true);
    }
    expect(back[3]!.header.xattrs['user.bin']).toEqual(BINARY_XATTR);
  });

  it('is deterministic', async () => {
    expect((await writeAll(entries)).equals(await writeAll(entries))).toBe(true);
  });

  it.skipIf(!hasTool('busybox'))('GNU tar and busybox tar list the same entries', async () => {
    const data = await writeAll(entries);
    const gnu = execFileSync('tar', ['-tf', '-'], { input: data, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(gnu).toEqual(entries.map(([h]) => h.name));
    const verbose = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], {
      input: data,
      encoding: 'utf8',
    });
    expect(verbose).toMatch(/-rwsr-xr-x 1000\/1000\s+6 2023-11-14 \d\d:13 dir\/file/);
    expect(verbose).toMatch(/5000000\/6000000/);
    expect(verbose).toContain(`dir/hard link to dir/file`);
    const bb = execFileSync('busybox', ['tar', '-tf', '-'], { input: data, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(bb).toEqual(gnu);
  });

  it('GNU tar extracts binary xattrs written by TarWriter', async () => {
    const data = await writeAll(entries);
    const out = fs.mkdtempSync(path.join(tmp, 'x-'));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', out, '-xf', '-'], { input: data });
    expect(xattrsOf(path.join(out, 'dir', UNICODE_NAME))['user.bin']).toBe(
      BINARY_XATTR.toString('hex'),
    );
    expect(fs.readFileSync(path.join(out, 'dir', 'x'.repeat(150))).length).toBe(70_000);
    expect(fs.statSync(path.join(out, 'dir', 'x'.repeat(150))).mtimeMs).toBeCloseTo(
      1_700_000_001_123.456,
      0,
    );
    expect(fs.statSync(path.join(out, 'dir', 'hard')).ino).toBe(
      fs.statSync(path.join(out, 'dir', 'file')).ino,
    );
  });

  it('rejects a body that does not match the size', async () => {
    const w = new TarWriter();
    w.readable.resume();
    w.readable.on('error', () => undefined);
    const err = await w
      .addEntry({ name: 'f', type: 'file', size: 10 }, [Buffer.from('abc')])
      .catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain('"f"');
  });
});
