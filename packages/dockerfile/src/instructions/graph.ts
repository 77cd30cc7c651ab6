/**
 * The stage graph (BuildKit `dockerfile2llb/convert.go`): each stage's base (an earlier
 * stage, an image or scratch) after expanding FROM with the global args, the stages and
 * images it reads from (`COPY --from`, `RUN --mount=from=`), cycle detection and the
 * stages a target needs.
 */
import type { EscapeToken } from '../ast.js';
import { processWordWithMatches } from '../shell/lex.js';
import { defaultArgs, evaluateMetaArgs, formatPlatform } from './args.js';
import type { MetaArgInfo, Platform } from './args.js';
import { DockerfileError, errorAt } from './error.js';
import { withSuggestion } from './suggest.js';
import { parse } from '../parser/parse.js';
import { parseInstruction } from './parse.js';
import { parsePlatformSpecifier } from './platform.js';
import type { Command, ParsedDockerfile, Stage } from './types.js';

/** Where a stage's filesystem or a copy source comes from. */
export type StageSource =
  | { readonly kind: 'stage'; readonly index: number }
  | { readonly kind: 'image'; readonly ref: string }
  | { readonly kind: 'scratch' };

/** One edge of the graph: `instruction` of a stage reads from `source`. */
export interface StageDependency {
  readonly source: StageSource;
  readonly via: 'copy-from' | 'mount-from';
  readonly instruction: Command;
  /** The instruction is an ONBUILD trigger of the base stage, run in this stage. */
  readonly onbuild?: boolean;
}

/**
 * The ONBUILD triggers of `base` as they run in `stage` (BuildKit `initOnBuildTriggers`):
 * each expression parsed alone and located at the stage's FROM. Triggers that do not parse
 * are left out here; building the stage reports them.
 */
function onbuildTriggers(base: Stage, stage: Stage): Command[] {
  const out: Command[] = [];
  for (const cmd of base.commands) {
    if (cmd.kind !== 'onbuild') continue;
    try {
      const parsed = parse(cmd.expression);
      if (parsed.instructions.length !== 1) continue;
      const instruction = parseInstruction(parsed.instructions[0]!);
      if (instruction.kind === 'from') continue;
      out.push({ ...instruction, range: stage.from.range, comments: stage.from.comments });
    } catch {
      continue;
    }
  }
  return out;
}

/** A stage with its FROM resolved. */
export interface ResolvedStage {
  readonly stage: Stage;
  readonly index: number;
  /** The stage name (lower-cased) or `stage-<index>` when unnamed. */
  readonly displayName: string;
  /** FROM's image text after expansion with the global args. */
  readonly baseName: string;
  readonly base: StageSource;
  /** `--platform` after expansion, when given. */
  readonly platform?: string;
  /** Global (meta) args the FROM line used. */
  readonly usedArgs: ReadonlySet<string>;
  readonly dependencies: readonly StageDependency[];
}

/** The resolved graph of a Dockerfile. */
export interface BuildGraph {
  /** The automatic args plus the meta ARGs with values. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly metaArgs: ReadonlyMap<string, MetaArgInfo>;
  readonly stages: readonly ResolvedStage[];
  /** The stage built by default or by `target`. */
  readonly target: ResolvedStage;
  /** The stages `target` (default: the graph's target) needs, in file order. */
  stagesFor(target?: string): ResolvedStage[];
  /** Finds a stage by name (case-insensitive) or returns undefined. */
  findStage(name: string): ResolvedStage | undefined;
}

/** Options of {@link resolveBuildGraph}. */
export interface BuildGraphOptions {
  /** `--build-arg` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** `--target`: a stage name (case-insensitive); default the last stage. */
  readonly target?: string;
  /** The platform of the machine that builds; default linux/amd64. */
  readonly buildPlatform?: Platform;
  /** The platform to build for; default the build platform. */
  readonly targetPlatform?: Platform;
  readonly escapeToken?: EscapeToken;
}

const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

function isGoInt(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}

/**
 * Resolves stages, bases and dependencies. Throws a {@link DockerfileError} (or BuildKit's
 * message for a bad target) for `dockerfile contains no stages to build`, a blank base name,
 * a bad `--platform`, an invalid stage index, `cannot copy from stage …`, a circular
 * dependency, or an unknown target.
 */
export function resolveBuildGraph(
  parsed: ParsedDockerfile,
  options: BuildGraphOptions = {},
): BuildGraph {
  const { stages } = parsed;
  const last = stages[stages.length - 1];
  if (last === undefined) {
    throw new DockerfileError('dockerfile contains no stages to build', {
      start: { line: 1, column: 1 },
      end: { line: 1, column: 1 },
    });
  }
  const escapeToken = options.escapeToken ?? '\\';
  const buildPlatform = options.buildPlatform ?? DEFAULT_PLATFORM;
  const targetPlatform = options.targetPlatform ?? buildPlatform;
  const targetName = options.target ?? last.name ?? 'default';
  const base = defaultArgs(buildPlatform, targetPlatform, targetName, options.buildArgs);
  const meta = evaluateMetaArgs(base, parsed.metaArgs, options.buildArgs, escapeToken);
  const globalArgs = meta.env;

  const byName = new Map<string, number>();
  const resolved: {
    stage: Stage;
    baseName: string;
    base: StageSource;
    platform?: string;
    usedArgs: Set<string>;
  }[] = [];
  for (const stage of stages) {
    const from = stage.from;
    let baseName: string;
    const usedArgs = new Set<string>();
    try {
      const r = processWordWithMatches(from.image, globalArgs, { escapeToken });
      baseName = r.result;
      r.matched.forEach((k) => usedArgs.add(k));
    } catch (err) {
      throw errorAt(from, (err as Error).message, err);
    }
    if (baseName === '') throw errorAt(from, `base name (${from.image}) should not be blank`);
    let platform: string | undefined;
    if (from.platform !== undefined) {
      let r;
      try {
        r = processWordWithMatches(from.platform, globalArgs, { escapeToken });
      } catch (err) {
        throw errorAt(
          from,
          `failed to process arguments for platform ${from.platform}: ${(err as Error).message}`,
          err,
        );
      }
      if (r.result === '') {
        let message = `empty platform value from expression ${from.platform}`;
        for (const k of r.unmatched) {
          const m = withSuggestion(message, k, [...globalArgs.keys()], true);
          if (m !== message) {
            message = m;
            break;
          }
        }
        throw errorAt(from, message);
      }
      try {
        parsePlatformSpecifier(r.result, buildPlatform);
      } catch (err) {
        let message = (err as Error).message;
        for (const k of r.unmatched) {
          const m = withSuggestion(message, k, [...globalArgs.keys()], true);
          if (m !== message) {
            message = m;
            break;
          }
        }
        throw errorAt(from, `failed to parse platform ${from.platform}: ${message}`, err);
      }
      r.matched.forEach((k) => usedArgs.add(k));
      platform = r.result;
    }
    const baseIndex = byName.get(baseName);
    const source: StageSource =
      baseIndex !== undefined
        ? { kind: 'stage', index: baseIndex }
        : baseName === 'scratch'
          ? { kind: 'scratch' }
          : { kind: 'image', ref: baseName };
    if (stage.name !== undefined) byName.set(stage.name, stage.index);
    resolved.push({
      stage,
      baseName,
      base: source,
      ...(platform === undefined ? {} : { platform }),
      usedArgs,
    });
  }

  const lookup = (name: string): number | undefined => byName.get(name.toLowerCase());
  const withDeps: ResolvedStage[] = resolved.map((r) => {
    const dependencies: StageDependency[] = [];
    const triggers =
      r.base.kind === 'stage' ? onbuildTriggers(resolved[r.base.index]!.stage, r.stage) : [];
    for (const cmd of [...triggers, ...r.stage.commands]) {
      if (cmd.kind === 'copy' && cmd.from !== undefined) {
        let source: StageSource;
        if (isGoInt(cmd.from)) {
          const index = Number(cmd.from);
          if (index < 0 || index >= stages.length) {
            throw errorAt(cmd, `invalid stage index ${index}`);
          }
          source = { kind: 'stage', index };
        } else {
          const index = lookup(cmd.from);
          source =
            index === undefined ? { kind: 'image', ref: cmd.from } : { kind: 'stage', index };
        }
        dependencies.push({
          source,
          via: 'copy-from',
          instruction: cmd,
          ...(triggers.includes(cmd) ? { onbuild: true } : {}),
        });
      }
      if (cmd.kind === 'run') {
        for (const mount of cmd.mounts) {
          if (mount.from === undefined || mount.from === '') continue;
          const index = lookup(mount.from);
          const source: StageSource =
            index === undefined ? { kind: 'image', ref: mount.from } : { kind: 'stage', index };
          dependencies.push({
            source,
            via: 'mount-from',
            instruction: cmd,
            ...(triggers.includes(cmd) ? { onbuild: true } : {}),
          });
        }
      }
    }
    return {
      stage: r.stage,
      index: r.stage.index,
      displayName: r.stage.name ?? `stage-${r.stage.index}`,
      baseName: r.baseName,
      base: r.base,
      ...(r.platform === undefined ? {} : { platform: r.platform }),
      usedArgs: r.usedArgs,
      dependencies,
    };
  });

  detectCycles(withDeps);
  for (const r of withDeps) {
    for (const d of r.dependencies) {
      if (d.via === 'copy-from' && d.source.kind === 'stage' && d.source.index >= r.index) {
        const from = d.instruction.kind === 'copy' ? (d.instruction.from ?? '') : '';
        throw errorAt(
          d.instruction,
          `cannot copy from stage ${JSON.stringify(from)}, it needs to be defined before current stage ${JSON.stringify(r.stage.name ?? `stage-${r.index}`)}`,
        );
      }
    }
  }

  const findStage = (name: string): ResolvedStage | undefined => {
    const index = lookup(name);
    return index === undefined ? undefined : withDeps[index];
  };
  const targetOf = (name: string | undefined): ResolvedStage => {
    if (name === undefined) return withDeps[withDeps.length - 1]!;
    const found = findStage(name);
    if (found === undefined) {
      throw new DockerfileError(
        `target stage ${JSON.stringify(name)} could not be found`,
        last.from.range,
      );
    }
    return found;
  };
  const target = targetOf(options.target);
  return {
    globalArgs,
    metaArgs: meta.args,
    stages: withDeps,
    target,
    findStage,
    stagesFor(name?: string): ResolvedStage[] {
      const start = name === undefined ? target : targetOf(name);
      const seen = new Set<number>();
      const visit = (s: ResolvedStage): void => {
        if (seen.has(s.index)) return;
        seen.add(s.index);
        for (const next of edges(s)) visit(withDeps[next]!);
      };
      visit(start);
      return withDeps.filter((s) => seen.has(s.index));
    },
  };
}

function edges(s: ResolvedStage): number[] {
  const out: number[] = [];
  if (s.base.kind === 'stage') out.push(s.base.index);
  for (const d of s.dependencies) if (d.source.kind === 'stage') out.push(d.source.index);
  return out;
}

function detectCycles(stages: readonly ResolvedStage[]): void {
  const done = new Set<number>();
  const path = new Set<number>();
  const visit = (s: ResolvedStage): boolean => {
    if (done.has(s.index)) return false;
    if (path.has(s.index)) return true;
    path.add(s.index);
    for (const next of edges(s)) if (visit(stages[next]!)) return true;
    path.delete(s.index);
    done.add(s.index);
    return false;
  };
  for (const s of stages) {
    if (visit(s)) {
      throw errorAt(s.stage.from, `circular dependency detected on stage: ${s.displayName}`);
    }
  }
}

export { formatPlatform };
