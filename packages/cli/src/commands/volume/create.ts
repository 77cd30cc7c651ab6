import type { Command } from '@commander-js/extra-typings';
import type { CliContext, GlobalOptions } from '../../context.js';
import { UsageError } from '../../errors.js';
import { collect, keyValues, openVolumes } from './store.js';

/** `volume create [--name NAME] [-d local] [--label k=v] [-o k=v] [NAME]`: prints the name. */
export function defineCreate(parent: Command, ctx: CliContext, globals: () => GlobalOptions): void {
  parent
    .command('create')
    .description('create a volume')
    .argument('[name]', 'the volume name (default: 64 random hex digits)')
    .option('--name <name>', 'the volume name')
    .option('-d, --driver <driver>', 'the volume driver (only local)', 'local')
    .option('--label <label>', 'set metadata on the volume (key=value)', collect, [])
    .option('-o, --opt <option>', 'driver-specific options (key=value)', collect, [])
    .action(async (positional, options) => {
      if (positional !== undefined && options.name !== undefined && positional !== options.name) {
        throw new UsageError(
          `conflicting options: either specify --name or provide positional arg, not both`,
        );
      }
      const name = positional ?? options.name;
      const volume = await openVolumes(globals).create(name, {
        driver: options.driver,
        labels: keyValues(options.label),
        options: keyValues(options.opt),
      });
      ctx.stdout.write(`${volume.Name}\n`);
    });
}
