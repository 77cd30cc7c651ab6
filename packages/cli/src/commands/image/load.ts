import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { loadArchive } from '@lab/layers';
import { invalidArgument, notFound } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { familiar, openStore } from './store.js';

/** `load [-i FILE] [-q]`: loads a docker-archive or oci-archive (plain or gzip/zstd) from FILE or stdin. */
export function defineLoad(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description(
      'load images from a docker-archive or oci-archive tar (from standard input without -i)',
    )
    .option('-i, --input <file>', 'read from a tar archive file instead of standard input')
    .option('-q, --quiet', 'suppress progress output')
    .action(async (options) => {
      const images = await openStore(globals);
      let input: NodeJS.ReadableStream;
      if (options.input === undefined) {
        if (ctx.stdin.isTTY === true) {
          throw invalidArgument(
            'requested load from stdin, but stdin is a terminal; use -i FILE or pipe an archive in',
          );
        }
        input = ctx.stdin;
      } else {
        const file = resolve(ctx.cwd, options.input);
        const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
        await new Promise<void>((ok, fail) => {
          stream.once('open', () => {
            ok();
          });
          stream.once('error', (err: NodeJS.ErrnoException) => {
            fail(
              err.code === 'ENOENT'
                ? notFound(
                    `open ${options.input ?? ''}: no such file; give the path of an image archive`,
                    { cause: err },
                  )
                : err,
            );
          });
        });
        input = stream;
      }
      const result = await loadArchive(images, input as AsyncIterable<Uint8Array>);
      for (const image of result.images) {
        ctx.stdout.write(
          image.name === undefined
            ? `Loaded image ID: ${image.id}\n`
            : `Loaded image: ${familiar(image.name)}\n`,
        );
      }
    });
}
