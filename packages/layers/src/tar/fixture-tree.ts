/**
 * Test support (not exported from the package): builds a directory tree with every kind of
 * entry a layer carries, using real tools, and compares trees. Used by the tar and diff tests.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const isRoot = process.getuid?.() === 0;

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const LONG_NAME = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(120)}.txt`;
export const UNICODE_NAME = 'ünïcödé-名前.txt';
export const BINARY_XATTR = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x80, 0x3d, 0x0a]);

/** Populates `root` with files, dirs, links, a fifo, a char device (root only) and xattrs. */
export function makeFixtureTree(root: string): void {
  const p = (...parts: string[]): string => path.join(root, ...parts);
  fs.mkdirSync(p('etc'), { recursive: true });
  fs.writeFileSync(p('etc', 'hosts'), '127.0.0.1 localhost\n');
  fs.mkdirSync(p('bin'));
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  fs.writeFileSync(p('bin', 'tool'), big);
  fs.chmodSync(p('bin', 'tool'), 0o4755);
  fs.linkSync(p('bin', 'tool'), p('bin', 'tool-link'));
  fs.symlinkSync('tool', p('bin', 'tool-sym'));
  fs.symlinkSync('/etc/hosts', p('abs-sym'));
  fs.mkdirSync(p('tmp'));
  fs.chmodSync(p('tmp'), 0o1777);
  fs.mkdirSync(path.dirname(p(LONG_NAME)), { recursive: true });
  fs.writeFileSync(p(LONG_NAME), 'long\n');
  fs.symlinkSync(LONG_NAME, p('long-link'));
  fs.writeFileSync(p(UNICODE_NAME), 'unicode\n');
  fs.writeFileSync(p('empty'), '');
  fs.mkdirSync(p('setgid-dir'));
  fs.chmodSync(p('setgid-dir'), 0o2775);
  execFileSync('mkfifo', [p('fifo')]);
  if (isRoot) {
    execFileSync('mknod', [p('null-dev'), 'c', '1', '3']);
    fs.chownSync(p('etc', 'hosts'), 1234, 5678);
    fs.lchownSync(p('bin', 'tool-sym'), 42, 43);
    fs.chownSync(p('tmp'), 3_000_000, 3_000_001); // beyond ustar's octal fields
  }
  execFileSync('setfattr', [
    '-n',
    'user.binary',
    '-v',
    `0x${BINARY_XATTR.toString('hex')}`,
    p('etc', 'hosts'),
  ]);
  execFileSync('setfattr', ['-n', 'user.text', '-v', 'hello world', p('etc')]);
  // fixed, sub-second times so the PAX mtime path is exercised
  const setTime = (rel: string, sec: number): void => {
    fs.lutimesSync(p(rel), sec + 0.25, sec + 0.5);
  };
  for (const rel of ['etc/hosts', 'bin/tool', 'bin/tool-sym', UNICODE_NAME, 'empty', 'fifo']) {
    setTime(rel, 1_600_000_000);
  }
  for (const rel of ['etc', 'bin', 'tmp', 'setgid-dir'])
    fs.utimesSync(p(rel), 1_500_000_000, 1_500_000_000);
}

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  link?: string;
  rdev?: number;
  content?: string;
  ino?: number;
}

/** A comparable snapshot of a tree (relative path → attributes; directory mtimes optional). */
export function describeTree(
  root: string,
  options: { dirMtimes?: boolean; inodes?: boolean } = {},
): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(root, r));
      const type = st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFile()
            ? 'file'
            : st.isFIFO()
              ? 'fifo'
              : st.isCharacterDevice()
                ? 'char'
                : st.isBlockDevice()
                  ? 'block'
                  : 'other';
      const e: TreeEntry = {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: type === 'dir' ? 0 : st.size,
        mtimeSec: type === 'dir' && options.dirMtimes !== true ? 0 : Math.floor(st.mtimeMs / 1000),
      };
      if (type === 'symlink') {
        e.link = fs.readlinkSync(path.join(root, r));
        e.mode = 0; // symlink modes are not meaningful on Linux
      }
      if (type === 'char' || type === 'block') e.rdev = st.rdev;
      if (type === 'file') {
        e.content = fs.readFileSync(path.join(root, r)).toString('base64').slice(0, 4096);
        if (options.inodes === true && st.nlink > 1) e.ino = st.ino;
      }
      out[r] = e;
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}

/** The xattrs of a path as `name → hex value` (via getfattr), excluding security.selinux. */
export function xattrsOf(file: string): Record<string, string> {
  const text = execFileSync(
    'getfattr',
    ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', file],
    {
      encoding: 'utf8',
    },
  );
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line);
    if (m !== null && m[1] !== 'security.selinux') out[m[1]!] = m[2]!;
  }
  return out;
}
