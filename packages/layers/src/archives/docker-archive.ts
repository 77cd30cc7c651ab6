/**
 * Reading a docker-archive (every flavour: Docker ≤ 24 `<v1id>/layer.tar`, Docker ≥ 25 with
 * `blobs/sha256/…`, podman/skopeo with `<diffid>.tar` and symlinked legacy dirs): the paths in
 * `manifest.json` are trusted, not guessed; each layer's DiffID is checked against the
 * config's `rootfs.diff_ids`, and an OCI manifest is made for the image (the archive's config
 * bytes are kept, so the image ID is the same as in docker or podman).
 */
import {
  OCI_MEDIA_TYPES,
  createDescriptor,
  createImageManifest,
  encodeDocument,
  invalidArgument,
  ociLayerMediaType,
  parseImageConfig,
  type Descriptor,
} from '@lab/oci';
import type { ContentStore } from '../content/index.js';
import { layerDiffID, sniffLayerCompression, type ArchiveImage } from './archive-image.js';
import { parseDockerManifest } from './docker-manifest.js';
import {
  archiveFileBytes,
  resolveArchiveFile,
  type ArchiveCatalog,
  type ArchiveFile,
} from './read-archive.js';

/** The images of a docker-archive catalog (it has a `manifest.json`). */
export async function resolveDockerArchive(
  store: ContentStore,
  catalog: ArchiveCatalog,
): Promise<ArchiveImage[]> {
  const manifestFile = resolveArchiveFile(catalog, 'manifest.json', 'the archive');
  const items = parseDockerManifest(await archiveFileBytes(store, manifestFile), 'manifest.json');
  if (items.length === 0) {
    throw invalidArgument('manifest.json lists no images: the docker-archive is empty', {
      details: { entry: 'manifest.json' },
    });
  }
  const images: ArchiveImage[] = [];
  for (const [i, item] of items.entries()) {
    const where = `manifest.json [${i}]`;
    const configFile = resolveArchiveFile(catalog, item.Config, `${where}.Config`);
    const configBytes = await archiveFileBytes(store, configFile);
    const config = parseImageConfig(configBytes, item.Config);
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== item.Layers.length) {
      throw invalidArgument(
        `${where} lists ${item.Layers.length} layers but its config ${item.Config} has ${diffIDs.length} diff_ids; the archive is corrupt`,
        { details: { entry: item.Config } },
      );
    }
    const layers: Descriptor[] = [];
    const blobs: ArchiveFile[] = [configFile];
    for (const [j, layerPath] of item.Layers.entries()) {
      const file = resolveArchiveFile(catalog, layerPath, `${where}.Layers[${j}]`);
      const compression = await sniffLayerCompression(store, file);
      const diffID = await layerDiffID(store, file, compression);
      if (diffID !== diffIDs[j]) {
        throw invalidArgument(
          `layer "${layerPath}" (${where}.Layers[${j}]) has DiffID ${diffID}, but the config says ${diffIDs[j] ?? '(none)'}; the archive is corrupt`,
          { details: { entry: layerPath, expected: diffIDs[j], diffID } },
        );
      }
      layers.push({
        mediaType: ociLayerMediaType(compression),
        digest: file.digest,
        size: file.size,
      });
      blobs.push(file);
    }
    const configDescriptor = createDescriptor(OCI_MEDIA_TYPES.config, configBytes);
    const manifest = encodeDocument(
      OCI_MEDIA_TYPES.manifest,
      createImageManifest({ config: configDescriptor, layers }),
    );
    images.push({
      manifest,
      configDigest: configDescriptor.digest,
      names: item.RepoTags,
      blobs,
    });
  }
  return images;
}
