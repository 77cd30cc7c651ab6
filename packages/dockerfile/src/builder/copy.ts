/**
 * COPY and ADD into a mounted rootfs (BuildKit's file op, fsutil `copy`): a directory source
 * copies its contents (merged into existing directories), a file goes into the destination
 * when that ends in `/` or is a directory, else it is written as the destination; top-level
 * symlinks are followed, nested ones copied as links; missing parents are created 0755 (owned
 * by `--chown`); owners default to 0:0 for the context and are kept from other stages;
 * `--chmod` applies to everything copied; ADD extracts local tar archives (plain, gzip, bzip2,
 * xz, zstd — detected by content) with GNU tar.
 */
import { execFile } from 'node:child_process';
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
} from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { failedPrecondition, invalidArgument } from '@lab/oci';
import type { SourceTree } from './source-tree.js';
import type { ModeChange, Owner } from './users.js';

const run = promisify(execFile);

/** One thing to copy: a path of a source tree. */
export interface CopyItem {
  readonly tree: SourceTree;
  /** Relative path in the tree ('' = its root). */
  readonly rel: string;
  /** `--parents`: the part of `rel` kept under the destination (default: its base name). */
  readonly keep?: string;
}

/** How to copy. */
export interface CopySettings {
  /** `--chown`; default: 0:0 for the context, kept for stages and images. */
  readonly owner?: Owner;
  /** Whether source owners are kept (stages/images) or reset to 0:0 (context, URLs). */
  readonly keepOwner: boolean;
  readonly chmod?: ModeChange;
  /** Paths (relative to the copied source) that `--exclude` drops. */
  readonly exclude?: (rel: string) => boolean;
  /** ADD: extract local archives. */
  readonly unpack: boolean;
}

/**
 * Resolves `p` (absolute, container view) inside `rootfs`, following symlinks as the
 * container would see them, never leaving the rootfs. Missing tail components are kept.
 */
export async function resolveInRoot(rootfs: string, p: string): Promise<string> {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      out.pop();
      continue;
    }
    const candidate = path.join(rootfs, ...out, part);
    let st;
    try {
      st = await lstat(candidate);
    } catch {
      out.push(part, ...parts);
      break;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 255) throw invalidArgument(`too many levels of symbolic links in ${p}`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) out.length = 0;
      parts.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
      continue;
    }
    out.push(part);
  }
  return path.join(rootfs, ...out);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** `mkdir -p` that gives every directory it creates mode 0755 and `owner`. */
export async function mkdirOwned(dir: string, owner?: Owner): Promise<void> {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    try {
      const st = await stat(cur);
      if (!st.isDirectory()) {
        throw failedPrecondition(`cannot create directory ${cur}: a file is in the way`);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.unshift(cur);
      cur = path.dirname(cur);
    }
  }
  for (const d of missing) {
    await mkdir(d, { mode: 0o755 });
    await chmod(d, 0o755);
    if (owner !== undefined) await lchown(d, owner.uid, owner.gid);
  }
}

async function applyMeta(
  target: string,
  st: { uid: number; gid: number; mode: number; atime: Date; mtime: Date },
  settings: CopySettings,
  kind: 'file' | 'dir' | 'symlink',
): Promise<void> {
  const owner = settings.owner ?? (settings.keepOwner ? st : { uid: 0, gid: 0 });
  await lchown(target, owner.uid, owner.gid);
  if (kind === 'symlink') {
    await lutimes(target, st.atime, st.mtime);
    return;
  }
  const mode =
    settings.chmod === undefined ? st.mode & 0o7777 : settings.chmod(st.mode, kind === 'dir');
  await chmod(target, mode);
  await utimes(target, st.atime, st.mtime);
}

async function copyEntry(
  src: string,
  target: string,
  rel: string,
  tree: SourceTree,
  treeRel: string,
  settings: CopySettings,
  follow: boolean,
  onlyForContents = false,
  contentsOnly = false,
): Promise<void> {
  const st = follow ? await stat(src) : await lstat(src);
  if (st.isDirectory() && contentsOnly) {
    // a directory source copies its contents; the destination keeps (or gets 0755 and
    // `--chown`) its own metadata, as BuildKit's CopyDirContentsOnly
    await mkdirOwned(target, settings.owner);
  }
  if (st.isDirectory()) {
    let existing;
    try {
      existing = await lstat(target);
    } catch {
      existing = undefined;
    }
    if (existing !== undefined && !existing.isDirectory()) await rm(target, { force: true });
    if (existing === undefined || !existing.isDirectory()) await mkdir(target);
    for (const name of (await readdir(src)).sort()) {
      const childTree = treeRel === '' ? name : `${treeRel}/${name}`;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (settings.exclude?.(childRel) === true) continue;
      const included = tree.include(childTree);
      if (
        !included &&
        !(tree.reincludes === true && (await lstat(path.join(src, name))).isDirectory())
      ) {
        continue;
      }
      await copyEntry(
        path.join(src, name),
        path.join(target, name),
        childRel,
        tree,
        childTree,
        settings,
        false,
        !included,
      );
    }
    if (onlyForContents && existing === undefined && (await readdir(target)).length === 0) {
      // an excluded directory that brought nothing along
      await rm(target, { recursive: true });
      return;
    }
    if (!contentsOnly) await applyMeta(target, st, settings, 'dir');
    return;
  }
  try {
    const existing = await lstat(target);
    if (existing.isDirectory()) await rm(target, { recursive: true, force: true });
    else await rm(target, { force: true });
  } catch {
    // nothing there
  }
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), target);
    await applyMeta(target, st, settings, 'symlink');
    return;
  }
  if (!st.isFile()) {
    throw invalidArgument(`cannot copy ${src}: only files, directories and symlinks are copied`);
  }
  await copyFile(src, target);
  await applyMeta(target, st, settings, 'file');
}

const MAGIC: readonly (readonly number[])[] = [
  [0x1f, 0x8b],
  [0x42, 0x5a, 0x68],
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  [0x28, 0xb5, 0x2f, 0xfd],
];

/** Whether `file` is a tar archive, plain or compressed (detected by content, as BuildKit). */
export async function isArchive(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (MAGIC.some((m) => bytesRead >= m.length && m.every((b, i) => buf[i] === b))) return true;
    return bytesRead >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/**
 * Copies `items` to `dest` (absolute, container view; a trailing `/` means a directory) in the
 * mounted `rootfs`.
 */
export async function copyInto(
  rootfs: string,
  dest: string,
  items: readonly CopyItem[],
  settings: CopySettings,
): Promise<void> {
  const destIsDirSyntax = dest.endsWith('/') || dest.endsWith('/.') || items.length > 1;
  const destHost = await resolveInRoot(rootfs, dest);
  const destIsDir = destIsDirSyntax || (await isDir(destHost));
  for (const item of items) {
    // a top-level symlink is followed inside the tree, never out of it
    const src = await resolveInRoot(item.tree.root, `/${item.rel}`);
    const st = await stat(src);
    const keep = item.keep;
    if (st.isDirectory()) {
      const target = keep === undefined || keep === '' ? destHost : path.join(destHost, keep);
      await mkdirOwned(path.dirname(target), settings.owner);
      await copyEntry(src, target, '', item.tree, item.rel, settings, true, false, true);
      continue;
    }
    if (settings.unpack && (await isArchive(src))) {
      await mkdirOwned(destHost, settings.owner);
      await run('tar', ['-x', '-f', src, '-C', destHost, '--same-owner', '-p']);
      continue;
    }
    const name = keep ?? path.posix.basename(item.rel);
    const target = destIsDir ? path.join(destHost, name) : destHost;
    await mkdirOwned(path.dirname(target), settings.owner);
    await copyEntry(src, target, '', item.tree, item.rel, settings, true);
  }
}
