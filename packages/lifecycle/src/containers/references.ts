/**
 * What containers keep alive in the image store: gc roots (the image's manifest and config
 * blobs, its layer snapshots and the containers' own snapshots) and the in-use check of
 * `lab image rm`.
 */
import type { GcReferences, Image, ImageInUse } from '@lab/layers';
import type { Digest } from '@lab/oci';
import { listContainers } from './store.js';

/** gc roots of every container of `root` (pass in `GcOptions.references`). */
export function containerGcReferences(root: string): GcReferences {
  return async () => {
    const blobs: Digest[] = [];
    const snapshots: string[] = [];
    for (const c of await listContainers(root)) {
      blobs.push(c.config.Image, c.config.ImageDigest);
      snapshots.push(...c.config.ChainIDs, c.config.SnapshotKey);
    }
    return { blobs, snapshots };
  };
}

/** The `isInUse` hook of `removeImage`/`prune`: some container was created from `image`. */
export function containersUseImage(root: string): ImageInUse {
  return async (image: Image) => {
    const wanted = new Set<string>([image.id, image.digest]);
    return (await listContainers(root)).some(
      (c) => wanted.has(c.config.Image) || wanted.has(c.config.ImageDigest),
    );
  };
}
