/**
 * A consistency check of a lab root (`lab system check`): blobs whose bytes no longer hash to
 * their name, blobs an image needs on this platform that are absent, unreferenced blobs and
 * stale ingests that the next gc would remove. Reads everything; changes nothing.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { hostPlatform, isLabError, parseDigest, type Digest, type Platform } from '@lab/oci';
import type { ImageStore } from '../images/image-store.js';
import { readIndex } from '../images/index-file.js';
import { markReachable } from './mark.js';

export interface StoreCheck {
  /** Blobs whose content does not hash to their digest (delete them and re-pull). */
  corrupt: Digest[];
  /** Blobs an image needs on this platform that are not in the store. */
  missing: { image: string; digest: Digest }[];
  /** Images that cannot be resolved on this platform, and why. */
  unresolvable: { image: string; problem: string }[];
  /** Blobs nothing references (the next gc removes them). */
  unreferenced: Digest[];
  /** Ingest files older than `ingestMaxAgeMs` (leftovers of crashed writers). */
  staleIngests: string[];
}

export interface CheckOptions {
  platform?: Platform;
  ingestMaxAgeMs?: number;
  signal?: AbortSignal;
}

async function hashFile(images: ImageStore, digest: Digest): Promise<string> {
  const { algorithm } = parseDigest(digest);
  const hash = createHash(algorithm);
  await pipeline(await images.content.reader(digest), hash);
  return `${algorithm}:${hash.digest('hex')}`;
}

/** Checks every blob and every image of the store. */
export async function checkStore(
  images: ImageStore,
  options: CheckOptions = {},
): Promise<StoreCheck> {
  const platform = options.platform ?? hostPlatform();
  const result: StoreCheck = {
    corrupt: [],
    missing: [],
    unresolvable: [],
    unreferenced: [],
    staleIngests: [],
  };
  const present = new Set<Digest>();
  for await (const info of images.content.walk()) {
    options.signal?.throwIfAborted();
    present.add(info.digest);
    if ((await hashFile(images, info.digest)) !== info.digest) result.corrupt.push(info.digest);
  }
  for (const image of await images.list({ platform })) {
    const label = image.names[0] ?? image.id;
    if (!present.has(image.digest)) {
      result.missing.push({ image: label, digest: image.digest });
      continue;
    }
    try {
      const r = await images.resolve(image.digest, { platform });
      for (const d of [
        r.manifestDescriptor.digest,
        r.configDigest,
        ...r.layers.map((l) => l.digest),
      ]) {
        if (!present.has(d)) result.missing.push({ image: label, digest: d });
      }
    } catch (err) {
      if (!isLabError(err)) throw err;
      result.unresolvable.push({ image: label, problem: err.message });
    }
  }
  try {
    const index = await readIndex(images.root);
    const marked = await markReachable(
      images.content,
      { descriptors: index.manifests },
      options.signal,
    );
    result.unreferenced = [...present].filter((d) => !marked.blobs.has(d));
  } catch (err) {
    if (!isLabError(err)) throw err;
    // a reachable document is unreadable: already reported as corrupt or unresolvable
  }
  const maxAge = options.ingestMaxAgeMs ?? 30 * 60 * 1000;
  const now = Date.now();
  result.staleIngests = (await images.content.ingests())
    .filter((i) => now - i.updatedAt.getTime() > maxAge)
    .map((i) => i.ref);
  return result;
}
