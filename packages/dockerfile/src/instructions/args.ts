/**
 * Build arguments before the first stage (BuildKit `dockerfile2llb/platform.go`
 * defaultArgs, `convert.go` buildMetaArgs): the automatic platform args, then the meta
 * ARGs in order, each taking its `--build-arg` value or its default expanded with the
 * args before it.
 */
import type { EscapeToken } from '../ast.js';
import { processWordWithMatches } from '../shell/lex.js';
import { errorAt } from './error.js';
import type { ArgInstruction } from './types.js';

/** An OCI platform (`linux/arm64/v8`). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly osVersion?: string;
}

/** containerd `platforms.Format`: `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The automatic args BuildKit defines for every build. */
export const PLATFORM_ARGS = [
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDOSVERSION',
  'BUILDARCH',
  'BUILDVARIANT',
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETOSVERSION',
  'TARGETARCH',
  'TARGETVARIANT',
  'TARGETSTAGE',
] as const;

/**
 * Proxy args: they reach every RUN without an ARG declaration, any case (`http_proxy` or
 * `HTTP_PROXY`), and stay out of the cache key and history.
 */
export const PROXY_ARGS = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'FTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
] as const;

/** True for a proxy build-arg name, in any case. */
export function isProxyArg(name: string): boolean {
  return (PROXY_ARGS as readonly string[]).includes(name.toUpperCase());
}

/** Build-args BuildKit reserves for its own settings. */
export const RESERVED_BUILD_ARGS = [
  'SOURCE_DATE_EPOCH',
  'BUILDKIT_CACHE_MOUNT_NS',
  'BUILDKIT_DOCKERFILE_CHECK',
  'BUILDKIT_SYNTAX',
  'BUILDKIT_CONTEXT_KEEP_GIT_DIR',
  'BUILDKIT_INLINE_CACHE',
  'BUILDKIT_MULTI_PLATFORM',
  'BUILDKIT_SANDBOX_HOSTNAME',
  'BUILDKIT_SBOM_SCAN_CONTEXT',
  'BUILDKIT_SBOM_SCAN_STAGE',
] as const;

/**
 * The automatic platform args (BuildKit `defaultArgs`), each overridable by a build-arg of
 * the same name. `targetStage` is the name of the stage being built.
 */
export function defaultArgs(
  buildPlatform: Platform,
  targetPlatform: Platform,
  targetStage: string,
  overrides: Readonly<Record<string, string>> = {},
): Map<string, string> {
  const values: [string, string][] = [
    ['BUILDPLATFORM', formatPlatform(buildPlatform)],
    ['BUILDOS', buildPlatform.os],
    ['BUILDOSVERSION', buildPlatform.osVersion ?? ''],
    ['BUILDARCH', buildPlatform.architecture],
    ['BUILDVARIANT', buildPlatform.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(targetPlatform)],
    ['TARGETOS', targetPlatform.os],
    ['TARGETOSVERSION', targetPlatform.osVersion ?? ''],
    ['TARGETARCH', targetPlatform.architecture],
    ['TARGETVARIANT', targetPlatform.variant ?? ''],
    ['TARGETSTAGE', targetStage],
  ];
  const env = new Map<string, string>();
  for (const [k, v] of values) env.set(k, Object.hasOwn(overrides, k) ? overrides[k]! : v);
  return env;
}

/** What a meta ARG resolved to. */
export interface MetaArgInfo {
  readonly key: string;
  /** Undefined when declared without a default and not given as a build-arg. */
  readonly value?: string;
  /** Names the default referred to and found. */
  readonly deps: ReadonlySet<string>;
  readonly instruction: ArgInstruction;
}

/**
 * Evaluates the meta ARGs (BuildKit `buildMetaArgs`): returns the global environment (the
 * automatic args plus every meta ARG with a value) and what each ARG resolved to. Throws a
 * {@link DockerfileError} at the ARG whose default fails to expand.
 */
export function evaluateMetaArgs(
  base: ReadonlyMap<string, string>,
  metaArgs: readonly ArgInstruction[],
  buildArgs: Readonly<Record<string, string>> | undefined,
  escapeToken: EscapeToken = '\\',
): { env: Map<string, string>; args: Map<string, MetaArgInfo> } {
  const env = new Map(base);
  const args = new Map<string, MetaArgInfo>();
  for (const instruction of metaArgs) {
    for (const def of instruction.args) {
      let value: string | undefined;
      let deps: ReadonlySet<string> = new Set();
      if (buildArgs !== undefined && Object.hasOwn(buildArgs, def.key)) {
        value = buildArgs[def.key];
      } else if (def.value !== undefined) {
        try {
          const r = processWordWithMatches(def.value, env, { escapeToken });
          value = r.result;
          deps = r.matched;
        } catch (err) {
          throw errorAt(instruction, (err as Error).message, err);
        }
      }
      if (value !== undefined) env.set(def.key, value);
      args.set(def.key, {
        key: def.key,
        ...(value === undefined ? {} : { value }),
        deps,
        instruction,
      });
    }
  }
  return { env, args };
}
