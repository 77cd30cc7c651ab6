import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTree, hasTool, isRoot, makeFixtureTree } from '../tar/fixture-tree.js';
import { readTar } from '../tar/index.js';
import { applyLayer, createLayer, diffTrees, type LayerSource } from './index.js';

let tmp: string;
let counter = 0;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-create-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fresh(): string {
  const dir = path.join(tmp, `d${counter++}`);
  fs.mkdirSync(dir);
  return dir;
}

function memory(): { out: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { out, data: () => Buffer.concat(parts) };
}

async function layerOf(
  source: LayerSource,
  options: Parameters<typeof createLayer>[2] = {},
): Promise<{ blob: Buffer; result: Awaited<ReturnType<typeof createLayer>> }> {
  const m = memory();
  const result = await createLayer(source, m.out, options);
  return { blob: m.data(), result };
}

async function names(blob: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar([gunzipSync(blob)])) out.push(e.header.name);
  return out;
}

function copyTree(from: string): string {
  const to = fresh();
  execFileSync('cp', ['-a', `${from}/.`, to]);
  return to;
}

function write(root: string, rel: string, content: string, mtime = 1_600_000_000): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.utimesSync(abs, mtime, mtime);
}

describe('diffTrees', () => {
  it('reports adds, modifies and deletes in layer order, one delete per removed dir', async () => {
    const lower = fresh();
    write(lower, 'same', 'x');
    write(lower, 'changed-content', 'aaaa'); // same size and mtime: content decides
    write(lower, 'changed-mode', 'x');
    write(lower, 'gone', 'x');
    write(lower, 'gonedir/a/b', 'x');
    write(lower, 'was-dir/child', 'x');
    fs.mkdirSync(path.join(lower, 'became-dir'));
    fs.rmdirSync(path.join(lower, 'became-dir'));
    write(lower, 'became-dir', 'file');
    const upper = copyTree(lower);
    write(upper, 'changed-content', 'bbbb');
    fs.chmodSync(path.join(upper, 'changed-mode'), 0o600);
    fs.rmSync(path.join(upper, 'gone'));
    fs.rmSync(path.join(upper, 'gonedir'), { recursive: true });
    fs.rmSync(path.join(upper, 'was-dir'), { recursive: true });
    write(upper, 'was-dir', 'now a file');
    fs.rmSync(path.join(upper, 'became-dir'));
    write(upper, 'became-dir/inner', 'x');
    write(upper, 'new/deep/file', 'x');
    const { changes } = await diffTrees(lower, upper);
    expect(changes).toEqual([
      { kind: 'modify', path: 'became-dir' },
      { kind: 'add', path: 'became-dir/inner' },
      { kind: 'modify', path: 'changed-content' },
      { kind: 'modify', path: 'changed-mode' },
      { kind: 'delete', path: 'gone' },
      { kind: 'delete', path: 'gonedir' },
      { kind: 'add', path: 'new' },
      { kind: 'add', path: 'new/deep' },
      { kind: 'add', path: 'new/deep/file' },
      { kind: 'modify', path: 'was-dir' },
    ]);
  });
});

describe('createLayer from two trees', () => {
  it('applied onto the lower tree gives the upper tree (fixture with every entry kind)', async () => {
    const lower = fresh();
    write(lower, 'etc/old', 'old');
    write(lower, 'var/cache/x', 'x');
    const upper = fresh();
    makeFixtureTree(upper);
    const { blob, result } = await layerOf({ kind: 'trees', lower, upper });
    expect(result.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(result.size).toBe(blob.length);
    const names_ = await names(blob);
    expect(names_).toContain('.wh.var');
    expect(names_).toContain('etc/.wh.old');
    const target = copyTree(lower);
    const applied = await applyLayer(Readable.from([blob]), target);
    expect(applied.diffID).toBe(result.diffID);
    expect(describeTree(target)).toEqual(describeTree(upper));
    // hard links stay links
    expect(fs.statSync(path.join(target, 'bin/tool')).ino).toBe(
      fs.statSync(path.join(target, 'bin/tool-link')).ino,
    );
  });

  it('is deterministic: the same tree twice, and a copy of it, give the same digests', async () => {
    const upper = fresh();
    makeFixtureTree(upper);
    const a = await layerOf({ kind: 'trees', upper });
    const b = await layerOf({ kind: 'trees', upper });
    const c = await layerOf({ kind: 'trees', upper: copyTree(upper) });
    expect(b.result).toEqual(a.result);
    expect(c.result).toEqual(a.result);
    expect(b.blob.equals(a.blob)).toBe(true);
  });

  it('writes numeric owners, no names, no atime/ctime, second mtimes, clamps to SOURCE_DATE_EPOCH', async () => {
    const upper = fresh();
    write(upper, 'old', 'o', 1_000_000_000);
    write(upper, 'new', 'n', 1_700_000_000);
    fs.utimesSync(path.join(upper, 'new'), 1_700_000_000.5, 1_700_000_000.5);
    const { blob, result } = await layerOf(
      { kind: 'trees', upper },
      { sourceDateEpoch: 1_500_000_000, compression: 'none' },
    );
    expect(result.digest).toBe(result.diffID);
    expect(result.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    const headers = [];
    for await (const e of readTar([blob])) headers.push(e.header);
    expect(
      headers.map((h) => [
        h.name,
        h.mtime.sec,
        h.mtime.nsec,
        h.uname,
        h.gname,
        h.atime,
        Object.keys(h.pax),
      ]),
    ).toEqual([
      ['new', 1_500_000_000, 0, '', '', undefined, []],
      ['old', 1_000_000_000, 0, '', '', undefined, []],
    ]);
  });

  it.skipIf(!hasTool('busybox'))('GNU tar and busybox tar list the layer the same', async () => {
    const upper = fresh();
    makeFixtureTree(upper);
    const { blob } = await layerOf({ kind: 'trees', upper });
    const ours = await names(blob);
    const gnu = execFileSync('tar', ['-tzf', '-'], { input: blob, encoding: 'utf8' })
      .trim()
      .split('\n');
    const bb = execFileSync('busybox', ['tar', '-tzf', '-'], { input: blob, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(gnu).toEqual(ours);
    expect(bb).toEqual(ours);
  });
});

describe('interop', () => {
  it.skipIf(!isRoot || !hasTool('umoci') || !hasTool('skopeo'))(
    'umoci unpacks an image made of our layer into the same tree; skopeo verifies its digests',
    async () => {
      const upper = fresh();
      makeFixtureTree(upper);
      const { blob, result } = await layerOf({ kind: 'trees', upper });
      const layout = fresh();
      const put = (data: Buffer | string): { digest: string; size: number } => {
        const buf = Buffer.from(data);
        const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
        fs.mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true });
        fs.writeFileSync(path.join(layout, 'blobs/sha256', digest.slice(7)), buf);
        return { digest, size: buf.length };
      };
      const layerDesc = put(blob);
      expect(layerDesc).toEqual({ digest: result.digest, size: result.size });
      const config = put(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: {},
          rootfs: { type: 'layers', diff_ids: [result.diffID] },
        }),
      );
      const manifest = put(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: result.mediaType, ...layerDesc }],
        }),
      );
      fs.writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      fs.writeFileSync(
        path.join(layout, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              ...manifest,
              annotations: { 'org.opencontainers.image.ref.name': 'latest' },
            },
          ],
        }),
      );
      const bundle = path.join(fresh(), 'bundle');
      execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, bundle], { stdio: 'pipe' });
      expect(describeTree(path.join(bundle, 'rootfs'))).toEqual(describeTree(upper));
      const copy = path.join(fresh(), 'dir');
      execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `dir:${copy}`], {
        stdio: 'pipe',
      });
      expect(fs.readFileSync(path.join(copy, result.digest.slice(7))).equals(blob)).toBe(true);
    },
  );
});

describe('createLayer from an overlay upper dir', () => {
  it.skipIf(!isRoot)(
    'a real overlayfs mount: upper dir changes applied to lower give the merged view',
    async () => {
      const lower = fresh();
      write(lower, 'keep', 'k');
      write(lower, 'rm-file', 'x');
      write(lower, 'rm-dir/a/b', 'x');
      write(lower, 'opaque-dir/old', 'x');
      write(lower, 'modify', 'before');
      const upper = fresh();
      const work = fresh();
      const merged = fresh();
      try {
        execFileSync('mount', [
          '-t',
          'overlay',
          'overlay',
          '-o',
          `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
          merged,
        ]);
      } catch (err) {
        console.warn(`overlay mount not possible here, test skipped: ${String(err)}`);
        return;
      }
      try {
        fs.rmSync(path.join(merged, 'rm-file'));
        fs.rmSync(path.join(merged, 'rm-dir'), { recursive: true });
        fs.rmSync(path.join(merged, 'opaque-dir'), { recursive: true });
        write(merged, 'opaque-dir/new', 'n');
        write(merged, 'modify', 'after!');
        write(merged, 'added/file', 'a');
      } catch (err) {
        execFileSync('umount', [merged]);
        throw err;
      }
      const expected = describeTree(merged);
      execFileSync('umount', [merged]);
      const { blob, result } = await layerOf({ kind: 'overlay', upper, lower });
      const entryNames = await names(blob);
      expect(entryNames).toEqual(
        expect.arrayContaining([
          '.wh.rm-file',
          '.wh.rm-dir',
          'opaque-dir/',
          'opaque-dir/.wh..wh..opq',
          'opaque-dir/new',
        ]),
      );
      const target = copyTree(lower);
      await applyLayer(Readable.from([blob]), target);
      expect(describeTree(target)).toEqual(expected);
      // and back into an upper-style dir: the same layer again
      const upper2 = fresh();
      await applyLayer(Readable.from([blob]), upper2, { format: 'overlay' });
      const again = await layerOf({ kind: 'overlay', upper: upper2, lower });
      expect(again.result.diffID).toBe(result.diffID);
    },
  );
});

// ---- property: random trees round-trip through create → apply ----

type Node =
  | { kind: 'file'; content: string; mode: number }
  | { kind: 'dir'; mode: number }
  | { kind: 'symlink'; target: string };
const nameArb = fc.constantFrom('a', 'b', 'c', 'dir', 'ü', 'x y', '.hidden', 'long-'.repeat(25));
const pathArb = fc.array(nameArb, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const nodeArb: fc.Arbitrary<Node> = fc.oneof(
  fc.record({
    kind: fc.constant('file' as const),
    content: fc.string({ maxLength: 40 }),
    mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o600),
  }),
  fc.record({ kind: fc.constant('dir' as const), mode: fc.constantFrom(0o755, 0o700, 0o1777) }),
  fc.record({
    kind: fc.constant('symlink' as const),
    target: fc.constantFrom('a', '../b', '/etc/passwd', 'dir/c'),
  }),
);
const treeArb = fc.array(fc.tuple(pathArb, nodeArb, fc.integer({ min: 0, max: 3 })), {
  maxLength: 12,
});

function build(root: string, spec: [string, Node, number][]): void {
  for (const [rel, node, t] of spec) {
    const abs = path.join(root, rel);
    // make parents, replacing non-directories in the way
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = path.join(root, ...parts.slice(0, i));
      const st = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (st !== undefined && !st.isDirectory()) fs.rmSync(dir);
      if (st === undefined || !st.isDirectory()) fs.mkdirSync(dir);
    }
    fs.rmSync(abs, { recursive: true, force: true });
    const mtime = 1_600_000_000 + t;
    if (node.kind === 'file') {
      fs.writeFileSync(abs, node.content);
      fs.chmodSync(abs, node.mode);
      fs.utimesSync(abs, mtime, mtime);
    } else if (node.kind === 'dir') {
      fs.mkdirSync(abs);
      fs.chmodSync(abs, node.mode);
    } else {
      fs.symlinkSync(node.target, abs);
      fs.lutimesSync(abs, mtime, mtime);
    }
  }
}

describe('property', () => {
  it('lower + layer(lower → upper) = upper, for random trees', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, treeArb, async (lowerSpec, upperSpec) => {
        const lower = fresh();
        build(lower, lowerSpec);
        const upper = copyTree(lower);
        build(upper, upperSpec);
        const { blob, result } = await layerOf({ kind: 'trees', lower, upper });
        const target = copyTree(lower);
        const applied = await applyLayer(Readable.from([blob]), target);
        expect(applied.diffID).toBe(result.diffID);
        expect(describeTree(target)).toEqual(describeTree(upper));
        fs.rmSync(lower, { recursive: true });
        fs.rmSync(upper, { recursive: true });
        fs.rmSync(target, { recursive: true });
      }),
      { numRuns: 60 },
    );
  });
});
