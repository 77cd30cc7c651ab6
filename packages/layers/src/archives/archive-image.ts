/**
 * What a loader makes of one image found in an archive, before anything is named in the
 * store: the manifest to store (exact bytes), the archive files it needs committed, and the
 * names the archive gives it.
 */
import { createHash } from 'node:crypto';
import {
  invalidArgument,
  isLabError,
  type Descriptor,
  type Digest,
  type LayerCompression,
} from '@lab/oci';
import type { ContentStore } from '../content/index.js';
import { decompressArchive } from './decompress.js';
import { archiveFileStream, type ArchiveFile } from './read-archive.js';

export interface ArchiveImage {
  /** The manifest as it will be stored: its bytes and its descriptor. */
  manifest: { bytes: Uint8Array; descriptor: Descriptor };
  /** The config digest: the image ID. */
  configDigest: Digest;
  /** Names as the archive writes them (`RepoTags`, `io.containerd.image.name`, `ref.name`). */
  names: string[];
  /** Archive files to commit to the content store (config and layers). */
  blobs: ArchiveFile[];
}

const MAGIC: readonly [LayerCompression, readonly number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression of a layer file, by its magic bytes. */
export async function sniffLayerCompression(
  store: ContentStore,
  file: ArchiveFile,
): Promise<LayerCompression> {
  let head: Uint8Array;
  if (file.data !== undefined) head = file.data.subarray(0, 4);
  else {
    const chunks: Buffer[] = [];
    for await (const c of await store.reader(file.digest, { start: 0, end: 3 }))
      chunks.push(c as Buffer);
    head = Buffer.concat(chunks);
  }
  for (const [kind, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    throw invalidArgument(
      `layer "${file.path}" is bzip2-compressed; lab reads plain, gzip and zstd layers`,
      {
        details: { entry: file.path },
      },
    );
  }
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a) {
    throw invalidArgument(
      `layer "${file.path}" is xz-compressed; lab reads plain, gzip and zstd layers`,
      {
        details: { entry: file.path },
      },
    );
  }
  return 'none';
}

/** The DiffID (sha256 of the uncompressed tar) of a layer file. */
export async function layerDiffID(
  store: ContentStore,
  file: ArchiveFile,
  compression: LayerCompression,
): Promise<Digest> {
  if (compression === 'none') return file.digest;
  try {
    const { stream } = decompressArchive(await archiveFileStream(store, file));
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk);
    return `sha256:${hash.digest('hex')}`;
  } catch (err) {
    const reason = isLabError(err) ? err.message : String(err);
    throw invalidArgument(`archive entry "${file.path}": ${reason}`, {
      cause: err,
      details: { entry: file.path },
    });
  }
}
