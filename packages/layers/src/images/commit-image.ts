/**
 * Writes a new image from a config and layers already in the content store: config blob,
 * manifest blob (both canonical JSON, OCI media types), then the name (or a dangling entry).
 * Used by import/load and by the builder.
 */
import {
  createImageManifest,
  encodeDocument,
  invalidArgument,
  OCI_MEDIA_TYPES,
  type Annotations,
  type Descriptor,
  type Digest,
  type ImageConfig,
} from '@lab/oci';
import type { ImageStore, Image } from './image-store.js';
import type { ContentLease } from '../content/content-store.js';
import { withLease } from '../gc/lease.js';
import { withIndexLock } from './index-file.js';
import { chainIDs } from './chain-id.js';

/** A layer of a new image: its blob (as stored) and the digest of its uncompressed tar. */
export interface CommitLayer {
  descriptor: Descriptor;
  diffID: Digest;
}

export interface CommitImageInput {
  /** The image config; `rootfs` is filled from `layers` (and must agree if given). */
  config: Partial<ImageConfig> & { architecture: string; os: string };
  /** Layers, base first, each already in the content store. */
  layers: readonly CommitLayer[];
  /** Name to give the image; without one it is kept as a dangling image. */
  name?: string;
  /** Manifest annotations. */
  annotations?: Annotations;
  /**
   * The caller's lease (the one its layer ingests used); without one, commitImage takes its
   * own for the duration of the call.
   */
  lease?: ContentLease;
}

export interface CommittedImage {
  /** Image ID (config digest). */
  id: Digest;
  manifestDescriptor: Descriptor;
  configDescriptor: Descriptor;
  diffIDs: Digest[];
  chainIDs: Digest[];
  image: Image | undefined;
}

/**
 * Writes config + manifest and names the image. Layers must already be in the store. Every
 * blob of the image is held by a lease until the name is written, so a concurrent gc cannot
 * take any of them; to be safe from the moment the layers are written, ingest them with
 * `{ lease }` (e.g. inside `withLease`) and pass the same lease here.
 */
export async function commitImage(
  images: ImageStore,
  input: CommitImageInput,
): Promise<CommittedImage> {
  const { lease } = input;
  if (lease !== undefined) return commitLeased(images, input, lease);
  return withLease(images.root, (own) => commitLeased(images, input, own));
}

async function commitLeased(
  images: ImageStore,
  input: CommitImageInput,
  lease: ContentLease,
): Promise<CommittedImage> {
  const diffIDs = input.layers.map((l) => l.diffID);
  if (input.config.rootfs !== undefined) {
    const given = input.config.rootfs.diff_ids;
    if (given.length !== diffIDs.length || given.some((d, i) => d !== diffIDs[i])) {
      throw invalidArgument(
        `config.rootfs.diff_ids (${given.length}) do not match the layers' diffIDs (${diffIDs.length}); leave rootfs out and lab fills it in`,
      );
    }
  }
  // Lease the layers and check them under the index lock, which gc holds while it sweeps:
  // a layer is either already gone (not-found here) or safe until the name is written.
  await withIndexLock(images.root, async () => {
    await lease.add(...input.layers.map((l) => l.descriptor.digest));
    for (const [i, layer] of input.layers.entries()) {
      const info = await images.content.info(layer.descriptor.digest);
      if (info.size !== layer.descriptor.size) {
        throw invalidArgument(
          `layers[${i}]: descriptor says ${layer.descriptor.size} bytes but blob ${layer.descriptor.digest} has ${info.size}`,
        );
      }
    }
  });
  const config: ImageConfig = { ...input.config, rootfs: { type: 'layers', diff_ids: diffIDs } };
  const encodedConfig = encodeDocument(OCI_MEDIA_TYPES.config, config);
  await images.content.ingest(
    encodedConfig.bytes,
    { digest: encodedConfig.descriptor.digest, size: encodedConfig.descriptor.size },
    { lease },
  );
  const manifest = createImageManifest({
    config: encodedConfig.descriptor,
    layers: input.layers.map((l) => l.descriptor),
    ...(input.annotations === undefined ? {} : { annotations: input.annotations }),
  });
  const encodedManifest = encodeDocument(OCI_MEDIA_TYPES.manifest, manifest);
  await images.content.ingest(
    encodedManifest.bytes,
    { digest: encodedManifest.descriptor.digest, size: encodedManifest.descriptor.size },
    { lease },
  );
  let image: Image | undefined;
  if (input.name === undefined) await images.putUnnamed(encodedManifest.descriptor);
  else image = await images.put(input.name, encodedManifest.descriptor);
  return {
    id: encodedConfig.descriptor.digest,
    manifestDescriptor: encodedManifest.descriptor,
    configDescriptor: encodedConfig.descriptor,
    diffIDs,
    chainIDs: chainIDs(diffIDs),
    image,
  };
}
