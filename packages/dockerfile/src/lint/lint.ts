/**
 * Lint a Dockerfile the way `docker build --check` does (BuildKit
 * `dockerfile2llb.DockerfileLint`): parse, type the instructions, then walk every stage
 * tracking the build environment (ENV, ARG, SHELL, WORKDIR) without building anything, and
 * report BuildKit's checks with its rule names, messages and links.
 */
import type { EscapeToken, ParseResult, SourceRange } from '../ast.js';
import { parse } from '../parser/parse.js';
import { findDirective } from '../parser/directives.js';
import { processWordWithMatches, processWords } from '../shell/lex.js';
import { defaultArgs, evaluateMetaArgs, formatPlatform } from '../instructions/args.js';
import { parsePlatformSpecifier } from '../instructions/platform.js';
import { parseSignal } from '../instructions/signal.js';
import type { Platform } from '../instructions/args.js';
import {
  applyCommand,
  imageEnvironment,
  inheritEnvironment,
  type StageEnvironment,
} from '../instructions/environment.js';
import { parsePortSpec } from '../instructions/expose.js';
import { parseInstruction, parseInstructions } from '../instructions/parse.js';
import { resolveBuildGraph } from '../instructions/graph.js';
import { suggest } from '../instructions/suggest.js';
import type { Command, ParsedDockerfile, Stage } from '../instructions/types.js';
import { DEFAULT_LINT_CONFIG, Linter, parseLintConfig } from './linter.js';
import type { LintConfig, LintWarning } from './linter.js';
import * as R from './rules.js';
import { isValidImageReference } from './reference.js';
import { createPatternMatcher, type PatternMatcher } from './dockerignore.js';

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

/** Where a lint run stopped, like BuildKit's `lint.BuildError`. */
export interface LintError {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/** The result of {@link lint}. */
export interface LintResult {
  /** Warnings sorted by line, then rule name. */
  readonly warnings: readonly LintWarning[];
  /** Set when the Dockerfile cannot be built (or `error=true` and a rule fired). */
  readonly error?: LintError;
}

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);
const SECRET =
  /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;

function located(message: string, range?: SourceRange): LintError {
  if (range === undefined) return { message };
  return {
    message,
    line: range.start.line,
    column: range.start.column,
    endLine: range.end.line,
    endColumn: range.end.column,
  };
}

function errorOf(err: unknown): LintError {
  const e = err as {
    message?: unknown;
    buildkitMessage?: unknown;
    line?: unknown;
    column?: unknown;
    endLine?: unknown;
    endColumn?: unknown;
  };
  const message =
    typeof e.buildkitMessage === 'string'
      ? e.buildkitMessage
      : typeof e.message === 'string'
        ? e.message
        : String(err);
  if (typeof e.line !== 'number') return { message };
  return {
    message,
    line: e.line,
    column: e.column as number,
    endLine: e.endLine as number,
    endColumn: e.endColumn as number,
  };
}

class Stop extends Error {
  constructor(readonly lintError: LintError) {
    super(lintError.message);
  }
}

function tryParsePlatform(value: string, host: Platform): Platform | undefined {
  try {
    return parsePlatformSpecifier(value, host);
  } catch {
    return undefined;
  }
}

function isSelfConsistent(s: string): boolean {
  return s === s.toLowerCase() || s === s.toUpperCase();
}

function validateStageNames(stages: readonly Stage[], linter: Linter): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    const name = stage.name;
    if (name === undefined) continue;
    const { range, comments } = stage.from;
    if (RESERVED_STAGE_NAMES.has(name)) {
      linter.run(R.ReservedStageName, range, R.ReservedStageName.format(name), comments);
    }
    if (seen.has(name)) {
      linter.run(R.DuplicateStageName, range, R.DuplicateStageName.format(name), comments);
    }
    seen.add(name);
  }
}

function validateCommandCasing(stages: readonly Stage[], linter: Linter): void {
  let lower = 0;
  let upper = 0;
  const count = (name: string): void => {
    if (!isSelfConsistent(name)) return;
    if (name === name.toLowerCase()) lower++;
    else upper++;
  };
  for (const stage of stages) {
    count(stage.from.keyword);
    stage.commands.forEach((c) => {
      count(c.keyword);
    });
  }
  const majorityLower = lower > upper;
  const check = (name: string, range: SourceRange, comments: readonly string[]): void => {
    let casing = '';
    if (majorityLower && name.toLowerCase() !== name) casing = 'lowercase';
    else if (!majorityLower && name.toUpperCase() !== name) casing = 'uppercase';
    if (casing !== '') {
      linter.run(
        R.ConsistentInstructionCasing,
        range,
        R.ConsistentInstructionCasing.format(name, casing),
        comments,
      );
    }
  };
  for (const stage of stages) {
    check(stage.from.keyword, stage.from.range, stage.from.comments);
    for (const c of stage.commands) check(c.keyword, c.range, c.comments);
  }
}

/** The per-stage state BuildKit's dispatcher keeps that the checks need. */
interface StageState extends StageEnvironment {
  /** False when the base image's env is unknown: UndefinedVar stays quiet. */
  envKnown: boolean;
  workdirSet: boolean;
  shell: boolean;
}

interface Tracker {
  range?: SourceRange;
  comments: readonly string[];
}

function validateNoSecretKey(instruction: string, key: string, cmd: Command, linter: Linter): void {
  if (SECRET.test(key) && !SECRET_ALLOW.test(key)) {
    linter.run(
      R.SecretsUsedInArgOrEnv,
      cmd.range,
      R.SecretsUsedInArgOrEnv.format(instruction, key),
      cmd.comments,
    );
  }
}

function validateUsedOnce(cmd: Command, tracker: Tracker, linter: Linter): void {
  if (tracker.range !== undefined) {
    linter.run(
      R.MultipleInstructionsDisallowed,
      tracker.range,
      R.MultipleInstructionsDisallowed.format(cmd.keyword),
      tracker.comments,
    );
  }
  tracker.range = cmd.range;
  tracker.comments = cmd.comments;
}

function checkExpose(
  cmd: Extract<Command, { kind: 'expose' }>,
  state: StageState,
  escapeToken: EscapeToken,
  linter: Linter,
): void {
  const ports: string[] = [];
  for (const p of cmd.ports) ports.push(...processWords(p, state.env, { escapeToken }));
  for (const raw of ports) {
    parsePortSpec(raw, (f) => {
      if (f.protoCasing) {
        linter.run(R.ExposeProtoCasing, cmd.range, R.ExposeProtoCasing.format(raw), cmd.comments);
      }
      if (f.ipOrHostPort) {
        linter.run(
          R.ExposeInvalidFormat,
          cmd.range,
          R.ExposeInvalidFormat.format(raw),
          cmd.comments,
        );
      }
    });
  }
}

/**
 * The ONBUILD triggers of `base` as commands of `stage` (BuildKit `initOnBuildTriggers`):
 * each expression parsed alone, located at the stage's FROM.
 */
function onbuildTriggers(base: Stage, stage: Stage): Command[] {
  const out: Command[] = [];
  for (const cmd of base.commands) {
    if (cmd.kind !== 'onbuild') continue;
    let instruction;
    try {
      const parsed = parse(cmd.expression);
      if (parsed.instructions.length !== 1) {
        throw new Error('onbuild trigger should be a single expression');
      }
      instruction = parseInstruction(parsed.instructions[0]!);
    } catch (err) {
      throw new Stop(located((err as Error).message, stage.from.range));
    }
    if (instruction.kind === 'from') {
      throw new Stop(
        located(`${instruction.keyword} isn't allowed as an ONBUILD trigger`, stage.from.range),
      );
    }
    out.push({ ...instruction, range: stage.from.range, comments: stage.from.comments });
  }
  return out;
}

const GIT_SOURCE = /^(?:git@|git:\/\/|ssh:\/\/|https?:\/\/[^#?]*\.git(?:[#?]|$))/;

function isRemoteSource(src: string): boolean {
  return src.startsWith('http://') || src.startsWith('https://') || GIT_SOURCE.test(src);
}

/**
 * COPY/ADD sources from the context (BuildKit `dispatchCopy`): COPY refuses URLs, and
 * CopyIgnoredFile reports a local source that `.dockerignore` excludes.
 */
function checkCopySources(
  cmd: Extract<Command, { kind: 'copy' | 'add' }>,
  ignore: PatternMatcher | undefined,
  linter: Linter,
): void {
  if (cmd.chmod !== undefined && /^[0-7]+$/.test(cmd.chmod) && parseInt(cmd.chmod, 8) > 0o7777) {
    throw new Error(
      `invalid chmod parameter: '${cmd.chmod}'. it should be octal string and between 0 and 07777`,
    );
  }
  if (cmd.kind === 'add' && cmd.checksum !== undefined) {
    if (cmd.sources.length !== 1) {
      throw new Error("checksum can't be specified for multiple sources");
    }
    if (!isRemoteSource(cmd.sources[0]!)) {
      throw new Error("checksum can't be specified for non-HTTP(S) sources");
    }
  }
  if (cmd.kind === 'copy' && cmd.from !== undefined) return;
  for (const src of cmd.sources) {
    if (isRemoteSource(src)) {
      if (cmd.kind === 'copy') {
        throw new Error(
          GIT_SOURCE.test(src)
            ? "source can't be a git ref for COPY"
            : "source can't be a URL for COPY",
        );
      }
      continue;
    }
    if (ignore?.matchesOrParentMatches(src) === true) {
      const message = R.CopyIgnoredFile.format(cmd.kind === 'add' ? 'Add' : 'Copy', src);
      linter.run(R.CopyIgnoredFile, cmd.range, message, cmd.comments);
    }
  }
}

function dispatchStage(
  stage: Stage,
  triggers: readonly Command[],
  state: StageState,
  ctx: {
    linter: Linter;
    escapeToken: EscapeToken;
    globalArgs: ReadonlyMap<string, string>;
    buildArgs: Readonly<Record<string, string>>;
    ignore?: PatternMatcher;
  },
): void {
  const { linter, escapeToken } = ctx;
  const trackers = {
    cmd: { comments: [] } as Tracker,
    entrypoint: { comments: [] } as Tracker,
    healthcheck: { comments: [] } as Tracker,
  };
  const onUndefined = (names: ReadonlySet<string>, cmd: Command): void => {
    if (!state.envKnown) return;
    const options = [...state.env.keys()];
    for (const name of names) {
      const message = R.UndefinedVar.format(name, suggest(name, options, true));
      linter.run(R.UndefinedVar, cmd.range, message, cmd.comments);
    }
  };
  for (const original of [...triggers, ...stage.commands]) {
    try {
      if (original.kind === 'arg') {
        for (const arg of original.args) validateNoSecretKey('ARG', arg.key, original, linter);
      }
      const cmd = applyCommand(original, state, {
        escapeToken,
        globalArgs: ctx.globalArgs,
        buildArgs: ctx.buildArgs,
        onUndefined,
      });
      switch (cmd.kind) {
        case 'env':
          for (const e of cmd.env) {
            if (e.noDelim) {
              const message = R.LegacyKeyValueFormat.format(cmd.keyword);
              linter.run(R.LegacyKeyValueFormat, cmd.range, message, cmd.comments);
            }
            validateNoSecretKey('ENV', e.key, cmd, linter);
          }
          break;
        case 'label':
          for (const l of cmd.labels) {
            if (l.noDelim) {
              const message = R.LegacyKeyValueFormat.format(cmd.keyword);
              linter.run(R.LegacyKeyValueFormat, cmd.range, message, cmd.comments);
            }
          }
          break;
        case 'workdir':
          if (!state.workdirSet && !cmd.path.startsWith('/')) {
            const message = R.WorkdirRelativePath.format(cmd.path);
            linter.run(R.WorkdirRelativePath, cmd.range, message, cmd.comments);
          }
          state.workdirSet = true;
          break;
        case 'cmd':
        case 'entrypoint':
          validateUsedOnce(cmd, trackers[cmd.kind], linter);
          if (cmd.prependShell && !state.shell) {
            const message = R.JSONArgsRecommended.format(cmd.keyword);
            linter.run(R.JSONArgsRecommended, cmd.range, message, cmd.comments);
          }
          break;
        case 'healthcheck':
          validateUsedOnce(cmd, trackers.healthcheck, linter);
          break;
        case 'shell':
          state.shell = cmd.shell.length > 0;
          break;
        case 'expose':
          checkExpose(cmd, state, escapeToken, linter);
          break;
        case 'copy':
        case 'add':
          checkCopySources(cmd, ctx.ignore, linter);
          break;
        case 'stopsignal':
          parseSignal(cmd.signal);
          break;
        default:
          break;
      }
    } catch (err) {
      if (err instanceof Stop) throw err;
      throw new Stop(located((err as Error).message, original.range));
    }
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
