/**
 * Resolves a path inside a root filesystem the way the kernel would after `chroot(root)`:
 * symlinks are followed, but absolute targets and `..` never leave `root`. Used for mount
 * targets and the program lookup, which the builtin runtime computes on the host before the
 * container's root is pivoted (the classic symlink-escape bug of runtimes).
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '@lab/oci';

const MAX_SYMLINKS = 40;

function split(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/** The host path of `path` (a path inside the container) under `root`, symlinks resolved within `root`. */
export async function secureJoin(root: string, path: string): Promise<string> {
  const pending = split(path);
  const resolved: string[] = [];
  let links = 0;
  let missing = false;
  for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (missing) {
      resolved.push(part);
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch {
      missing = true;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw invalidArgument(
        `too many levels of symbolic links resolving ${path} in ${root}: fix the symlink loop in the image`,
        { details: { root, path } },
      );
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...split(target));
  }
  return join(root, ...resolved);
}
