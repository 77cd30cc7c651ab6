/**
 * docker's `local` volume driver: a volume is a directory `<root>/volumes/<name>/_data` with
 * its metadata in `<root>/volumes/<name>/volume.json` (CreatedAt, Driver, Labels, Options),
 * written atomically. A volume is created by writing the metadata into a temp directory and
 * renaming it into place, so a crash never leaves a half-made volume under its name; removal
 * renames the volume out of the way first, then deletes it.
 *
 * Whether a volume is in use is asked of a {@link VolumeUsage} (the containers of the same
 * root: see `usage.ts`), so `remove` refuses a volume a container holds, as docker does.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, internal, invalidArgument, isNotFound, notFound } from '@lab/oci';
import { writeFileAtomic } from '../bundle/atomic-write.js';

/** docker's label on volumes made for `-v /path` or an image's `VOLUME`. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** What `volume inspect` prints for a volume. */
export interface Volume {
  /** RFC 3339, seconds. */
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/** Options of {@link VolumeStore.create}. */
export interface CreateVolumeOptions {
  labels?: Record<string, string>;
  /** `--driver`: only `local`. */
  driver?: string;
  /** `--opt`: the local driver's mount options are not supported; kept for inspect. */
  options?: Record<string, string>;
}

/** Which containers use which volumes. */
export interface VolumeUsage {
  /** The ids of the containers that use volume `name`. */
  usedBy(name: string): Promise<string[]>;
}

/** `volume ls` filters (docker's `-f`). */
export interface VolumeFilters {
  dangling?: boolean;
  /** Substring of the name (docker's `name=`). */
  name?: string[];
  /** `key` or `key=value`. */
  label?: string[];
  driver?: string;
}

/** The volumes of a lab root. */
export interface VolumeStore {
  readonly dir: string;
  /** Creates a volume (a random 64-hex name when `name` is undefined); an existing one is returned as it is. */
  create(name?: string, options?: CreateVolumeOptions): Promise<Volume>;
  /** not-found (`get NAME: no such volume`) when missing. */
  get(name: string): Promise<Volume>;
  list(filters?: VolumeFilters): Promise<Volume[]>;
  /**
   * Removes a volume: conflict (`volume is in use - [ids]`) while a container uses it,
   * not-found when missing unless `force`.
   */
  remove(name: string, options?: { force?: boolean }): Promise<void>;
  /** Removes unused volumes (anonymous ones only, unless `all`); returns names and bytes freed. */
  prune(options?: {
    all?: boolean;
    labels?: string[];
  }): Promise<{ removed: string[]; reclaimedBytes: number }>;
  /** The host directory a volume's data lives in (whether or not it exists). */
  mountpointFor(name: string): string;
  /** The container ids using `name`. */
  usedBy(name: string): Promise<string[]>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's check of a local volume name. */
export function checkVolumeName(name: string): string {
  if (!NAME.test(name)) {
    throw invalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      { details: { name } },
    );
  }
  return name;
}

interface VolumeMeta {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Options: Record<string, string> | null;
}

function nowSeconds(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await duBytes(p);
    else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Opens the volume store of `root` (`<root>/volumes`). */
export function openVolumeStore(options: { root: string; usage?: VolumeUsage }): VolumeStore {
  const dir = join(options.root, 'volumes');
  const usage = options.usage;
  const mountpointFor = (name: string) => join(dir, name, '_data');

  async function read(name: string): Promise<Volume> {
    if (!NAME.test(name)) throw notFound(`get ${name}: no such volume`, { details: { name } });
    let text: string;
    try {
      text = await readFile(join(dir, name, 'volume.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw notFound(`get ${name}: no such volume`, { details: { name } });
      }
      throw err;
    }
    let meta: VolumeMeta;
    try {
      meta = JSON.parse(text) as VolumeMeta;
    } catch (err) {
      throw internal(
        `${join(dir, name, 'volume.json')} is not valid JSON: remove the volume with lab volume rm -f ${name}`,
        {
          cause: err,
        },
      );
    }
    return {
      CreatedAt: meta.CreatedAt,
      Driver: 'local',
      Labels: meta.Labels,
      Mountpoint: mountpointFor(name),
      Name: name,
      Options: meta.Options,
      Scope: 'local',
    };
  }

  async function usedBy(name: string): Promise<string[]> {
    return usage === undefined ? [] : usage.usedBy(name);
  }

  async function create(name?: string, o: CreateVolumeOptions = {}): Promise<Volume> {
    const driver = o.driver ?? 'local';
    if (driver !== 'local') {
      throw notFound(
        `create ${name ?? ''}: error looking up volume plugin ${driver}: plugin "${driver}" not found`,
      );
    }
    const volumeName =
      name === undefined || name === '' ? randomBytes(32).toString('hex') : checkVolumeName(name);
    try {
      return await read(volumeName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.create-${volumeName}-${randomBytes(4).toString('hex')}`);
    await mkdir(join(tmp, '_data'), { recursive: true, mode: 0o755 });
    const meta: VolumeMeta = {
      CreatedAt: nowSeconds(),
      Driver: 'local',
      Labels: o.labels ?? {},
      Options: o.options === undefined || Object.keys(o.options).length === 0 ? null : o.options,
    };
    await writeFileAtomic(join(tmp, 'volume.json'), `${JSON.stringify(meta, null, 2)}\n`);
    try {
      await rename(tmp, join(dir, volumeName));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      // a concurrent create of the same name won: return its volume
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return read(volumeName);
      throw err;
    }
    return read(volumeName);
  }

  async function list(filters: VolumeFilters = {}): Promise<Volume[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Volume[] = [];
    for (const n of names) {
      let v: Volume;
      try {
        v = await read(n);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
      if (filters.name !== undefined && !filters.name.some((s) => n.includes(s))) continue;
      if (filters.driver !== undefined && filters.driver !== v.Driver) continue;
      if (filters.label !== undefined && !filters.label.every((l) => labelMatches(v.Labels, l)))
        continue;
      if (filters.dangling !== undefined && ((await usedBy(n)).length === 0) !== filters.dangling)
        continue;
      out.push(v);
    }
    return out;
  }

  async function removeUnchecked(name: string): Promise<void> {
    const trash = join(dir, `.remove-${name}-${randomBytes(4).toString('hex')}`);
    await rename(join(dir, name), trash);
    await rm(trash, { recursive: true, force: true });
  }

  async function remove(name: string, o: { force?: boolean } = {}): Promise<void> {
    try {
      await read(name);
    } catch (err) {
      if (isNotFound(err) && o.force === true) return;
      throw err;
    }
    const users = await usedBy(name);
    if (users.length > 0) {
      throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`, {
        details: { name, users },
      });
    }
    await removeUnchecked(name);
  }

  async function prune(o: { all?: boolean; labels?: string[] } = {}) {
    const removed: string[] = [];
    let reclaimedBytes = 0;
    for (const v of await list({ dangling: true })) {
      if (o.all !== true && !(ANONYMOUS_LABEL in v.Labels)) continue;
      if (o.labels !== undefined && !o.labels.every((l) => labelMatches(v.Labels, l))) continue;
      const size = await duBytes(v.Mountpoint);
      await removeUnchecked(v.Name);
      removed.push(v.Name);
      reclaimedBytes += size;
    }
    // leftovers of interrupted creates and removes (old enough not to be in progress)
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (!n.startsWith('.create-') && !n.startsWith('.remove-')) continue;
      const st = await lstat(join(dir, n)).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs > 60_000)
        await rm(join(dir, n), { recursive: true, force: true });
    }
    return { removed, reclaimedBytes };
  }

  return { dir, create, get: read, list, remove, prune, mountpointFor, usedBy };
}

/** `key` or `key=value` against a label set (docker's `label=` filter). */
export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
