/** Bad command-line usage: printed with a hint, exit 125 like docker. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Ends the command with this exit code; whatever needed printing was printed. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
