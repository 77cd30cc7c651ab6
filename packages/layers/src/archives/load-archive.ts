/**
 * `lab image load`: imports every image of a docker-archive (classic, Docker 25+, podman) or
 * an oci-archive, plain or gzip/zstd-compressed as a whole, detected by content.
 *
 * Order of work, so that a bad archive leaves the store as it was: (1) one streaming pass
 * over the tar, blobs spooled into the content store (verified by digest); (2) every image
 * resolved and checked (paths, sizes, DiffIDs, media types, names); (3) the blobs the images
 * need committed; (4) ONE atomic rewrite of `index.json` names them all. An error in 1–3
 * leaves `index.json` untouched; blobs committed by then are unreferenced and `gc` removes them.
 */
import type { Readable } from 'node:stream';
import { failedPrecondition, invalidArgument, isLabError, type Digest } from '@lab/oci';
import { withLease } from '../gc/lease.js';
import type { ImageStore } from '../images/image-store.js';
import { updateIndex } from '../images/index-file.js';
import { bareTarget, namedEntry, normalizeImageName } from '../images/names.js';
import type { ArchiveImage } from './archive-image.js';
import { resolveDockerArchive } from './docker-archive.js';
import { resolveOciArchive } from './oci-archive.js';
import { readArchive, storeArchiveFile, type ArchiveCatalog } from './read-archive.js';

/** The two archive formats lab reads and writes. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** One image loaded, once per name (or once with no name for an untagged image). */
export interface LoadedImage {
  /** Full normalised name (`docker.io/library/busybox:latest`); absent for a dangling image. */
  name?: string;
  /** Image ID: the config digest. */
  id: Digest;
  /** Digest of the manifest stored for it. */
  manifestDigest: Digest;
}

export interface LoadResult {
  format: ArchiveFormat;
  images: LoadedImage[];
}

export interface LoadOptions {
  signal?: AbortSignal;
}

/** Which format an archive is: docker-archive when it has `manifest.json` (Docker 25+ has both). */
export function detectArchiveFormat(catalog: ArchiveCatalog): ArchiveFormat {
  if (catalog.entries.has('manifest.json')) return 'docker-archive';
  if (catalog.entries.has('index.json')) return 'oci-archive';
  const some = [...catalog.entries.keys()].slice(0, 5).join(', ');
  throw invalidArgument(
    `not an image archive: neither manifest.json (docker-archive) nor index.json (oci-archive) is in it${some === '' ? ' (it has no files)' : ` (it has ${some}…)`}; make one with "lab image save", "docker save" or "podman save"`,
  );
}

function normalizeNames(image: ArchiveImage): string[] {
  const out: string[] = [];
  for (const raw of image.names) {
    try {
      const name = normalizeImageName(raw);
      if (!out.includes(name)) out.push(name);
    } catch (err) {
      const reason = isLabError(err) ? err.message : String(err);
      throw invalidArgument(
        `the archive names an image "${raw}", which is not a valid image name: ${reason}`,
        {
          cause: err,
          details: { name: raw },
        },
      );
    }
  }
  return out;
}

/** Loads an archive stream into the image store. */
export async function loadArchive(
  images: ImageStore,
  input: Readable | AsyncIterable<Uint8Array>,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const { content, root } = images;
  // Blobs written before index.json names them are leased, so a concurrent gc keeps them.
  return withLease(root, async (lease) => {
    const catalog = await readArchive(content, input, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onBlob: (digest) => lease.add(digest),
    });
    const format = detectArchiveFormat(catalog);
    const found =
      format === 'docker-archive'
        ? await resolveDockerArchive(content, catalog)
        : await resolveOciArchive(content, catalog);
    const named = found.map((image) => ({ image, names: normalizeNames(image) }));
    for (const { image } of named) {
      options.signal?.throwIfAborted();
      await lease.add(...image.blobs.map((b) => b.digest), image.manifest.descriptor.digest);
      for (const blob of image.blobs) await storeArchiveFile(content, blob);
      await content.ingest(image.manifest.bytes, {
        digest: image.manifest.descriptor.digest,
        size: image.manifest.descriptor.size,
      });
    }
    options.signal?.throwIfAborted();
    await updateIndex(root, async (entries) => {
      // Under the index lock no gc runs: make sure none took a blob between its lease scan and
      // our commit (index.json must never name an image whose blobs are gone).
      for (const { image } of named) {
        for (const digest of [
          image.manifest.descriptor.digest,
          ...image.blobs.map((b) => b.digest),
        ]) {
          if (!(await content.has(digest))) {
            throw failedPrecondition(
              `blob ${digest} was removed by a garbage collection that ran during the load; load the archive again`,
              { details: { digest } },
            );
          }
        }
      }
      const next = [...entries];
      for (const { image, names } of named) {
        const target = bareTarget(image.manifest.descriptor);
        if (names.length === 0) next.push(target);
        for (const name of names) next.push(namedEntry(target, name));
      }
      return { entries: next, result: undefined };
    });
    const loaded: LoadedImage[] = [];
    for (const { image, names } of named) {
      const base = { id: image.configDigest, manifestDigest: image.manifest.descriptor.digest };
      if (names.length === 0) loaded.push(base);
      for (const name of names) loaded.push({ name, ...base });
    }
    return { format, images: loaded };
  });
}
