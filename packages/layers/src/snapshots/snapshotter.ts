import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat as fsStat } from 'node:fs/promises';
import path from 'node:path';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '@lab/oci';
import {
  type Metadata,
  type SnapshotRecord,
  readMetadata,
  withMetadataLock,
  writeMetadata,
} from './metadata.js';
import { diskUsage } from './usage.js';
import type {
  LayerFormat,
  Mount,
  SnapshotInfo,
  SnapshotKind,
  SnapshotOptions,
  Snapshotter,
  SnapshotterKind,
  SnapshotUsage,
} from './types.js';

/** Where one snapshot lives on disk. */
export interface SnapshotDirs {
  /** `snapshots/<id>`: the snapshot's directory. */
  dir: string;
  /** `<dir>/fs`: the layer (overlay upper, or the whole tree for native). */
  fs: string;
  /** `<dir>/work`: overlayfs's work directory. */
  work: string;
}

/** What differs between the overlay and the native snapshotter. */
export interface SnapshotDriver {
  kind: SnapshotterKind;
  layerFormat: LayerFormat;
  /**
   * Fills a new snapshot directory (`fs`, `work`, the copy of the parent…). `parents` are the
   * layer directories of the parent chain, topmost first.
   */
  populate(
    dirs: SnapshotDirs,
    kind: Exclude<SnapshotKind, 'committed'>,
    parents: readonly string[],
    signal?: AbortSignal,
  ): Promise<void>;
  /** The mounts of an active snapshot or view. */
  mounts(
    dirs: SnapshotDirs,
    kind: Exclude<SnapshotKind, 'committed'>,
    parents: readonly string[],
  ): Mount[];
}

function toInfo(name: string, record: SnapshotRecord): SnapshotInfo {
  return {
    kind: record.kind,
    name,
    ...(record.parent === undefined ? {} : { parent: record.parent }),
    labels: { ...record.labels },
    created: new Date(record.created),
    updated: new Date(record.updated),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A snapshotter over `<root>` = `<lab root>/snapshots/<kind>`: `metadata.json` (written
 * atomically under a lock shared by all processes) and `snapshots/<id>/{fs,work}`. New
 * snapshots are built in `snapshots/new-<pid>-<rand>` and renamed into place; removed ones are
 * renamed to `rm-<id>` before deletion. {@link openSnapshotterAt} cleans up what a crash left.
 */
class DirectorySnapshotter implements Snapshotter {
  readonly kind: SnapshotterKind;
  readonly layerFormat: LayerFormat;
  readonly root: string;
  readonly #driver: SnapshotDriver;
  readonly #dir: string;

  constructor(root: string, driver: SnapshotDriver) {
    this.root = root;
    this.kind = driver.kind;
    this.layerFormat = driver.layerFormat;
    this.#driver = driver;
    this.#dir = path.join(root, 'snapshots');
  }

  #dirs(id: string): SnapshotDirs {
    const dir = path.join(this.#dir, id);
    return { dir, fs: path.join(dir, 'fs'), work: path.join(dir, 'work') };
  }

  #get(metadata: Metadata, key: string): SnapshotRecord {
    const record = metadata.snapshots[key];
    if (!record) {
      throw notFound(
        `snapshot "${key}" does not exist in the ${this.kind} snapshotter at ${this.root}; list snapshots to find its key`,
        { details: { key } },
      );
    }
    return record;
  }

  /** Layer dirs of `name` and its ancestors, topmost first. */
  #chain(metadata: Metadata, name: string): string[] {
    const dirs: string[] = [];
    let current: string | undefined = name;
    while (current !== undefined) {
      const record = this.#get(metadata, current);
      dirs.push(this.#dirs(record.id).fs);
      current = record.parent;
    }
    return dirs;
  }

  #checkParent(metadata: Metadata, parent: string): void {
    const record = this.#get(metadata, parent);
    if (record.kind !== 'committed') {
      throw failedPrecondition(
        `parent "${parent}" is ${record.kind === 'active' ? 'an active snapshot' : 'a view'}, not committed; commit it before using it as a parent`,
        { details: { parent, kind: record.kind } },
      );
    }
  }

  async #create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    options: SnapshotOptions,
  ): Promise<Mount[]> {
    if (key === '') throw invalidArgument('snapshot key is empty; pass a non-empty key');
    const before = await readMetadata(this.root);
    if (before.snapshots[key]) {
      throw alreadyExists(`snapshot "${key}" already exists; pick another key or remove it`, {
        details: { key },
      });
    }
    if (parent !== undefined) this.#checkParent(before, parent);
    const parents = parent === undefined ? [] : this.#chain(before, parent);
    const tmpName = `new-${process.pid}-${randomBytes(6).toString('hex')}`;
    const tmp = this.#dirs(tmpName);
    try {
      await mkdir(tmp.dir, { mode: 0o700 });
      await this.#driver.populate(tmp, kind, parents, options.signal);
      await withMetadataLock(this.root, async (metadata) => {
        if (metadata.snapshots[key]) {
          throw alreadyExists(`snapshot "${key}" already exists; pick another key or remove it`, {
            details: { key },
          });
        }
        if (parent !== undefined) {
          this.#checkParent(metadata, parent);
          if (this.#chain(metadata, parent).join('\0') !== parents.join('\0')) {
            throw failedPrecondition(
              `parent "${parent}" changed while snapshot "${key}" was being prepared; retry`,
              { details: { key, parent } },
            );
          }
        }
        let next = metadata.nextId;
        while (await exists(this.#dirs(String(next)).dir)) next += 1;
        const id = String(next);
        await rename(tmp.dir, this.#dirs(id).dir);
        const now = new Date().toISOString();
        const record: SnapshotRecord = {
          id,
          kind,
          ...(parent === undefined ? {} : { parent }),
          labels: { ...options.labels },
          created: now,
          updated: now,
        };
        try {
          await writeMetadata(this.root, {
            ...metadata,
            nextId: next + 1,
            snapshots: { ...metadata.snapshots, [key]: record },
          });
        } catch (err) {
          // Not recorded: move it back so the cleanup below removes it.
          await rename(this.#dirs(id).dir, tmp.dir);
          throw err;
        }
        return { result: undefined };
      });
    } catch (err) {
      await rm(tmp.dir, { recursive: true, force: true });
      throw err;
    }
    return this.mounts(key);
  }

  prepare(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create('active', key, parent, options);
  }

  view(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create('view', key, parent, options);
  }

  async commit(name: string, key: string, options: SnapshotOptions = {}): Promise<void> {
    if (name === '') throw invalidArgument('snapshot name is empty; pass a non-empty name');
    const before = this.#get(await readMetadata(this.root), key);
    if (before.kind !== 'active') {
      throw failedPrecondition(
        `snapshot "${key}" is ${before.kind === 'view' ? 'a view' : 'already committed'}; only active snapshots can be committed`,
        { details: { key, kind: before.kind } },
      );
    }
    const usage = await diskUsage(this.#dirs(before.id).fs, options.signal);
    await withMetadataLock(this.root, (metadata) => {
      const record = this.#get(metadata, key);
      if (record.kind !== 'active' || record.id !== before.id) {
        throw failedPrecondition(`snapshot "${key}" changed while it was being committed; retry`, {
          details: { key },
        });
      }
      if (metadata.snapshots[name]) {
        throw alreadyExists(
          `cannot commit "${key}" as "${name}": a snapshot named "${name}" already exists`,
          { details: { key, name } },
        );
      }
      const snapshots = without(metadata.snapshots, key);
      snapshots[name] = {
        ...record,
        kind: 'committed',
        labels: { ...record.labels, ...options.labels },
        updated: new Date().toISOString(),
        usage,
      };
      return Promise.resolve({ result: undefined, write: { ...metadata, snapshots } });
    });
  }

  async remove(key: string): Promise<void> {
    const id = await withMetadataLock(this.root, async (metadata) => {
      const record = this.#get(metadata, key);
      const children = Object.entries(metadata.snapshots)
        .filter(([, r]) => r.parent === key)
        .map(([k]) => k);
      if (children.length > 0) {
        throw failedPrecondition(
          `cannot remove snapshot "${key}": it is the parent of ${children.map((c) => `"${c}"`).join(', ')}; remove those first`,
          { details: { key, children } },
        );
      }
      const dirs = this.#dirs(record.id);
      const doomed = this.#dirs(`rm-${record.id}`).dir;
      await rename(dirs.dir, doomed);
      const snapshots = without(metadata.snapshots, key);
      try {
        await writeMetadata(this.root, { ...metadata, snapshots });
      } catch (err) {
        await rename(doomed, dirs.dir);
        throw err;
      }
      return { result: record.id };
    });
    await rm(this.#dirs(`rm-${id}`).dir, { recursive: true, force: true });
  }

  async mounts(key: string): Promise<Mount[]> {
    const metadata = await readMetadata(this.root);
    const record = this.#get(metadata, key);
    if (record.kind === 'committed') {
      throw failedPrecondition(
        `snapshot "${key}" is committed and has no mounts; create a view of it (view(key, "${key}")) to read it`,
        { details: { key } },
      );
    }
    const parents = record.parent === undefined ? [] : this.#chain(metadata, record.parent);
    return this.#driver.mounts(this.#dirs(record.id), record.kind, parents);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(key, this.#get(await readMetadata(this.root), key));
  }

  async update(name: string, labels: Record<string, string>): Promise<SnapshotInfo> {
    return withMetadataLock(this.root, (metadata) => {
      const record: SnapshotRecord = {
        ...this.#get(metadata, name),
        labels: { ...labels },
        updated: new Date().toISOString(),
      };
      return Promise.resolve({
        result: toInfo(name, record),
        write: { ...metadata, snapshots: { ...metadata.snapshots, [name]: record } },
      });
    });
  }

  async walk(
    fn: (info: SnapshotInfo) => void | Promise<void>,
    filter?: (info: SnapshotInfo) => boolean,
  ): Promise<void> {
    const metadata = await readMetadata(this.root);
    for (const name of Object.keys(metadata.snapshots).sort()) {
      const info = toInfo(name, metadata.snapshots[name]!);
      if (filter && !filter(info)) continue;
      await fn(info);
    }
  }

  async usage(key: string): Promise<SnapshotUsage> {
    const record = this.#get(await readMetadata(this.root), key);
    if (record.usage) return { ...record.usage };
    return diskUsage(this.#dirs(record.id).fs);
  }

  async writableDir(key: string): Promise<string> {
    const record = this.#get(await readMetadata(this.root), key);
    if (record.kind !== 'active') {
      throw failedPrecondition(`snapshot "${key}" is ${record.kind}, not active; it is read-only`, {
        details: { key, kind: record.kind },
      });
    }
    return this.#dirs(record.id).fs;
  }

  async layerDir(name: string): Promise<string> {
    const record = this.#get(await readMetadata(this.root), name);
    if (record.kind !== 'committed') {
      throw failedPrecondition(`snapshot "${name}" is ${record.kind}, not committed`, {
        details: { name, kind: record.kind },
      });
    }
    return this.#dirs(record.id).fs;
  }

  async layerStack(name: string): Promise<string[]> {
    const metadata = await readMetadata(this.root);
    this.#checkParent(metadata, name);
    return this.#chain(metadata, name).reverse();
  }

  /** Removes what a crash left behind; runs under the lock. */
  async cleanup(): Promise<void> {
    await withMetadataLock(this.root, async (metadata) => {
      const ids = new Set(Object.values(metadata.snapshots).map((r) => r.id));
      for (const entry of await readdir(this.#dir)) {
        const full = path.join(this.#dir, entry);
        const pending = /^new-(\d+)-/.exec(entry);
        if (pending) {
          if (!processAlive(Number(pending[1]))) {
            await rm(full, { recursive: true, force: true });
          }
        } else if (entry.startsWith('rm-')) {
          const id = entry.slice(3);
          if (ids.has(id) && !(await exists(this.#dirs(id).dir))) {
            // The removal never reached metadata.json: roll it back.
            await rename(full, this.#dirs(id).dir);
          } else {
            await rm(full, { recursive: true, force: true });
          }
        } else if (!ids.has(entry)) {
          // Renamed into place but never recorded: the prepare did not happen.
          await rm(full, { recursive: true, force: true });
        }
      }
      return { result: undefined };
    });
  }
}

function without<T>(records: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(records).filter(([k]) => k !== key));
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsStat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Opens (creating if needed) a snapshotter at `root` with `driver`, cleaning crash leftovers. */
export async function openSnapshotterAt(
  root: string,
  driver: SnapshotDriver,
): Promise<Snapshotter> {
  await mkdir(path.join(root, 'snapshots'), { recursive: true, mode: 0o700 });
  const snapshotter = new DirectorySnapshotter(root, driver);
  await snapshotter.cleanup();
  return snapshotter;
}
