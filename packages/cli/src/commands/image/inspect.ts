import type { Command } from '@commander-js/extra-typings';
import type { ResolvedImage } from '@lab/layers';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { renderRows } from '../../output/format.js';
import { familiar, openStore } from './store.js';

/** docker's `image inspect` object for an image. */
export function inspectImage(image: ResolvedImage): Record<string, unknown> {
  const repoTags = image.names.map(familiar);
  const repoDigests = image.names.map((n) => {
    const f = familiar(n);
    const colon = f.lastIndexOf(':');
    return `${colon > f.lastIndexOf('/') ? f.slice(0, colon) : f}@${image.digest}`;
  });
  const { config } = image;
  const last = image.history.at(-1);
  return {
    Id: image.id,
    RepoTags: repoTags,
    RepoDigests: [...new Set(repoDigests)],
    Parent: '',
    Comment: last?.comment ?? '',
    Created: image.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: config.config ?? null,
    Architecture: config.architecture,
    ...(config.variant === undefined || config.variant === null ? {} : { Variant: config.variant }),
    Os: config.os,
    Size: image.size,
    GraphDriver: { Name: 'lab', Data: null },
    RootFS: { Type: 'layers', Layers: image.diffIDs },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    Descriptor: image.manifestDescriptor,
  };
}

/** `inspect [-f TEMPLATE] IMAGE…`: docker's JSON array, or a template per image. */
export function defineInspect(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('show detailed information on images')
    .argument('<image...>', 'image names or IDs')
    .option(
      '-f, --format <template>',
      "format with a Go-style template, e.g. '{{.Id}}' or '{{json .Config}}'",
    )
    .action(async (words, options) => {
      const images = await openStore(globals);
      const out: Record<string, unknown>[] = [];
      let failed = false;
      for (const word of words) {
        try {
          out.push(inspectImage(await images.resolve(word)));
        } catch (err) {
          if (!isLabError(err)) throw err;
          ctx.stderr.write(`Error: ${err.message}\n`);
          failed = true;
        }
      }
      if (options.format === undefined || options.format === 'json') {
        ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      } else {
        ctx.stdout.write(renderRows(options.format, out, { defaultTable: '', headers: {} }));
      }
      if (failed) throw new ExitError(1);
    });
}
