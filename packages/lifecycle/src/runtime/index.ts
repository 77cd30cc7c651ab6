export type {
  CreateOptions,
  ExecOptions,
  ExecProcess,
  ExitStatus,
  Runtime,
  RuntimeFeatures,
  RuntimeState,
  RuntimeStatus,
  Stdio,
  StdioTarget,
} from './runtime.js';
export { ALLOWED } from './runtime.js';
export type { BuiltinRuntimeOptions } from './builtin/builtin-runtime.js';
export { createBuiltinRuntime } from './builtin/builtin-runtime.js';
export type { HostTools } from './builtin/privileges.js';
export { DEFAULT_TOOLS } from './builtin/privileges.js';
export type { OciRuntimeOptions } from './oci/oci-runtime.js';
export { createOciRuntime } from './oci/oci-runtime.js';
export { isSameProcessAlive, processStat, signalName, signalNumber } from './process-info.js';
