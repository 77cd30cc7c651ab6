import { run as runWith } from './program.js';
import { groupsFor } from './commands/index.js';
import type { CliContext } from './context.js';

export type { CliContext, GlobalOptions } from './context.js';
export { resolveRoot } from './root-dir.js';
export { UsageError, ExitError } from './errors.js';
export { buildProgram, type Register } from './program.js';

/** Runs the `lab` command line and resolves to its exit code. */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  return runWith(argv, ctx, await groupsFor(argv));
}
