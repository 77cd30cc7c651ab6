import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { importRootfs } from '@lab/layers';
import { invalidArgument, notFound, parsePlatform } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { applyChanges } from './changes.js';
import { openStore } from './store.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The image's creation time: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
function createdTime(env: Record<string, string | undefined>): string | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d+$/.test(epoch))
    throw invalidArgument(`SOURCE_DATE_EPOCH=${epoch}: expected seconds since 1970`);
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `import FILE|DIR|- [REPOSITORY[:TAG]] [-c INSTR]… [-m MSG] [--platform P]`: a rootfs tar
 * (plain/gzip/zstd) or a directory as a one-layer image; prints the new image ID.
 */
export function defineImport(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('import a root filesystem (tar file, directory, or - for stdin) as an image')
    .argument(
      '<source>',
      'a tar archive (plain, gzip or zstd), a directory, or - for standard input',
    )
    .argument('[reference]', 'name for the image, REPOSITORY[:TAG]')
    .option(
      '-c, --change <instruction>',
      'apply a Dockerfile instruction to the image config (repeatable)',
      collect,
      [],
    )
    .option('-m, --message <message>', 'commit message for the imported image')
    .option('--platform <platform>', 'set the platform, e.g. linux/amd64')
    .action(async (source, reference, options) => {
      const config = applyChanges({}, options.change);
      const images = await openStore(globals);
      let input: Parameters<typeof importRootfs>[1];
      if (source === '-') {
        input = ctx.stdin as AsyncIterable<Uint8Array>;
      } else {
        const path = resolve(ctx.cwd, source);
        const st = await stat(path).catch((err: unknown) => {
          throw notFound(
            `${source}: no such file or directory; give a rootfs tar, a directory or -`,
            { cause: err },
          );
        });
        input = st.isDirectory() ? { directory: path } : createReadStream(path);
      }
      const created = createdTime(ctx.env);
      const result = await importRootfs(images, input, reference, {
        config,
        sourceName: source,
        ...(options.message === undefined ? {} : { message: options.message }),
        ...(created === undefined ? {} : { created }),
        ...(options.platform === undefined ? {} : { platform: parsePlatform(options.platform) }),
      });
      ctx.stdout.write(`${result.id}\n`);
    });
}
