import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type Digest, isAlreadyExists, isNotFound } from '@lab/oci';
import { applyLayer } from '../diff/index.js';
import type { LayerFormat, Snapshotter } from './types.js';

const EXTRACT_PREFIX = 'extract-';

/** One layer of an image, bottom first: its ChainID and a way to read its (maybe compressed) tar. */
export interface UnpackLayer {
  chainID: string;
  /** When given, the layer's uncompressed sha256 must match (checked by the applier). */
  diffID?: Digest;
  open: () => Readable | Promise<Readable>;
}

/** Writes a layer tar into `dir` in `format` (the shape of `applyLayer` from the differ). */
export type LayerApplier = (
  stream: Readable,
  dir: string,
  options: { format: LayerFormat; signal?: AbortSignal; expectedDiffID?: Digest },
) => Promise<unknown>;

export interface UnpackOptions {
  /** Applies one layer tar onto a directory; default {@link applyLayer}. */
  apply?: LayerApplier;
  signal?: AbortSignal;
}

/** What happened to one layer. */
export interface UnpackedLayer {
  chainID: string;
  /** `unpacked` by this call, or `shared`: an earlier unpack (any image, any process) made it. */
  status: 'unpacked' | 'shared';
}

/**
 * Unpacks an image's layers as committed snapshots named by ChainID, each on top of the
 * previous one, so identical layer stacks are stored once. A layer whose ChainID exists is
 * reused. Two processes may unpack the same image at once: each extracts into its own active
 * snapshot, the first commit wins and the other discards its copy and reuses the winner.
 * Active snapshots left by an unpack whose process died (`extract-<pid>-…`) are removed first.
 */
export async function unpackImageLayers(
  snapshotter: Snapshotter,
  layers: readonly UnpackLayer[],
  options: UnpackOptions = {},
): Promise<UnpackedLayer[]> {
  const apply = options.apply ?? applyLayer;
  await removeAbandonedExtractions(snapshotter);
  const results: UnpackedLayer[] = [];
  let parent: string | undefined;
  for (const layer of layers) {
    options.signal?.throwIfAborted();
    if (await isCommitted(snapshotter, layer.chainID)) {
      results.push({ chainID: layer.chainID, status: 'shared' });
      parent = layer.chainID;
      continue;
    }
    const key = `${EXTRACT_PREFIX}${process.pid}-${randomBytes(6).toString('hex')} ${layer.chainID}`;
    await snapshotter.prepare(key, parent, {
      labels: { 'lab.snapshot/unpacking': layer.chainID },
    });
    let status: UnpackedLayer['status'] = 'unpacked';
    try {
      const dir = await snapshotter.writableDir(key);
      const stream = await layer.open();
      await apply(stream, dir, {
        format: snapshotter.layerFormat,
        ...(layer.diffID === undefined ? {} : { expectedDiffID: layer.diffID }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      try {
        await snapshotter.commit(layer.chainID, key);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        status = 'shared';
        await snapshotter.remove(key);
      }
    } catch (err) {
      await snapshotter.remove(key).catch(() => undefined);
      throw err;
    }
    results.push({ chainID: layer.chainID, status });
    parent = layer.chainID;
  }
  return results;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the active snapshots of unpacks whose process died mid-layer (their key names the pid). */
async function removeAbandonedExtractions(snapshotter: Snapshotter): Promise<void> {
  const abandoned: string[] = [];
  await snapshotter.walk(
    (info) => {
      abandoned.push(info.name);
    },
    (info) => {
      const pid = /^extract-(\d+)-/.exec(info.name)?.[1];
      return info.kind === 'active' && pid !== undefined && !processAlive(Number(pid));
    },
  );
  for (const key of abandoned) {
    try {
      await snapshotter.remove(key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

async function isCommitted(snapshotter: Snapshotter, name: string): Promise<boolean> {
  try {
    return (await snapshotter.stat(name)).kind === 'committed';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
