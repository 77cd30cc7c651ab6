/**
 * The runtime's own bookkeeping: one directory per container under the runtime root
 * (`<root>/<id>/`), holding `state.json` (written temp + rename), the exit file the keeper
 * writes, the exec FIFO (builtin) and the pinned network namespace. This is private to the
 * runtime; callers use `Runtime.state`.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alreadyExists, invalidArgument, notFound } from '@lab/oci';
import { writeFileAtomic } from '../bundle/atomic-write.js';

/** What a runtime records about a container it created. */
export interface ContainerRecord {
  id: string;
  /** Absolute bundle directory. */
  bundle: string;
  /** Absolute host path of the root filesystem. */
  rootfs: string;
  /** Host pid of the container's init process. */
  pid: number;
  /** Its start time (/proc/<pid>/stat field 22), to detect pid reuse. */
  pidStartTime: number;
  /** Host pid of the keeper (parent of the init; writes the exit file). */
  keeperPid: number;
  keeperStartTime: number;
  /** The file the keeper writes the exit code to. */
  exitFile: string;
  /** The cgroup path (`linux.cgroupsPath`). */
  cgroupsPath: string;
  /** Pinned network namespace (bind mount of /proc/<pid>/ns/net), when the container has its own. */
  netns?: string;
  /** RFC 3339 creation time. */
  created: string;
  annotations?: Record<string, string>;
  /** The spec's process, kept so `exec` can default to its env/user/caps. */
  ociVersion: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Throws invalid-argument unless `id` is a valid container id. */
export function checkId(id: string): void {
  if (!ID.test(id)) {
    throw invalidArgument(
      `invalid container id "${id}": use 1–128 characters from [A-Za-z0-9_.-], starting with a letter or digit`,
      { details: { id } },
    );
  }
}

/** The container directory of `id`. */
export function containerDir(root: string, id: string): string {
  return join(root, id);
}

/** Creates the container directory; already-exists when the id is in use. */
export async function claimContainerDir(root: string, id: string): Promise<string> {
  checkId(id);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = containerDir(root, id);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw alreadyExists(
        `container "${id}" already exists in ${root}: delete it first or pick another id`,
        {
          details: { id },
        },
      );
    }
    throw err;
  }
  return dir;
}

/** Writes `state.json` atomically. */
export async function writeRecord(root: string, record: ContainerRecord): Promise<void> {
  await writeFileAtomic(
    join(containerDir(root, record.id), 'state.json'),
    `${JSON.stringify(record)}\n`,
    0o600,
  );
}

/** Reads `state.json`; not-found when the container does not exist (or is still being created). */
export async function readRecord(root: string, id: string): Promise<ContainerRecord> {
  checkId(id);
  try {
    return JSON.parse(
      await readFile(join(containerDir(root, id), 'state.json'), 'utf8'),
    ) as ContainerRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw notFound(`container "${id}" does not exist in ${root}`, { details: { id } });
    }
    throw err;
  }
}

/** The ids with a state file under `root`. */
export async function listIds(root: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const name of entries) {
    if (!ID.test(name)) continue;
    try {
      await readFile(join(root, name, 'state.json'));
      ids.push(name);
    } catch {
      // being created, or a leftover without state
    }
  }
  return ids.sort();
}

/** Removes the container directory. */
export async function removeContainerDir(root: string, id: string): Promise<void> {
  await rm(containerDir(root, id), { recursive: true, force: true });
}
