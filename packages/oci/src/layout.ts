/**
 * The files of an OCI image layout: `oci-layout` (`{"imageLayoutVersion":"1.0.0"}`) and
 * `index.json` (an image index whose entries carry `org.opencontainers.image.ref.name`).
 */
import { z } from 'zod';
import type { Descriptor } from './descriptor.js';
import { createImageIndex, parseImageIndex, type ImageIndex } from './image-index.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

/** The layout version lab writes and reads. */
export const IMAGE_LAYOUT_VERSION = '1.0.0';

/** The file name of the layout header. */
export const OCI_LAYOUT_FILE = 'oci-layout';
/** The file name of the layout's index. */
export const INDEX_JSON_FILE = 'index.json';

/** The annotation that names ("tags") an `index.json` entry. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** The full image name containerd and Docker 25+ add to `index.json` entries. */
export const ANNOTATION_CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';

/** The `oci-layout` file. Extra fields are allowed and kept. */
export const ImageLayoutSchema = z.looseObject({
  imageLayoutVersion: z.literal(IMAGE_LAYOUT_VERSION, {
    error: (issue) =>
      `unsupported imageLayoutVersion ${JSON.stringify(issue.input)}: expected "${IMAGE_LAYOUT_VERSION}"`,
  }),
});

/** The `oci-layout` header. */
export type ImageLayout = z.infer<typeof ImageLayoutSchema>;

/** Parses and validates an `oci-layout` file; throws invalid-argument naming the field path. */
export function parseImageLayout(json: JsonInput, source?: string): ImageLayout {
  return parseWithSchema(ImageLayoutSchema, json, 'oci-layout', source);
}

/** The `oci-layout` file lab writes. */
export function createImageLayout(): ImageLayout {
  return { imageLayoutVersion: IMAGE_LAYOUT_VERSION };
}

/** Parses a layout's `index.json` (an image index; `mediaType` may be absent). */
export function parseIndexJson(json: JsonInput, source?: string): ImageIndex {
  return parseImageIndex(json, source ?? INDEX_JSON_FILE);
}

/** Builds a layout's `index.json` over its entry points. */
export function createIndexJson(manifests: readonly Descriptor[]): ImageIndex {
  return createImageIndex(manifests);
}

/** The `ref.name` annotation of an `index.json` entry, if any. */
export function refName(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[ANNOTATION_REF_NAME];
}
