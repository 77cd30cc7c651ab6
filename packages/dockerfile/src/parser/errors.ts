import type { SourceRange } from '../ast.js';

/** Where a {@link DockerfileParseError} happened (1-based lines and columns). */
export interface ParseErrorLocation {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/**
 * A Dockerfile that BuildKit's parser rejects. The message is BuildKit's own (e.g.
 * `file with no instructions`, `ENV must have two arguments`); `line`/`column` point at
 * the offending instruction or line. The shape satisfies `isLabError` from `@lab/oci`
 * (an `Error` with a vocabulary `code`), without this package depending on it.
 */
export class DockerfileParseError extends Error {
  readonly code = 'invalid-argument' as const;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly details: Record<string, unknown>;

  constructor(message: string, location: ParseErrorLocation, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockerfileParseError';
    this.line = location.line;
    this.column = location.column;
    this.endLine = location.endLine;
    this.endColumn = location.endColumn;
    this.details = { ...location };
  }

  /** The error's span as a {@link SourceRange}. */
  get range(): SourceRange {
    return {
      start: { line: this.line, column: this.column },
      end: { line: this.endLine, column: this.endColumn },
    };
  }

  toJSON(): { code: 'invalid-argument'; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True for a {@link DockerfileParseError} (by name and shape, across package copies). */
export function isDockerfileParseError(err: unknown): err is DockerfileParseError {
  return err instanceof Error && err.name === 'DockerfileParseError' && 'line' in err;
}
