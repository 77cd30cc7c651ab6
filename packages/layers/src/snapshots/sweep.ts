import { isFailedPrecondition, isNotFound } from '@lab/oci';
import type { SnapshotInfo, Snapshotter } from './types.js';

export interface SweepOptions {
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
}

/**
 * Garbage-collects committed snapshots: removes every committed snapshot that is not in
 * `keep` (ChainIDs still referenced by images, plus other roots), not an ancestor of a kept
 * one, and not under an active snapshot or a view (those belong to containers and builds and
 * are never swept here). Children go before their parents. A snapshot another process
 * builds on meanwhile is left alone. Returns the names removed (or that would be). Fits the
 * image gc's `sweepSnapshots` hook: `(keep) => sweepSnapshots(snapshotter, keep)`.
 */
export async function sweepSnapshots(
  snapshotter: Snapshotter,
  keep: ReadonlySet<string>,
  options: SweepOptions = {},
): Promise<string[]> {
  const all = new Map<string, SnapshotInfo>();
  await snapshotter.walk((info) => {
    all.set(info.name, info);
  });
  const needed = new Set<string>();
  const mark = (name: string | undefined): void => {
    while (name !== undefined && !needed.has(name)) {
      needed.add(name);
      name = all.get(name)?.parent;
    }
  };
  for (const info of all.values()) {
    if (info.kind !== 'committed' || keep.has(info.name)) mark(info.name);
  }
  const depth = (name: string): number => {
    let d = 0;
    for (let p = all.get(name)?.parent; p !== undefined; p = all.get(p)?.parent) d += 1;
    return d;
  };
  const doomed = [...all.keys()]
    .filter((name) => !needed.has(name))
    .sort((a, b) => depth(b) - depth(a) || a.localeCompare(b));
  if (options.dryRun) return doomed;
  const removed: string[] = [];
  for (const name of doomed) {
    try {
      await snapshotter.remove(name);
      removed.push(name);
    } catch (err) {
      if (!isFailedPrecondition(err) && !isNotFound(err)) throw err;
    }
  }
  return removed;
}
