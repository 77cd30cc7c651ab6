/**
 * The builder's vocabulary: what it needs from outside (a {@link RunExecutor} for RUN steps),
 * what a build is asked to do ({@link BuildOptions}) and what it reports
 * ({@link BuildProgressEvent}, {@link BuildResult}).
 */
import type { Writable } from 'node:stream';
import type { Digest, ImageConfig } from '@lab/oci';

/** A mount a RUN step gets, already resolved to host paths by the builder. */
export type ExecMount =
  | {
      readonly type: 'bind';
      /** Absolute host path (a cache directory, a context or stage path, a secret file). */
      readonly source: string;
      /** Absolute path in the container. */
      readonly target: string;
      readonly readonly: boolean;
    }
  | {
      readonly type: 'tmpfs';
      readonly target: string;
      /** Bytes; undefined for the kernel's default. */
      readonly size?: number;
    };

/** One RUN step as the executor runs it. */
export interface ExecRequest {
  /** A unique id for the step's container (the builder makes one per RUN). */
  readonly id: string;
  /** Absolute host path of the step's root filesystem, mounted read-write by the builder. */
  readonly rootfs: string;
  /** The full command line (`/bin/sh -c …` for shell form). */
  readonly args: readonly string[];
  /** `KEY=VALUE` entries: ENV, declared ARGs and proxy args, in order. */
  readonly env: readonly string[];
  /** Absolute working directory in the container. */
  readonly cwd: string;
  /** `USER` (name or id, optionally `:group`); empty for root. */
  readonly user: string;
  readonly network: 'none' | 'host';
  readonly hostname: string;
  readonly mounts: readonly ExecMount[];
  /** Where the process's output goes; the builder tees it into progress and error reports. */
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly signal?: AbortSignal;
}

/**
 * Runs RUN steps. `@lab/lifecycle` satisfies it with its runtime (`createRunExecutor`); the app
 * wires it in. Resolves with the process's exit code (128 + n when killed by signal n); rejects
 * only when the process could not be run at all.
 */
export interface RunExecutor {
  run(request: ExecRequest): Promise<{ exitCode: number }>;
}

/** A secret for `RUN --mount=type=secret,id=…`. */
export type BuildSecret =
  { readonly id: string; readonly file: string } | { readonly id: string; readonly env: string };

/** The build context: a directory, or none (Dockerfile from stdin). */
export type BuildContextSource =
  | {
      readonly kind: 'directory';
      readonly path: string;
      /**
       * Whether a context path (relative, `/`-separated) exists for the build; the
       * `.dockerignore` filter goes here. Default: every path.
       */
      readonly shouldInclude?: (relativePath: string) => boolean;
      /**
       * Excluded directories may hold included paths (`.dockerignore` exceptions): walk them
       * instead of skipping them.
       */
      readonly reincludes?: boolean;
    }
  | { readonly kind: 'none' };

/** What {@link build} is asked to do. */
export interface BuildOptions {
  /** The lab root (image store, snapshots, build cache). */
  readonly root: string;
  /** The Dockerfile text. */
  readonly dockerfile: string;
  /** A name for the Dockerfile in messages (`Dockerfile`). */
  readonly dockerfileName?: string;
  readonly context: BuildContextSource;
  readonly executor: RunExecutor;
  /** Names to give the image (`-t`), repeatable. */
  readonly tags?: readonly string[];
  /** `--build-arg` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** `--target`. */
  readonly target?: string;
  /** `--no-cache`. */
  readonly noCache?: boolean;
  /** `--label`s, merged into the target's config. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Default network of RUN steps (`--network`); default `host`. */
  readonly network?: 'none' | 'host';
  readonly secrets?: readonly BuildSecret[];
  /** Clamp times (config, history, layer mtimes) to this epoch: reproducible images. */
  readonly sourceDateEpoch?: number;
  /** The environment `secret` env sources are read from; default empty. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  readonly onProgress?: (event: BuildProgressEvent) => void;
  readonly signal?: AbortSignal;
}

/** Progress of one vertex (`#N`), as BuildKit's progress writer shows them. */
export type BuildProgressEvent =
  | { readonly type: 'start'; readonly id: number; readonly name: string }
  | {
      readonly type: 'log';
      readonly id: number;
      readonly stream: 'stdout' | 'stderr';
      readonly text: string;
    }
  | { readonly type: 'cached'; readonly id: number }
  | { readonly type: 'done'; readonly id: number; readonly seconds: number }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly seconds: number;
      readonly message: string;
    };

/** What a build did; cache behaviour is visible here without timing. */
export interface BuildStats {
  /** Steps that have a vertex: FROM image, RUN, COPY/ADD, WORKDIR (of the built stages). */
  steps: number;
  /** Of those, answered from the cache. */
  cached: number;
  /** RUN steps actually executed. */
  runsExecuted: number;
  /** Layer blobs written to the content store. */
  layersWritten: number;
}

/** The built image. */
export interface BuildResult {
  /** Image ID (config digest). */
  id: Digest;
  manifestDigest: Digest;
  config: ImageConfig;
  /** Full normalised names given to it. */
  names: string[];
  stats: BuildStats;
  /** Stages built, by display name, in the order they finished. */
  stagesBuilt: string[];
}
