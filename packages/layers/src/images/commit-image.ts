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
import { withLease, type Lease } from '../gc/lease.js';
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
 * Writes config + manifest and names the image. Layers must already be in the store; the
 * new blobs and the layers are held by a lease until the name is written, so a concurrent
 * gc cannot take them (the caller should hold its own lease from ingesting the layers on).
 */
export async function commitImage(
  images: ImageStore,
  input: CommitImageInput,
): Promise<CommittedImage> {
  return withLease(images.root, async (lease) => {
    await lease.add(...input.layers.map((l) => l.descriptor.digest));
    return commitLeased(images, input, lease);
  });
}

async function commitLeased(
  images: ImageStore,
  input: CommitImageInput,
  lease: Lease,
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
  for (const [i, layer] of input.layers.entries()) {
    const info = await images.content.info(layer.descriptor.digest);
    if (info.size !== layer.descriptor.size) {
      throw invalidArgument(
        `layers[${i}]: descriptor says ${layer.descriptor.size} bytes but blob ${layer.descriptor.digest} has ${info.size}`,
      );
    }
  }
  const config: ImageConfig = { ...input.config, rootfs: { type: 'layers', diff_ids: diffIDs } };
  const encodedConfig = encodeDocument(OCI_MEDIA_TYPES.config, config);
  await lease.add(encodedConfig.descriptor.digest);
  await images.content.ingest(encodedConfig.bytes, {
    digest: encodedConfig.descriptor.digest,
    size: encodedConfig.descriptor.size,
  });
  const manifest = createImageManifest({
    config: encodedConfig.descriptor,
    layers: input.layers.map((l) => l.descriptor),
    ...(input.annotations === undefined ? {} : { annotations: input.annotations }),
  });
  const encodedManifest = encodeDocument(OCI_MEDIA_TYPES.manifest, manifest);
  await lease.add(encodedManifest.descriptor.digest);
  await images.content.ingest(encodedManifest.bytes, {
    digest: encodedManifest.descriptor.digest,
    size: encodedManifest.descriptor.size,
  });
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
