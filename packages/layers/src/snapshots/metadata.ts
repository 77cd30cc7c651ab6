import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { internal, unavailable } from '@lab/oci';
import type { SnapshotKind } from './types.js';

/** One snapshot as recorded in `metadata.json`. */
export interface SnapshotRecord {
  /** The directory name under `snapshots/`. */
  id: string;
  kind: SnapshotKind;
  parent?: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
  /** Stored at commit time: committed layers never change. */
  usage?: { size: number; inodes: number };
}

export interface Metadata {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

const EMPTY: Metadata = { version: 1, nextId: 1, snapshots: {} };

export function metadataPath(dir: string): string {
  return path.join(dir, 'metadata.json');
}

/** Reads `metadata.json`; a missing file is an empty store. Readers need no lock: writes rename. */
export async function readMetadata(dir: string): Promise<Metadata> {
  const file = metadataPath(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY);
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Metadata;
    if (parsed.version !== 1 || typeof parsed.snapshots !== 'object') throw new Error('bad shape');
    return parsed;
  } catch (err) {
    throw internal(
      `snapshot metadata ${file} is corrupt: ${(err as Error).message}; restore it from a backup or remove the snapshotter directory ${dir}`,
      { cause: err, details: { path: file } },
    );
  }
}

/** Writes `metadata.json` atomically: a synced temp file renamed over the old one. */
export async function writeMetadata(dir: string, metadata: Metadata): Promise<void> {
  const file = metadataPath(dir);
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(metadata, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Runs `fn` holding the snapshotter's lock (a lock directory next to `metadata.json`, shared
 * by every process using this root), with the metadata freshly read. Whatever `fn` returns in
 * `write` is written before the lock is released.
 */
export async function withMetadataLock<T>(
  dir: string,
  fn: (metadata: Metadata) => Promise<{ result: T; write?: Metadata }>,
): Promise<T> {
  let release: () => Promise<void>;
  let compromised: Error | undefined;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: path.join(dir, 'metadata.lock'),
      realpath: false,
      stale: 30_000,
      retries: { retries: 600, minTimeout: 10, maxTimeout: 200, factor: 1.5 },
      // The default throws from a timer, which would take the whole process down.
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    throw unavailable(
      `could not lock snapshot metadata in ${dir}: ${(err as Error).message}; another lab process holds it, retry when it finishes`,
      { cause: err, details: { path: dir } },
    );
  }
  try {
    const metadata = await readMetadata(dir);
    const { result, write } = await fn(metadata);
    if (compromised) {
      throw unavailable(
        `lost the snapshot metadata lock in ${dir} (${compromised.message}); nothing was written, retry the operation`,
        { cause: compromised, details: { path: dir } },
      );
    }
    if (write) await writeMetadata(dir, write);
    return result;
  } finally {
    await release();
  }
}
