/**
 * The build environment of a stage as BuildKit's dispatcher keeps it
 * (`dockerfile2llb/convert.go` dispatch, dispatchEnv, dispatchArg): one list of variables
 * fed by the base image's Env, ENV and ARG, where the later instruction wins; the names of
 * the ARGs declared so far; and each instruction expanded against the environment as it was
 * before that instruction.
 */
import type { EscapeToken } from '../ast.js';
import { processWordWithMatches } from '../shell/lex.js';
import { isProxyArg } from './args.js';
import { expandCommand } from './expand.js';
import type { Command } from './types.js';

/** Build-args that configure BuildKit and never become environment variables. */
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

/** The default PATH BuildKit adds when the base image's Env has none (non-Windows). */
export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A stage's environment while its instructions are applied in order. */
export interface StageEnvironment {
  /** Every variable visible to expansion and to RUN, in definition order. */
  readonly env: Map<string, string>;
  /** ARG names declared so far, with or without a value (inherited through FROM <stage>). */
  readonly declaredArgs: string[];
}

/**
 * A fresh environment for a stage built on an image (or scratch) whose config has `imageEnv`
 * (`KEY=VALUE` entries); PATH is added when missing.
 */
export function imageEnvironment(imageEnv: readonly string[] = []): StageEnvironment {
  const env = new Map<string, string>();
  for (const e of imageEnv) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH_ENV);
  return { env, declaredArgs: [] };
}

/** A copy for a stage built `FROM` the stage `parent` (BuildKit clones the base state). */
export function inheritEnvironment(parent: StageEnvironment): StageEnvironment {
  return { env: new Map(parent.env), declaredArgs: [...parent.declaredArgs] };
}

/** What {@link applyCommand} needs besides the stage. */
export interface ApplyContext {
  readonly escapeToken: EscapeToken;
  /** The automatic args plus the meta ARGs with values (see `evaluateMetaArgs`). */
  readonly globalArgs: ReadonlyMap<string, string>;
  /** `--build-arg` values. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /**
   * Called with the variables one expanded word referred to that are neither set nor
   * declared ARGs (what UndefinedVar reports).
   */
  readonly onUndefined?: (names: ReadonlySet<string>, cmd: Command) => void;
}

function undefinedNames(
  unmatched: ReadonlySet<string>,
  state: StageEnvironment,
): ReadonlySet<string> {
  const out = new Set<string>();
  for (const name of unmatched) {
    if (!state.declaredArgs.includes(name) && !NON_ENV_ARGS.has(name)) out.add(name);
  }
  return out;
}

/**
 * Applies one instruction to the stage: expands what BuildKit expands (with the environment
 * from before the instruction), then records ENV values and ARG values/declarations. ARG
 * takes the build-arg, else its own default (expanded), else the global value of that name;
 * without any of them it is declared but unset. Returns the expanded instruction; throws the
 * lexer's error for a bad substitution.
 */
export function applyCommand(cmd: Command, state: StageEnvironment, ctx: ApplyContext): Command {
  const report = (unmatched: ReadonlySet<string>): void => {
    if (ctx.onUndefined === undefined || unmatched.size === 0) return;
    const names = undefinedNames(unmatched, state);
    if (names.size > 0) ctx.onUndefined(names, cmd);
  };
  if (cmd.kind === 'arg') {
    for (const arg of cmd.args) {
      const hasBuildArg = Object.hasOwn(ctx.buildArgs, arg.key);
      let value = arg.value;
      if (value === undefined && !hasBuildArg && ctx.globalArgs.has(arg.key)) {
        value = ctx.globalArgs.get(arg.key);
      } else if (hasBuildArg) {
        value = ctx.buildArgs[arg.key];
      } else if (value !== undefined) {
        const r = processWordWithMatches(value, state.env, { escapeToken: ctx.escapeToken });
        report(r.unmatched);
        value = r.result;
      }
      if (value !== undefined && !NON_ENV_ARGS.has(arg.key)) state.env.set(arg.key, value);
      state.declaredArgs.push(arg.key);
    }
    return cmd;
  }
  const expanded = expandCommand(cmd, {
    word: (w) => {
      const r = processWordWithMatches(w, state.env, { escapeToken: ctx.escapeToken });
      report(r.unmatched);
      return r.result;
    },
    raw: (w) => {
      const r = processWordWithMatches(w, state.env, { skipProcessQuotes: true });
      report(r.unmatched);
      return r.result;
    },
  });
  if (expanded.kind === 'env') {
    for (const e of expanded.env) state.env.set(e.key, e.value);
  }
  return expanded;
}

/**
 * The proxy build-args (`HTTP_PROXY`, `https_proxy`, … in any case) that reach every RUN
 * without an ARG declaration; a declared one is an ordinary ARG instead.
 */
export function proxyEnvironment(
  buildArgs: Readonly<Record<string, string>>,
  state: StageEnvironment,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(buildArgs)) {
    if (isProxyArg(k) && !state.declaredArgs.includes(k)) out.set(k, v);
  }
  return out;
}
