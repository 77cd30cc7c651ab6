import { createInterface } from 'node:readline';
import type { Command } from '@commander-js/extra-typings';
import { buildCacheReferences } from '@lab/dockerfile/builder';
import { prune } from '@lab/layers';
import type { CliContext, GlobalOptions } from '../../context.js';
import { humanSize } from '../../output/human-size.js';
import { containerGcReferences, containersUseImage } from '@lab/lifecycle';
import { familiar, openStore } from './store.js';

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

/** `prune [-a] [-f]`: removes dangling (or, with -a, all unused) images and their blobs. */
export function definePrune(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('remove unused images')
    .option('-a, --all', 'remove all images not used by a container, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (options) => {
      const all = options.all === true;
      if (options.force !== true) {
        const warning = all
          ? 'WARNING! This will remove all images without at least one container associated to them.'
          : 'WARNING! This will remove all dangling images.';
        if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return;
      }
      const { root } = globals();
      const images = await openStore(globals);
      const result = await prune(images, {
        dangling: !all,
        isInUse: containersUseImage(root),
        // the build cache's layers stay (docker's `builder prune` is separate)
        gc: { references: [buildCacheReferences(root), containerGcReferences(root)] },
      });
      if (result.removedImages.length > 0) {
        ctx.stdout.write('Deleted Images:\n');
        for (const image of result.removedImages) {
          for (const n of image.names) ctx.stdout.write(`untagged: ${familiar(n)}\n`);
          ctx.stdout.write(`deleted: ${image.id}\n`);
        }
        ctx.stdout.write('\n');
      }
      ctx.stdout.write(`Total reclaimed space: ${humanSize(result.gc.reclaimedBytes)}\n`);
    });
}
