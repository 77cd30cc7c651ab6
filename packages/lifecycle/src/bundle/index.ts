export type { BindMount, NetworkMode, RunOptions, TmpfsMount } from './create-spec.js';
export {
  CAPABILITY_NAMES,
  DEFAULT_SHM_SIZE,
  INIT_PATH,
  capabilitySet,
  createSpec,
  mergeEnv,
  processArgs,
} from './create-spec.js';
export type { EtcFiles, EtcFilesInit, HostsEntry, ResolvConf } from './etc-files.js';
export { renderHosts, writeEtcFiles } from './etc-files.js';
export type { ResolvedUser } from './user.js';
export { resolveUser } from './user.js';
export { secureJoin } from './secure-join.js';
export { readBundle, writeBundle } from './write-bundle.js';
export { writeFileAtomic } from './atomic-write.js';
