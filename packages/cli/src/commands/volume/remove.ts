import type { Command } from '@commander-js/extra-typings';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { openVolumes } from './store.js';

/**
 * `volume rm [-f] VOLUME…`: prints each removed name; a volume a container uses is refused
 * (`volume is in use - [ids]`) also with -f, which only silences missing volumes — as docker.
 */
export function defineRemove(parent: Command, ctx: CliContext, globals: () => GlobalOptions): void {
  parent
    .command('rm')
    .alias('remove')
    .description('remove one or more volumes')
    .argument('<volume...>', 'volume names')
    .option('-f, --force', 'do not fail on volumes that do not exist')
    .action(async (names, options) => {
      const store = openVolumes(globals);
      let failed = false;
      for (const name of names) {
        try {
          await store.remove(name, { force: options.force === true });
          ctx.stdout.write(`${name}\n`);
        } catch (err) {
          if (!isLabError(err)) throw err;
          ctx.stderr.write(`Error: ${err.message}\n`);
          failed = true;
        }
      }
      if (failed) throw new ExitError(1);
    });
}
