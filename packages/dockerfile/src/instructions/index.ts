export type * from './types.js';
export { DockerfileError, isDockerfileError } from './error.js';
export {
  parseInstruction,
  parseInstructions,
  INSTRUCTION_NAMES,
  type ParseInstructionsOptions,
} from './parse.js';
export { expandCommand, type Expanders, type WordExpander } from './expand.js';
export { parseMount, checkMount, parseRamInBytes, type ValueExpander } from './mount.js';
export {
  defaultArgs,
  evaluateMetaArgs,
  formatPlatform,
  isProxyArg,
  PLATFORM_ARGS,
  PROXY_ARGS,
  RESERVED_BUILD_ARGS,
  type MetaArgInfo,
  type Platform,
} from './args.js';
export {
  resolveBuildGraph,
  type BuildGraph,
  type BuildGraphOptions,
  type ResolvedStage,
  type StageDependency,
  type StageSource,
} from './graph.js';
export { suggest } from './suggest.js';
export { parseGoDuration, formatGoDuration } from './go-parse.js';
export { parsePortSpec, isIPAddress, type PortSpecFindings } from './expose.js';
export {
  applyCommand,
  imageEnvironment,
  inheritEnvironment,
  proxyEnvironment,
  DEFAULT_PATH_ENV,
  type ApplyContext,
  type StageEnvironment,
} from './environment.js';
export { parsePlatformSpecifier } from './platform.js';
export { parseSignal } from './signal.js';
