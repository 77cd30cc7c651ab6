/**
 * The container store: `<root>/containers/<id>/{config.json,state.json}`. Creation builds the
 * directory as `.new-<pid>-<id>` and renames it into place under the name lock, so a name is
 * taken exactly when its container exists; removal marks the state `removing` first and
 * renames the directory to `.rm-<id>` last, so any later command can finish a removal a crash
 * interrupted ({@link sweepLeftovers}).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalidArgument, notFound } from '@lab/oci';
import { writeFileAtomic } from '../bundle/atomic-write.js';
import { isSameProcessAlive, processStat } from '../runtime/process-info.js';
import { withFileLock } from './lock.js';
import type { Container, ContainerConfig, ContainerState } from './types.js';

const ID = /^[a-f0-9]{64}$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `<root>/containers`. */
export function containersDir(root: string): string {
  return join(root, 'containers');
}

/** `<root>/containers/<id>`. */
export function containerPath(root: string, id: string): string {
  return join(containersDir(root), id);
}

/** A new container id: 64 lowercase hex digits, as docker's. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** Throws invalid-argument unless `name` is a valid container name (a leading `/` is allowed). */
export function checkContainerName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(bare)) {
    throw invalidArgument(
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      { details: { name } },
    );
  }
  return bare;
}

const ADJECTIVES = [
  'brave',
  'calm',
  'eager',
  'fond',
  'keen',
  'lucid',
  'merry',
  'quiet',
  'sharp',
  'tender',
  'vivid',
  'witty',
];
const NOUNS = [
  'curie',
  'darwin',
  'euler',
  'fermi',
  'galois',
  'hopper',
  'knuth',
  'lovelace',
  'noether',
  'ritchie',
  'turing',
  'wirth',
];

/** docker-style generated name `adjective_scientist` (with a number when taken). */
export function generateName(taken: ReadonlySet<string>): string {
  for (let i = 0; ; i++) {
    const a = ADJECTIVES[randomBytes(1)[0]! % ADJECTIVES.length]!;
    const n = NOUNS[randomBytes(1)[0]! % NOUNS.length]!;
    const name = i < 10 ? `${a}_${n}` : `${a}_${n}${i}`;
    if (!taken.has(name)) return name;
  }
}

/** The lock of one container. */
export function containerLock(root: string, id: string): string {
  return join(containersDir(root), `.lock-${id}`);
}

function namesLock(root: string): string {
  return join(containersDir(root), '.names.lock');
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** Reads one container by its full id; not-found when it does not exist. */
export async function readContainer(root: string, id: string): Promise<Container> {
  const dir = containerPath(root, id);
  try {
    const config = await readJson<ContainerConfig>(join(dir, 'config.json'));
    const state = await readJson<ContainerState>(join(dir, 'state.json'));
    return { id, name: config.Name.slice(1), dir, config, state };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw notFound(`No such container: ${id}`, { details: { container: id } });
    }
    throw err;
  }
}

/** Every container, oldest first. */
export async function listContainers(root: string): Promise<Container[]> {
  let names: string[];
  try {
    names = await readdir(containersDir(root));
  } catch {
    return [];
  }
  const out: Container[] = [];
  for (const name of names) {
    if (!ID.test(name)) continue;
    try {
      out.push(await readContainer(root, name));
    } catch {
      // removed meanwhile
    }
  }
  return out.sort((a, b) => a.config.Created.localeCompare(b.config.Created));
}

/**
 * Finds a container by full id, name (with or without `/`) or unique id prefix, as docker
 * does (an exact name wins over an id prefix).
 */
export async function findContainer(root: string, ref: string): Promise<Container> {
  if (ID.test(ref)) {
    try {
      return await readContainer(root, ref);
    } catch {
      // fall through: may be a name
    }
  }
  const all = await listContainers(root);
  const bare = ref.startsWith('/') ? ref.slice(1) : ref;
  const byName = all.find((c) => c.name === bare);
  if (byName !== undefined) return byName;
  if (/^[a-f0-9]+$/.test(ref)) {
    const matches = all.filter((c) => c.id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw invalidArgument(
        `multiple IDs found with provided prefix: ${ref}; give more characters of the id`,
        { details: { container: ref } },
      );
    }
  }
  throw notFound(`No such container: ${ref}`, { details: { container: ref } });
}

/** Writes state.json atomically (temp + fsync + rename). */
export async function writeState(dir: string, state: ContainerState): Promise<void> {
  await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(state)}\n`, 0o600);
}

/**
 * Runs `fn` on the current state under the container's lock and persists what it returns
 * (unless it returns undefined). Returns the container as it is afterwards.
 */
export async function updateContainer(
  root: string,
  id: string,
  fn: (c: Container) => ContainerState | undefined | Promise<ContainerState | undefined>,
): Promise<Container> {
  return withFileLock(containerLock(root, id), async () => {
    const current = await readContainer(root, id);
    const next = await fn(current);
    if (next === undefined) return current;
    await writeState(current.dir, next);
    return { ...current, state: next };
  });
}

/** Runs `fn` under the container's lock (for operations that write the state themselves). */
export function withContainerLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(containerLock(root, id), fn);
}

/**
 * Adds a container (a `Name` of `/` gets a generated name): writes its files into a temporary directory and renames it into place
 * while holding the name lock; conflict when the name is taken (docker's message).
 * `prepare` runs under the lock before the rename (e.g. to create the snapshot); a failure
 * leaves nothing behind.
 */
export async function addContainer(
  root: string,
  config: ContainerConfig,
  state: ContainerState,
  prepare?: (tmpDir: string) => Promise<void>,
): Promise<Container> {
  const dir = containersDir(root);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  return withFileLock(namesLock(root), async () => {
    const existing = await listContainers(root);
    // `/` alone: no name given, generate one now that no other creator can take it
    if (config.Name === '/') config.Name = `/${generateName(new Set(existing.map((c) => c.name)))}`;
    const name = config.Name.slice(1);
    const clash = existing.find((c) => c.name === name);
    if (clash !== undefined) {
      throw conflict(
        `Conflict. The container name "/${name}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        { details: { name, container: clash.id } },
      );
    }
    const start = (await processStat(process.pid))?.startTime ?? 0;
    const tmp = join(dir, `.new-${process.pid}-${start}-${config.Id}`);
    await mkdir(tmp, { mode: 0o711 });
    try {
      await writeFileAtomic(
        join(tmp, 'config.json'),
        `${JSON.stringify(config, null, 2)}\n`,
        0o600,
      );
      await writeState(tmp, state);
      await prepare?.(tmp);
      await rename(tmp, containerPath(root, config.Id));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return { id: config.Id, name, dir: containerPath(root, config.Id), config, state };
  });
}

/** The names in use. */
export async function takenNames(root: string): Promise<Set<string>> {
  return new Set((await listContainers(root)).map((c) => c.name));
}

/** Moves a removed container's directory out of the way and deletes it. */
export async function deleteContainerDir(root: string, id: string): Promise<void> {
  const dir = containerPath(root, id);
  const trash = join(containersDir(root), `.rm-${id}`);
  try {
    await rename(dir, trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rm(trash, { recursive: true, force: true });
}

/**
 * Leftovers of crashed commands: `.new-<pid>-<start>-<id>` of dead creators and `.rm-<id>`
 * trash. Returns the ids whose creation died (their snapshots must go too).
 */
export async function sweepLeftovers(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(containersDir(root));
  } catch {
    return [];
  }
  const abandoned: string[] = [];
  for (const name of names) {
    const created = /^\.new-([0-9]+)-([0-9]+)-([a-f0-9]{64})$/.exec(name);
    if (created !== null) {
      if (await isSameProcessAlive(Number(created[1]), Number(created[2]))) continue;
      await rm(join(containersDir(root), name), { recursive: true, force: true });
      abandoned.push(created[3]!);
    } else if (/^\.rm-[a-f0-9]{64}$/.test(name)) {
      await rm(join(containersDir(root), name), { recursive: true, force: true });
    }
  }
  return abandoned;
}
