/**
 * A variable-expansion failure (BuildKit `shell.Lex` errors such as
 * `failed to process "${x": syntax error: missing '}'`). It carries the shared error
 * vocabulary's `code` so `isInvalidArgument` from `@lab/oci` recognises it, without this
 * package depending on `@lab/oci` at runtime.
 */
export class ShellError extends Error {
  readonly code = 'invalid-argument' as const;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ShellError';
    this.details = details;
  }

  toJSON(): { code: 'invalid-argument'; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
