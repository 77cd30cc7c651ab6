import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type Digest, isAlreadyExists, isNotFound } from '@lab/oci';
import { applyLayer } from '../diff/index.js';
import type { LayerFormat, Snapshotter } from './types.js';

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
 */
export async function unpackImageLayers(
  snapshotter: Snapshotter,
  layers: readonly UnpackLayer[],
  options: UnpackOptions = {},
): Promise<UnpackedLayer[]> {
  const apply = options.apply ?? applyLayer;
  const results: UnpackedLayer[] = [];
  let parent: string | undefined;
  for (const layer of layers) {
    options.signal?.throwIfAborted();
    if (await isCommitted(snapshotter, layer.chainID)) {
      results.push({ chainID: layer.chainID, status: 'shared' });
      parent = layer.chainID;
      continue;
    }
    const key = `extract-${randomBytes(8).toString('hex')} ${layer.chainID}`;
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

async function isCommitted(snapshotter: Snapshotter, name: string): Promise<boolean> {
  try {
    return (await snapshotter.stat(name)).kind === 'committed';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
