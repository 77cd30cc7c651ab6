import type { Command } from '@commander-js/extra-typings';
import type { Volume } from '@lab/lifecycle';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { renderRows } from '../../output/format.js';
import { openVolumes } from './store.js';

/** `volume inspect [-f TEMPLATE] VOLUME…`: docker's JSON array (4-space indent), or a template per volume. */
export function defineInspect(
  parent: Command,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command('inspect')
    .description('display detailed information on volumes')
    .argument('<volume...>', 'volume names')
    .option('-f, --format <template>', "format with a Go-style template, e.g. '{{.Mountpoint}}'")
    .action(async (names, options) => {
      const store = openVolumes(globals);
      const out: Volume[] = [];
      let failed = false;
      for (const name of names) {
        try {
          out.push(await store.get(name));
        } catch (err) {
          if (!isLabError(err)) throw err;
          ctx.stderr.write(`Error: ${err.message}\n`);
          failed = true;
        }
      }
      if (options.format === undefined || options.format === 'json') {
        ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      } else {
        ctx.stdout.write(
          renderRows(options.format, out as unknown as Record<string, unknown>[], {
            defaultTable: '',
            headers: {},
          }),
        );
      }
      if (failed) throw new ExitError(1);
    });
}
