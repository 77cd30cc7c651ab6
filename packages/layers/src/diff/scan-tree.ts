/**
 * Scans a directory tree into a map of file information, in the order layers are written:
 * depth first, children right after their directory, names in byte order. Extended attributes
 * come from one `getfattr -R` run per tree (Node has no listxattr/getxattr).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '@lab/oci';
import type { TarTime } from '../tar/index.js';

export type FileKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface FileInfo {
  /** Path relative to the tree root, '/'-separated, no leading '/'. */
  path: string;
  kind: FileKind;
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: TarTime;
  rdev: number;
  /** `${dev}:${ino}`, to find hard links. */
  inode: string;
  nlink: number;
  /** Symlink target. */
  linkname?: string;
  xattrs: Record<string, Buffer>;
}

export interface TreeScan {
  root: string;
  /** Every path below the root. */
  entries: Map<string, FileInfo>;
  /** Sorted child names of every directory ('' is the root). */
  children: Map<string, string[]>;
}

function kindOf(st: fs.BigIntStats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/** A sort key giving depth-first order with byte-wise names: '/' becomes NUL. */
export function orderKey(p: string): Buffer {
  return Buffer.from(p.replaceAll('/', '\0'), 'utf8');
}

export function compareOrder(a: string, b: string): number {
  return Buffer.compare(orderKey(a), orderKey(b));
}

function sortNames(names: string[]): string[] {
  const keyed = names.map((n) => ({ n, k: Buffer.from(n, 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.k, y.k));
  return keyed.map((e) => e.n);
}

/** Xattrs that describe the host, not the content. */
const HOST_XATTRS = new Set(['security.selinux']);

export function statInfo(abs: string, rel: string): FileInfo {
  const st = fs.lstatSync(abs, { bigint: true });
  const kind = kindOf(st);
  const info: FileInfo = {
    path: rel,
    kind,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: kind === 'file' ? Number(st.size) : 0,
    mtime: { sec: Number(st.mtimeNs / 1_000_000_000n), nsec: Number(st.mtimeNs % 1_000_000_000n) },
    rdev: Number(st.rdev),
    inode: `${st.dev}:${st.ino}`,
    nlink: Number(st.nlink),
    xattrs: {},
  };
  if (kind === 'symlink') info.linkname = fs.readlinkSync(abs);
  return info;
}

/** Scans `root` (which must exist). */
export async function scanTree(
  root: string,
  options: { xattrs?: boolean } = {},
): Promise<TreeScan> {
  const entries = new Map<string, FileInfo>();
  const children = new Map<string, string[]>();
  const walk = (rel: string, abs: string): void => {
    const names = sortNames(fs.readdirSync(abs));
    children.set(rel, names);
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const a = path.join(abs, name);
      const info = statInfo(a, r);
      entries.set(r, info);
      if (info.kind === 'dir') walk(r, a);
    }
  };
  walk('', root);
  if (options.xattrs !== false) {
    const prefix = root.endsWith('/') ? root : `${root}/`;
    for (const [abs, attrs] of await readXattrsRecursive(root)) {
      if (!abs.startsWith(prefix)) continue;
      const info = entries.get(abs.slice(prefix.length));
      if (info === undefined) continue;
      for (const [k, v] of attrs) if (!HOST_XATTRS.has(k)) info.xattrs[k] = v;
    }
  }
  return { root, entries, children };
}

/** Undoes getfattr's quoting of names: `\ooo` octal bytes and `\\`. */
export function unquoteAttrPath(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (
      b === 0x5c &&
      i + 3 < raw.length + 0 &&
      /^[0-7]{3}$/.test(raw.toString('latin1', i + 1, i + 4))
    ) {
      bytes.push(parseInt(raw.toString('latin1', i + 1, i + 4), 8));
      i += 3;
    } else if (b === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeValue(text: string): Buffer {
  if (text.startsWith('0x')) return Buffer.from(text.slice(2), 'hex');
  if (text.startsWith('0s')) return Buffer.from(text.slice(2), 'base64');
  if (text.startsWith('"') && text.endsWith('"'))
    return Buffer.from(unquoteAttrPath(text.slice(1, -1)), 'utf8');
  return Buffer.from(text, 'utf8');
}

/** Every xattr below `root` (symlinks not followed), keyed by absolute path. */
export async function readXattrsRecursive(root: string): Promise<Map<string, Map<string, Buffer>>> {
  const child = spawn(
    'getfattr',
    ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (err) => {
      reject(
        failedPrecondition(
          `cannot read extended attributes: ${err.message}; install the "attr" package (getfattr)`,
          { cause: err },
        ),
      );
    });
    child.on('close', (c) => {
      resolve(c ?? 1);
    });
  });
  // getfattr exits 1 when some file vanished or has no readable attributes; the dump is still good
  if (code !== 0 && code !== 1) {
    throw failedPrecondition(`getfattr failed on ${root} (exit ${code}): ${stderr.trim()}`);
  }
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of Buffer.concat(out).toString('utf8').split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      result.set(unquoteAttrPath(line.slice('# file: '.length)), current);
      continue;
    }
    if (line === '' || current === undefined) continue;
    const eq = line.indexOf('=');
    if (eq < 0) current.set(unquoteAttrPath(line), Buffer.alloc(0));
    else current.set(unquoteAttrPath(line.slice(0, eq)), decodeValue(line.slice(eq + 1)));
  }
  return result;
}
