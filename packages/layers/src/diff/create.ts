/**
 * Creating a layer from a changeset, deterministically (containerd's change writer): entries in
 * path order with parents first, numeric owners only, mtimes truncated to seconds (optionally
 * clamped to SOURCE_DATE_EPOCH), no atime/ctime, whiteouts with time 0, PAX where ustar cannot
 * say it, gzip with a fixed level and header. The same tree gives the same DiffID and digest.
 */
import * as path from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OCI_MEDIA_TYPES, type Digest } from '@lab/oci';
import { compressStream } from '../compression/index.js';
import { TarWriter, type TarHeaderInput } from '../tar/index.js';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './apply.js';
import { diffTrees, overlayChanges, type ChangeSet } from './changes.js';
import type { FileInfo } from './scan-tree.js';
import { StreamDigest } from './stream-digest.js';

/** Where the changes come from. */
export type LayerSource =
  /** Two full trees: the layer turns `lower` (absent: empty) into `upper`. */
  | { kind: 'trees'; lower?: string; upper: string }
  /** An overlayfs upper dir; `lower` (the merged lower view) only refines add vs. modify. */
  | { kind: 'overlay'; upper: string; lower?: string };

export interface CreateLayerOptions {
  /** Default gzip. */
  compression?: 'gzip' | 'none';
  /** zlib level (default 6). */
  gzipLevel?: number;
  /** Clamp every mtime to at most this time (seconds since the epoch). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

export interface CreatedLayer {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** sha256 of the blob as written to `output`. */
  digest: Digest;
  /** Bytes written to `output`. */
  size: number;
  mediaType: string;
  /** Tar entries written. */
  entries: number;
}

/** Passes bytes through while a {@link StreamDigest} (a worker thread for big streams) hashes them. */
class DigestTap extends Transform {
  readonly digest = new StreamDigest();
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.digest.update(chunk);
    done(null, chunk);
  }
}

function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}

function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

/** Writes the entries of a changeset into `writer`; returns how many. */
export async function writeChanges(
  set: ChangeSet,
  writer: TarWriter,
  options: { sourceDateEpoch?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const { upper } = set;
  const emitted = new Set<string>();
  const firstPathOfInode = new Map<string, string>();
  let count = 0;
  const epoch = options.sourceDateEpoch;

  const headerOf = (info: FileInfo): TarHeaderInput => {
    let sec = info.mtime.sec;
    if (epoch !== undefined && sec > epoch) sec = epoch;
    const h: TarHeaderInput = {
      name: info.kind === 'dir' ? `${info.path}/` : info.path,
      type: info.kind === 'socket' ? 'fifo' : info.kind, // sockets are skipped before this
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
      uname: '',
      gname: '',
      mtime: { sec, nsec: 0 },
      size: info.kind === 'file' ? info.size : 0,
    };
    if (info.linkname !== undefined) h.linkname = info.linkname;
    if (info.kind === 'char' || info.kind === 'block') {
      h.devmajor = major(info.rdev);
      h.devminor = minor(info.rdev);
    }
    if (Object.keys(info.xattrs).length > 0) h.xattrs = info.xattrs;
    return h;
  };

  const emitEntry = async (info: FileInfo): Promise<void> => {
    options.signal?.throwIfAborted();
    if (info.kind === 'socket') return; // sockets are never archived
    count++;
    emitted.add(info.path);
    const h = headerOf(info);
    if (info.kind === 'file' && info.nlink > 1) {
      const first = firstPathOfInode.get(info.inode);
      if (first !== undefined) {
        await writer.addEntry({ ...h, type: 'hardlink', linkname: first, size: 0 });
        return;
      }
      firstPathOfInode.set(info.inode, info.path);
    }
    if (info.kind !== 'file' || info.size === 0) {
      await writer.addEntry({ ...h, size: 0 });
      return;
    }
    await writer.addFileEntry({ ...h, size: info.size }, path.join(upper.root, info.path));
  };

  const emitParents = async (p: string): Promise<void> => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (emitted.has(dir)) continue;
      const info = upper.entries.get(dir);
      if (info === undefined) continue;
      await emitEntry(info);
    }
  };

  for (const change of set.changes) {
    await emitParents(change.path);
    if (change.kind === 'delete') {
      const slash = change.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : change.path.slice(0, slash + 1);
      count++;
      await writer.addEntry({
        name: `${dir}${WHITEOUT_PREFIX}${change.path.slice(slash + 1)}`,
        type: 'file',
        mode: 0o644,
        mtime: { sec: 0, nsec: 0 },
      });
      continue;
    }
    const info = upper.entries.get(change.path);
    if (info === undefined || emitted.has(change.path)) continue;
    await emitEntry(info);
    if (change.opaque === true) {
      count++;
      await writer.addEntry({
        name: `${change.path}/${WHITEOUT_OPAQUE}`,
        type: 'file',
        mode: 0o644,
      });
    }
  }
  return count;
}

/** Computes the changes of `source` and writes them as a layer blob to `output` (which is ended). */
export async function createLayer(
  source: LayerSource,
  output: Writable,
  options: CreateLayerOptions = {},
): Promise<CreatedLayer> {
  const set =
    source.kind === 'trees'
      ? await diffTrees(source.lower, source.upper)
      : await overlayChanges(source.upper, source.lower);
  return writeLayer(set, output, options);
}

/** Writes a computed changeset as a layer blob to `output` (which is ended). */
export async function writeLayer(
  set: ChangeSet,
  output: Writable,
  options: CreateLayerOptions = {},
): Promise<CreatedLayer> {
  const compression = options.compression ?? 'gzip';
  const writer = new TarWriter();
  const uncompressed = new DigestTap();
  const compressed = compression === 'gzip' ? new DigestTap() : uncompressed;
  const stages =
    compression === 'gzip'
      ? pipeline(
          writer.readable,
          uncompressed,
          compressStream(
            'gzip',
            options.gzipLevel === undefined ? {} : { level: options.gzipLevel },
          ),
          compressed,
          output,
        )
      : pipeline(writer.readable, uncompressed, output);
  stages.catch(() => undefined); // observed below; this only keeps an early failure from being "unhandled"
  let entries: number;
  try {
    entries = await writeChanges(set, writer, {
      ...(options.sourceDateEpoch === undefined
        ? {}
        : { sourceDateEpoch: options.sourceDateEpoch }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    await writer.finish();
    await stages;
  } catch (err) {
    writer.abort(err as Error);
    await stages.catch(() => undefined);
    await uncompressed.digest.close();
    await compressed.digest.close();
    throw err;
  }
  const diffID = await uncompressed.digest.digest();
  const digest = compression === 'gzip' ? await compressed.digest.digest() : diffID;
  return {
    diffID,
    digest,
    size: compressed.digest.size,
    mediaType: compression === 'gzip' ? OCI_MEDIA_TYPES.layerGzip : OCI_MEDIA_TYPES.layer,
    entries,
  };
}
