/**
 * `@lab/dockerfile/builder`: builds images from Dockerfiles with BuildKit's semantics on lab's
 * image store, snapshots and content store. RUN steps go through an injected
 * {@link RunExecutor} (`@lab/lifecycle`'s `createRunExecutor`).
 */
export type {
  BuildContextSource,
  BuildOptions,
  BuildProgressEvent,
  BuildResult,
  BuildSecret,
  BuildStats,
  ExecMount,
  ExecRequest,
  RunExecutor,
} from './types.js';
export { build } from './build.js';
export {
  buildCacheReferences,
  openBuildCache,
  pruneBuildCache,
  type BuildCache,
  type CacheRecord,
  type CachedLayer,
} from './cache.js';
export { formatBuildError, type StepFailure } from './step-error.js';
