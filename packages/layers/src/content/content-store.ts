/**
 * The content store (containerd's model): blobs addressed by digest under
 * `<root>/blobs/<alg>/<hex>`, written through a writer that streams into `<root>/ingest/` and
 * whose `commit(size, digest)` verifies size and digest BEFORE the blob appears under its
 * name (fsync + rename, so a crash never leaves a partial blob there). Two processes writing
 * the same blob at once both succeed: rename is atomic, and a writer that finds the blob
 * already in place drops its own copy.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  failedPrecondition,
  internal,
  invalidArgument,
  isDigest,
  notFound,
  parseDigest,
  type Digest,
} from '@lab/oci';
import { fsyncDirectory } from '../fs/atomic-write.js';
import { withLock } from '../fs/lock.js';
import { blobFile, blobsDir, indexLockPath, ingestDir } from './layout.js';

/** What the store knows about a committed blob. */
export interface ContentInfo {
  digest: Digest;
  /** Size in bytes. */
  size: number;
  /** When the blob was committed (its file's mtime). */
  createdAt: Date;
}

/** What a write is expected to produce; either part may be left out. */
export interface ExpectedContent {
  digest?: Digest;
  size?: number;
}

/** The outcome of a commit. */
export interface CommitResult {
  digest: Digest;
  size: number;
  /** False when the blob was already in the store (this write was dropped). */
  created: boolean;
}

/** The hash algorithms the store can compute. */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** One write in progress, streaming into `<root>/ingest/`. */
export interface ContentWriter {
  /** The name of this write (its file under `<root>/ingest/`). */
  readonly ref: string;
  /** Bytes written so far. */
  readonly size: number;
  /** The digest of the bytes written so far. */
  digest(): Digest;
  /** Appends bytes. Writes are applied in call order. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Verifies the size, then the digest, of what was written (each when given), then moves the
   * data under its digest. On a mismatch the write is discarded and `invalid-argument` names
   * expected and actual values. The writer is finished after commit, whatever the outcome.
   */
  commit(expectedSize?: number, expectedDigest?: Digest): Promise<CommitResult>;
  /** Discards the write. Harmless after commit or a previous abort. */
  abort(): Promise<void>;
}

/** A write found in `<root>/ingest/` (in progress, or left by a crashed process). */
export interface IngestInfo {
  ref: string;
  path: string;
  size: number;
  /** Last modification; GC removes ingests older than its limit. */
  updatedAt: Date;
}

/**
 * Something that keeps blobs from gc until the work that writes them is referenced from
 * `index.json` (gc's `Lease`, from `createLease`/`withLease`).
 */
export interface ContentLease {
  add(...digests: Digest[]): Promise<void>;
}

export interface WriterOptions {
  /** A label for the write, kept in its ingest file name (for `ingests()` listings). */
  ref?: string;
  /** Hash algorithm; default sha256. */
  algorithm?: DigestAlgorithm;
  /**
   * Adds the blob to this lease as it is committed, under the index lock that gc holds while
   * it marks and sweeps: a concurrent gc can then never remove the blob between its commit
   * and the moment an image names it.
   */
  lease?: ContentLease;
}

export interface ReaderOptions {
  /** First byte to read (inclusive). */
  start?: number;
  /** Last byte to read (inclusive), as `fs.createReadStream`. */
  end?: number;
  /**
   * Hash the bytes as they stream and fail the stream with an `internal` error at the end if
   * they do not match the digest (whole-blob reads only).
   */
  verify?: boolean;
}

export interface IngestOptions {
  ref?: string;
  signal?: AbortSignal;
  /** See {@link WriterOptions.lease}. */
  lease?: ContentLease;
}

/** Bytes to ingest: a buffer, a string (UTF-8), or any stream/iterable of chunks. */
export type ContentSource = Uint8Array | string | AsyncIterable<Uint8Array | string>;

export interface ContentStore {
  /** The lab root (an OCI image layout). */
  readonly root: string;
  /** The file a blob lives in (whether or not it exists). */
  path(digest: Digest): string;
  /** True when the blob is in the store. */
  has(digest: Digest): Promise<boolean>;
  /** Size and commit time of a blob; `not-found` when missing. */
  info(digest: Digest): Promise<ContentInfo>;
  /** The whole blob, verified against its digest (`internal` if the file is corrupt). */
  readBlob(digest: Digest): Promise<Buffer>;
  /** A stream of the blob; `not-found` when missing. */
  reader(digest: Digest, options?: ReaderOptions): Promise<Readable>;
  /** Starts a write. */
  writer(options?: WriterOptions): Promise<ContentWriter>;
  /**
   * Streams `source` into the store and commits it, verifying `expected` size and digest
   * (the size is also enforced while streaming, so an oversized source stops early).
   */
  ingest(
    source: ContentSource,
    expected?: ExpectedContent,
    options?: IngestOptions,
  ): Promise<CommitResult>;
  /** Every committed blob, optionally filtered. */
  walk(filter?: (info: ContentInfo) => boolean): AsyncIterable<ContentInfo>;
  /** Removes a blob; `not-found` when missing. Does not check references: that is gc's job. */
  delete(digest: Digest): Promise<void>;
  /** The writes in `<root>/ingest/`. */
  ingests(): Promise<IngestInfo[]>;
  /** Removes one ingest file (a leftover of a crashed writer). */
  removeIngest(ref: string): Promise<void>;
}

function algorithmOf(digest: Digest): DigestAlgorithm {
  const { algorithm } = parseDigest(digest);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw invalidArgument(`cannot verify ${digest}: lab computes sha256 and sha512 digests only`, {
      details: { digest },
    });
  }
  return algorithm;
}

function missing(digest: Digest, file: string, cause?: unknown): Error {
  return notFound(
    `blob ${digest} is not in the content store (${file}); pull or import the image that contains it`,
    {
      cause,
      details: { digest, path: file },
    },
  );
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function safeRef(ref: string): string {
  return ref.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
}

class IngestWriter implements ContentWriter {
  readonly ref: string;
  readonly #root: string;
  readonly #file: string;
  readonly #handle: FileHandle;
  readonly #hash: Hash;
  readonly #algorithm: DigestAlgorithm;
  #size = 0;
  #queue: Promise<void> = Promise.resolve();
  #state: 'open' | 'done' = 'open';

  readonly #lease: ContentLease | undefined;

  constructor(
    root: string,
    ref: string,
    file: string,
    handle: FileHandle,
    algorithm: DigestAlgorithm,
    lease: ContentLease | undefined,
  ) {
    this.#lease = lease;
    this.#root = root;
    this.ref = ref;
    this.#file = file;
    this.#handle = handle;
    this.#algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digest {
    return `${this.#algorithm}:${this.#hash.copy().digest('hex')}`;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') {
      return Promise.reject(
        failedPrecondition(`write ${this.ref} is already committed or aborted; start a new writer`),
      );
    }
    const next = this.#queue.then(async () => {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await this.#handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
      this.#hash.update(chunk);
      this.#size += chunk.byteLength;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async commit(expectedSize?: number, expectedDigest?: Digest): Promise<CommitResult> {
    if (this.#state !== 'open') {
      throw failedPrecondition(
        `write ${this.ref} is already committed or aborted; start a new writer`,
      );
    }
    this.#state = 'done';
    try {
      await this.#queue;
      await this.#handle.sync();
      await this.#handle.close();
      const size = this.#size;
      if (expectedSize !== undefined && size !== expectedSize) {
        throw invalidArgument(
          `size mismatch${expectedDigest === undefined ? '' : ` for ${expectedDigest}`}: expected ${expectedSize} bytes, got ${size}; the content is truncated or is not the blob you meant`,
          { details: { expectedSize, size, expectedDigest } },
        );
      }
      let digest = this.digest();
      if (expectedDigest !== undefined) {
        if (algorithmOf(expectedDigest) !== this.#algorithm) {
          digest = `${algorithmOf(expectedDigest)}:${createHash(algorithmOf(expectedDigest))
            .update(await readFile(this.#file))
            .digest('hex')}`;
        }
        if (digest !== expectedDigest) {
          throw invalidArgument(
            `digest mismatch: expected ${expectedDigest}, got ${digest} (${size} bytes); the content is corrupt or is not the blob you meant`,
            { details: { expectedDigest, digest, size } },
          );
        }
      }
      const lease = this.#lease;
      if (lease === undefined) return await this.#place(digest, size);
      return await withLock(indexLockPath(this.#root), async () => {
        await lease.add(digest);
        return this.#place(digest, size);
      });
    } catch (err) {
      await this.#handle.close().catch(() => undefined);
      await rm(this.#file, { force: true });
      throw err;
    }
  }

  /** Moves the verified write under its digest, or drops it when the blob is already there. */
  async #place(digest: Digest, size: number): Promise<CommitResult> {
    const target = blobFile(this.#root, digest);
    const existing = await stat(target).catch((err: unknown) => {
      if (isEnoent(err)) return undefined;
      throw err;
    });
    if (
      existing?.isFile() === true &&
      existing.size === size &&
      (await hashFile(target, algorithmOf(digest))) === digest
    ) {
      // Someone else committed the same bytes (rename is atomic, so theirs is complete).
      await rm(this.#file, { force: true });
      return { digest, size, created: false };
    }
    // Absent, or damaged on disk: ours replaces it atomically.
    await mkdir(dirname(target), { recursive: true });
    await rename(this.#file, target);
    await fsyncDirectory(dirname(target));
    return { digest, size, created: true };
  }

  async abort(): Promise<void> {
    if (this.#state === 'open') {
      this.#state = 'done';
      await this.#queue;
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.#file, { force: true });
  }
}

/** The digest of a file's content. */
async function hashFile(file: string, algorithm: DigestAlgorithm): Promise<Digest> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(file), hash);
  return `${algorithm}:${hash.digest('hex')}`;
}

/** Fails the stream at its end when the bytes do not hash to `digest`. */
function verifyingStream(digest: Digest, algorithm: DigestAlgorithm, file: string): Transform {
  const hash = createHash(algorithm);
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      const got = `${algorithm}:${hash.digest('hex')}`;
      if (got === digest) done();
      else
        done(
          internal(
            `blob ${file} is corrupt: expected ${digest}, got ${got}; remove it and pull or import the image again`,
            {
              details: { digest, got, path: file },
            },
          ),
        );
    },
  });
}

async function* chunksOf(source: ContentSource): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') {
    yield Buffer.from(source, 'utf8');
    return;
  }
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/** Opens (creating its directories if needed) the content store of a lab root. */
export async function openContentStore(root: string): Promise<ContentStore> {
  await mkdir(join(blobsDir(root), 'sha256'), { recursive: true });
  await mkdir(ingestDir(root), { recursive: true });

  const store: ContentStore = {
    root,

    path: (digest) => blobFile(root, digest),

    async has(digest) {
      try {
        return (await stat(blobFile(root, digest))).isFile();
      } catch (err) {
        if (isEnoent(err)) return false;
        throw err;
      }
    },

    async info(digest) {
      const file = blobFile(root, digest);
      try {
        const st = await stat(file);
        return { digest, size: st.size, createdAt: st.mtime };
      } catch (err) {
        if (isEnoent(err)) throw missing(digest, file, err);
        throw err;
      }
    },

    async readBlob(digest) {
      const algorithm = algorithmOf(digest);
      const file = blobFile(root, digest);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        if (isEnoent(err)) throw missing(digest, file, err);
        throw err;
      }
      const got = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
      if (got !== digest) {
        throw internal(
          `blob ${file} is corrupt: expected ${digest}, got ${got}; remove it and pull or import the image again`,
          {
            details: { digest, got, path: file },
          },
        );
      }
      return bytes;
    },

    async reader(digest, options = {}) {
      const algorithm = algorithmOf(digest);
      const file = blobFile(root, digest);
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (err) {
        if (isEnoent(err)) throw missing(digest, file, err);
        throw err;
      }
      const stream = createReadStream('', {
        fd: handle,
        ...(options.start === undefined ? {} : { start: options.start }),
        ...(options.end === undefined ? {} : { end: options.end }),
      });
      if (options.verify !== true) return stream;
      if (options.start !== undefined || options.end !== undefined) {
        await handle.close();
        throw invalidArgument(
          'verify applies to whole-blob reads only: drop start/end or verify yourself',
        );
      }
      const verifier = verifyingStream(digest, algorithm, file);
      stream.on('error', (err) => verifier.destroy(err));
      verifier.on('close', () => stream.destroy());
      return stream.pipe(verifier);
    },

    async writer(options = {}) {
      const random = randomBytes(12).toString('hex');
      const ref = options.ref === undefined ? random : `${safeRef(options.ref)}-${random}`;
      const file = join(ingestDir(root), ref);
      await mkdir(ingestDir(root), { recursive: true });
      const handle = await open(file, 'wx', 0o644);
      return new IngestWriter(
        root,
        ref,
        file,
        handle,
        options.algorithm ?? 'sha256',
        options.lease,
      );
    },

    async ingest(source, expected = {}, options = {}) {
      const algorithm = expected.digest === undefined ? 'sha256' : algorithmOf(expected.digest);
      const w = await store.writer({
        algorithm,
        ...(options.ref === undefined ? {} : { ref: options.ref }),
        ...(options.lease === undefined ? {} : { lease: options.lease }),
      });
      try {
        for await (const chunk of chunksOf(source)) {
          options.signal?.throwIfAborted();
          if (expected.size !== undefined && w.size + chunk.byteLength > expected.size) {
            throw invalidArgument(
              `size mismatch${expected.digest === undefined ? '' : ` for ${expected.digest}`}: expected ${expected.size} bytes, got more (at least ${w.size + chunk.byteLength}); the source is not the blob you meant`,
              { details: { expectedSize: expected.size, expectedDigest: expected.digest } },
            );
          }
          await w.write(chunk);
        }
        options.signal?.throwIfAborted();
      } catch (err) {
        await w.abort();
        throw err;
      }
      return w.commit(expected.size, expected.digest);
    },

    async *walk(filter) {
      const base = blobsDir(root);
      let algorithms: string[];
      try {
        algorithms = (await readdir(base)).sort();
      } catch (err) {
        if (isEnoent(err)) return;
        throw err;
      }
      for (const algorithm of algorithms) {
        let names: string[];
        try {
          names = (await readdir(join(base, algorithm))).sort();
        } catch (err) {
          if (isEnoent(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
          throw err;
        }
        for (const name of names) {
          const digest = `${algorithm}:${name}`;
          if (!isDigest(digest)) continue;
          const st = await stat(join(base, algorithm, name)).catch(() => undefined);
          if (st?.isFile() !== true) continue;
          const info: ContentInfo = { digest, size: st.size, createdAt: st.mtime };
          if (filter === undefined || filter(info)) yield info;
        }
      }
    },

    async delete(digest) {
      const file = blobFile(root, digest);
      try {
        await unlink(file);
      } catch (err) {
        if (isEnoent(err)) throw missing(digest, file, err);
        throw err;
      }
    },

    async ingests() {
      const dir = ingestDir(root);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (isEnoent(err)) return [];
        throw err;
      }
      const out: IngestInfo[] = [];
      for (const ref of names.sort()) {
        const path = join(dir, ref);
        const st = await stat(path).catch(() => undefined);
        if (st === undefined) continue;
        out.push({ ref, path, size: st.size, updatedAt: st.mtime });
      }
      return out;
    },

    async removeIngest(ref) {
      if (ref.includes('/') || ref === '..' || ref === '.') {
        throw invalidArgument(`invalid ingest ref "${ref}": expected a file name under ingest/`);
      }
      await rm(join(ingestDir(root), ref), { force: true, recursive: true });
    },
  };
  return store;
}
