/**
 * Image indexes: OCI (`application/vnd.oci.image.index.v1+json`, also a layout's
 * `index.json`) and Docker manifest lists. Entries with unknown media types are kept (the
 * spec says they must not cause errors; callers skip them).
 */
import { z } from 'zod';
import {
  AnnotationsSchema,
  DescriptorSchema,
  MediaTypeSchema,
  type Annotations,
  type Descriptor,
} from './descriptor.js';
import { DOCKER_MEDIA_TYPES, OCI_MEDIA_TYPES } from './media-types.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

/** The media types an index may declare. */
export const INDEX_MEDIA_TYPES = [OCI_MEDIA_TYPES.index, DOCKER_MEDIA_TYPES.manifestList] as const;

/** An OCI image index or a Docker manifest list. */
export const ImageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2, {
    error: (issue) => `unsupported schemaVersion ${JSON.stringify(issue.input)}: expected 2`,
  }),
  mediaType: z
    .enum(INDEX_MEDIA_TYPES, {
      error: (issue) =>
        `media type ${JSON.stringify(issue.input)} is not an image index: expected ${INDEX_MEDIA_TYPES.join(' or ')}`,
    })
    .optional(),
  artifactType: MediaTypeSchema.optional(),
  manifests: z.array(DescriptorSchema),
  subject: DescriptorSchema.optional(),
  annotations: AnnotationsSchema.optional(),
});

/** An image index (OCI or Docker manifest list). */
export type ImageIndex = z.infer<typeof ImageIndexSchema>;

/** Parses and validates an image index; throws invalid-argument naming the field path. */
export function parseImageIndex(json: JsonInput, source?: string): ImageIndex {
  return parseWithSchema(ImageIndexSchema, json, 'index', source);
}

/** What {@link createImageIndex} accepts besides the entries. */
export interface ImageIndexInit {
  /** Index annotations. */
  annotations?: Annotations;
  /** The artifact type. */
  artifactType?: string;
  /** The manifest this index refers to. */
  subject?: Descriptor;
}

/** Builds an OCI image index over `manifests` (each may carry a `platform`). */
export function createImageIndex(
  manifests: readonly Descriptor[],
  init: ImageIndexInit = {},
): ImageIndex {
  return {
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.index,
    ...(init.artifactType === undefined ? {} : { artifactType: init.artifactType }),
    manifests: [...manifests],
    ...(init.subject === undefined ? {} : { subject: init.subject }),
    ...(init.annotations === undefined ? {} : { annotations: init.annotations }),
  };
}
