/**
 * Lint a Dockerfile the way `docker build --check` does (BuildKit
 * `dockerfile2llb.DockerfileLint`): parse, type the instructions, then walk every stage
 * tracking the build environment (ENV, ARG, SHELL, WORKDIR) without building anything, and
 * report BuildKit's checks with its rule names, messages and links.
 */
import type { ParseResult } from '../ast.js';
import { parse } from '../parser/parse.js';
import { findDirective } from '../parser/directives.js';
import { processWordWithMatches } from '../shell/lex.js';
import { defaultArgs, evaluateMetaArgs, formatPlatform } from '../instructions/args.js';
import type { Platform } from '../instructions/args.js';
import { parsePlatformSpecifier } from '../instructions/platform.js';
import { imageEnvironment, inheritEnvironment } from '../instructions/environment.js';
import { parseInstructions } from '../instructions/parse.js';
import { resolveBuildGraph } from '../instructions/graph.js';
import { suggest } from '../instructions/suggest.js';
import type { ParsedDockerfile, Stage } from '../instructions/types.js';
import { DEFAULT_LINT_CONFIG, Linter, parseLintConfig } from './linter.js';
import type { LintConfig, LintWarning } from './linter.js';
import * as R from './rules.js';
import { isValidImageReference } from './reference.js';
import { createPatternMatcher, type PatternMatcher } from './dockerignore.js';
import { errorOf, located, Stop, type LintError } from './errors.js';
import { validateCommandCasing, validateStageNames } from './stage-checks.js';
import { dispatchStage, onbuildTriggers, type StageState } from './dispatch.js';

export type { LintError } from './errors.js';

/** Options of {@link lint}. */
export interface LintOptions {
  /**
   * A check configuration that replaces the file's `# check=` directive (what the
   * `BUILDKIT_DOCKERFILE_CHECK` build-arg does), e.g. `skip=JSONArgsRecommended;error=true`.
   */
  readonly check?: string;
  /** `--build-arg` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** `--target`; default: every stage is checked (BuildKit lints all stages). */
  readonly target?: string;
  readonly buildPlatform?: Platform;
  readonly targetPlatform?: Platform;
  /**
   * The `Env` of a base image's config (`KEY=VALUE` entries), or undefined when unknown.
   * In a stage whose base image's environment is unknown, UndefinedVar is not reported,
   * since the image may define the variable.
   */
  readonly imageEnv?: (ref: string) => readonly string[] | undefined;
  /**
   * The platform of a base image as pulled, or undefined when unknown; enables
   * InvalidBaseImagePlatform.
   */
  readonly imagePlatform?: (ref: string) => Platform | undefined;
  /**
   * The build context's `.dockerignore` patterns (see `parseDockerignore`); enables
   * CopyIgnoredFile. BuildKit skips that check when the file has `!` exceptions.
   */
  readonly dockerignore?: readonly string[];
}

/** The result of {@link lint}. */
export interface LintResult {
  /** Warnings sorted by line, then rule name. */
  readonly warnings: readonly LintWarning[];
  /** Set when the Dockerfile cannot be built (or `error=true` and a rule fired). */
  readonly error?: LintError;
}

function tryParsePlatform(value: string, host: Platform): Platform | undefined {
  try {
    return parsePlatformSpecifier(value, host);
  } catch {
    return undefined;
  }
}

function parseInput(input: string | ParseResult): { parsed: ParseResult; checkDirective?: string } {
  if (typeof input !== 'string') {
    const check = input.directives.check?.value.split(' ')[0];
    return { parsed: input, ...(check === undefined ? {} : { checkDirective: check }) };
  }
  if (input === '') throw new Stop({ message: 'the Dockerfile cannot be empty' });
  let parsed: ParseResult;
  try {
    parsed = parse(input);
  } catch (err) {
    throw new Stop(errorOf(err));
  }
  const found = findDirective('check', input);
  return { parsed, ...(found === undefined ? {} : { checkDirective: found.ref }) };
}

/**
 * Lints a Dockerfile (text, or a result of `parse`). Never throws for a bad Dockerfile: a
 * parse or instruction error is returned as `error` next to the warnings found before it.
 */
export function lint(input: string | ParseResult, options: LintOptions = {}): LintResult {
  let linter = new Linter(DEFAULT_LINT_CONFIG);
  const finish = (error?: LintError): LintResult => {
    const warnings = [...linter.warnings].sort(
      (a, b) => a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
    );
    return error === undefined ? { warnings } : { warnings, error };
  };
  try {
    const { parsed, checkDirective } = parseInput(input);
    let config: LintConfig;
    try {
      config = parseLintConfig(options.check ?? checkDirective ?? '');
    } catch (err) {
      throw new Stop({ message: `failed to parse check options: ${(err as Error).message}` });
    }
    linter = new Linter(config);
    return finish(run(parsed, linter, options));
  } catch (err) {
    if (err instanceof Stop) return finish(err.lintError);
    throw err;
  }
}

function run(parsed: ParseResult, linter: Linter, options: LintOptions): LintError | undefined {
  linter.ignoreDirectiveComments(parsed);
  for (const w of parsed.warnings) {
    if (w.code === 'empty-continuation-line') {
      linter.run(R.NoEmptyContinuation, w.range, R.NoEmptyContinuation.format());
    }
  }
  let df: ParsedDockerfile;
  try {
    df = parseInstructions(parsed, { linter });
  } catch (err) {
    return errorOf(err);
  }
  const { stages } = df;
  if (stages.length === 0) return { message: 'dockerfile contains no stages to build' };
  validateStageNames(stages, linter);
  validateCommandCasing(stages, linter);

  const escapeToken = parsed.escapeToken;
  const buildPlatform = options.buildPlatform ?? { os: 'linux', architecture: 'amd64' };
  const targetPlatform = options.targetPlatform ?? buildPlatform;
  const buildArgs = options.buildArgs ?? {};
  const targetName = options.target ?? stages[stages.length - 1]!.name ?? 'default';
  const base = defaultArgs(buildPlatform, targetPlatform, targetName, buildArgs);

  // InvalidDefaultArgInFrom: base names with the ARG defaults alone.
  try {
    const defaults = evaluateMetaArgs(base, df.metaArgs, undefined, escapeToken);
    for (const stage of stages) {
      const r = processWordWithMatches(stage.from.image, defaults.env, { escapeToken });
      if (!isValidImageReference(r.result)) {
        linter.run(
          R.InvalidDefaultArgInFrom,
          stage.from.range,
          R.InvalidDefaultArgInFrom.format(stage.from.image),
          stage.from.comments,
        );
      }
    }
  } catch {
    // BuildKit abandons this check; the real evaluation below reports the error.
  }

  let meta;
  try {
    meta = evaluateMetaArgs(base, df.metaArgs, buildArgs, escapeToken);
  } catch (err) {
    return errorOf(err);
  }
  const globalArgs = meta.env;
  const argKeys = new Set([...meta.args.keys(), ...globalArgs.keys()]);
  const reportUnusedFromArgs = (unmatched: ReadonlySet<string>, from: Stage['from']): void => {
    for (const arg of unmatched) {
      if (argKeys.has(arg)) continue;
      linter.run(
        R.UndefinedArgInFrom,
        from.range,
        R.UndefinedArgInFrom.format(arg, suggest(arg, [...argKeys], true)),
        from.comments,
      );
    }
  };
  for (const stage of stages) {
    const from = stage.from;
    let name;
    try {
      name = processWordWithMatches(from.image, globalArgs, { escapeToken });
    } catch (err) {
      return located((err as Error).message, from.range);
    }
    reportUnusedFromArgs(name.unmatched, from);
    if (from.platform !== undefined) {
      let plat;
      try {
        plat = processWordWithMatches(from.platform, globalArgs, { escapeToken });
      } catch (err) {
        return located(
          `failed to process arguments for platform ${from.platform}: ${(err as Error).message}`,
          from.range,
        );
      }
      reportUnusedFromArgs(plat.unmatched, from);
      if (
        plat.matched.size === 1 &&
        plat.unmatched.size === 0 &&
        plat.matched.has('TARGETPLATFORM')
      ) {
        if (plat.result === globalArgs.get('TARGETPLATFORM')) {
          linter.run(
            R.RedundantTargetPlatform,
            from.range,
            R.RedundantTargetPlatform.format(from.platform),
            from.comments,
          );
        }
      }
      if (plat.matched.size === 0 && plat.unmatched.size === 0) {
        const p = tryParsePlatform(plat.result, buildPlatform);
        const stageName = stage.name ?? '';
        if (p !== undefined && !stageName.includes(p.os) && !stageName.includes(p.architecture)) {
          linter.run(
            R.FromPlatformFlagConstDisallowed,
            from.range,
            R.FromPlatformFlagConstDisallowed.format(plat.result),
            from.comments,
          );
        }
      }
    }
  }

  let graph;
  try {
    graph = resolveBuildGraph(df, {
      buildArgs,
      ...(options.target === undefined ? {} : { target: options.target }),
      buildPlatform,
      targetPlatform,
      escapeToken,
    });
  } catch (err) {
    return errorOf(err);
  }
  let ignore: PatternMatcher | undefined;
  if (options.dockerignore !== undefined && options.dockerignore.length > 0) {
    try {
      const matcher = createPatternMatcher(options.dockerignore);
      if (!matcher.exclusions) ignore = matcher;
    } catch (err) {
      return { message: (err as Error).message };
    }
  }
  const selected = new Set(
    (options.target === undefined ? graph.stages : graph.stagesFor()).map((s) => s.index),
  );
  const states: StageState[] = [];
  try {
    for (const resolved of graph.stages) {
      let state: StageState;
      if (resolved.base.kind === 'stage') {
        const parent = states[resolved.base.index]!;
        state = { ...parent, ...inheritEnvironment(parent) };
      } else {
        const imageEnv =
          resolved.base.kind === 'scratch' ? [] : options.imageEnv?.(resolved.base.ref);
        state = {
          ...imageEnvironment(imageEnv),
          envKnown: imageEnv !== undefined,
          workdirSet: false,
          shell: false,
        };
      }
      states[resolved.index] = state;
      if (!selected.has(resolved.index)) continue;
      if (resolved.base.kind === 'image' && options.imagePlatform !== undefined) {
        const actual = options.imagePlatform(resolved.base.ref);
        const expected =
          resolved.platform === undefined
            ? targetPlatform
            : (tryParsePlatform(resolved.platform, buildPlatform) ?? targetPlatform);
        if (
          actual !== undefined &&
          (actual.os !== expected.os || actual.architecture !== expected.architecture)
        ) {
          const message = R.InvalidBaseImagePlatform.format(
            resolved.baseName,
            formatPlatform(expected),
            formatPlatform(actual),
          );
          const { range, comments } = resolved.stage.from;
          linter.run(R.InvalidBaseImagePlatform, range, message, comments);
        }
      }
      const triggers =
        resolved.base.kind === 'stage'
          ? onbuildTriggers(graph.stages[resolved.base.index]!.stage, resolved.stage)
          : [];
      dispatchStage(resolved.stage, triggers, state, {
        linter,
        escapeToken,
        globalArgs,
        buildArgs,
        ...(ignore === undefined ? {} : { ignore }),
      });
    }
  } catch (err) {
    if (err instanceof Stop) return err.lintError;
    throw err;
  }
  const failed = linter.errorMessage();
  if (failed === undefined) return undefined;
  // BuildKit locates the failure at the first warning.
  const first = linter.warnings[0];
  return first === undefined
    ? { message: failed }
    : {
        message: failed,
        line: first.line,
        column: first.column,
        endLine: first.endLine,
        endColumn: first.endColumn,
      };
}
