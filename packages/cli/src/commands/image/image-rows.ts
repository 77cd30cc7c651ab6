/**
 * The rows `lab image ls` shows: one per (image, name), docker's fields, newest first.
 */
import type { ImageStore, ResolvedImage } from '@lab/layers';
import { isLabError } from '@lab/oci';
import { humanSize } from '../../output/human-size.js';
import { timeAgo } from '../../output/human-duration.js';
import { repoAndTag, shortId } from './store.js';

/** One listed image under one of its names (or `<none>`). */
export interface ImageRow {
  /** Full name, absent for a dangling image. */
  fullName?: string;
  image: ResolvedImage;
}

/** Every image resolved for this platform; images that cannot be resolved are skipped. */
export async function resolvedImages(images: ImageStore): Promise<ResolvedImage[]> {
  const out: ResolvedImage[] = [];
  for (const image of await images.list()) {
    try {
      out.push(await images.resolve(image.digest));
    } catch (err) {
      if (!isLabError(err)) throw err;
    }
  }
  return out.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

/** One row per name (one `<none>` row for an unnamed image). */
export function imageRows(images: readonly ResolvedImage[]): ImageRow[] {
  return images.flatMap((image) =>
    image.names.length === 0 ? [{ image }] : image.names.map((fullName) => ({ fullName, image })),
  );
}

/** docker's `{{.ID}}` etc. for `--format`, and the JSON object of `--format json`. */
export function formatRow(
  row: ImageRow,
  options: { noTrunc: boolean; now?: Date },
): Record<string, unknown> {
  const { image } = row;
  const { repository, tag } =
    row.fullName === undefined ? { repository: '<none>', tag: '<none>' } : repoAndTag(row.fullName);
  const created = image.created;
  return {
    Containers: 'N/A',
    CreatedAt: created === undefined ? '' : formatCreatedAt(created),
    CreatedSince: timeAgo(created, options.now),
    Digest: image.digest,
    ID: options.noTrunc ? image.id : shortId(image.id),
    Repository: repository,
    SharedSize: 'N/A',
    Size: humanSize(image.size),
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(image.size),
  };
}

/** docker's CreatedAt: `2006-01-02 15:04:05 -0700 MST` in UTC. */
export function formatCreatedAt(created: string): string {
  const d = new Date(created);
  if (Number.isNaN(d.getTime())) return created;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 UTC`;
}
