import { createReadStream as fsCreateReadStream, type Stats } from 'node:fs';
import {
  lstat,
  readFile as fsReadFile,
  readdir as fsReaddir,
  readlink as fsReadlink,
} from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound } from '@lab/oci';
import { type OverlayMarks, readOverlayMarks } from './overlay-xattrs.js';

/**
 * How the layer directories record deletions: `overlay` as overlayfs stores them (0/0
 * character devices or `trusted.overlay.whiteout` files, `trusted.overlay.opaque=y`
 * directories: the overlay snapshotter's layers); `merged` as a layer tar extracted as it is
 * (`tar -x`) does (`.wh.<name>` and `.wh..wh..opq` files). A native snapshotter's layer is a
 * whole tree already: open it alone, not stacked on its parents.
 */
export type UnionLayerFormat = 'overlay' | 'merged';

export interface UnionViewOptions {
  format: UnionLayerFormat;
}

export type UnionEntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** One path of the merged tree, with the attributes of the layer it comes from. */
export interface UnionEntry {
  /** Absolute path inside the view, `/` for the root. */
  path: string;
  type: UnionEntryType;
  /** Permission bits and setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  rdev: number;
  nlink: number;
  /** Host device and inode: equal pairs are hard links. */
  dev: number;
  ino: number;
  /** Index into the layers (bottom = 0) of the layer this entry comes from. */
  layer: number;
  /** The file on the host that holds this entry. */
  hostPath: string;
}

export interface UnionView {
  readonly layers: readonly string[];
  readonly format: UnionLayerFormat;
  /** The entry at `path`, its last component not followed; undefined when absent. */
  lookup(path: string): Promise<UnionEntry | undefined>;
  /** The entry at `path`, symlinks followed (within the view); throws not-found. */
  stat(path: string): Promise<UnionEntry>;
  /** Like {@link stat} without following a final symlink. */
  lstat(path: string): Promise<UnionEntry>;
  /** Names in a directory, sorted by bytes. */
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  createReadStream(path: string): Promise<Readable>;
  readlink(path: string): Promise<string>;
  /** Every entry, root first, each directory followed by its children in name order. */
  walk(): AsyncGenerator<UnionEntry>;
}

const MAX_SYMLINK_HOPS = 40;
const OPAQUE_MARKER = '.wh..wh..opq';
const WHITEOUT_PREFIX = '.wh.';

function typeOf(st: Stats): UnionEntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** A resolved directory: the layers that contribute to it, topmost first. */
interface Dir {
  entry: UnionEntry;
  layers: number[];
}

/** What a name in a directory turns out to be. */
type Child = { kind: 'absent' } | { kind: 'entry'; entry: UnionEntry; layers: number[] };

function joinView(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

class LayerUnion implements UnionView {
  readonly layers: readonly string[];
  readonly format: UnionLayerFormat;
  readonly #marks: readonly OverlayMarks[];
  readonly #dirs = new Map<string, Dir>();
  /** Names in a layer's directory, keyed `<layer>\0<view path>`, filled by readdir and walk. */
  readonly #listings = new Map<string, Set<string>>();

  constructor(layers: readonly string[], format: UnionLayerFormat, marks: readonly OverlayMarks[]) {
    this.layers = layers;
    this.format = format;
    this.#marks = marks;
  }

  #host(layer: number, viewPath: string): string {
    return path.join(this.layers[layer]!, viewPath);
  }

  #entry(viewPath: string, layer: number, st: Stats): UnionEntry {
    return {
      path: viewPath,
      type: typeOf(st),
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      mtime: st.mtime,
      rdev: st.rdev,
      nlink: st.nlink,
      dev: st.dev,
      ino: st.ino,
      layer,
      hostPath: this.#host(layer, viewPath),
    };
  }

  #relative(viewPath: string): string {
    return viewPath.slice(1);
  }

  /** Is this existing file a whiteout of the overlay format? */
  #isOverlayWhiteout(layer: number, viewPath: string, st: Stats): boolean {
    if (st.isCharacterDevice() && st.rdev === 0) return true;
    return st.isFile() && this.#marks[layer]!.whiteouts.has(this.#relative(viewPath));
  }

  /** Does this directory of `layer` hide the directories of lower layers? */
  async #isOpaque(layer: number, viewPath: string): Promise<boolean> {
    if (this.format === 'overlay') return this.#marks[layer]!.opaque.has(this.#relative(viewPath));
    if (await lstatOrUndefined(path.join(this.#host(layer, viewPath), OPAQUE_MARKER))) return true;
    if (viewPath === '/') return false;
    // A whiteout next to an entry of the same layer: lower layers are hidden, the entry stays.
    const parent = path.posix.dirname(viewPath);
    const whiteout = path.join(
      this.#host(layer, parent),
      WHITEOUT_PREFIX + path.posix.basename(viewPath),
    );
    return (await lstatOrUndefined(whiteout)) !== undefined;
  }

  async #root(): Promise<Dir> {
    const cached = this.#dirs.get('/');
    if (cached) return cached;
    const top = this.layers.length - 1;
    const layers: number[] = [];
    for (let i = top; i >= 0; i--) {
      layers.push(i);
      if (await this.#isOpaque(i, '/')) break;
    }
    const dir: Dir = { entry: this.#entry('/', top, await lstat(this.layers[top]!)), layers };
    this.#dirs.set('/', dir);
    return dir;
  }

  async #child(dir: Dir, name: string): Promise<Child> {
    const viewPath = joinView(dir.entry.path, name);
    const cached = this.#dirs.get(viewPath);
    if (cached) return { kind: 'entry', entry: cached.entry, layers: cached.layers };
    if (this.format === 'merged' && name.startsWith(WHITEOUT_PREFIX)) return { kind: 'absent' };
    let found: UnionEntry | undefined;
    const layers: number[] = [];
    for (const layer of dir.layers) {
      const listing = this.#listings.get(`${layer}\0${dir.entry.path}`);
      const st =
        listing && !listing.has(name)
          ? undefined
          : await lstatOrUndefined(this.#host(layer, viewPath));
      if (st === undefined) {
        if (this.format === 'merged') {
          const whiteout = WHITEOUT_PREFIX + name;
          if (
            listing
              ? listing.has(whiteout)
              : await lstatOrUndefined(path.join(this.#host(layer, dir.entry.path), whiteout))
          ) {
            break;
          }
        }
        continue;
      }
      if (this.format === 'overlay' && this.#isOverlayWhiteout(layer, viewPath, st)) break;
      if (found === undefined) {
        found = this.#entry(viewPath, layer, st);
        if (!st.isDirectory()) break;
      } else if (!st.isDirectory()) {
        break;
      }
      layers.push(layer);
      if (await this.#isOpaque(layer, viewPath)) break;
    }
    if (found === undefined) return { kind: 'absent' };
    if (found.type === 'dir') this.#dirs.set(viewPath, { entry: found, layers });
    return { kind: 'entry', entry: found, layers };
  }

  /**
   * Resolves `input` inside the view: `..` stops at the root, absolute symlink targets start
   * from the view's root, so nothing resolves outside the layers.
   */
  async #resolve(input: string, followLast: boolean): Promise<UnionEntry | undefined> {
    let pending = input.split('/').filter((c) => c !== '' && c !== '.');
    const stack: Dir[] = [await this.#root()];
    let hops = 0;
    while (pending.length > 0) {
      const [name, ...rest] = pending as [string, ...string[]];
      pending = rest;
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const child = await this.#child(stack[stack.length - 1]!, name);
      if (child.kind === 'absent') return undefined;
      const { entry } = child;
      const last = pending.length === 0;
      if (entry.type === 'symlink' && (!last || followLast)) {
        hops += 1;
        if (hops > MAX_SYMLINK_HOPS) {
          throw invalidArgument(
            `too many levels of symbolic links resolving "${input}" in the union view; check the links for a cycle`,
            { details: { path: input } },
          );
        }
        const target = await fsReadlink(entry.hostPath);
        if (target.startsWith('/')) stack.splice(1);
        pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
        continue;
      }
      if (last) return entry;
      if (entry.type !== 'dir') return undefined;
      stack.push({ entry, layers: child.layers });
    }
    return stack[stack.length - 1]!.entry;
  }

  async #require(viewPath: string, follow: boolean): Promise<UnionEntry> {
    const entry = await this.#resolve(viewPath, follow);
    if (!entry) {
      throw notFound(`"${viewPath}" does not exist in the union of ${this.layers.length} layers`, {
        details: { path: viewPath },
      });
    }
    return entry;
  }

  lookup(viewPath: string): Promise<UnionEntry | undefined> {
    return this.#resolve(viewPath, false);
  }

  stat(viewPath: string): Promise<UnionEntry> {
    return this.#require(viewPath, true);
  }

  lstat(viewPath: string): Promise<UnionEntry> {
    return this.#require(viewPath, false);
  }

  async #dir(viewPath: string): Promise<Dir> {
    const entry = await this.#require(viewPath, true);
    const dir = entry.path === '/' ? await this.#root() : this.#dirs.get(entry.path);
    if (entry.type !== 'dir' || !dir) {
      throw invalidArgument(`"${viewPath}" is a ${entry.type}, not a directory`, {
        details: { path: viewPath, type: entry.type },
      });
    }
    return dir;
  }

  async #names(dir: Dir): Promise<string[]> {
    const hidden = new Set<string>();
    const names = new Set<string>();
    for (const layer of dir.layers) {
      const hostDir = this.#host(layer, dir.entry.path);
      const own: string[] = [];
      const whiteouts: string[] = [];
      const dirents = await fsReaddir(hostDir, { withFileTypes: true });
      this.#listings.set(`${layer}\0${dir.entry.path}`, new Set(dirents.map((d) => d.name)));
      for (const dirent of dirents) {
        const name = dirent.name;
        if (this.format === 'merged' && name.startsWith(WHITEOUT_PREFIX)) {
          if (name !== OPAQUE_MARKER) whiteouts.push(name.slice(WHITEOUT_PREFIX.length));
          continue;
        }
        if (this.format === 'overlay' && (dirent.isCharacterDevice() || dirent.isFile())) {
          const viewPath = joinView(dir.entry.path, name);
          const whiteout = dirent.isFile()
            ? this.#marks[layer]!.whiteouts.has(this.#relative(viewPath))
            : this.#isOverlayWhiteout(layer, viewPath, await lstat(path.join(hostDir, name)));
          if (whiteout) {
            whiteouts.push(name);
            continue;
          }
        }
        own.push(name);
      }
      for (const name of own) if (!hidden.has(name)) names.add(name);
      for (const name of [...own, ...whiteouts]) hidden.add(name);
    }
    return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  async readdir(viewPath: string): Promise<string[]> {
    return this.#names(await this.#dir(viewPath));
  }

  async #file(viewPath: string): Promise<UnionEntry> {
    const entry = await this.#require(viewPath, true);
    if (entry.type !== 'file') {
      throw invalidArgument(`"${viewPath}" is a ${entry.type}, not a regular file`, {
        details: { path: viewPath, type: entry.type },
      });
    }
    return entry;
  }

  async readFile(viewPath: string): Promise<Buffer> {
    return fsReadFile((await this.#file(viewPath)).hostPath);
  }

  async createReadStream(viewPath: string): Promise<Readable> {
    return fsCreateReadStream((await this.#file(viewPath)).hostPath);
  }

  async readlink(viewPath: string): Promise<string> {
    const entry = await this.#require(viewPath, false);
    if (entry.type !== 'symlink') {
      throw invalidArgument(`"${viewPath}" is a ${entry.type}, not a symbolic link`, {
        details: { path: viewPath, type: entry.type },
      });
    }
    return fsReadlink(entry.hostPath);
  }

  async *walk(): AsyncGenerator<UnionEntry> {
    const root = await this.#root();
    yield root.entry;
    const visit = async function* (self: LayerUnion, dir: Dir): AsyncGenerator<UnionEntry> {
      const names = await self.#names(dir);
      // Look the children up together (the order of the results is the order of the names).
      const children = await Promise.all(names.map((name) => self.#child(dir, name)));
      for (const child of children) {
        if (child.kind === 'absent') continue;
        yield child.entry;
        if (child.entry.type === 'dir')
          yield* visit(self, { entry: child.entry, layers: child.layers });
      }
    };
    yield* visit(this, root);
  }
}

/**
 * Opens a read-only merged view of layer directories (`layers` bottom → top) without
 * mounting: what overlayfs would show, computed in userland. Used to inspect images and as
 * the model the kernel overlay is checked against.
 */
export async function openUnionView(
  layers: readonly string[],
  options: UnionViewOptions,
): Promise<UnionView> {
  if (layers.length === 0) {
    throw invalidArgument('a union view needs at least one layer directory');
  }
  const resolved = layers.map((l) => path.resolve(l));
  for (const layer of resolved) {
    const st = await lstatOrUndefined(layer);
    if (!st?.isDirectory()) {
      throw notFound(`layer directory ${layer} does not exist or is not a directory`, {
        details: { layer },
      });
    }
  }
  const marks =
    options.format === 'overlay'
      ? await Promise.all(resolved.map((l) => readOverlayMarks(l)))
      : resolved.map(() => ({ opaque: new Set<string>(), whiteouts: new Set<string>() }));
  return new LayerUnion(resolved, options.format, marks);
}
