import type { Command } from '@commander-js/extra-typings';
import type { ResolvedImage } from '@lab/layers';
import type { History } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { renderRows } from '../../output/format.js';
import { timeAgo } from '../../output/human-duration.js';
import { humanSize } from '../../output/human-size.js';
import { openStore, shortId } from './store.js';

/** docker's `stringutils.Ellipsis`. */
function ellipsis(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** One row per history entry, newest first; layers are paired with non-empty entries. */
export function historyRows(
  image: ResolvedImage,
  options: { noTrunc: boolean; now?: Date },
): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  let layer = 0;
  const entries: History[] =
    image.history.length > 0 ? image.history : image.layers.map(() => ({}));
  const sized = entries.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (image.layers[layer++]?.size ?? 0);
    return { h, size };
  });
  sized.reverse().forEach(({ h, size }, i) => {
    const createdBy = (h.created_by ?? '').replaceAll('\t', ' ');
    const created = h.created ?? undefined;
    rows.push({
      ID: i === 0 ? (options.noTrunc ? image.id : shortId(image.id)) : '<missing>',
      CreatedAt: created ?? '',
      CreatedSince: timeAgo(created, options.now),
      CreatedBy: options.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: humanSize(size),
      Comment: h.comment ?? '',
    });
  });
  return rows;
}

/** `history [--no-trunc] [-q] [--format F] IMAGE`. */
export function defineHistory(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('show the history of an image')
    .argument('<image>', 'image name or ID')
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only show image IDs')
    .option('-H, --human', 'print sizes and dates in human readable format (default)')
    .option('--format <format>', "'table', 'json', or a Go-style template")
    .action(async (word, options) => {
      const images = await openStore(globals);
      const image = await images.resolve(word);
      const rows = historyRows(image, { noTrunc: !options.trunc });
      if (options.quiet === true) {
        for (const r of rows) ctx.stdout.write(`${String(r.ID)}\n`);
        return;
      }
      ctx.stdout.write(
        renderRows(options.format, rows, {
          defaultTable:
            'table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}',
          headers: {
            ID: 'IMAGE',
            CreatedSince: 'CREATED',
            CreatedAt: 'CREATED AT',
            CreatedBy: 'CREATED BY',
            Size: 'SIZE',
            Comment: 'COMMENT',
          },
        }),
      );
    });
}
