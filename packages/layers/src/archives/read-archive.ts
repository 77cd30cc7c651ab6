/**
 * Reads an image archive (a tar, maybe gzip- or zstd-compressed as a whole) entry by entry
 * into a catalog, in one pass: the archive may hold blobs before the manifest that names them,
 * so every regular file is hashed as it streams; large ones are spooled straight into the
 * content store's ingest (and committed under their digest), small ones are kept in memory
 * until the loader knows whether it needs them. Blobs named `blobs/<alg>/<hex>` are verified
 * against their name while they stream.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalidArgument, isLabError, parseDigest, type Digest } from '@lab/oci';
import type { ContentStore, ContentWriter } from '../content/index.js';
import { readTar } from '../tar/index.js';
import { archiveDirname, cleanArchivePath, resolveArchivePath } from './archive-path.js';
import { decompressArchive } from './decompress.js';

/** A regular file of the archive. */
export interface ArchiveFile {
  kind: 'file';
  path: string;
  size: number;
  /** sha256 of the file's bytes. */
  digest: Digest;
  /** The bytes, when the file was small enough to keep in memory. */
  data?: Buffer;
  /** True when the bytes are committed in the content store under `digest`. */
  stored: boolean;
}

/** A symbolic or hard link of the archive (podman's docker-archives link `layer.tar`s). */
export interface ArchiveLink {
  kind: 'symlink' | 'hardlink';
  path: string;
  target: string;
}

export type ArchiveEntry = ArchiveFile | ArchiveLink;

/** Everything a loader needs to know about an archive after one pass over it. */
export interface ArchiveCatalog {
  /** Entries by clean path (directories are not kept). */
  entries: ReadonlyMap<string, ArchiveEntry>;
  /** Whether the archive as a whole was compressed. */
  compression: 'none' | 'gzip' | 'zstd';
}

export interface ReadArchiveOptions {
  signal?: AbortSignal;
  /** Files up to this size stay in memory (default 1 MiB). */
  smallFileLimit?: number;
  /** Total bytes kept in memory before small files are spooled too (default 64 MiB). */
  memoryLimit?: number;
  /** Called with the digest of each blob about to be committed (to lease it against gc). */
  onBlob?: (digest: Digest) => Promise<void>;
}

const BLOB_PATH = /^blobs\/([a-z0-9]+)\/([a-zA-Z0-9=_-]+)$/;

/** The digest a path under `blobs/` claims, or undefined for any other path. */
export function digestOfBlobPath(path: string): Digest | undefined {
  const m = BLOB_PATH.exec(path);
  if (m === null) return undefined;
  const digest: Digest = `${m[1] ?? ''}:${m[2] ?? ''}`;
  try {
    parseDigest(digest);
    return digest;
  } catch {
    return undefined;
  }
}

function entryError(path: string, err: unknown): Error {
  if (isLabError(err) && err.message.includes(path)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return invalidArgument(`archive entry "${path}": ${message}`, {
    cause: err,
    details: { entry: path },
  });
}

const SPOOL_BATCH = 1024 * 1024;

/**
 * Copies a body into a content writer in batches of about 1 MiB, reading the next batch while
 * the previous one is being written (one write in flight), so reading and writing overlap.
 */
async function spool(body: AsyncIterable<Buffer>, writer: ContentWriter): Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async (): Promise<void> => {
    const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    await inFlight;
    inFlight = writer.write(data);
  };
  try {
    for await (const chunk of body) {
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= SPOOL_BATCH) await flush();
    }
    if (batched > 0) await flush();
  } finally {
    await inFlight;
  }
}

/** Reads an archive stream into a catalog, spooling large files into `store`. */
export async function readArchive(
  store: ContentStore,
  input: Readable | AsyncIterable<Uint8Array>,
  options: ReadArchiveOptions = {},
): Promise<ArchiveCatalog> {
  const smallLimit = options.smallFileLimit ?? 1024 * 1024;
  const memoryLimit = options.memoryLimit ?? 64 * 1024 * 1024;
  let inMemory = 0;
  const entries = new Map<string, ArchiveEntry>();
  const { stream, compression } = decompressArchive(input);
  const tarOptions = options.signal === undefined ? {} : { signal: options.signal };
  for await (const entry of readTar(stream, tarOptions)) {
    const { header } = entry;
    const path = cleanArchivePath(header.name);
    if (path === '') continue;
    switch (header.type) {
      case 'dir':
        continue;
      case 'symlink':
      case 'hardlink': {
        // GNU tar stores a file given twice as a hard link to itself: keep the file.
        const self =
          header.type === 'hardlink'
            ? resolveArchivePath('', header.linkname, path)
            : resolveArchivePath(archiveDirname(path), header.linkname, path);
        if (self === path && entries.has(path)) continue;
        entries.set(path, { kind: header.type, path, target: header.linkname });
        continue;
      }
      case 'file':
        break;
      default:
        throw invalidArgument(
          `archive entry "${path}" is a ${header.type}; an image archive holds only files, directories and links`,
          { details: { entry: path } },
        );
    }
    const claimed = digestOfBlobPath(path);
    if (header.size <= smallLimit && inMemory + header.size <= memoryLimit) {
      // a copy: the body may be a view into a much larger input chunk
      const data = Buffer.from(await entry.readBody());
      inMemory += data.length;
      const digest: Digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (claimed !== undefined && claimed !== digest && claimed.startsWith('sha256:')) {
        throw invalidArgument(
          `archive entry "${path}" does not match its name: its content hashes to ${digest}; the archive is corrupt`,
          { details: { entry: path, expected: claimed, digest } },
        );
      }
      entries.set(path, { kind: 'file', path, size: data.length, digest, data, stored: false });
      continue;
    }
    const writer = await store.writer({ ref: `archive-${path}` });
    try {
      await spool(entry.body, writer);
      // leased BEFORE the blob appears under its name, so a concurrent gc never sees it unleased
      await options.onBlob?.(writer.digest());
      const result = await writer.commit(
        header.size,
        claimed !== undefined && claimed.startsWith('sha256:') ? claimed : undefined,
      );
      entries.set(path, {
        kind: 'file',
        path,
        size: result.size,
        digest: result.digest,
        stored: true,
      });
    } catch (err) {
      await writer.abort();
      throw entryError(path, err);
    }
  }
  return { entries, compression: await compression };
}

/** Follows links from `path` to the regular file it names; throws naming the referrer. */
export function resolveArchiveFile(
  catalog: ArchiveCatalog,
  path: string,
  referrer: string,
): ArchiveFile {
  let current = resolveArchivePath('', path, referrer);
  for (let hops = 0; hops < 40; hops++) {
    const entry = catalog.entries.get(current);
    if (entry === undefined) {
      throw invalidArgument(
        `${referrer} names "${path}"${current === path ? '' : ` (→ "${current}")`}, which is not in the archive; the archive is incomplete`,
        { details: { entry: referrer, path } },
      );
    }
    if (entry.kind === 'file') return entry;
    current =
      entry.kind === 'hardlink'
        ? resolveArchivePath('', entry.target, entry.path)
        : resolveArchivePath(archiveDirname(entry.path), entry.target, entry.path);
  }
  throw invalidArgument(`${referrer} names "${path}", which is a loop of links in the archive`, {
    details: { entry: referrer, path },
  });
}

/** The bytes of an archive file, from memory or from the content store. */
export async function archiveFileBytes(store: ContentStore, file: ArchiveFile): Promise<Buffer> {
  if (file.data !== undefined) return file.data;
  return store.readBlob(file.digest);
}

/** The bytes of an archive file as a stream of chunks. */
export async function archiveFileStream(
  store: ContentStore,
  file: ArchiveFile,
): Promise<AsyncIterable<Uint8Array>> {
  const data = file.data;
  if (data === undefined) return store.reader(file.digest);
  return (async function* () {
    await Promise.resolve();
    yield data;
  })();
}

/** Makes sure an archive file is committed in the content store under its digest. */
export async function storeArchiveFile(store: ContentStore, file: ArchiveFile): Promise<void> {
  if (file.stored) return;
  if (file.data === undefined) throw invalidArgument(`archive entry "${file.path}" has no content`);
  await store.ingest(file.data, { digest: file.digest, size: file.size });
  file.stored = true;
}
