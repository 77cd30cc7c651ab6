/**
 * Reading an oci-archive (a tar of an OCI image layout): `index.json`'s entries are the images;
 * each manifest, config and layer is looked up as `blobs/<alg>/<hex>` and checked against its
 * descriptor's size (the digest was checked while the blob streamed in); layer DiffIDs are
 * checked against the config. An entry that is an index contributes the manifest for the
 * wanted platform (linux and this machine's architecture by default). Names come from
 * `io.containerd.image.name` (Docker 25+) or `org.opencontainers.image.ref.name`.
 */
import {
  ANNOTATION_CONTAINERD_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  blobPath,
  invalidArgument,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  layerCompression,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseImageLayout,
  parseIndexJson,
  hostPlatform,
  platformMatches,
  type Descriptor,
  type Platform,
} from '@lab/oci';
import type { ContentStore } from '../content/index.js';

import { layerDiffID, type ArchiveImage } from './archive-image.js';
import { archiveFileBytes, type ArchiveCatalog, type ArchiveFile } from './read-archive.js';

function blobFileOf(
  catalog: ArchiveCatalog,
  descriptor: Descriptor,
  referrer: string,
): ArchiveFile {
  if (!descriptor.digest.startsWith('sha256:')) {
    throw invalidArgument(
      `${referrer} refers to ${descriptor.digest}: lab stores sha256 content only; convert the image with skopeo copy first`,
      { details: { referrer, digest: descriptor.digest } },
    );
  }
  const path = blobPath(descriptor.digest);
  const entry = catalog.entries.get(path);
  if (entry?.kind !== 'file') {
    throw invalidArgument(
      `${referrer} refers to ${descriptor.digest}, but the archive has no "${path}"; the archive is incomplete`,
      { details: { entry: path, referrer } },
    );
  }
  if (entry.size !== descriptor.size) {
    throw invalidArgument(
      `"${path}" has ${entry.size} bytes but ${referrer} says ${descriptor.size}; the archive is corrupt`,
      { details: { entry: path, referrer } },
    );
  }
  return entry;
}

/** Names an index.json entry gives its image. */
function namesOf(descriptor: Descriptor): string[] {
  const full = descriptor.annotations?.[ANNOTATION_CONTAINERD_IMAGE_NAME];
  if (full !== undefined && full !== '') return [full];
  const ref = descriptor.annotations?.[ANNOTATION_REF_NAME];
  return ref !== undefined && ref !== '' ? [ref] : [];
}

async function resolveManifest(
  store: ContentStore,
  catalog: ArchiveCatalog,
  descriptor: Descriptor,
  referrer: string,
  names: string[],
): Promise<ArchiveImage> {
  const file = blobFileOf(catalog, descriptor, referrer);
  const bytes = await archiveFileBytes(store, file);
  const manifest = parseImageManifest(bytes, file.path);
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw invalidArgument(
      `${file.path}: config media type "${manifest.config.mediaType}" is not an image config; lab loads container images only`,
      { details: { entry: file.path } },
    );
  }
  const configFile = blobFileOf(catalog, manifest.config, `${file.path} config`);
  const config = parseImageConfig(await archiveFileBytes(store, configFile), configFile.path);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalidArgument(
      `${file.path} has ${manifest.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids; the archive is corrupt`,
      { details: { entry: file.path } },
    );
  }
  const blobs: ArchiveFile[] = [configFile];
  for (const [i, layer] of manifest.layers.entries()) {
    const where = `${file.path} layers[${i}]`;
    if (!isLayerMediaType(layer.mediaType)) {
      throw invalidArgument(
        `${where}: unknown layer media type "${layer.mediaType}"; lab reads OCI and Docker tar, tar+gzip and tar+zstd layers`,
        { details: { entry: file.path, mediaType: layer.mediaType } },
      );
    }
    const layerFile = blobFileOf(catalog, layer, where);
    const diffID = await layerDiffID(store, layerFile, layerCompression(layer.mediaType));
    const expected = config.rootfs.diff_ids[i];
    if (diffID !== expected) {
      throw invalidArgument(
        `layer "${layerFile.path}" (${where}) has DiffID ${diffID}, but the config says ${expected ?? '(none)'}; the archive is corrupt`,
        { details: { entry: layerFile.path, expected, diffID } },
      );
    }
    blobs.push(layerFile);
  }
  blobs.push(file);
  return {
    manifest: {
      bytes,
      descriptor: {
        mediaType: manifest.mediaType ?? descriptor.mediaType,
        digest: file.digest,
        size: file.size,
      },
    },
    configDigest: manifest.config.digest,
    names,
    blobs,
  };
}

/** The images of an oci-archive catalog (it has an `index.json`). */
export async function resolveOciArchive(
  store: ContentStore,
  catalog: ArchiveCatalog,
  platform: Platform = hostPlatform(),
): Promise<ArchiveImage[]> {
  const layoutEntry = catalog.entries.get('oci-layout');
  if (layoutEntry?.kind === 'file') {
    // the schema accepts imageLayoutVersion 1.0.0 only
    parseImageLayout(await archiveFileBytes(store, layoutEntry), 'oci-layout');
  }
  const indexEntry = catalog.entries.get('index.json');
  if (indexEntry?.kind !== 'file')
    throw invalidArgument('the archive has no index.json file', {
      details: { entry: 'index.json' },
    });
  const index = parseIndexJson(await archiveFileBytes(store, indexEntry), 'index.json');
  const images: ArchiveImage[] = [];
  for (const [i, descriptor] of index.manifests.entries()) {
    const where = `index.json manifests[${i}]`;
    const names = namesOf(descriptor);
    if (isManifestMediaType(descriptor.mediaType)) {
      images.push(await resolveManifest(store, catalog, descriptor, where, names));
    } else if (isIndexMediaType(descriptor.mediaType)) {
      const file = blobFileOf(catalog, descriptor, where);
      const nested = parseImageIndex(await archiveFileBytes(store, file), file.path);
      const chosen = nested.manifests.find(
        (m) =>
          isManifestMediaType(m.mediaType) &&
          m.platform !== undefined &&
          platformMatches(platform, m.platform),
      );
      if (chosen === undefined) {
        throw invalidArgument(
          `${file.path} (${where}) has no image for ${platform.os}/${platform.architecture}; platforms: ${nested.manifests.map((m) => (m.platform === undefined ? '?' : `${m.platform.os}/${m.platform.architecture}`)).join(', ')}`,
          { details: { entry: file.path } },
        );
      }
      images.push(await resolveManifest(store, catalog, chosen, `${file.path} (${where})`, names));
    } else if (isSchema1MediaType(descriptor.mediaType)) {
      throw invalidArgument(`${where}: Docker schema 1 manifests are not supported`, {
        details: { entry: 'index.json' },
      });
    } else {
      throw invalidArgument(
        `${where}: unknown media type "${descriptor.mediaType}"; lab loads image manifests and image indexes`,
        { details: { entry: 'index.json', mediaType: descriptor.mediaType } },
      );
    }
  }
  if (images.length === 0)
    throw invalidArgument('index.json lists no images: the oci-archive is empty', {
      details: { entry: 'index.json' },
    });
  return images;
}
