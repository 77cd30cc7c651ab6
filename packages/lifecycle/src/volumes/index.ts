export type {
  CreateVolumeOptions,
  Volume,
  VolumeFilters,
  VolumeStore,
  VolumeUsage,
} from './volume-store.js';
export { ANONYMOUS_LABEL, checkVolumeName, labelMatches, openVolumeStore } from './volume-store.js';
export type { LabVolumeProvider, VolumeProviderOptions } from './volume-provider.js';
export {
  containerVolumeUsage,
  imageVolumeRequests,
  openVolumeProvider,
  populateVolume,
} from './volume-provider.js';
