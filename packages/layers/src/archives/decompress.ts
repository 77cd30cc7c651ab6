/**
 * Sniffs how a whole archive is compressed (`docker save | gzip` is common; `docker load`
 * accepts it) by its magic bytes and returns the plain tar stream. gzip goes through zlib;
 * a corrupt or truncated gzip stream fails with invalid-argument.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { invalidArgument } from '@lab/oci';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(buf: Uint8Array, magic: readonly number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}

/** Reads just enough of `input` to sniff, and returns an iterable of the whole input again. */
async function peek(
  input: AsyncIterable<Uint8Array>,
  want: number,
): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const it = input[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < want) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    chunks.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  }
  return { head, rest: rest() };
}

async function* gunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const inflate = createGunzip();
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (!inflate.write(chunk)) await new Promise((r) => inflate.once('drain', r));
      }
      inflate.end();
    } catch (err) {
      inflate.destroy(err as Error);
    }
  })();
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidArgument(
      `the archive is not valid gzip (${reason}); it is truncated or corrupt — export it again`,
      { cause: err },
    );
  } finally {
    inflate.destroy();
    await feed;
  }
}

async function* unzstd(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let ended = false;
  const d = new ZstdDecompress((chunk, final) => {
    out.push(chunk);
    if (final === true) ended = true;
  });
  try {
    for await (const chunk of source) {
      d.push(chunk);
      while (out.length > 0) yield out.shift() as Uint8Array;
    }
    d.push(new Uint8Array(0), true);
    while (out.length > 0) yield out.shift() as Uint8Array;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidArgument(`the archive is not valid zstd (${reason}); it is truncated or corrupt`, {
      cause: err,
    });
  }
  if (!ended) throw invalidArgument('the zstd archive ends early; it is truncated');
}

/** The plain tar stream of an archive that may be gzip- or zstd-compressed as a whole. */
export async function decompressArchive(
  input: Readable | AsyncIterable<Uint8Array>,
): Promise<{ stream: AsyncIterable<Uint8Array>; compression: 'none' | 'gzip' | 'zstd' }> {
  const { head, rest } = await peek(input as AsyncIterable<Uint8Array>, 4);
  if (head.length === 0) {
    throw invalidArgument('the archive is empty: expected a tar (docker-archive or oci-archive)');
  }
  if (startsWith(head, GZIP)) return { stream: gunzip(rest), compression: 'gzip' };
  if (startsWith(head, ZSTD)) return { stream: unzstd(rest), compression: 'zstd' };
  return { stream: rest, compression: 'none' };
}
