/**
 * Pre-defined annotation keys of the image spec (annotations.md) and of the conversion of an
 * image config to a runtime config (conversion.md), plus the grammar of `ref.name`.
 * `ANNOTATION_REF_NAME` and `ANNOTATION_CONTAINERD_IMAGE_NAME` live in layout.ts.
 */

/** Annotation keys defined by the image spec for manifests, indexes and descriptors. */
export const IMAGE_ANNOTATIONS = {
  /** Creation time, RFC 3339. */
  created: 'org.opencontainers.image.created',
  /** Contact details of the people or organisation responsible. */
  authors: 'org.opencontainers.image.authors',
  /** URL to find more information. */
  url: 'org.opencontainers.image.url',
  /** URL to the documentation. */
  documentation: 'org.opencontainers.image.documentation',
  /** URL to the source code. */
  source: 'org.opencontainers.image.source',
  /** Version of the packaged software. */
  version: 'org.opencontainers.image.version',
  /** Source control revision. */
  revision: 'org.opencontainers.image.revision',
  /** Name of the distributing entity. */
  vendor: 'org.opencontainers.image.vendor',
  /** SPDX licence expression. */
  licenses: 'org.opencontainers.image.licenses',
  /** Name of a reference (the "tag" of an `index.json` entry). */
  refName: 'org.opencontainers.image.ref.name',
  /** Human-readable title. */
  title: 'org.opencontainers.image.title',
  /** Human-readable description. */
  description: 'org.opencontainers.image.description',
  /** Digest of the base image. */
  baseDigest: 'org.opencontainers.image.base.digest',
  /** Reference of the base image. */
  baseName: 'org.opencontainers.image.base.name',
} as const;

/** Annotation keys a runtime config gets from the image config (image-spec conversion.md). */
export const CONVERSION_ANNOTATIONS = {
  os: 'org.opencontainers.image.os',
  architecture: 'org.opencontainers.image.architecture',
  variant: 'org.opencontainers.image.variant',
  osVersion: 'org.opencontainers.image.os.version',
  osFeatures: 'org.opencontainers.image.os.features',
  author: 'org.opencontainers.image.author',
  created: 'org.opencontainers.image.created',
  stopSignal: 'org.opencontainers.image.stopSignal',
  exposedPorts: 'org.opencontainers.image.exposedPorts',
} as const;

const REF_NAME_COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME = new RegExp(`^${REF_NAME_COMPONENT}(?:/${REF_NAME_COMPONENT})*$`);

/**
 * True when `value` follows the image-layout grammar of `org.opencontainers.image.ref.name`:
 * components of `[A-Za-z0-9]+` joined by one of `- . _ : @ +` or `--`, separated by `/`.
 * (`v1`, `1.0`, `docker.io/library/busybox:latest`.)
 */
export function isValidRefName(value: string): boolean {
  return REF_NAME.test(value);
}
