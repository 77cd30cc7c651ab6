import { createInterface } from 'node:readline';
import type { Command } from '@commander-js/extra-typings';
import { invalidArgument } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { humanSize } from '../../output/human-size.js';
import { collect, openVolumes } from './store.js';

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(question);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}

/** `volume prune [-a] [-f] [--filter label=…]`: unused anonymous volumes (all unused ones with -a). */
export function definePrune(parent: Command, ctx: CliContext, globals: () => GlobalOptions): void {
  parent
    .command('prune')
    .description('remove unused local volumes')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'only volumes with this label (label=KEY[=VALUE])', collect, [])
    .action(async (options) => {
      const labels = options.filter.map((f) => {
        if (!f.startsWith('label=')) {
          throw invalidArgument(`invalid filter '${f}': lab volume prune filters on label= only`);
        }
        return f.slice('label='.length);
      });
      const all = options.all === true;
      if (options.force !== true) {
        const warning = all
          ? 'WARNING! This will remove all local volumes not used by at least one container.'
          : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
        if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return;
      }
      const result = await openVolumes(globals).prune({
        all,
        ...(labels.length > 0 ? { labels } : {}),
      });
      if (result.removed.length > 0) {
        ctx.stdout.write('Deleted Volumes:\n');
        for (const name of result.removed) ctx.stdout.write(`${name}\n`);
        ctx.stdout.write('\n');
      }
      ctx.stdout.write(`Total reclaimed space: ${humanSize(result.reclaimedBytes)}\n`);
    });
}
