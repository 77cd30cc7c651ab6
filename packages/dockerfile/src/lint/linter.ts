/**
 * The lint configuration and the collector of warnings (BuildKit `linter/linter.go`):
 * `# check=skip=<rules|all>;error=<bool>;experimental=<rules|all>` at the top of the file
 * (or `BUILDKIT_DOCKERFILE_CHECK`), merged with a `# check=…` comment directly above an
 * instruction.
 */
import type { SourceRange } from '../ast.js';
import { goQuote } from '../shell/go-text.js';
import { parseGoBool } from '../instructions/go-parse.js';
import type { RuleInfo } from './rules.js';

/** Which rules run, and whether a warning fails the build. */
export interface LintConfig {
  readonly skipAll: boolean;
  readonly skip: readonly string[];
  readonly experimentalAll: boolean;
  readonly experimental: readonly string[];
  /** `error=true`: any warning makes the build fail. */
  readonly error: boolean;
}

export const DEFAULT_LINT_CONFIG: LintConfig = {
  skipAll: false,
  skip: [],
  experimentalAll: false,
  experimental: [],
  error: false,
};

function goTrim(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

/**
 * Parses a `check` value (BuildKit `ParseLintOptions`). Throws an Error with BuildKit's
 * message (`invalid check option "x"`) for a malformed value.
 */
export function parseLintConfig(value: string): LintConfig {
  const text = goTrim(value);
  if (text === '') return DEFAULT_LINT_CONFIG;
  // strings.SplitN(text, ";", 3)
  const parts: string[] = [];
  let rest = text;
  while (parts.length < 2) {
    const at = rest.indexOf(';');
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  const config = { ...DEFAULT_LINT_CONFIG } as {
    -readonly [K in keyof LintConfig]: LintConfig[K];
  };
  const list = (v: string): string[] => v.split(',').map(goTrim);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`invalid check option ${goQuote(part)}`);
    const key = goTrim(part.slice(0, eq));
    const v = goTrim(part.slice(eq + 1));
    switch (key) {
      case 'skip':
        if (v === 'all') config.skipAll = true;
        else config.skip = list(v);
        break;
      case 'experimental':
        if (v === 'all') config.experimentalAll = true;
        else config.experimental = list(v);
        break;
      case 'error': {
        const b = parseGoBool(v);
        if (b === undefined) {
          throw new Error(
            `failed to parse check option ${goQuote(part)}: strconv.ParseBool: parsing ${goQuote(v)}: invalid syntax`,
          );
        }
        config.error = b;
        break;
      }
      default:
        throw new Error(`invalid check option ${goQuote(key)}`);
    }
  }
  return config;
}

const CHECK_COMMENT = /^\s*check\s*=\s*(\S.*)$/i;
const DIRECTIVE_COMMENT = /^\s*(?:syntax|escape|check)\s*=/i;

/**
 * The configuration a `# check=…` comment among `comments` adds (BuildKit
 * `WithMergedConfigFromComments`): the first such comment counts; one that does not parse
 * adds nothing. Comments are the texts after `#`.
 */
export function configFromComments(comments: readonly string[]): LintConfig | undefined {
  for (const comment of comments) {
    const m = CHECK_COMMENT.exec(comment);
    if (m === null) continue;
    const value = (m[1] ?? '').split(' ')[0] ?? '';
    try {
      return parseLintConfig(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** One warning, as `docker build --check` reports it. */
export interface LintWarning {
  /** The rule name, e.g. `StageNameCasing`. */
  readonly rule: string;
  readonly description: string;
  /** The rule's documentation link ('' for rules without one). */
  readonly url: string;
  readonly message: string;
  /** 1-based start line and column of the instruction the warning is about. */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

function enabled(rule: RuleInfo, config: LintConfig, extra?: LintConfig): boolean {
  if (rule.experimental) {
    return (
      config.experimentalAll ||
      config.experimental.includes(rule.name) ||
      (extra !== undefined && (extra.experimentalAll || extra.experimental.includes(rule.name)))
    );
  }
  return !(
    config.skipAll ||
    config.skip.includes(rule.name) ||
    (extra !== undefined && (extra.skipAll || extra.skip.includes(rule.name)))
  );
}

/** Collects warnings for the rules the configuration enables. */
export class Linter {
  readonly warnings: LintWarning[] = [];
  private readonly called: string[] = [];

  private prologue: { comments: readonly string[]; count: number } | undefined;

  constructor(readonly config: LintConfig = DEFAULT_LINT_CONFIG) {}

  /**
   * Marks the parser directives at the top of the file (`# check=…`, `# syntax=…`), which
   * BuildKit's parser also records as the first instruction's comments, so that a `# check=`
   * directive configures the whole file and is not read again as that instruction's own
   * `# check=` comment.
   */
  ignoreDirectiveComments(parsed: {
    readonly instructions: readonly { readonly prevComments: readonly string[] }[];
    readonly directives?: { readonly all: readonly unknown[] };
  }): void {
    const first = parsed.instructions[0];
    const directives = parsed.directives?.all.length ?? 0;
    if (first === undefined || directives === 0) return;
    let count = 0;
    while (count < directives && DIRECTIVE_COMMENT.test(first.prevComments[count] ?? '')) count++;
    this.prologue = { comments: first.prevComments, count };
  }

  /**
   * Records `message` for `rule` at `range`, unless the rule is disabled by the file's
   * configuration or by a `# check=` among `comments` (the instruction's own comments).
   */
  run(rule: RuleInfo, range: SourceRange, message: string, comments: readonly string[] = []): void {
    const own =
      this.prologue !== undefined && comments === this.prologue.comments
        ? comments.slice(this.prologue.count)
        : comments;
    if (!enabled(rule, this.config, configFromComments(own))) return;
    this.called.push(rule.name);
    this.warnings.push({
      rule: rule.name,
      description: rule.description,
      url: rule.url,
      message,
      line: range.start.line,
      column: range.start.column,
      endLine: range.end.line,
      endColumn: range.end.column,
    });
  }

  /**
   * With `error=true` and at least one warning: BuildKit's failure message
   * `lint violation found for rules: A, B`; otherwise undefined.
   */
  errorMessage(): string | undefined {
    if (!this.config.error || this.called.length === 0) return undefined;
    return `lint violation found for rules: ${[...new Set(this.called)].join(', ')}`;
  }
}
