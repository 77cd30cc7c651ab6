/**
 * An archive may be compressed as a whole (`docker save | gzip` is common and `docker load`
 * accepts it): the compression package sniffs gzip/zstd by magic bytes and streams the plain
 * tar. A corrupt or truncated stream fails with invalid-argument naming the codec.
 */
import type { Readable } from 'node:stream';
import { decompressedStream, type Compression } from '../compression/index.js';

/** The plain tar stream of an archive, and (once reading started) how it was compressed. */
export function decompressArchive(input: Readable | AsyncIterable<Uint8Array>): {
  stream: AsyncIterable<Uint8Array>;
  compression: Promise<Compression>;
} {
  const { stream, compression } = decompressedStream(input);
  return { stream, compression };
}
