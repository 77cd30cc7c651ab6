/**
 * Media types of the OCI image spec and of Docker's image manifest v2 schema 2, with the
 * predicates and the Docker ↔ OCI mapping that readers need (oci.md §2). Produce OCI types;
 * accept both families on read.
 */

/** OCI media types (image-spec v1.1). */
export const OCI_MEDIA_TYPES = {
  /** A content descriptor on its own. */
  descriptor: 'application/vnd.oci.descriptor.v1+json',
  /** The `oci-layout` file of an image layout. */
  layoutHeader: 'application/vnd.oci.layout.header.v1+json',
  /** An image index (multi-platform; also the layout's `index.json`). */
  index: 'application/vnd.oci.image.index.v1+json',
  /** An image manifest. */
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  /** An image config. */
  config: 'application/vnd.oci.image.config.v1+json',
  /** A layer: plain tar. */
  layer: 'application/vnd.oci.image.layer.v1.tar',
  /** A layer: gzip-compressed tar. */
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** A layer: zstd-compressed tar. */
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** A non-distributable ("foreign") layer: plain tar. Deprecated; never pushed. */
  layerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  /** A non-distributable layer: gzip. Deprecated; never pushed. */
  layerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  /** A non-distributable layer: zstd. Deprecated; never pushed. */
  layerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** The empty blob `{}` (artifacts without config). */
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Docker image manifest v2 schema 2 media types. */
export const DOCKER_MEDIA_TYPES = {
  /** A manifest list (Docker's image index). */
  manifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** An image manifest, schema 2. */
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Legacy schema 1 manifest (unsigned). Not produced; refused on read. */
  manifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  /** Legacy schema 1 manifest (signed). Not produced; refused on read. */
  manifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  /** The image config. */
  config: 'application/vnd.docker.container.image.v1+json',
  /** A layer: gzip-compressed tar. */
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** A layer: plain tar (written by some tools; containerd knows it). */
  layer: 'application/vnd.docker.image.rootfs.diff.tar',
  /** A layer: zstd-compressed tar (containerd knows it). */
  layerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  /** A foreign (non-distributable) layer: gzip. Never pushed. */
  foreignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** A foreign (non-distributable) layer: plain tar. Never pushed. */
  foreignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
} as const;

/** Any OCI media type constant. */
export type OciMediaType = (typeof OCI_MEDIA_TYPES)[keyof typeof OCI_MEDIA_TYPES];
/** Any Docker media type constant. */
export type DockerMediaType = (typeof DOCKER_MEDIA_TYPES)[keyof typeof DOCKER_MEDIA_TYPES];

/** How a layer blob is compressed. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  OCI_MEDIA_TYPES.manifest,
  DOCKER_MEDIA_TYPES.manifest,
]);
const INDEX_TYPES: ReadonlySet<string> = new Set([
  OCI_MEDIA_TYPES.index,
  DOCKER_MEDIA_TYPES.manifestList,
]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([
  OCI_MEDIA_TYPES.config,
  DOCKER_MEDIA_TYPES.config,
]);

const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [OCI_MEDIA_TYPES.layer, 'none'],
  [OCI_MEDIA_TYPES.layerGzip, 'gzip'],
  [OCI_MEDIA_TYPES.layerZstd, 'zstd'],
  [OCI_MEDIA_TYPES.layerNonDistributable, 'none'],
  [OCI_MEDIA_TYPES.layerNonDistributableGzip, 'gzip'],
  [OCI_MEDIA_TYPES.layerNonDistributableZstd, 'zstd'],
  [DOCKER_MEDIA_TYPES.layer, 'none'],
  [DOCKER_MEDIA_TYPES.layerGzip, 'gzip'],
  [DOCKER_MEDIA_TYPES.layerZstd, 'zstd'],
  [DOCKER_MEDIA_TYPES.foreignLayer, 'none'],
  [DOCKER_MEDIA_TYPES.foreignLayerGzip, 'gzip'],
]);

const NON_DISTRIBUTABLE: ReadonlySet<string> = new Set([
  OCI_MEDIA_TYPES.layerNonDistributable,
  OCI_MEDIA_TYPES.layerNonDistributableGzip,
  OCI_MEDIA_TYPES.layerNonDistributableZstd,
  DOCKER_MEDIA_TYPES.foreignLayer,
  DOCKER_MEDIA_TYPES.foreignLayerGzip,
]);

/** Strips media-type parameters (`; charset=…`) and surrounding white space, as HTTP sends them. */
function bare(mediaType: string): string {
  const semi = mediaType.indexOf(';');
  return (semi === -1 ? mediaType : mediaType.slice(0, semi)).trim();
}

/** True for an OCI image manifest or a Docker schema 2 manifest. */
export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(bare(mediaType));
}

/** True for an OCI image index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(bare(mediaType));
}

/** True for an OCI or Docker image config. */
export function isConfigMediaType(mediaType: string): boolean {
  return CONFIG_TYPES.has(bare(mediaType));
}

/** True for any OCI or Docker layer type (tar, tar+gzip, tar+zstd, non-distributable/foreign). */
export function isLayerMediaType(mediaType: string): boolean {
  return LAYER_COMPRESSION.has(bare(mediaType));
}

/** True for a non-distributable (OCI) or foreign (Docker) layer: never push these blobs. */
export function isNonDistributableMediaType(mediaType: string): boolean {
  return NON_DISTRIBUTABLE.has(bare(mediaType));
}

/** True for the legacy Docker schema 1 manifest types, which lab refuses. */
export function isSchema1MediaType(mediaType: string): boolean {
  const t = bare(mediaType);
  return t === DOCKER_MEDIA_TYPES.manifestV1 || t === DOCKER_MEDIA_TYPES.manifestV1Signed;
}

/**
 * The compression of a layer media type.
 * Throws `Error` for a media type that is not a known layer type; check with
 * {@link isLayerMediaType} first, or catch and sniff the magic bytes.
 */
export function layerCompression(mediaType: string): LayerCompression {
  const compression = LAYER_COMPRESSION.get(bare(mediaType));
  if (compression === undefined) {
    throw new TypeError(
      `"${mediaType}" is not a layer media type: expected one of ${[...LAYER_COMPRESSION.keys()].join(', ')}`,
    );
  }
  return compression;
}

/** The OCI layer media type for a compression (distributable layers). */
export function ociLayerMediaType(compression: LayerCompression): OciMediaType {
  switch (compression) {
    case 'none':
      return OCI_MEDIA_TYPES.layer;
    case 'gzip':
      return OCI_MEDIA_TYPES.layerGzip;
    case 'zstd':
      return OCI_MEDIA_TYPES.layerZstd;
  }
}

const DOCKER_TO_OCI: ReadonlyMap<string, OciMediaType> = new Map<string, OciMediaType>([
  [DOCKER_MEDIA_TYPES.manifestList, OCI_MEDIA_TYPES.index],
  [DOCKER_MEDIA_TYPES.manifest, OCI_MEDIA_TYPES.manifest],
  [DOCKER_MEDIA_TYPES.config, OCI_MEDIA_TYPES.config],
  [DOCKER_MEDIA_TYPES.layer, OCI_MEDIA_TYPES.layer],
  [DOCKER_MEDIA_TYPES.layerGzip, OCI_MEDIA_TYPES.layerGzip],
  [DOCKER_MEDIA_TYPES.layerZstd, OCI_MEDIA_TYPES.layerZstd],
  [DOCKER_MEDIA_TYPES.foreignLayer, OCI_MEDIA_TYPES.layerNonDistributable],
  [DOCKER_MEDIA_TYPES.foreignLayerGzip, OCI_MEDIA_TYPES.layerNonDistributableGzip],
]);

const OCI_TO_DOCKER: ReadonlyMap<string, DockerMediaType> = new Map<string, DockerMediaType>([
  [OCI_MEDIA_TYPES.index, DOCKER_MEDIA_TYPES.manifestList],
  [OCI_MEDIA_TYPES.manifest, DOCKER_MEDIA_TYPES.manifest],
  [OCI_MEDIA_TYPES.config, DOCKER_MEDIA_TYPES.config],
  [OCI_MEDIA_TYPES.layer, DOCKER_MEDIA_TYPES.layer],
  [OCI_MEDIA_TYPES.layerGzip, DOCKER_MEDIA_TYPES.layerGzip],
  [OCI_MEDIA_TYPES.layerZstd, DOCKER_MEDIA_TYPES.layerZstd],
  [OCI_MEDIA_TYPES.layerNonDistributable, DOCKER_MEDIA_TYPES.foreignLayer],
  [OCI_MEDIA_TYPES.layerNonDistributableGzip, DOCKER_MEDIA_TYPES.foreignLayerGzip],
]);

/**
 * The OCI counterpart of a Docker media type; an OCI or unknown type comes back unchanged
 * (unknown media types must be tolerated, not rejected).
 */
export function toOciMediaType(mediaType: string): string {
  return DOCKER_TO_OCI.get(bare(mediaType)) ?? mediaType;
}

/**
 * The Docker schema 2 counterpart of an OCI media type, or `undefined` when Docker has none
 * (e.g. `tar+zstd` non-distributable, the empty type, the layout header).
 * A Docker type comes back unchanged.
 */
export function toDockerMediaType(mediaType: string): string | undefined {
  const t = bare(mediaType);
  if (OCI_TO_DOCKER.has(t)) return OCI_TO_DOCKER.get(t);
  return DOCKER_TO_OCI.has(t) ? t : undefined;
}
