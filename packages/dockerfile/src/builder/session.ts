/**
 * The state one build shares between its stages (store, cache, workspace, progress, stats) and
 * the state of one stage while its instructions are dispatched.
 */
import type { ImageStore } from '@lab/layers';
import type { History, ImageConfig } from '@lab/oci';
import type { EscapeToken } from '../ast.js';
import type { BuildGraph, ResolvedStage } from '../instructions/graph.js';
import type { StageEnvironment } from '../instructions/environment.js';
import type { BuildCache, CachedLayer } from './cache.js';
import type { SourceTree } from './source-tree.js';
import type { BuildOptions, BuildStats } from './types.js';
import type { Workspace } from './workspace.js';

/** A stage while it is built, and once it is. */
export interface StageState {
  readonly resolved: ResolvedStage;
  /** The image config being built (config.config is the container config). */
  config: ImageConfig;
  history: History[];
  layers: CachedLayer[];
  /** Cache key of the filesystem: the base, then every step that touched it. */
  fsKey: string;
  readonly env: StageEnvironment;
  /** A CMD was given in this stage (ENTRYPOINT keeps it). */
  cmdSet: boolean;
  /** Vertex counter of the stage (`[k/m]`). */
  index: number;
  total: number;
  /** The step being dispatched is an ONBUILD trigger (its vertex says so). */
  onbuild?: boolean;
  /** The stage name in vertex names; empty for a one-stage Dockerfile. */
  readonly prefixName: string;
}

/** A step's vertex: progress reporting and timing. */
export interface Vertex {
  readonly id: number;
  readonly name: string;
  log(stream: 'stdout' | 'stderr', text: string): void;
  cached(): void;
  done(): void;
  fail(message: string): void;
}

/** What every stage of a build shares. */
export interface BuildSession {
  readonly options: BuildOptions;
  readonly dockerfileName: string;
  readonly escapeToken: EscapeToken;
  readonly graph: BuildGraph;
  readonly images: ImageStore;
  readonly cache: BuildCache;
  readonly workspace: Workspace;
  /** The build context as a source tree, when there is one. */
  readonly context: SourceTree | undefined;
  /** A private temporary directory (downloads, secrets, copies). */
  readonly tmp: string;
  readonly stats: BuildStats;
  /** The creation time written into history and config (RFC 3339). */
  readonly created: string;
  /** Steps of this build using each cache-mount directory now (for `sharing=private`). */
  readonly cacheMountUsers: Map<string, number>;
  /** The tail of each cache-mount directory's queue (for `sharing=locked`). */
  readonly cacheMountLocks: Map<string, Promise<void>>;
  vertex(name: string): Vertex;
  /** The state of stage `index` once it is built (built on first request). */
  stage(index: number): Promise<StageState>;
}
