export {
  loadArchive,
  detectArchiveFormat,
  type ArchiveFormat,
  type LoadedImage,
  type LoadOptions,
  type LoadResult,
} from './load-archive.js';
export { saveArchive, type SaveOptions, type SaveResult } from './save-archive.js';
export { importRootfs, type ImportOptions, type ImportResult } from './import-rootfs.js';
export { parseDockerManifest, type DockerManifestItem } from './docker-manifest.js';
