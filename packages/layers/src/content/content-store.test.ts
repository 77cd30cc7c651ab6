import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInternal, isInvalidArgument, isNotFound, sha256, type Digest } from '@lab/oci';
import { openContentStore, type ContentStore } from './content-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = resolve(here, '../..');
const repoRoot = resolve(packageRoot, '../..');

let root: string;
let store: ContentStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lab-content-'));
  store = await openContentStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function blobNames(): Promise<string[]> {
  return readdir(join(root, 'blobs', 'sha256'));
}

describe('content store', () => {
  it('ingests a stream, verifies it and stores it under blobs/sha256/<hex>', async () => {
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const result = await store.ingest(
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      {
        digest,
        size: data.length,
      },
    );
    expect(result).toEqual({ digest, size: data.length, created: true });
    expect((await readFile(join(root, 'blobs', 'sha256', digest.slice(7)))).equals(data)).toBe(
      true,
    );
    expect(await store.has(digest)).toBe(true);
    expect((await store.info(digest)).size).toBe(data.length);
    expect((await store.readBlob(digest)).equals(data)).toBe(true);
    expect(await store.ingests()).toEqual([]);
  });

  it('commits through a writer and reports the digest it computed', async () => {
    const w = await store.writer({ ref: 'layer upload' });
    await w.write(Buffer.from('hello '));
    await w.write(Buffer.from('world'));
    expect(w.size).toBe(11);
    expect(w.ref).toMatch(/^layer_upload-[0-9a-f]{24}$/);
    const result = await w.commit();
    expect(result.digest).toBe(sha256('hello world'));
    await expect(w.write(Buffer.from('x'))).rejects.toThrow(/already committed/);
  });

  it('rejects a digest mismatch naming expected and actual, and leaves nothing under blobs/', async () => {
    const wrong = sha256('something else');
    const err: unknown = await store.ingest('hello', { digest: wrong }).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain(`expected ${wrong}, got ${sha256('hello')}`);
    expect(await blobNames()).toEqual([]);
    expect(await store.ingests()).toEqual([]);
  });

  it('rejects a size mismatch (short and long) and leaves nothing under blobs/', async () => {
    const short = await store.ingest('hello', { size: 6 }).catch((e: unknown) => e);
    expect(isInvalidArgument(short)).toBe(true);
    expect((short as Error).message).toContain('expected 6 bytes, got 5');
    const long = await store
      .ingest(Readable.from([Buffer.from('hel'), Buffer.from('lo')]), {
        size: 4,
        digest: sha256('hell'),
      })
      .catch((e: unknown) => e);
    expect(isInvalidArgument(long)).toBe(true);
    expect(await blobNames()).toEqual([]);
    expect(await store.ingests()).toEqual([]);
  });

  it('drops a second copy of a blob that is already present', async () => {
    expect((await store.ingest('same')).created).toBe(true);
    expect(await store.ingest('same', { digest: sha256('same'), size: 4 })).toEqual({
      digest: sha256('same'),
      size: 4,
      created: false,
    });
    expect(await blobNames()).toHaveLength(1);
  });

  it('replaces a damaged blob when the same content is ingested again', async () => {
    const { digest } = await store.ingest('precious');
    await writeFile(store.path(digest), 'PRECIOUS'); // same size, different bytes
    expect(await store.ingest('precious', { digest })).toMatchObject({ created: true });
    expect((await store.readBlob(digest)).toString()).toBe('precious');
  });

  it('verifies sha512 digests too', async () => {
    const { createHash } = await import('node:crypto');
    const digest: Digest = `sha512:${createHash('sha512').update('x').digest('hex')}`;
    expect((await store.ingest('x', { digest })).digest).toBe(digest);
    expect(await store.readBlob(digest)).toEqual(Buffer.from('x'));
  });

  it('answers not-found for a missing blob', async () => {
    const digest = sha256('absent');
    for (const call of [
      () => store.info(digest),
      () => store.readBlob(digest),
      () => store.reader(digest),
      () => store.delete(digest),
    ]) {
      const err: unknown = await call().catch((e: unknown) => e);
      expect(isNotFound(err)).toBe(true);
      expect((err as Error).message).toContain(digest);
    }
    expect(await store.has(digest)).toBe(false);
  });

  it('detects a corrupt blob on a verified read', async () => {
    const { digest } = await store.ingest('original');
    await writeFile(store.path(digest), 'tampered');
    expect(isInternal(await store.readBlob(digest).catch((e: unknown) => e))).toBe(true);
    const stream = await store.reader(digest, { verify: true });
    await expect(text(stream)).rejects.toThrow(/corrupt/);
    expect(await text(await store.reader(digest))).toBe('tampered');
  });

  it('reads byte ranges', async () => {
    const { digest } = await store.ingest('0123456789');
    expect(await text(await store.reader(digest, { start: 2, end: 4 }))).toBe('234');
    expect(await text(await store.reader(digest, { verify: true }))).toBe('0123456789');
  });

  it('walks and deletes blobs', async () => {
    const a = await store.ingest('a');
    const b = await store.ingest('bb');
    await writeFile(join(root, 'blobs', 'sha256', 'not-a-digest'), 'x');
    const all = [];
    for await (const info of store.walk()) all.push(info.digest);
    expect(all.sort()).toEqual([a.digest, b.digest].sort());
    const big = [];
    for await (const info of store.walk((i) => i.size > 1)) big.push(info.digest);
    expect(big).toEqual([b.digest]);
    await store.delete(a.digest);
    expect(await store.has(a.digest)).toBe(false);
  });

  it('lists and removes ingests left behind by aborted or crashed writers', async () => {
    const w = await store.writer({ ref: 'crashed' });
    await w.write(Buffer.from('partial'));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(root, 'ingest', w.ref), old, old);
    const listed = await store.ingests();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ ref: w.ref, size: 7, updatedAt: old });
    await store.removeIngest(w.ref);
    expect(await store.ingests()).toEqual([]);
    expect(await blobNames()).toEqual([]);
  });

  it('aborts an ingest when the signal fires', async () => {
    const controller = new AbortController();
    async function* source() {
      yield await Promise.resolve(Buffer.from('first'));
      controller.abort();
      yield Buffer.from('second');
    }
    await expect(store.ingest(source(), {}, { signal: controller.signal })).rejects.toThrow();
    expect(await store.ingests()).toEqual([]);
    expect(await blobNames()).toEqual([]);
  });
});

describe('content store across processes', () => {
  function child(
    file: string,
    digest: Digest,
    size: number,
  ): { ready: Promise<void>; go: () => void; done: Promise<string> } {
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const proc = spawn(
      tsx,
      [
        '--conditions=@lab/source',
        join(here, 'ingest-child.fixture.ts'),
        root,
        file,
        digest,
        String(size),
      ],
      {
        cwd: packageRoot,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((res) => (onReady = res));
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) onReady();
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const done = new Promise<string>((res, rej) => {
      proc.on('close', (code) => {
        if (code === 0) res(out.slice('ready\n'.length));
        else rej(new Error(`child exited ${code}: ${err}`));
      });
    });
    return { ready, go: () => proc.stdin.end('go\n'), done };
  }

  it('lets two processes ingest the same blob at once; both succeed and the blob is intact', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const digest = sha256(data);
    const source = join(root, 'source.bin');
    await writeFile(source, data);
    const a = child(source, digest, data.length);
    const b = child(source, digest, data.length);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const results = (await Promise.all([a.done, b.done])).map(
      (out) => JSON.parse(out) as { digest: string; size: number; created: boolean },
    );
    for (const r of results) expect(r).toMatchObject({ digest, size: data.length });
    // At least one of them put the blob in place; the other either renamed over it
    // (identical bytes, atomic) or dropped its copy.
    expect(results.some((r) => r.created)).toBe(true);
    expect((await store.readBlob(digest)).equals(data)).toBe(true);
    expect(await blobNames()).toEqual([digest.slice(7)]);
    expect(await store.ingests()).toEqual([]);
  });
});
