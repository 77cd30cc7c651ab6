/**
 * Removing images, docker's `rmi` and `image prune`. Crash-safe order: first `index.json` is
 * rewritten without the image (atomically), then gc sweeps; if the process dies in between,
 * the next gc removes the blobs (nothing references them any more).
 */
import { conflict, type Digest } from '@lab/oci';
import type { Image, ImageStore } from '../images/image-store.js';
import { normalizeImageName } from '../images/names.js';
import { gc, type GcOptions, type GcResult } from './gc.js';

/** Tells whether a container (or anything else) still uses an image. */
export type ImageInUse = (image: Image) => boolean | Promise<boolean>;

export interface RemoveImageOptions {
  /** Remove even when in use (the image is only untagged then) or named several times. */
  force?: boolean;
  /** Asked before an image is deleted. */
  isInUse?: ImageInUse;
  /** Run gc afterwards (default true); `false` = docker's `--no-prune`, blobs go at the next gc. */
  prune?: boolean;
  /** Options for that gc. */
  gc?: GcOptions;
}

export interface RemoveImageResult {
  /** Names removed (full names). */
  untagged: string[];
  /** Image IDs deleted (their entries are gone from index.json). */
  deleted: Digest[];
  /** The gc that followed, if any. */
  gc?: GcResult;
}

function nameOf(input: string): string | undefined {
  try {
    return normalizeImageName(input);
  } catch {
    return undefined;
  }
}

/** Removes an image by name or ID, like `docker rmi`. */
export async function removeImage(
  images: ImageStore,
  nameOrId: string,
  options: RemoveImageOptions = {},
): Promise<RemoveImageResult> {
  const image = await images.get(nameOrId);
  const name = nameOf(nameOrId);
  const byName = name !== undefined && image.names.includes(name);

  if (byName && image.names.length > 1) {
    await images.untag(name);
    return { untagged: [name], deleted: [] };
  }
  if (!byName && image.names.length > 1 && options.force !== true) {
    throw conflict(
      `unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories (${image.names.join(', ')}); remove the names one by one or use --force`,
      { details: { id: image.id, names: image.names } },
    );
  }
  const inUse = (await options.isInUse?.(image)) ?? false;
  if (inUse) {
    if (options.force !== true) {
      throw conflict(
        `image ${nameOrId} (${image.id.slice(7, 19)}) is in use by a container; remove the container first, or use --force to untag it`,
        { details: { id: image.id, names: image.names } },
      );
    }
    for (const n of image.names) await images.untag(n);
    return { untagged: image.names, deleted: [] };
  }
  await images.removeEntries(image.digest);
  const result: RemoveImageResult = { untagged: image.names, deleted: [image.id] };
  if (options.prune !== false) result.gc = await gc(images, options.gc);
  return result;
}

export interface PruneOptions {
  /** Only images without names (default true); false = every image not in use (`prune -a`). */
  dangling?: boolean;
  isInUse?: ImageInUse;
  gc?: GcOptions;
}

export interface PruneResult {
  removedImages: Image[];
  gc: GcResult;
}

/** Removes unused images (dangling ones by default) and collects their blobs. */
export async function prune(images: ImageStore, options: PruneOptions = {}): Promise<PruneResult> {
  const removedImages: Image[] = [];
  for (const image of await images.list()) {
    if (options.dangling !== false && image.names.length > 0) continue;
    if ((await options.isInUse?.(image)) === true) continue;
    await images.removeEntries(image.digest);
    removedImages.push(image);
  }
  return { removedImages, gc: await gc(images, options.gc) };
}
