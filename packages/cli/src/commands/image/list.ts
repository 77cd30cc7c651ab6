import type { Command } from '@commander-js/extra-typings';
import { invalidArgument } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { renderRows } from '../../output/format.js';
import { formatRow, imageRows, resolvedImages, type ImageRow } from './image-rows.js';
import { familiar, openStore } from './store.js';

const HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** docker's reference filter: a glob (`*` within a path component) over `repo` or `repo:tag`. */
function referenceMatches(pattern: string, row: ImageRow): boolean {
  if (row.fullName === undefined) return false;
  const name = familiar(row.fullName);
  const repo = name.slice(0, name.lastIndexOf(':'));
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return re.test(name) || re.test(repo) || re.test(row.fullName);
}

function applyFilters(rows: ImageRow[], filters: readonly string[]): ImageRow[] {
  let out = rows;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') {
          throw invalidArgument(
            `invalid filter 'dangling=${value}': expected dangling=true or dangling=false`,
          );
        }
        out = out.filter((r) => (r.fullName === undefined) === (value === 'true'));
        break;
      case 'reference':
        out = out.filter((r) => referenceMatches(value, r));
        break;
      case 'label': {
        const [k, v] = value.split('=', 2) as [string, string | undefined];
        out = out.filter((r) => {
          const labels = r.image.config.config?.Labels ?? {};
          return k in labels && (v === undefined || labels[k] === v);
        });
        break;
      }
      default:
        throw invalidArgument(
          `invalid filter '${key}': lab image ls filters on dangling=, reference= and label=`,
        );
    }
  }
  return out;
}

/** `ls`/`list`/`images`: docker's `images` grammar. */
export function defineList(
  parent: Command,
  name: string,
  aliases: readonly string[],
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  const cmd = parent
    .command(name)
    .description('list images')
    .argument('[reference]', 'only images whose name matches')
    .option('-a, --all', 'show all images (lab keeps no intermediate images: same as the default)')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', "don't truncate output")
    .option('--digests', 'show digests')
    .option(
      '-f, --filter <filter>',
      'filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE]',
      collect,
      [],
    )
    .option(
      '--format <format>',
      "'table', 'json', 'table TEMPLATE' or a Go-style template such as '{{.Repository}}'",
    )
    .action(async (reference, options) => {
      const images = await openStore(globals);
      let rows = imageRows(await resolvedImages(images));
      const filters = [
        ...options.filter,
        ...(reference === undefined ? [] : [`reference=${reference}`]),
      ];
      rows = applyFilters(rows, filters);
      const noTrunc = !options.trunc;
      if (options.quiet === true) {
        const seen = new Set<string>();
        for (const row of rows) {
          const id = formatRow(row, { noTrunc }).ID as string;
          if (seen.has(id)) continue;
          seen.add(id);
          ctx.stdout.write(`${id}\n`);
        }
        return;
      }
      const columns = [
        '{{.Repository}}',
        '{{.Tag}}',
        ...(options.digests === true ? ['{{.Digest}}'] : []),
        '{{.ID}}',
        '{{.CreatedSince}}',
        '{{.Size}}',
      ];
      ctx.stdout.write(
        renderRows(
          options.format,
          rows.map((r) => formatRow(r, { noTrunc })),
          { defaultTable: `table ${columns.join('\\t')}`, headers: HEADERS },
        ),
      );
    });
  for (const alias of aliases) cmd.alias(alias);
}
