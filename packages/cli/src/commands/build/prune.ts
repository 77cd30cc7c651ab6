/**
 * `lab builder prune [-f]`: drops the build cache (step records and `RUN --mount=type=cache`
 * directories) and collects the blobs only the cache kept, as `docker builder prune` does.
 */
import { createInterface } from 'node:readline';
import type { Command } from '@commander-js/extra-typings';
import { pruneBuildCache } from '@lab/dockerfile/builder';
import { gc, openImageStore } from '@lab/layers';
import { containerGcReferences } from '@lab/lifecycle';
import type { CliContext, GlobalOptions } from '../../context.js';
import { humanSize } from '../../output/human-size.js';

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

/** Defines `prune` under the `builder` group. */
export function defineBuilderPrune(
  parent: Command,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command('prune')
    .description('remove the build cache')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (options) => {
      if (options.force !== true) {
        const ok = await confirm(
          ctx,
          'WARNING! This will remove all build cache.\nAre you sure you want to continue? [y/N] ',
        );
        if (!ok) return;
      }
      const { root } = globals();
      await pruneBuildCache(root);
      const images = await openImageStore(root);
      const result = await gc(images, { references: [containerGcReferences(root)] });
      ctx.stdout.write(`Total:\t${humanSize(result.reclaimedBytes)}\n`);
    });
}
