/** How a lint run ends early: BuildKit's `lint.BuildError` and the means to get there. */
import type { SourceRange } from '../ast.js';

/** Where a lint run stopped, like BuildKit's `lint.BuildError`. */
export interface LintError {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

export function located(message: string, range?: SourceRange): LintError {
  if (range === undefined) return { message };
  return {
    message,
    line: range.start.line,
    column: range.start.column,
    endLine: range.end.line,
    endColumn: range.end.column,
  };
}

export function errorOf(err: unknown): LintError {
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

/** Thrown inside a lint run to stop it with a {@link LintError}. */
export class Stop extends Error {
  constructor(readonly lintError: LintError) {
    super(lintError.message);
  }
}
