import type { InstructionNode, SourceRange } from '../ast.js';

/**
 * An instruction BuildKit's `instructions` package (or its converter) rejects: a wrong
 * argument count, a bad flag, an unknown instruction, an instruction before FROM… The
 * message is BuildKit's own (e.g. `unknown instruction: FORM (did you mean FROM?)`);
 * `line`/`column` point at the instruction. The shape matches the parser's
 * `DockerfileParseError` and satisfies `isLabError` from `@lab/oci` (an `Error` with a
 * vocabulary `code`), without this package depending on it.
 */
export class DockerfileError extends Error {
  readonly code = 'invalid-argument' as const;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly details: Record<string, unknown>;

  /**
   * The message as BuildKit reports it: for an invalid instruction it is prefixed with
   * `dockerfile parse error on line N: ` (BuildKit's `parseError`); otherwise the message.
   */
  readonly buildkitMessage: string;

  constructor(
    message: string,
    range: SourceRange,
    options?: { cause?: unknown; buildkitMessage?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockerfileError';
    this.line = range.start.line;
    this.column = range.start.column;
    this.endLine = range.end.line;
    this.endColumn = range.end.column;
    this.buildkitMessage = options?.buildkitMessage ?? message;
    this.details = {
      line: this.line,
      column: this.column,
      endLine: this.endLine,
      endColumn: this.endColumn,
    };
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

/** True for a {@link DockerfileError} (by name and shape, across package copies). */
export function isDockerfileError(err: unknown): err is DockerfileError {
  return err instanceof Error && err.name === 'DockerfileError' && 'line' in err;
}

/** An error located at `node` (BuildKit `parser.WithLocation`). */
export function errorAt(
  node: Pick<InstructionNode, 'range'>,
  message: string,
  cause?: unknown,
): DockerfileError {
  return new DockerfileError(message, node.range, cause === undefined ? undefined : { cause });
}
