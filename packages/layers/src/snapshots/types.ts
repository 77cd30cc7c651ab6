/**
 * The snapshotter contract, shaped after containerd's `snapshots.Snapshotter`: a snapshot is a
 * filesystem tree identified by a key; active snapshots are writable, views are read-only,
 * committed snapshots are immutable and may be the parent of others. The snapshotter only
 * describes how to mount a snapshot ({@link Mount}); the caller mounts it.
 */

/** What a snapshot is: writable (`active`), read-only (`view`), immutable parent (`committed`). */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** The two snapshotter implementations. */
export type SnapshotterKind = 'overlay' | 'native';

/**
 * How layer directories of a snapshotter record deletions: `overlay` stores them as
 * overlayfs does (0/0 character devices, `trusted.overlay.opaque=y`); `merged` stores the
 * whole tree with every whiteout already applied.
 */
export type LayerFormat = 'overlay' | 'merged';

/** One mount as containerd describes it: `mount -t <type> -o <options> <source> <target>`. */
export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
}

/** What {@link Snapshotter.stat} returns. */
export interface SnapshotInfo {
  kind: SnapshotKind;
  /** The key of an active snapshot or a view, the name of a committed one. */
  name: string;
  /** The name of the committed parent, absent for a snapshot without parent. */
  parent?: string;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

/** Disk usage of a snapshot's own layer (not its parents): bytes on disk and inodes. */
export interface SnapshotUsage {
  size: number;
  inodes: number;
}

/** Options of {@link Snapshotter.prepare}, {@link Snapshotter.view} and {@link Snapshotter.commit}. */
export interface SnapshotOptions {
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Snapshotter {
  readonly kind: SnapshotterKind;
  /** The format of committed layer directories (what `applyLayer` must write into `prepare`'s dir). */
  readonly layerFormat: LayerFormat;
  /** The directory holding this snapshotter's metadata and snapshot directories. */
  readonly root: string;
  /** Creates a writable snapshot `key` on top of the committed `parent`. */
  prepare(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** Creates a read-only snapshot `key` of the committed `parent`. */
  view(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** Turns the active snapshot `key` into the committed snapshot `name` (`key` disappears). */
  commit(name: string, key: string, options?: SnapshotOptions): Promise<void>;
  /** Removes a snapshot; refuses (failed-precondition) while other snapshots have it as parent. */
  remove(key: string): Promise<void>;
  /** The mounts of an active snapshot or a view. */
  mounts(key: string): Promise<Mount[]>;
  stat(key: string): Promise<SnapshotInfo>;
  /** Replaces the labels of a snapshot; returns the updated info. */
  update(name: string, labels: Record<string, string>): Promise<SnapshotInfo>;
  /** Calls `fn` for every snapshot that passes `filter`, in name order. */
  walk(
    fn: (info: SnapshotInfo) => void | Promise<void>,
    filter?: (info: SnapshotInfo) => boolean,
  ): Promise<void>;
  usage(key: string): Promise<SnapshotUsage>;
  /**
   * The host directory an active snapshot's changes are written to: the overlay upper dir, or
   * the copied tree of the native snapshotter. `applyLayer` writes here.
   */
  writableDir(key: string): Promise<string>;
  /** The layer directory of a committed snapshot (its own changes, in {@link layerFormat}). */
  layerDir(name: string): Promise<string>;
  /** The layer directories of a committed snapshot and its ancestors, bottom → top. */
  layerStack(name: string): Promise<string[]>;
}
