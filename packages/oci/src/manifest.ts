/**
 * Image manifests: OCI (`application/vnd.oci.image.manifest.v1+json`) and Docker schema 2
 * (`application/vnd.docker.distribution.manifest.v2+json`), read with one lenient schema
 * (mediaType may be absent, as umoci writes it; zero layers are accepted, as umoci and
 * registry 2.8 do) and built as OCI.
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

/** The media types a manifest may declare. */
export const MANIFEST_MEDIA_TYPES = [
  OCI_MEDIA_TYPES.manifest,
  DOCKER_MEDIA_TYPES.manifest,
] as const;

/** An OCI image manifest or a Docker schema 2 manifest. */
export const ImageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2, {
    error: (issue) =>
      `unsupported schemaVersion ${JSON.stringify(issue.input)}: expected 2 (schema 1 manifests are not supported; re-push the image with a current tool)`,
  }),
  mediaType: z
    .enum(MANIFEST_MEDIA_TYPES, {
      error: (issue) =>
        `media type ${JSON.stringify(issue.input)} is not an image manifest: expected ${MANIFEST_MEDIA_TYPES.join(' or ')}`,
    })
    .optional(),
  artifactType: MediaTypeSchema.optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  subject: DescriptorSchema.optional(),
  annotations: AnnotationsSchema.optional(),
});

/** An image manifest (OCI or Docker schema 2). */
export type ImageManifest = z.infer<typeof ImageManifestSchema>;

/** Parses and validates an image manifest; throws invalid-argument naming the field path. */
export function parseImageManifest(json: JsonInput, source?: string): ImageManifest {
  return parseWithSchema(ImageManifestSchema, json, 'manifest', source);
}

/** What {@link createImageManifest} needs. */
export interface ImageManifestInit {
  /** The config descriptor (e.g. from `createDescriptor(OCI_MEDIA_TYPES.config, bytes)`). */
  config: Descriptor;
  /** Layer descriptors, base layer first. */
  layers: readonly Descriptor[];
  /** Manifest annotations. */
  annotations?: Annotations;
  /** The artifact type (required when the config is the empty descriptor). */
  artifactType?: string;
  /** The manifest this one refers to (referrers API). */
  subject?: Descriptor;
}

/** Builds an OCI image manifest in the field order the image spec (and containerd) writes. */
export function createImageManifest(init: ImageManifestInit): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    ...(init.artifactType === undefined ? {} : { artifactType: init.artifactType }),
    config: init.config,
    layers: [...init.layers],
    ...(init.subject === undefined ? {} : { subject: init.subject }),
    ...(init.annotations === undefined ? {} : { annotations: init.annotations }),
  };
  return manifest;
}
