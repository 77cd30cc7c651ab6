/**
 * Applying a layer (a maybe-compressed tar changeset) onto a directory, as containerd's
 * `archive.Apply` does, computing the DiffID in the same pass.
 *
 * - `format: 'merged'` (default): the directory is a full tree; whiteouts delete from it.
 * - `format: 'overlay'`: the directory is an overlayfs upper dir; whiteouts are stored the way
 *   overlayfs does (char device 0/0, `trusted.overlay.opaque=y`) and nothing is deleted.
 *
 * Safety: entry names are cleaned (leading `/` stripped); a name climbing above the root with
 * `..` is rejected; parents are resolved inside the root (symlinks followed as if the root were
 * `/`), so no entry is ever written outside the target; hard-link targets are resolved the same
 * way and must exist.
 *
 * Speed: file system calls are synchronous (as in Go's and GNU tar's extractors). Each is a few
 * microseconds on the page cache, and the async round trip per call through libuv's thread pool
 * would cost more than the call; decompression still runs on the pool in parallel, and the sha256
 * of a big layer runs on a worker thread (`stream-digest.ts`). Pass a blob's file path rather
 * than a stream to have it read synchronously in 4 MiB chunks, as tar(1) does. Devices, fifos
 * and xattrs need tools Node lacks (`mknod`, `setfattr`), spawned once per device/fifo and once
 * per layer for all xattrs.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { invalidArgument, type Digest } from '@lab/oci';
import { decompressedStream, readFileChunks, type Compression } from '../compression/index.js';
import { readTar, type TarEntry, type TarHeader, type TarTime } from '../tar/index.js';
import { RootResolver, cleanEntryName } from './paths.js';
import { StreamDigest } from './stream-digest.js';

const execFileAsync = promisify(execFile);

export type ApplyFormat = 'merged' | 'overlay';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The xattr overlayfs reads to hide a lower directory's content. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ApplyOptions {
  /** How deletions are written (default `merged`). */
  format?: ApplyFormat;
  signal?: AbortSignal;
  /** chown entries to the uid/gid in the tar (default: when running as root). */
  sameOwner?: boolean;
  /** If given, the computed DiffID must equal it, or invalid-argument is thrown (after applying). */
  expectedDiffID?: Digest;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream. */
  diffID: Digest;
  /** Bytes of the uncompressed tar stream. */
  size: number;
  /** Entries read from the tar (whiteouts included). */
  entries: number;
  compression: Compression;
  /** Things that could not be done exactly (xattrs the file system refused, devices without root…). */
  warnings: string[];
}

interface DeferredTime {
  abs: string;
  atime: number;
  mtime: number;
}

interface XattrOp {
  abs: string;
  name: string;
  value: Buffer;
  entry: string;
}

function seconds(t: TarTime): number {
  return t.sec + t.nsec / 1e9;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Applies a layer tar (plain, gzip or zstd) to `targetDir`. `source` is a stream, or the path of
 * a blob file, which is then read synchronously in large chunks (faster on local disk).
 */
export async function applyLayer(
  source: string | Readable | AsyncIterable<Uint8Array>,
  targetDir: string,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const format = options.format ?? 'merged';
  const root = fs.realpathSync(targetDir);
  if (!fs.statSync(root).isDirectory()) {
    throw invalidArgument(`cannot apply a layer onto "${targetDir}": not a directory`);
  }
  const sameOwner = options.sameOwner ?? process.getuid?.() === 0;
  const resolver = new RootResolver(root);
  const written = new Set<string>();
  const dirTimes: DeferredTime[] = [];
  const xattrOps: XattrOp[] = [];
  const warnings: string[] = [];
  const hash = new StreamDigest();
  let count = 0;

  const decompressed = decompressedStream(
    typeof source === 'string' ? readFileChunks(source) : source,
  );
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of decompressed.stream) {
      const b = chunk as Buffer;
      hash.update(b);
      yield b;
    }
  }

  /** Removes whatever is at `abs` (recursively for directories). */
  const removeExisting = (abs: string, st: fs.Stats): void => {
    if (st.isDirectory()) {
      fs.rmSync(abs, { recursive: true, force: true });
      resolver.invalidate();
    } else {
      fs.unlinkSync(abs);
      if (st.isSymbolicLink()) resolver.invalidate();
    }
  };

  /** Opaque directory: removes everything below `dir` that this layer did not write. */
  const removeUnwritten = (dir: string): void => {
    for (const child of fs.readdirSync(dir)) {
      const abs = path.join(dir, child);
      const st = lstatOrUndefined(abs);
      if (st === undefined) continue;
      if (!written.has(abs)) removeExisting(abs, st);
      else if (st.isDirectory()) removeUnwritten(abs);
    }
  };

  const lstatOrUndefined = (abs: string): fs.Stats | undefined =>
    fs.lstatSync(abs, { throwIfNoEntry: false });

  const setOwnerModeTimes = (abs: string, h: TarHeader, kind: 'symlink' | 'other'): void => {
    if (sameOwner) fs.lchownSync(abs, h.uid, h.gid);
    if (kind !== 'symlink') fs.chmodSync(abs, h.mode);
    const mtime = seconds(h.mtime);
    fs.lutimesSync(abs, h.atime === undefined ? mtime : seconds(h.atime), mtime);
  };

  const queueXattrs = (abs: string, h: TarHeader, rel: string): void => {
    for (const [name, value] of Object.entries(h.xattrs)) {
      if (name.startsWith('user.') && h.type !== 'file' && h.type !== 'dir') {
        warnings.push(
          `${rel}: xattr ${name} skipped (user.* xattrs are only allowed on files and directories)`,
        );
        continue;
      }
      xattrOps.push({ abs, name, value, entry: rel });
    }
  };

  const makeNode = async (abs: string, h: TarHeader, rel: string): Promise<boolean> => {
    const args =
      h.type === 'fifo'
        ? [abs, 'p']
        : [abs, h.type === 'char' ? 'c' : 'b', String(h.devmajor), String(h.devminor)];
    try {
      await execFileAsync('mknod', args);
      return true;
    } catch (err) {
      const msg = (err as { stderr?: string }).stderr?.trim() ?? String(err);
      if (h.type !== 'fifo' && process.getuid?.() !== 0) {
        warnings.push(`${rel}: ${h.type} device not created (${msg})`);
        return false;
      }
      throw invalidArgument(`layer entry "${rel}": cannot create ${h.type} node: ${msg}`, {
        cause: err,
      });
    }
  };

  const writeFile = async (abs: string, entry: TarEntry): Promise<void> => {
    const h = entry.header;
    const flags =
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = fs.openSync(abs, flags, 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      removeExisting(abs, fs.lstatSync(abs));
      fd = fs.openSync(abs, flags, 0o600);
    }
    try {
      const writeAll = (buf: Buffer): void => {
        let off = 0;
        while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      };
      if (h.size > 0) for await (const chunk of entry.body) writeAll(chunk);
      if (sameOwner) fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, h.mode);
      const mtime = seconds(h.mtime);
      fs.futimesSync(fd, h.atime === undefined ? mtime : seconds(h.atime), mtime);
    } finally {
      fs.closeSync(fd);
    }
  };

  try {
    for await (const entry of readTar(
      hashed(),
      options.signal === undefined ? {} : { signal: options.signal },
    )) {
      count++;
      const h = entry.header;
      const rel = cleanEntryName(h.name);
      if (rel === '') continue; // the root itself: containerd ignores it
      const slash = rel.lastIndexOf('/');
      const parentRel = slash < 0 ? '' : rel.slice(0, slash);
      const base = slash < 0 ? rel : rel.slice(slash + 1);
      // AUFS metadata at the root (.wh..wh.plnk/, .wh..wh.aufs): Docker skips it
      const top = slash < 0 ? rel : rel.slice(0, rel.indexOf('/'));
      if (top.startsWith('.wh..wh.') && top !== WHITEOUT_OPAQUE) continue;

      if (base.startsWith(WHITEOUT_PREFIX)) {
        const parentAbs = resolver.dir(parentRel, h.name, format === 'overlay');
        if (base === WHITEOUT_OPAQUE) {
          if (parentAbs === undefined) continue; // nothing below to hide
          if (format === 'overlay') {
            xattrOps.push({
              abs: parentAbs,
              name: OVERLAY_OPAQUE_XATTR,
              value: Buffer.from('y'),
              entry: rel,
            });
          } else {
            removeUnwritten(parentAbs);
          }
          continue;
        }
        const hidden = base.slice(WHITEOUT_PREFIX.length);
        if (hidden === '' || hidden === '.' || hidden === '..' || hidden.includes('/')) {
          throw invalidArgument(
            `layer entry "${h.name}" is an invalid whiteout: "${base}" names no file; the layer is corrupt`,
            { details: { entry: h.name } },
          );
        }
        if (parentAbs === undefined) continue;
        const abs = path.join(parentAbs, hidden);
        if (written.has(abs)) {
          // an entry of this same layer: a whiteout only hides lower layers
        } else if (format === 'overlay') {
          const st = lstatOrUndefined(abs);
          if (st !== undefined) removeExisting(abs, st);
          if (await makeNode(abs, { ...h, type: 'char', devmajor: 0, devminor: 0 }, rel)) {
            if (sameOwner) fs.lchownSync(abs, h.uid, h.gid);
          }
          written.add(abs);
        } else {
          const st = lstatOrUndefined(abs);
          if (st !== undefined) removeExisting(abs, st);
        }
        continue;
      }

      const parentAbs = resolver.dir(parentRel, h.name)!;
      const abs = path.join(parentAbs, base);
      written.add(abs);
      switch (h.type) {
        case 'file':
          await writeFile(abs, entry);
          break;
        case 'dir': {
          const st = lstatOrUndefined(abs);
          if (st !== undefined && !st.isDirectory()) removeExisting(abs, st);
          if (st === undefined || !st.isDirectory()) fs.mkdirSync(abs, 0o700);
          resolver.remember(rel, abs);
          if (sameOwner) fs.lchownSync(abs, h.uid, h.gid);
          fs.chmodSync(abs, h.mode);
          const mtime = seconds(h.mtime);
          dirTimes.push({ abs, mtime, atime: h.atime === undefined ? mtime : seconds(h.atime) });
          break;
        }
        case 'symlink': {
          const st = lstatOrUndefined(abs);
          if (st !== undefined) removeExisting(abs, st);
          fs.symlinkSync(h.linkname, abs);
          setOwnerModeTimes(abs, h, 'symlink');
          break;
        }
        case 'hardlink': {
          const targetRel = cleanEntryName(h.linkname, h.name);
          const ts = targetRel.lastIndexOf('/');
          const targetParent = resolver.dir(ts < 0 ? '' : targetRel.slice(0, ts), h.name, false);
          const targetAbs =
            targetParent === undefined
              ? undefined
              : path.join(targetParent, targetRel.slice(ts + 1));
          const tst = targetAbs === undefined ? undefined : lstatOrUndefined(targetAbs);
          if (targetAbs === undefined || tst === undefined || targetRel === '') {
            throw invalidArgument(
              `layer entry "${h.name}" is a hard link to "${h.linkname}", which does not exist in the layer or below it`,
              { details: { entry: h.name, linkname: h.linkname } },
            );
          }
          if (tst.isDirectory()) {
            throw invalidArgument(
              `layer entry "${h.name}" is a hard link to the directory "${h.linkname}"`,
              {
                details: { entry: h.name, linkname: h.linkname },
              },
            );
          }
          if (targetAbs === abs) break;
          const st = lstatOrUndefined(abs);
          if (st !== undefined) removeExisting(abs, st);
          fs.linkSync(targetAbs, abs);
          break;
        }
        case 'char':
        case 'block':
        case 'fifo': {
          const st = lstatOrUndefined(abs);
          if (st !== undefined) removeExisting(abs, st);
          if (await makeNode(abs, h, rel)) setOwnerModeTimes(abs, h, 'other');
          break;
        }
      }
      if (Object.keys(h.xattrs).length > 0) queueXattrs(abs, h, rel);
    }

    if (xattrOps.length > 0) await setXattrs(xattrOps, warnings);
    // Directory times last: creating children changed them.
    for (let i = dirTimes.length - 1; i >= 0; i--) {
      const t = dirTimes[i]!;
      try {
        fs.utimesSync(t.abs, t.atime, t.mtime);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err; // removed by a later whiteout
      }
    }
  } catch (err) {
    await hash.close();
    throw err;
  } finally {
    if (!decompressed.stream.destroyed) decompressed.stream.destroy();
  }

  const diffID = await hash.digest();
  const size = hash.size;
  if (options.expectedDiffID !== undefined && options.expectedDiffID !== diffID) {
    throw invalidArgument(
      `layer content does not match its DiffID: expected ${options.expectedDiffID}, got ${diffID}; the blob is corrupt or belongs to another image`,
      { details: { expected: options.expectedDiffID, actual: diffID } },
    );
  }
  return { diffID, size, entries: count, compression: await decompressed.compression, warnings };
}

/** `getfattr --dump` quoting, which `setfattr --restore` undoes: \ooo for unsafe bytes. */
export function quoteAttrPath(p: string): string {
  const bytes = Buffer.from(p, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b <= 0x20 || b >= 0x7f || b === 0x5c || b === 0x3d)
      out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/** Sets many xattrs with one `setfattr --restore` run (Node has no setxattr). */
async function setXattrs(ops: XattrOp[], warnings: string[]): Promise<void> {
  let dump = '';
  for (const op of ops) {
    dump += `# file: ${quoteAttrPath(op.abs)}\n${op.name}=${op.value.length === 0 ? '""' : `0x${op.value.toString('hex')}`}\n\n`;
  }
  const child = spawn('setfattr', ['-h', '--restore=-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve(code ?? 1);
    });
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(dump);
  let code: number;
  try {
    code = await exited;
  } catch (err) {
    warnings.push(
      `xattrs not set (${(err as Error).message}); install the "attr" package for setfattr`,
    );
    return;
  }
  if (code !== 0) {
    for (const line of stderr.trim().split('\n')) if (line !== '') warnings.push(`xattr: ${line}`);
    if (stderr.trim() === '') warnings.push(`xattr: setfattr exited with ${code}`);
  }
}
