/**
 * The build cache under `<root>/buildcache/`: one record per step key (`records/<key>.json`,
 * the key a sha256 of the parent key and the step's definition) holding the layer the step
 * produced (or none when it changed nothing), and the directories of `RUN --mount=type=cache`
 * (`mounts/<sha256 of id>`), which persist between builds. The records' blobs are gc roots
 * through {@link buildCacheReferences}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { GcReferences, GcRoots } from '@lab/layers';
import type { Descriptor, Digest } from '@lab/oci';

/** A layer as the cache keeps it. */
export interface CachedLayer {
  readonly descriptor: Descriptor;
  readonly diffID: Digest;
}

/** What a cached step produced. */
export interface CacheRecord {
  /** The step's layer; null when it changed nothing (an empty layer). */
  readonly layer: CachedLayer | null;
  /** When the record was written (RFC 3339). */
  readonly created: string;
}

/** The cache of one lab root. */
export interface BuildCache {
  readonly dir: string;
  get(key: string): Promise<CacheRecord | undefined>;
  put(key: string, record: CacheRecord): Promise<void>;
  /** The persistent directory of a cache mount `id` (created on first use, mode 0755). */
  mountDir(id: string): Promise<string>;
}

/** sha256 of the JSON of `parts`: a step key. */
export function cacheKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function recordsDir(root: string): string {
  return path.join(root, 'buildcache', 'records');
}

/** Opens (creating) the build cache of `root`. */
export async function openBuildCache(root: string): Promise<BuildCache> {
  const dir = path.join(root, 'buildcache');
  const records = recordsDir(root);
  await mkdir(records, { recursive: true });
  await mkdir(path.join(dir, 'mounts'), { recursive: true });
  return {
    dir,
    async get(key) {
      try {
        return JSON.parse(await readFile(path.join(records, `${key}.json`), 'utf8')) as CacheRecord;
      } catch {
        return undefined;
      }
    },
    async put(key, record) {
      const file = path.join(records, `${key}.json`);
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(record));
      await rename(tmp, file).catch(async (err: unknown) => {
        await rm(tmp, { force: true });
        throw err;
      });
    },
    async mountDir(id) {
      const d = path.join(dir, 'mounts', createHash('sha256').update(id).digest('hex'));
      await mkdir(d, { recursive: true, mode: 0o755 });
      return d;
    },
  };
}

/** The blobs the build cache of `root` refers to: pass to gc as `references`. */
export function buildCacheReferences(root: string): GcReferences {
  return async (): Promise<GcRoots> => {
    const blobs: Digest[] = [];
    let names: string[];
    try {
      names = await readdir(recordsDir(root));
    } catch {
      return { blobs };
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(
          await readFile(path.join(recordsDir(root), name), 'utf8'),
        ) as CacheRecord;
        if (rec.layer !== null) blobs.push(rec.layer.descriptor.digest);
      } catch {
        // a record being written or damaged: not a root
      }
    }
    return { blobs };
  };
}

/** Removes every record and cache mount of `root` (`lab builder prune`). */
export async function pruneBuildCache(root: string): Promise<void> {
  // records and mounts only: a running build's other files (bundles) stay
  await rm(recordsDir(root), { recursive: true, force: true });
  await rm(path.join(root, 'buildcache', 'mounts'), { recursive: true, force: true });
}
