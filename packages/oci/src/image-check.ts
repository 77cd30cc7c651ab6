/**
 * Rules that tie documents together, which no single schema can check: a manifest's layers
 * and its config's DiffIDs, history entries, artifact types, and embedded `data`.
 */
import type { Descriptor } from './descriptor.js';
import { sha256 } from './digest.js';
import { invalidArgument } from './errors.js';
import type { ImageConfig } from './image-config.js';
import type { ImageManifest } from './manifest.js';
import { OCI_MEDIA_TYPES, isLayerMediaType } from './media-types.js';

/**
 * The content embedded in a descriptor's `data`, checked against its size and digest, or
 * undefined when there is none. Throws invalid-argument when the data does not match (a
 * sha256 digest is required to verify; other algorithms throw, since lab cannot check them).
 */
export function descriptorData(
  descriptor: Descriptor,
  where = 'descriptor',
): Uint8Array | undefined {
  if (descriptor.data === undefined) return undefined;
  const bytes = Buffer.from(descriptor.data, 'base64');
  if (bytes.byteLength !== descriptor.size) {
    throw invalidArgument(
      `${where}.data: embedded data is ${bytes.byteLength} bytes but size says ${descriptor.size}; drop the data field or fix the size`,
      { details: { digest: descriptor.digest } },
    );
  }
  if (!descriptor.digest.startsWith('sha256:')) {
    throw invalidArgument(
      `${where}.data: cannot verify embedded data against ${descriptor.digest}: only sha256 is supported`,
      {
        details: { digest: descriptor.digest },
      },
    );
  }
  const actual = sha256(bytes);
  if (actual !== descriptor.digest) {
    throw invalidArgument(
      `${where}.data: embedded data has digest ${actual}, not ${descriptor.digest}`,
      {
        details: { digest: descriptor.digest, actual },
      },
    );
  }
  return bytes;
}

/** The history entries that correspond to layers (those without `empty_layer: true`). */
export function layerHistory(config: ImageConfig): NonNullable<ImageConfig['history']> {
  return (config.history ?? []).filter((h) => h.empty_layer !== true);
}

/**
 * Checks that a manifest and its image config describe the same image: as many layers as
 * DiffIDs, every layer a known layer type, and (when history is present) as many non-empty
 * history entries as layers. Throws invalid-argument naming the mismatch.
 */
export function checkManifestConfig(
  manifest: ImageManifest,
  config: ImageConfig,
  source?: string,
): void {
  const prefix = source === undefined ? '' : `${source}: `;
  const diffIds = config.rootfs.diff_ids;
  if (manifest.layers.length !== diffIds.length) {
    throw invalidArgument(
      `${prefix}manifest has ${manifest.layers.length} layer(s) but its config lists ${diffIds.length} rootfs.diff_ids; the image is corrupt, pull or build it again`,
      { details: { source, layers: manifest.layers.length, diffIds: diffIds.length } },
    );
  }
  manifest.layers.forEach((layer, i) => {
    if (!isLayerMediaType(layer.mediaType)) {
      throw invalidArgument(
        `${prefix}manifest.layers[${i}].mediaType: "${layer.mediaType}" is not a layer type lab can unpack`,
        {
          details: { source, mediaType: layer.mediaType },
        },
      );
    }
  });
  if (config.history !== undefined && config.history !== null) {
    const withLayers = layerHistory(config).length;
    if (withLayers !== diffIds.length) {
      throw invalidArgument(
        `${prefix}config.history has ${withLayers} non-empty entr${withLayers === 1 ? 'y' : 'ies'} but there are ${diffIds.length} layer(s); mark steps without a layer with empty_layer: true`,
        { details: { source, history: withLayers, diffIds: diffIds.length } },
      );
    }
  }
}

/** Checks the artifact rule: a manifest whose config is the empty descriptor must set `artifactType`. */
export function checkArtifactType(manifest: ImageManifest, source?: string): void {
  if (manifest.config.mediaType === OCI_MEDIA_TYPES.empty && manifest.artifactType === undefined) {
    throw invalidArgument(
      `${source === undefined ? '' : `${source}: `}manifest.artifactType: required when the config is the empty descriptor (${OCI_MEDIA_TYPES.empty})`,
      { details: { source } },
    );
  }
}
