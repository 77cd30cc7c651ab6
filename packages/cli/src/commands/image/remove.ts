import type { Command } from '@commander-js/extra-typings';
import { buildCacheReferences } from '@lab/dockerfile/builder';
import { removeImage } from '@lab/layers';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { containerGcReferences, containersUseImage } from '@lab/lifecycle';
import { familiar, openStore } from './store.js';

/** `rm [-f] [--no-prune] IMAGE…` (`rmi`): prints `Untagged: …` and `Deleted: …` like docker. */
export function defineRemove(
  parent: Command,
  name: string,
  aliases: readonly string[],
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  const cmd = parent
    .command(name)
    .description('remove images')
    .argument('<image...>', 'image names or IDs')
    .option('-f, --force', 'force removal of the image (untag it when a container uses it)')
    .option('--no-prune', 'do not delete unreferenced blobs now (the next gc does)')
    .action(async (words, options) => {
      const { root } = globals();
      const images = await openStore(globals);
      let failed = false;
      for (const word of words) {
        try {
          const result = await removeImage(images, word, {
            force: options.force === true,
            isInUse: containersUseImage(root),
            prune: options.prune,
            gc: { references: [buildCacheReferences(root), containerGcReferences(root)] },
          });
          for (const n of result.untagged) ctx.stdout.write(`Untagged: ${familiar(n)}\n`);
          for (const id of result.deleted) ctx.stdout.write(`Deleted: ${id}\n`);
        } catch (err) {
          if (!isLabError(err)) throw err;
          ctx.stderr.write(`Error: ${err.message}\n`);
          failed = true;
        }
      }
      if (failed) throw new ExitError(1);
    });
  for (const alias of aliases) cmd.alias(alias);
}
