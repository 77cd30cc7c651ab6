/**
 * The per-stage walk of a lint run (BuildKit `dispatch` without building): each instruction
 * expanded against the stage environment, and the checks BuildKit runs while dispatching
 * (UndefinedVar, LegacyKeyValueFormat, SecretsUsedInArgOrEnv, WorkdirRelativePath,
 * JSONArgsRecommended, MultipleInstructionsDisallowed, Expose*, CopyIgnoredFile) plus its
 * dispatch errors.
 */
import type { EscapeToken, SourceRange } from '../ast.js';
import { parse } from '../parser/parse.js';
import { processWords } from '../shell/lex.js';
import { applyCommand, type StageEnvironment } from '../instructions/environment.js';
import { parsePortSpec } from '../instructions/expose.js';
import { parseInstruction } from '../instructions/parse.js';
import { parseSignal } from '../instructions/signal.js';
import { suggest } from '../instructions/suggest.js';
import type { Command, Stage } from '../instructions/types.js';
import type { PatternMatcher } from './dockerignore.js';
import { located, Stop } from './errors.js';
import type { Linter } from './linter.js';
import * as R from './rules.js';

const SECRET =
  /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;

/** The per-stage state BuildKit's dispatcher keeps that the checks need. */
export interface StageState extends StageEnvironment {
  /** False when the base image's env is unknown: UndefinedVar stays quiet. */
  envKnown: boolean;
  workdirSet: boolean;
  shell: boolean;
}

interface Tracker {
  range?: SourceRange;
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

/**
 * MultipleInstructionsDisallowed: reported at the earlier instruction (the one that will be
 * ignored) while the later one is dispatched, so the later one's `# check=` comment applies.
 */
function validateUsedOnce(cmd: Command, tracker: Tracker, linter: Linter): void {
  if (tracker.range !== undefined) {
    linter.run(
      R.MultipleInstructionsDisallowed,
      tracker.range,
      R.MultipleInstructionsDisallowed.format(cmd.keyword),
      cmd.comments,
    );
  }
  tracker.range = cmd.range;
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
export function onbuildTriggers(base: Stage, stage: Stage): Command[] {
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

export function dispatchStage(
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
    cmd: {} as Tracker,
    entrypoint: {} as Tracker,
    healthcheck: {} as Tracker,
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
