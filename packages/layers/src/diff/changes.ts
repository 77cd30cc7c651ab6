/**
 * Computing a changeset: between two full trees (containerd's double walk), or from an overlayfs
 * upper directory (whiteouts stored as char 0/0 devices, opaque dirs as an xattr).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '@lab/oci';
import { OVERLAY_OPAQUE_XATTR } from './apply.js';
import { compareOrder, scanTree, type FileInfo, type TreeScan } from './scan-tree.js';

export type ChangeKind = 'add' | 'modify' | 'delete';

export interface Change {
  kind: ChangeKind;
  /** Relative path, '/'-separated. */
  path: string;
  /** A directory that hides everything below it in lower layers (overlay opaque dir). */
  opaque?: boolean;
}

/** A changeset plus the scanned upper tree the layer's entries are read from. */
export interface ChangeSet {
  changes: Change[];
  upper: TreeScan;
}

function sameXattrs(a: Record<string, Buffer>, b: Record<string, Buffer>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && a[k]!.equals(b[k]));
}

function sameContent(a: string, b: string, size: number): boolean {
  if (size <= 1 << 20) return fs.readFileSync(a).equals(fs.readFileSync(b));
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const na = fs.readSync(fa, ba);
      const nb = fs.readSync(fb, bb);
      if (na !== nb) return false;
      if (na === 0) return true;
      if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/**
 * containerd's "same file" rule: same type, mode, owner, rdev and xattrs; for non-directories
 * also the same size and mtime seconds; when both mtimes have zero nanoseconds (as after a tar
 * round trip) the content decides, otherwise differing nanoseconds mean a change.
 */
function sameFile(a: FileInfo, b: FileInfo, lowerRoot: string, upperRoot: string): boolean {
  if (
    a.kind !== b.kind ||
    a.mode !== b.mode ||
    a.uid !== b.uid ||
    a.gid !== b.gid ||
    a.rdev !== b.rdev
  ) {
    return false;
  }
  if (!sameXattrs(a.xattrs, b.xattrs)) return false;
  if (a.kind === 'dir') return true;
  if (a.kind === 'symlink') return a.linkname === b.linkname;
  if (a.size !== b.size || a.mtime.sec !== b.mtime.sec) return false;
  if (a.mtime.nsec === 0 && b.mtime.nsec === 0) {
    if (a.kind !== 'file') return true;
    return sameContent(path.join(lowerRoot, a.path), path.join(upperRoot, b.path), a.size);
  }
  return a.mtime.nsec === b.mtime.nsec;
}

/**
 * Adds, for each changed file that has other hard links in the upper tree, those other paths
 * too, so the link survives in the merged view; returns the changes in layer order.
 */
function withHardLinkSiblings(
  changes: Change[],
  upper: TreeScan,
  lower: TreeScan | undefined,
): Change[] {
  const byInode = new Map<string, string[]>();
  for (const info of upper.entries.values()) {
    if (info.kind === 'file' && info.nlink > 1) {
      const list = byInode.get(info.inode);
      if (list === undefined) byInode.set(info.inode, [info.path]);
      else list.push(info.path);
    }
  }
  if (byInode.size === 0) return changes;
  const present = new Set(changes.map((c) => c.path));
  const extra: Change[] = [];
  for (const c of changes) {
    if (c.kind === 'delete') continue;
    const info = upper.entries.get(c.path);
    if (info?.kind !== 'file' || info.nlink < 2) continue;
    for (const sibling of byInode.get(info.inode) ?? []) {
      if (present.has(sibling)) continue;
      present.add(sibling);
      extra.push({ kind: lower?.entries.has(sibling) === true ? 'modify' : 'add', path: sibling });
    }
  }
  if (extra.length === 0) return changes;
  return [...changes, ...extra].sort((a, b) => compareOrder(a.path, b.path));
}

/**
 * The changes that turn tree `lower` into tree `upper` (both full trees; `lower` undefined
 * means empty), in layer order: a deleted directory is one delete; an added directory is followed
 * by each of its descendants.
 */
export async function diffTrees(lower: string | undefined, upper: string): Promise<ChangeSet> {
  const [lowerScan, upperScan] = await Promise.all([
    lower === undefined ? undefined : scanTree(lower),
    scanTree(upper),
  ]);
  const changes: Change[] = [];
  const addAll = (rel: string): void => {
    for (const name of upperScan.children.get(rel) ?? []) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const info = upperScan.entries.get(p)!;
      if (info.kind === 'socket') continue;
      changes.push({ kind: 'add', path: p });
      if (info.kind === 'dir') addAll(p);
    }
  };
  const walk = (rel: string): void => {
    const a = lowerScan!.children.get(rel) ?? [];
    const b = upperScan.children.get(rel) ?? [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const na = a[i];
      const nb = b[j];
      const cmp =
        na === undefined
          ? 1
          : nb === undefined
            ? -1
            : Buffer.compare(Buffer.from(na), Buffer.from(nb));
      if (cmp < 0) {
        changes.push({ kind: 'delete', path: rel === '' ? na! : `${rel}/${na!}` });
        i++;
        continue;
      }
      const p = rel === '' ? nb! : `${rel}/${nb!}`;
      const ub = upperScan.entries.get(p)!;
      j++;
      if (cmp > 0) {
        if (ub.kind === 'socket') continue;
        changes.push({ kind: 'add', path: p });
        if (ub.kind === 'dir') addAll(p);
        continue;
      }
      i++;
      const la = lowerScan!.entries.get(p)!;
      if (ub.kind === 'socket') {
        if (la.kind !== 'socket') changes.push({ kind: 'delete', path: p });
        continue;
      }
      if (!sameFile(la, ub, lowerScan!.root, upperScan.root))
        changes.push({ kind: 'modify', path: p });
      if (ub.kind === 'dir') {
        if (la.kind === 'dir') walk(p);
        else addAll(p);
      }
    }
  };
  if (lowerScan === undefined) addAll('');
  else walk('');
  return { changes: withHardLinkSiblings(changes, upperScan, lowerScan), upper: upperScan };
}

/** The overlay xattr names (trusted.* as root, user.* for unprivileged `userxattr` mounts). */
const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

/**
 * The changes recorded in an overlayfs upper directory: a char device 0/0 (or a zero-size file
 * with `trusted.overlay.whiteout`) is a deletion; a directory with `trusted.overlay.opaque=y`
 * hides its lower content. `lower` (the merged lower view), when given, tells modifications from
 * additions and lets unchanged copied-up directories be skipped. Upper dirs written with
 * `redirect_dir` or `metacopy` cannot be read alone and are refused.
 */
export async function overlayChanges(upper: string, lower?: string): Promise<ChangeSet> {
  const [upperScan, lowerScan] = await Promise.all([
    scanTree(upper),
    lower === undefined ? undefined : scanTree(lower, { xattrs: true }),
  ]);
  const changes: Change[] = [];
  for (const [p, info] of upperScan.entries) {
    for (const key of Object.keys(info.xattrs)) {
      if (/^(trusted|user)\.overlay\.(redirect|metacopy)$/.test(key)) {
        throw failedPrecondition(
          `overlay upper dir entry "${p}" carries ${key}: the upper dir alone is not a complete diff; mount overlay with redirect_dir=off,metacopy=off or diff the merged trees instead`,
          { details: { path: p, xattr: key } },
        );
      }
    }
    const isWhiteout =
      (info.kind === 'char' && info.rdev === 0) ||
      (info.kind === 'file' &&
        info.size === 0 &&
        info.xattrs['trusted.overlay.whiteout'] !== undefined);
    const opaque = info.kind === 'dir' && info.xattrs[OVERLAY_OPAQUE_XATTR]?.toString() === 'y';
    const xattrs = Object.fromEntries(
      Object.entries(info.xattrs).filter(([k]) => !OVERLAY_XATTR.test(k)),
    );
    info.xattrs = xattrs;
    if (isWhiteout) {
      changes.push({ kind: 'delete', path: p });
      continue;
    }
    if (info.kind === 'socket') continue;
    const before = lowerScan?.entries.get(p);
    if (info.kind === 'dir' && !opaque && before !== undefined) {
      // unchanged directories copied up as parents: skip (parents are emitted when needed)
      if (sameFile(before, info, lowerScan!.root, upperScan.root)) continue;
    }
    const change: Change = { kind: before === undefined ? 'add' : 'modify', path: p };
    if (opaque) change.opaque = true;
    changes.push(change);
  }
  // a whiteout's children (none for devices) and a deleted dir's subtree need no entries
  return { changes: withHardLinkSiblings(changes, upperScan, lowerScan), upper: upperScan };
}
