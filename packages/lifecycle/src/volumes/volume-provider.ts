/**
 * Named and anonymous volumes for containers: the {@link VolumeProvider} the container layer
 * calls on each start (`mount`) and on `rm` (`release`).
 *
 * - `-v name:/dst` and `--mount type=volume,source=name` create the volume on first use;
 *   `-v /dst`, `--mount type=volume` without a source and the image's `VOLUME`s get an
 *   anonymous volume (64-hex name, label `com.docker.volume.anonymous`), kept for the
 *   container's lifetime: a restart mounts the same one.
 * - A new (empty) volume is filled from the image's content at the destination, preserving
 *   modes and owners (`cp -a`), as docker does unless the image has nothing there.
 * - What each container uses is recorded in `<root>/volumes/.refs/<container id>.json`
 *   (written atomically), which is how a later `rm -v` finds the anonymous volumes and how
 *   `volume rm` knows a volume is in use ({@link containerVolumeUsage}).
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageConfig } from '@lab/oci';
import { internal, isNotFound } from '@lab/oci';
import { writeFileAtomic } from '../bundle/atomic-write.js';
import { secureJoin } from '../bundle/secure-join.js';
import type { VolumeProvider } from '../containers/providers.js';
import { containerPath, listContainers } from '../containers/store.js';
import type { Container, MountPoint, VolumeRequest } from '../containers/types.js';
import type { VolumeStore, VolumeUsage } from './volume-store.js';
import { ANONYMOUS_LABEL, openVolumeStore } from './volume-store.js';

const run = promisify(execFile);

/** The record of the volumes one container uses. */
interface VolumeRefs {
  /** destination → volume name, for every volume mounted. */
  mounts: Record<string, string>;
  /** Names of the anonymous ones among them. */
  anonymous: string[];
}

function refsDir(root: string): string {
  return join(root, 'volumes', '.refs');
}

async function readRefs(root: string, id: string): Promise<VolumeRefs | undefined> {
  try {
    return JSON.parse(await readFile(join(refsDir(root), `${id}.json`), 'utf8')) as VolumeRefs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeRefs(root: string, id: string, refs: VolumeRefs): Promise<void> {
  await mkdir(refsDir(root), { recursive: true });
  await writeFileAtomic(join(refsDir(root), `${id}.json`), `${JSON.stringify(refs)}\n`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which containers of `root` use a volume: those whose recorded mounts name it (started
 * ones) and those whose configuration asks for it by name (created, never started). Records
 * of containers that no longer exist are ignored.
 */
export function containerVolumeUsage(root: string): VolumeUsage {
  return {
    async usedBy(name) {
      const users = new Set<string>();
      for (const file of await readdir(refsDir(root)).catch(() => [] as string[])) {
        if (!file.endsWith('.json')) continue;
        const id = file.slice(0, -'.json'.length);
        const refs = await readRefs(root, id).catch(() => undefined);
        if (refs === undefined || !Object.values(refs.mounts).includes(name)) continue;
        if (await exists(containerPath(root, id))) users.add(id);
      }
      for (const c of await listContainers(root)) {
        if (c.config.Volumes.some((v) => v.name === name)) users.add(c.id);
      }
      return [...users].sort();
    },
  };
}

/**
 * The anonymous volumes an image declares (`VOLUME /data`) that the user's mounts do not
 * cover already, as requests to add to the container's `Volumes` at create.
 */
export function imageVolumeRequests(
  image: ImageConfig,
  covered: readonly string[],
): VolumeRequest[] {
  const declared = Object.keys(image.config?.Volumes ?? {});
  const taken = new Set(covered.map((d) => d.replace(/\/+$/, '')));
  return declared
    .map((d) => d.replace(/\/+$/, '') || '/')
    .filter((d) => d !== '/' && !taken.has(d))
    .map((destination) => ({ name: '', destination, readonly: false }));
}

/**
 * Copies what the image has at `source` into an empty volume directory `target` (docker's
 * copy-up of a new volume), preserving modes, owners, times, links and xattrs. Does nothing
 * when the image has nothing there or the volume is not empty.
 */
export async function populateVolume(source: string, target: string): Promise<boolean> {
  let st;
  try {
    st = await lstat(source);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return false;
  if ((await readdir(target)).length > 0) return false;
  try {
    await run('cp', ['-a', '--', `${source}/.`, `${target}/`]);
  } catch (err) {
    throw internal(
      `cannot copy the image's ${source} into the volume at ${target}: ${String(err)}`,
      { cause: err },
    );
  }
  return true;
}

/** Options of {@link openVolumeProvider}. */
export interface VolumeProviderOptions {
  root: string;
  /** Default: the store of `root`, with {@link containerVolumeUsage}. */
  store?: VolumeStore;
}

/** lab's volume provider: a {@link VolumeProvider} plus its store and `inspect`'s volume mounts. */
export interface LabVolumeProvider extends VolumeProvider {
  store: VolumeStore;
  /** docker's `Mounts` entries of the volumes mounted into `container` (its last start). */
  points(container: Container): Promise<MountPoint[]>;
}

/** A {@link VolumeProvider} over the volume store of a lab root. */
export function openVolumeProvider(options: VolumeProviderOptions): LabVolumeProvider {
  const root = options.root;
  const store = options.store ?? openVolumeStore({ root, usage: containerVolumeUsage(root) });

  return {
    store,
    async mount(request: VolumeRequest, container: Container) {
      const refs = (await readRefs(root, container.id)) ?? { mounts: {}, anonymous: [] };
      let name = request.name;
      let fresh = false;
      if (name === '') {
        const known = refs.mounts[request.destination];
        if (known !== undefined && refs.anonymous.includes(known)) {
          name = known;
        } else {
          name = (await store.create(undefined, { labels: { [ANONYMOUS_LABEL]: '' } })).Name;
          refs.anonymous.push(name);
          fresh = true;
        }
      } else {
        try {
          await store.get(name);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          await store.create(name);
          fresh = true;
        }
      }
      refs.mounts[request.destination] = name;
      await writeRefs(root, container.id, refs);
      const source = store.mountpointFor(name);
      if (fresh || (await readdir(source)).length === 0) {
        // the container's rootfs is mounted at <dir>/rootfs before volumes are asked for
        const inImage = await secureJoin(join(container.dir, 'rootfs'), request.destination);
        await populateVolume(inImage, source);
      }
      const point: MountPoint = {
        Type: 'volume',
        Name: name,
        Source: source,
        Destination: request.destination,
        Mode: 'z',
        RW: !request.readonly,
        Propagation: '',
      };
      return { source, point };
    },

    async points(container: Container): Promise<MountPoint[]> {
      const refs = await readRefs(root, container.id);
      const readonly = new Map(container.config.Volumes.map((v) => [v.destination, v.readonly]));
      return Object.entries(refs?.mounts ?? {}).map(([destination, name]) => ({
        Type: 'volume',
        Name: name,
        Source: store.mountpointFor(name),
        Destination: destination,
        Mode: 'z',
        RW: readonly.get(destination) !== true,
        Propagation: '',
      }));
    },

    async release(container: Container, removeAnonymous: boolean) {
      const refs = await readRefs(root, container.id);
      await rm(join(refsDir(root), `${container.id}.json`), { force: true });
      if (refs === undefined || !removeAnonymous) return;
      for (const name of refs.anonymous) {
        // another container may have been given it with --volumes-from: then it stays
        await store.remove(name, { force: true }).catch((err: unknown) => {
          if (!isNotFound(err) && !(err instanceof Error && /in use/.test(err.message))) throw err;
        });
      }
    },
  };
}
