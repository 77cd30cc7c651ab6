/**
 * `lab image save`: writes images as a docker-archive or an oci-archive tar to a stream.
 *
 * docker-archive is written in Docker 25's layout, which is at once a docker-archive and an
 * OCI layout: `manifest.json` (+ `repositories`) pointing into `blobs/sha256/`, the config,
 * every layer as an UNCOMPRESSED tar named by its DiffID (as `docker save` writes them;
 * gzip/zstd blobs are decompressed on the way out and checked against the DiffID), an OCI
 * manifest over those tars, `index.json` and `oci-layout`. docker 20.10 and podman 4.3 load it
 * through `manifest.json`; skopeo and umoci read it as an OCI layout.
 *
 * oci-archive is a tar of an OCI layout holding the stored blobs as they are (manifest bytes
 * unchanged, so the manifest digest survives), with `index.json` naming each image the way
 * lab's own root does (`io.containerd.image.name` + `org.opencontainers.image.ref.name`).
 *
 * Entries have mtime 0, owner 0:0, and a fixed order, so saving the same images twice gives
 * the same bytes.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  OCI_MEDIA_TYPES,
  blobPath,
  createImageIndex,
  createImageLayout,
  createImageManifest,
  encodeDocument,
  familiarString,
  internal,
  invalidArgument,
  layerCompression,
  parseReference,
  type Descriptor,
  type Digest,
} from '@lab/oci';
import { ingestDir, type ContentStore } from '../content/index.js';
import { bareTarget, namedEntry } from '../images/names.js';
import { TarWriter } from '../tar/index.js';
import type { ArchiveFormat } from './load-archive.js';
import { decompressArchive } from './decompress.js';
import type { ImageStore, ResolvedImage } from '../images/image-store.js';
import { normalizeImageName } from '../images/names.js';

export interface SaveOptions {
  format?: ArchiveFormat;
  signal?: AbortSignal;
}

export interface SaveResult {
  format: ArchiveFormat;
  /** Bytes written. */
  size: number;
}

const EPOCH = { sec: 0, nsec: 0 };

/** The images to write, each once, with every name the user asked for. */
interface SaveItem {
  image: ResolvedImage;
  names: string[];
}

function nameOf(word: string): string | undefined {
  try {
    return normalizeImageName(word);
  } catch {
    return undefined;
  }
}

/** Resolves the words (names or IDs); an image asked for by name is saved under that name. */
async function collect(images: ImageStore, words: readonly string[]): Promise<SaveItem[]> {
  const items = new Map<Digest, SaveItem>();
  for (const word of words) {
    const image = await images.resolve(word);
    const item = items.get(image.digest) ?? { image, names: [] };
    const name = nameOf(word);
    if (name !== undefined && image.names.includes(name) && !item.names.includes(name))
      item.names.push(name);
    items.set(image.digest, item);
  }
  return [...items.values()];
}

class ArchiveWriter {
  readonly tar = new TarWriter();
  readonly #written = new Set<string>();
  /** Sizes of the uncompressed layers written, by DiffID. */
  readonly sizes = new Map<Digest, number>();
  #dirs = false;

  async dirs(): Promise<void> {
    if (this.#dirs) return;
    this.#dirs = true;
    await this.tar.addEntry({ name: 'blobs/', type: 'dir', mode: 0o755, mtime: EPOCH });
    await this.tar.addEntry({ name: 'blobs/sha256/', type: 'dir', mode: 0o755, mtime: EPOCH });
  }

  has(path: string): boolean {
    return this.#written.has(path);
  }

  async file(
    path: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    size: number,
  ): Promise<void> {
    if (this.#written.has(path)) return;
    this.#written.add(path);
    if (path.startsWith('blobs/')) await this.dirs();
    await this.tar.addEntry({ name: path, type: 'file', mode: 0o644, size, mtime: EPOCH }, body);
  }

  async json(path: string, value: unknown): Promise<void> {
    const bytes = Buffer.from(JSON.stringify(value));
    await this.file(path, bytes, bytes.length);
  }
}

/** Writes a stored blob as it is. */
async function copyBlob(content: ContentStore, w: ArchiveWriter, d: Descriptor): Promise<void> {
  const path = blobPath(d.digest);
  if (w.has(path)) return;
  await w.file(path, await content.reader(d.digest, { verify: true }), d.size);
}

/**
 * Writes a layer uncompressed, named by its DiffID. A compressed blob is decompressed into an
 * ingest file first (a tar entry needs its size up front), checked against the DiffID, then
 * copied; the ingest file is discarded.
 */
async function writeUncompressedLayer(
  content: ContentStore,
  w: ArchiveWriter,
  layer: Descriptor,
  diffID: Digest,
): Promise<number> {
  const path = blobPath(diffID);
  const known = w.sizes.get(diffID);
  if (known !== undefined) return known;
  if (layerCompression(layer.mediaType) === 'none') {
    if (layer.digest !== diffID) {
      throw internal(
        `layer ${layer.digest} is an uncompressed tar but the config says its DiffID is ${diffID}; the image is corrupt`,
      );
    }
    await w.file(path, await content.reader(layer.digest, { verify: true }), layer.size);
    w.sizes.set(diffID, layer.size);
    return layer.size;
  }
  const writer = await content.writer({ ref: `save-${diffID}` });
  try {
    const { stream } = decompressArchive(await content.reader(layer.digest, { verify: true }));
    for await (const chunk of stream) await writer.write(chunk);
    if (writer.digest() !== diffID) {
      throw internal(
        `layer ${layer.digest} decompresses to ${writer.digest()}, but the config says its DiffID is ${diffID}; the image is corrupt, pull or load it again`,
      );
    }
    const size = writer.size;
    await w.file(path, createReadStream(join(ingestDir(content.root), writer.ref)), size);
    w.sizes.set(diffID, size);
    return size;
  } finally {
    await writer.abort();
  }
}

async function writeDockerArchive(
  content: ContentStore,
  w: ArchiveWriter,
  items: readonly SaveItem[],
): Promise<void> {
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const indexEntries: Descriptor[] = [];
  for (const { image: resolved, names } of items) {
    const diffIDs = resolved.diffIDs;
    if (diffIDs.length === 0) {
      throw invalidArgument(
        `image ${resolved.configDescriptor.digest} has no layers; docker-archive cannot hold it (use --format oci-archive)`,
      );
    }
    await copyBlob(content, w, resolved.configDescriptor);
    const layers: Descriptor[] = [];
    for (const [i, layer] of resolved.manifest.layers.entries()) {
      const diffID = diffIDs[i] as Digest;
      const size = await writeUncompressedLayer(content, w, layer, diffID);
      layers.push({ mediaType: OCI_MEDIA_TYPES.layer, digest: diffID, size });
    }
    const manifest = encodeDocument(
      OCI_MEDIA_TYPES.manifest,
      createImageManifest({
        config: {
          mediaType: OCI_MEDIA_TYPES.config,
          digest: resolved.configDescriptor.digest,
          size: resolved.configDescriptor.size,
        },
        layers,
      }),
    );
    await w.file(blobPath(manifest.descriptor.digest), manifest.bytes, manifest.bytes.byteLength);
    const familiar = names.map((n) => familiarString(parseReference(n)));
    manifestJson.push({
      Config: blobPath(resolved.configDescriptor.digest),
      RepoTags: familiar.length === 0 ? null : familiar,
      Layers: diffIDs.map((d) => blobPath(d)),
    });
    const top = (diffIDs.at(-1) ?? '').slice('sha256:'.length);
    for (const n of names) {
      const ref = parseReference(n);
      const repo = familiarString({ domain: ref.domain, path: ref.path });
      repositories[repo] = { ...repositories[repo], [ref.tag ?? 'latest']: top };
    }
    if (names.length === 0) indexEntries.push(manifest.descriptor);
    for (const n of names) indexEntries.push(namedEntry(manifest.descriptor, n));
  }
  await w.json('index.json', createImageIndex(indexEntries));
  await w.json('manifest.json', manifestJson);
  await w.json('oci-layout', createImageLayout());
  if (Object.keys(repositories).length > 0) await w.json('repositories', repositories);
}

async function writeOciArchive(
  content: ContentStore,
  w: ArchiveWriter,
  items: readonly SaveItem[],
): Promise<void> {
  const entries: Descriptor[] = [];
  for (const { image: resolved, names } of items) {
    for (const layer of resolved.manifest.layers) await copyBlob(content, w, layer);
    await copyBlob(content, w, resolved.configDescriptor);
    await copyBlob(content, w, resolved.manifestDescriptor);
    const target = bareTarget(resolved.manifestDescriptor);
    if (names.length === 0) entries.push(target);
    for (const n of names) entries.push(namedEntry(target, n));
  }
  const index = createImageIndex(entries);
  await w.json('index.json', index);
  await w.json('oci-layout', createImageLayout());
}

/** Writes the images named by `words` (names or IDs) to `out` as one archive. */
export async function saveArchive(
  images: ImageStore,
  words: readonly string[],
  out: Writable,
  options: SaveOptions = {},
): Promise<SaveResult> {
  if (words.length === 0) throw invalidArgument('save needs at least one image name or ID');
  const format = options.format ?? 'docker-archive';
  const { content } = images;
  const items = await collect(images, words);
  const w = new ArchiveWriter();
  const done = pipeline(
    w.tar.readable,
    out,
    options.signal === undefined ? {} : { signal: options.signal },
  );
  // The output may fail while the writer waits (a closed pipe): remember it, report it below.
  let outputError: unknown;
  done.catch((err: unknown) => {
    outputError = err;
  });
  try {
    if (format === 'docker-archive') await writeDockerArchive(content, w, items);
    else await writeOciArchive(content, w, items);
    await w.tar.finish();
  } catch (err) {
    w.tar.readable.destroy(err as Error);
    await done.catch(() => undefined);
    throw outputError ?? err;
  }
  await done;
  return { format, size: w.tar.size };
}
