import { createHash } from 'node:crypto';
import { type Stats, createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { UnionEntry, UnionEntryType, UnionView } from '../union/union-view.js';

/**
 * One path of a tree, reduced to what must be identical between two ways of building the same
 * filesystem (kernel overlay mount, native copy, union view): not times, not inode numbers,
 * not directory sizes (they depend on the host filesystem), and hard links as the group of
 * visible paths sharing an inode rather than a link count.
 */
export interface TreeEntry {
  path: string;
  type: UnionEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Size of regular files and symlinks; 0 for the rest. */
  size: number;
  /** sha256 of a regular file's content. */
  sha256?: string;
  /** A symlink's target. */
  target?: string;
  /** Device number of character and block devices. */
  rdev?: number;
  /** For hard-linked non-directories: the first path (in listing order) of the group. */
  linkedTo?: string;
}

interface RawEntry {
  path: string;
  type: UnionEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  rdev: number;
  inode: string;
  read: () => Promise<{ sha256?: string; target?: string }>;
}

function typeOf(st: Stats): UnionEntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function hostReader(file: string, type: UnionEntryType): RawEntry['read'] {
  return async () => {
    if (type === 'file') return { sha256: await sha256(file) };
    if (type === 'symlink') return { target: await readlink(file) };
    return {};
  };
}

async function finish(raw: RawEntry[]): Promise<TreeEntry[]> {
  const groups = new Map<string, string[]>();
  for (const entry of raw) {
    if (entry.type === 'dir') continue;
    const group = groups.get(entry.inode) ?? [];
    group.push(entry.path);
    groups.set(entry.inode, group);
  }
  const out: TreeEntry[] = [];
  for (const entry of raw) {
    const group = entry.type === 'dir' ? undefined : groups.get(entry.inode);
    const extra = await entry.read();
    out.push({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.type === 'file' || entry.type === 'symlink' ? entry.size : 0,
      ...extra,
      ...(entry.type === 'char' || entry.type === 'block' ? { rdev: entry.rdev } : {}),
      ...(group && group.length > 1 ? { linkedTo: group[0]! } : {}),
    });
  }
  return out;
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Lists a directory on the host (a mount point, a layer…) as {@link TreeEntry}s, root `/` first. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const raw: RawEntry[] = [];
  const visit = async (viewPath: string): Promise<void> => {
    const file = path.join(root, viewPath);
    const st = await lstat(file);
    const type = typeOf(st);
    raw.push({
      path: viewPath,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      rdev: st.rdev,
      inode: `${st.dev}:${st.ino}`,
      read: hostReader(file, type),
    });
    if (type !== 'dir') return;
    for (const name of (await readdir(file)).sort(byBytes)) {
      await visit(viewPath === '/' ? `/${name}` : `${viewPath}/${name}`);
    }
  };
  await visit('/');
  return finish(raw);
}

/** Lists a union view as {@link TreeEntry}s, in the same order as {@link listTree}. */
export async function listUnionView(view: UnionView): Promise<TreeEntry[]> {
  const raw: RawEntry[] = [];
  for await (const entry of view.walk()) {
    raw.push({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.size,
      rdev: entry.rdev,
      inode: `${entry.dev}:${entry.ino}`,
      read: readerOf(view, entry),
    });
  }
  return finish(raw);
}

function readerOf(view: UnionView, entry: UnionEntry): RawEntry['read'] {
  return async () => {
    if (entry.type === 'file') {
      return {
        sha256: createHash('sha256')
          .update(await view.readFile(entry.path))
          .digest('hex'),
      };
    }
    if (entry.type === 'symlink') return { target: await view.readlink(entry.path) };
    return {};
  };
}
