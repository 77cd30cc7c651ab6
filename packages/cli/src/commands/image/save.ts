import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { saveArchive, type ArchiveFormat } from '@lab/layers';
import { invalidArgument } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { openStore } from './store.js';

/**
 * `save [-o FILE] [--format docker-archive|oci-archive] IMAGE…`: to FILE (written to a temp
 * name and renamed, so a failed save leaves no partial archive) or to stdout when it is not a
 * terminal.
 */
export function defineSave(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('save images to a tar archive (to standard output without -o)')
    .argument('<image...>', 'image names or IDs')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addOption(
      new Option('--format <format>', 'archive format')
        .choices(['docker-archive', 'oci-archive'] as const)
        .default('docker-archive' as const),
    )
    .action(async (words, options) => {
      const images = await openStore(globals);
      const format: ArchiveFormat = options.format;
      if (options.output === undefined) {
        if (ctx.stdout.isTTY === true) {
          throw invalidArgument(
            'cowardly refusing to save to a terminal. Use the -o flag or redirect',
          );
        }
        try {
          await saveArchive(images, words, ctx.stdout, { format });
        } catch (err) {
          // the reader went away (`lab save busybox | head`): stop quietly, as a pipe writer does
          if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new ExitError(141);
          throw err;
        }
        return;
      }
      const file = resolve(ctx.cwd, options.output);
      const temp = `${file}.lab-${randomBytes(6).toString('hex')}`;
      try {
        await saveArchive(images, words, createWriteStream(temp, { mode: 0o644 }), { format });
        await rename(temp, file);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    });
}
