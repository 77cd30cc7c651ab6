/**
 * A tree COPY/ADD reads from (the build context, a stage's or an image's rootfs): source paths
 * cleaned and clamped to its root, Go `filepath.Match` wildcards per path segment, and the
 * content hash that keys the cache (content, mode, type, size, link target — never mtime,
 * like BuildKit's `cache/contenthash`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArgument, notFound } from '@lab/oci';
import { resolveInRoot } from './copy.js';

/** A directory on the host that sources are read from. */
export interface SourceTree {
  /** Absolute host path of the tree's root. */
  readonly root: string;
  /** What the tree is, for messages (`build context`, `stage builder`). */
  readonly label: string;
  /** Whether a relative path exists for the build (the `.dockerignore` filter). */
  readonly include: (relativePath: string) => boolean;
  /**
   * Whether an excluded directory may still hold included paths (ignore patterns with `!`
   * exceptions): such directories are walked, and kept only for what they bring along.
   */
  readonly reincludes?: boolean;
}

/** `../x`, `/x/`, `./x` → `x`; the root itself is `''`. */
export function cleanSourcePath(p: string): string {
  const clean = path.posix.normalize(`/${p}`);
  return clean === '/' ? '' : clean.slice(1).replace(/\/$/, '');
}

function hasMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** Go `filepath.Match` for one segment, as a regular expression. */
export function segmentRegex(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRegex(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalidArgument(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += cls.startsWith('!') ? `[^${escapeClass(cls.slice(1))}]` : `[${escapeClass(cls)}]`;
      i = end;
    } else re += escapeRegex(c);
  }
  return new RegExp(`${re}$`, 's');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClass(s: string): string {
  return s.replace(/[\]\\^]/g, '\\$&');
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The relative paths a COPY/ADD source names in `tree`: the cleaned path itself, or every
 * match of its wildcards (sorted). A missing plain path is not-found; a wildcard that matches
 * nothing gives `[]` (BuildKit's AllowEmptyWildcard).
 */
export async function matchSources(tree: SourceTree, source: string): Promise<string[]> {
  const clean = cleanSourcePath(source);
  if (!hasMeta(clean)) {
    if (clean !== '' && (!tree.include(clean) || !(await exists(path.join(tree.root, clean))))) {
      throw notFound(
        `failed to compute cache key: "/${clean}": not found in the ${tree.label}; check the path (and .dockerignore)`,
        { details: { source } },
      );
    }
    return [clean];
  }
  let current = [''];
  for (const segment of clean.split('/')) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasMeta(segment)) {
        const candidate = dir === '' ? segment : `${dir}/${segment}`;
        if (await exists(path.join(tree.root, candidate))) next.push(candidate);
        continue;
      }
      const re = segmentRegex(segment);
      let names: string[];
      try {
        names = await readdir(path.join(tree.root, dir));
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (re.test(name)) next.push(dir === '' ? name : `${dir}/${name}`);
      }
    }
    current = next;
  }
  return current.filter((p) => tree.include(p));
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Adds `rel` (and, for a directory, everything below it that the tree includes and `skip`
 * doesn't drop) to `hash`: path, type, permission bits, owner, size, content digest and link
 * target. mtimes are left out, so touching a file does not invalidate the cache.
 */
export async function hashSourcePath(
  tree: SourceTree,
  rel: string,
  hash: ReturnType<typeof createHash>,
  skip: (rel: string) => boolean = () => false,
  followTop = true,
  hashSelf = true,
): Promise<void> {
  const abs = followTop ? await resolveInRoot(tree.root, `/${rel}`) : path.join(tree.root, rel);
  const st = await lstat(abs);
  if (st.isSymbolicLink()) {
    hash.update(`${rel}\0l\0${st.mode & 0o7777}\0${st.uid}:${st.gid}\0${await readlink(abs)}\n`);
    return;
  }
  if (st.isDirectory()) {
    if (hashSelf) hash.update(`${rel}\0d\0${st.mode & 0o7777}\0${st.uid}:${st.gid}\n`);
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const child = rel === '' ? name : `${rel}/${name}`;
      if (skip(child)) continue;
      if (tree.include(child)) {
        await hashSourcePath(tree, child, hash, skip, false);
      } else if (tree.reincludes === true && (await lstat(path.join(abs, name))).isDirectory()) {
        await hashSourcePath(tree, child, hash, skip, false, false);
      }
    }
    return;
  }
  if (st.isFile()) {
    hash.update(
      `${rel}\0f\0${st.mode & 0o7777}\0${st.uid}:${st.gid}\0${st.size}\0${await hashFile(abs)}\n`,
    );
    return;
  }
  hash.update(`${rel}\0o\0${st.mode}\0${st.rdev}\n`);
}
