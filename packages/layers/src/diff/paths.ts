/**
 * Layer path handling: normalising entry names and resolving paths inside a root directory
 * without ever leaving it (symlinks are followed as if the root were `/`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '@lab/oci';

/**
 * The clean relative form of a tar entry name: leading `/` and `./` removed, `.` and `..`
 * resolved. Returns '' for the root itself. A name that climbs above the root (`../x`,
 * `a/../../x`) is rejected with invalid-argument naming it, as Docker does.
 */
export function cleanEntryName(name: string, linkOf?: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) {
        const what =
          linkOf === undefined
            ? `layer entry "${name}"`
            : `layer entry "${linkOf}" links to "${name}", which`;
        throw invalidArgument(
          `${what} points outside the layer root (".." above the root); the layer is malicious or corrupt and was not applied`,
          { details: { entry: linkOf ?? name } },
        );
      }
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

const MAX_SYMLINK_HOPS = 255;

/**
 * Resolves directories of a layer root, creating missing ones (mode 0755, as containerd does),
 * following symlinks but clamped to the root: an absolute target is taken relative to the root,
 * `..` stops at the root. Results are cached; call `invalidate()` after removing or replacing a
 * directory or symlink.
 */
export class RootResolver {
  readonly root: string;
  readonly #cache = new Map<string, string>();

  constructor(root: string) {
    this.root = root;
    this.#cache.set('', root);
  }

  invalidate(): void {
    this.#cache.clear();
    this.#cache.set('', this.root);
  }

  /** Records that `rel` is a real directory at `abs` (just created or checked). */
  remember(rel: string, abs: string): void {
    this.#cache.set(rel, abs);
  }

  /**
   * The absolute path of directory `rel` (clean, relative) inside the root. With `create`,
   * missing components are made; otherwise undefined is returned when one is missing.
   * `entry` names the tar entry in errors.
   */
  dir(rel: string, entry: string, create = true): string | undefined {
    const cached = this.#cache.get(rel);
    if (cached !== undefined) return cached;
    let pending = rel === '' ? [] : rel.split('/');
    let done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      done.push(part);
      const key = done.join('/');
      const hit = this.#cache.get(key);
      if (hit !== undefined) continue;
      const abs = path.join(this.root, key);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (st === undefined) {
        if (!create) return undefined;
        fs.mkdirSync(abs, 0o755);
        this.#cache.set(key, abs);
      } else if (st.isDirectory()) {
        this.#cache.set(key, abs);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw invalidArgument(
            `layer entry "${entry}": too many levels of symbolic links under "${key}"`,
            { details: { entry } },
          );
        }
        const target = fs.readlinkSync(abs);
        done.pop();
        if (target.startsWith('/')) done = [];
        pending = [...target.split('/'), ...pending];
      } else {
        throw invalidArgument(
          `layer entry "${entry}": "${key}" is not a directory in the target, so it cannot contain other entries; the layer does not fit onto its parent`,
          { details: { entry, path: key } },
        );
      }
    }
    const abs = done.length === 0 ? this.root : path.join(this.root, done.join('/'));
    this.#cache.set(rel, abs);
    return abs;
  }
}
