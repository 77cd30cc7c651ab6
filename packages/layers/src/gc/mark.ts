/**
 * The mark phase of gc: every blob reachable from the roots, following index → manifests,
 * manifest → config + layers, and `subject` links; and the ChainIDs of every image config
 * reached (the snapshots still needed).
 */
import {
  failedPrecondition,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNotFound,
  OCI_MEDIA_TYPES,
  parseImageConfig,
  parseManifestDocument,
  type Descriptor,
  type Digest,
} from '@lab/oci';
import type { ContentStore } from '../content/content-store.js';
import { chainIDs } from '../images/chain-id.js';

/** What the mark phase found. */
export interface MarkResult {
  /** Every reachable blob (present or not). */
  blobs: Set<Digest>;
  /** ChainIDs of every prefix of every reachable image config. */
  chainIDs: Set<string>;
}

/** Blobs followed when given only as a digest (not a descriptor): JSON documents are small. */
const MAX_SNIFF_SIZE = 4 * 1024 * 1024;

async function readIfPresent(content: ContentStore, digest: Digest): Promise<Buffer | undefined> {
  try {
    return await content.readBlob(digest);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Marks from descriptors (followed by media type) and bare digests (followed when the blob is
 * a small JSON manifest or index). A reachable manifest, index or config that cannot be
 * parsed stops gc with `failed-precondition`: its children are unknown, so nothing is safe
 * to delete.
 */
export async function markReachable(
  content: ContentStore,
  roots: { descriptors?: Iterable<Descriptor>; digests?: Iterable<Digest> },
  signal?: AbortSignal,
): Promise<MarkResult> {
  const blobs = new Set<Digest>();
  const chains = new Set<string>();
  const queue: { digest: Digest; mediaType: string | undefined }[] = [];
  for (const d of roots.descriptors ?? []) queue.push({ digest: d.digest, mediaType: d.mediaType });
  for (const digest of roots.digests ?? []) queue.push({ digest, mediaType: undefined });

  while (queue.length > 0) {
    signal?.throwIfAborted();
    const { digest, mediaType } = queue.pop()!;
    if (blobs.has(digest)) continue;
    blobs.add(digest);
    const known =
      mediaType !== undefined && (isManifestMediaType(mediaType) || isIndexMediaType(mediaType));
    const leaf =
      mediaType !== undefined &&
      !known &&
      (isLayerMediaType(mediaType) ||
        isConfigMediaType(mediaType) ||
        mediaType === OCI_MEDIA_TYPES.empty);
    if (leaf) continue;
    // Bare digests and unknown media types: follow only small JSON manifests and indexes.
    const sniff = !known;
    if (sniff) {
      const info = await content.info(digest).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (info === undefined || info.size > MAX_SNIFF_SIZE) continue;
    }
    const bytes = await readIfPresent(content, digest);
    if (bytes === undefined) continue;
    if (sniff && bytes[0] !== 0x7b /* { */) continue;
    let document;
    try {
      document = parseManifestDocument(bytes, sniff ? undefined : mediaType, `blob ${digest}`);
    } catch (err) {
      if (sniff) continue; // not a manifest or index: a leaf
      throw failedPrecondition(
        `gc stopped: ${digest} is referenced as ${mediaType} but cannot be read (${(err as Error).message}); remove or repair the image that refers to it, then run gc again`,
        { cause: err, details: { digest } },
      );
    }
    if (document.kind === 'index') {
      for (const m of document.index.manifests)
        queue.push({ digest: m.digest, mediaType: m.mediaType });
      if (document.index.subject !== undefined) {
        queue.push({
          digest: document.index.subject.digest,
          mediaType: document.index.subject.mediaType,
        });
      }
      continue;
    }
    const manifest = document.manifest;
    blobs.add(manifest.config.digest);
    for (const layer of manifest.layers) blobs.add(layer.digest);
    if (manifest.subject !== undefined) {
      queue.push({ digest: manifest.subject.digest, mediaType: manifest.subject.mediaType });
    }
    if (isConfigMediaType(manifest.config.mediaType)) {
      const configBytes = await readIfPresent(content, manifest.config.digest);
      if (configBytes !== undefined) {
        try {
          const config = parseImageConfig(configBytes, `config ${manifest.config.digest}`);
          for (const c of chainIDs(config.rootfs.diff_ids)) chains.add(c);
        } catch (err) {
          throw failedPrecondition(
            `gc stopped: config ${manifest.config.digest} of manifest ${digest} cannot be read (${(err as Error).message}); remove or repair that image, then run gc again`,
            { cause: err, details: { digest: manifest.config.digest } },
          );
        }
      }
    }
  }
  return { blobs, chainIDs: chains };
}
