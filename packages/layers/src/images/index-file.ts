/**
 * `index.json` and `oci-layout` of the lab root: creation, reading, and read-modify-write
 * under the cross-process index lock with an atomic replace (temp + fsync + rename).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  canonicalJson,
  createImageLayout,
  createIndexJson,
  parseImageLayout,
  parseIndexJson,
  type Descriptor,
  type ImageIndex,
} from '@lab/oci';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withLock, type LockOptions } from '../fs/lock.js';
import { blobsDir, indexFile, indexLockPath, layoutFile } from '../content/layout.js';
import { bareTarget, entryImageName } from './names.js';

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Makes `root` an OCI image layout if it is not one yet (`oci-layout`, empty `index.json`,
 * `blobs/sha256/`), and checks the layout version if it is.
 */
export async function initLayout(root: string): Promise<void> {
  await mkdir(join(blobsDir(root), 'sha256'), { recursive: true });
  try {
    parseImageLayout(await readFile(layoutFile(root)), layoutFile(root));
  } catch (err) {
    if (!isEnoent(err)) throw err;
    await writeFileAtomic(layoutFile(root), canonicalJson(createImageLayout()));
  }
  const exists = async (): Promise<boolean> => {
    try {
      await stat(indexFile(root));
      return true;
    } catch (err) {
      if (!isEnoent(err)) throw err;
      return false;
    }
  };
  if (await exists()) return;
  await withLock(indexLockPath(root), async () => {
    if (!(await exists()))
      await writeFileAtomic(indexFile(root), canonicalJson(createIndexJson([])));
  });
}

/** Reads the layout's `index.json` (an empty index when the file does not exist). */
export async function readIndex(root: string): Promise<ImageIndex> {
  const file = indexFile(root);
  try {
    return parseIndexJson(await readFile(file), file);
  } catch (err) {
    if (isEnoent(err)) return createIndexJson([]);
    throw err;
  }
}

/**
 * Tidies the entries: a name belongs to its LAST entry (skopeo appends); an entry whose name
 * was taken elsewhere, and an unnamed entry, is kept as one unnamed (dangling) entry per
 * target unless a named entry already points at that target. Entries named in a way lab
 * cannot parse are kept as they are. Order of first appearance is kept.
 */
export function tidyEntries(entries: readonly Descriptor[]): Descriptor[] {
  const lastForName = new Map<string, number>();
  entries.forEach((entry, i) => {
    const name = entryImageName(entry);
    if (name !== undefined) lastForName.set(name, i);
  });
  const namedTargets = new Set<string>();
  for (const i of lastForName.values()) namedTargets.add(entries[i]!.digest);
  const out: Descriptor[] = [];
  const danglingSeen = new Set<string>();
  entries.forEach((entry, i) => {
    const name = entryImageName(entry);
    if (name !== undefined && lastForName.get(name) === i) {
      out.push(entry);
      return;
    }
    const hasRefName = entry.annotations?.['org.opencontainers.image.ref.name'];
    if (name === undefined && hasRefName !== undefined && hasRefName !== '') {
      out.push(entry); // a name lab cannot read: keep it verbatim
      return;
    }
    if (namedTargets.has(entry.digest) || danglingSeen.has(entry.digest)) return;
    danglingSeen.add(entry.digest);
    out.push(bareTarget(entry));
  });
  return out;
}

/** Runs `fn` holding the index lock (other lab processes wait). */
export function withIndexLock<T>(
  root: string,
  fn: () => Promise<T>,
  options?: LockOptions,
): Promise<T> {
  return withLock(indexLockPath(root), fn, options);
}

/**
 * Read-modify-write of `index.json` under the index lock: `fn` gets the current entries and
 * returns the new ones (tidied before writing) and a result. The file is replaced atomically,
 * and only when the entries changed.
 */
export async function updateIndex<T>(
  root: string,
  fn: (
    entries: Descriptor[],
  ) => Promise<{ entries: Descriptor[]; result: T }> | { entries: Descriptor[]; result: T },
  options?: LockOptions,
): Promise<T> {
  return withIndexLock(
    root,
    async () => {
      const index = await readIndex(root);
      const { entries, result } = await fn([...index.manifests]);
      const next: ImageIndex = { ...index, manifests: tidyEntries(entries) };
      if (canonicalJson(next) !== canonicalJson(index)) {
        await writeFileAtomic(indexFile(root), canonicalJson(next));
      }
      return result;
    },
    options,
  );
}
