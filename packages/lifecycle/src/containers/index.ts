export type { ContainerOperation, ContainerStatus, TransitionResult } from './status.js';
export { CONTAINER_OPERATIONS, CONTAINER_STATUSES, checkTransition, transition } from './status.js';
export type {
  Container,
  ContainerConfig,
  ContainerState,
  ContainerUserConfig,
  HostConfig,
  MountPoint,
  PortBinding,
  RestartPolicy,
  VolumeRequest,
} from './types.js';
export { ZERO_TIME } from './types.js';
export type {
  AttachMode,
  Containers,
  ContainersOptions,
  CreateContainerOptions,
  RunHandle,
  StartOptions,
} from './engine.js';
export {
  monitorAlive,
  openContainers,
  psTable,
  snapshotKey,
  startErrorExitCode,
  stopSignalOf,
} from './engine.js';
export type { ParsedMounts } from './mounts.js';
export { emptyMounts, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from './mounts.js';
export type { NetworkAttachment, NetworkProvider, Providers, VolumeProvider } from './providers.js';
export { providersFor, registerProviders } from './providers.js';
export { DEFAULT_RUNTIME, checkRuntimeName, openContainerRuntime } from './runtimes.js';
export {
  checkContainerName,
  containerPath,
  containersDir,
  findContainer,
  listContainers,
  newContainerId,
} from './store.js';
export { containerGcReferences, containersUseImage } from './references.js';
