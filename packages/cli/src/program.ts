import { Command, CommanderError } from '@commander-js/extra-typings';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from './context.js';
import { resolveRoot } from './root-dir.js';
import { UsageError, ExitError } from './errors.js';

/** A function that adds one command group to the program. */
export type Register = (program: Command, ctx: CliContext, globals: () => GlobalOptions) => void;

/** Builds the `lab` program. Command groups are listed in `commands/index.ts`. */
export function buildProgram(ctx: CliContext, groups: readonly Register[] = []): Command {
  const program = new Command('lab')
    .description('lab: a container engine and single-host orchestrator')
    .version(ctx.version, '-v, --version', 'print the version')
    .option('--root <dir>', 'state directory (default: $LAB_ROOT, /var/lib/lab as root)')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
  const globals = (): GlobalOptions => ({ root: resolveRoot(program.opts().root, ctx.env) });
  for (const register of groups) register(program, ctx, globals);
  return program;
}

/**
 * Runs `lab` with the given arguments (without `node` and the script) and returns the
 * exit code. Never calls process.exit.
 */
export async function run(
  argv: readonly string[],
  ctx: CliContext,
  groups?: readonly Register[],
): Promise<number> {
  const program = buildProgram(ctx, groups);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.exitCode;
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return err.exitCode === 0 ? 0 : 125;
    }
    if (err instanceof UsageError) {
      ctx.stderr.write(`lab: ${err.message}\nSee 'lab --help'.\n`);
      return 125;
    }
    if (isLabError(err)) {
      ctx.stderr.write(`Error: ${err.message}\n`);
      return 125;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.stderr.write(`Error: internal: ${message}\n`);
    return 125;
  }
}
