/**
 * Layer compression: detection by magic bytes, streaming gzip (node:zlib) both ways, zstd
 * decompression (fzstd, pure JS; Node 20's zlib has no zstd). Corrupt input fails with
 * invalid-argument saying which codec rejected it.
 */
import * as fs from 'node:fs';
import { Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { invalidArgument } from '@lab/oci';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;
/** Bytes needed to tell the formats apart. */
export const MAGIC_LENGTH = 4;

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** The compression of a blob from its first bytes (anything else is treated as plain). */
export function detectCompression(head: Uint8Array): Compression {
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  if (startsWith(head, ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

export interface CompressOptions {
  /** zlib level 1–9 (default 6, as gzip(1) and containerd's default). */
  level?: number;
}

/**
 * A compressing transform. gzip output is reproducible for a given zlib and level: Node writes
 * a header with mtime 0, no file name and OS 3 (Unix).
 */
export function compressStream(compression: 'gzip', options: CompressOptions = {}): Transform {
  if (compression !== 'gzip') {
    throw invalidArgument(
      `cannot compress with "${String(compression)}": only gzip is supported for writing`,
    );
  }
  return createGzip({ level: options.level ?? 6, chunkSize: 64 * 1024 });
}

function codecError(compression: Compression, err: unknown): Error {
  const detail = err instanceof Error ? err.message : String(err);
  return invalidArgument(
    `the ${compression} stream is corrupt or truncated (${detail}); the blob is damaged, fetch it again`,
    { cause: err, details: { compression } },
  );
}

async function* gunzip(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const z = createGunzip({ chunkSize: 64 * 1024 });
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (!z.write(chunk)) await new Promise<void>((r) => z.once('drain', r));
        if (z.destroyed) return;
      }
      z.end();
    } catch (err) {
      z.destroy(err as Error);
    }
  })();
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (err) {
    if (
      (err as { errno?: number }).errno !== undefined ||
      (err as { code?: string }).code?.startsWith('Z_')
    ) {
      throw codecError('gzip', err);
    }
    throw err;
  } finally {
    if (!z.destroyed) z.destroy();
    await feeding;
  }
}

async function* unzstd(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let out: Uint8Array[] = [];
  let finished = false;
  const d = new ZstdDecompress((data, final) => {
    out.push(data);
    if (final === true) finished = true;
  });
  const drainOut = function* (): Generator<Buffer> {
    const parts = out;
    out = [];
    for (const p of parts) yield Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  };
  try {
    for await (const chunk of input) {
      d.push(chunk);
      yield* drainOut();
    }
    d.push(new Uint8Array(0), true);
    yield* drainOut();
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'number')
      throw codecError('zstd', err);
    throw err;
  }
  if (!finished) throw codecError('zstd', new Error('unexpected end of input'));
}

/** Chains already-read head chunks in front of the rest of an iterator. */
async function* prepend(
  head: Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* head;
  for (;;) {
    const n = await rest.next();
    if (n.done === true) return;
    yield n.value;
  }
}

export interface DecompressedStream {
  /** The uncompressed bytes. */
  stream: Readable;
  /** What was detected (known once the first bytes have been read). */
  compression: Promise<Compression>;
}

/**
 * The uncompressed bytes of a blob that may be gzip, zstd or plain, detected by magic. A sync
 * iterable source (e.g. {@link readFileChunks}) is read without thread-pool round trips.
 */
export function decompressedStream(
  source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): DecompressedStream {
  let detected!: (c: Compression) => void;
  const compression = new Promise<Compression>((r) => (detected = r));
  async function* run(): AsyncGenerator<Buffer> {
    let it: AsyncIterator<Uint8Array>;
    if (Symbol.asyncIterator in source) {
      it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    } else {
      const sync = source[Symbol.iterator]();
      it = {
        next: () => Promise.resolve(sync.next()),
        return: (v?: unknown) =>
          Promise.resolve(sync.return?.(v) ?? { done: true, value: undefined }),
      };
    }
    const head: Uint8Array[] = [];
    let have = 0;
    while (have < MAGIC_LENGTH) {
      const n = await it.next();
      if (n.done === true) break;
      head.push(n.value);
      have += n.value.length;
    }
    const first = head.length === 1 ? head[0]! : Buffer.concat(head);
    const kind = detectCompression(first);
    detected(kind);
    const input = prepend(head, it);
    if (kind === 'gzip') yield* gunzip(input);
    else if (kind === 'zstd') yield* unzstd(input);
    else for await (const c of input) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
  }
  return { stream: Readable.from(run(), { objectMode: false }), compression };
}

/** The compression a blob needs when its media type says so. */
export function compressionOfMediaType(mediaType: string): Compression {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd')) return 'zstd';
  return 'none';
}

/**
 * A file's bytes in large chunks read synchronously (no thread-pool round trip per chunk, as
 * tar(1) reads); for blobs on local disk, where a read is a page-cache copy.
 */
export function* readFileChunks(filePath: string, chunkSize = 4 << 20): Generator<Buffer> {
  const fd = fs.openSync(filePath, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const n = fs.readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) return;
      yield n < chunkSize ? buf.subarray(0, n) : buf;
    }
  } finally {
    fs.closeSync(fd);
  }
}
