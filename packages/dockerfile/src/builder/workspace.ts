/**
 * Where steps touch filesystems: a stage's layers unpacked as committed snapshots (keyed by
 * ChainID, shared with containers), a writable snapshot on top for a step, mounted for the
 * step and turned into a layer blob (deterministic, `SOURCE_DATE_EPOCH`-clamped) plus a new
 * committed snapshot; read-only views of other stages for `COPY --from` and `RUN --mount`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import {
  chainIDs,
  diffTrees,
  mountAll,
  openUnionView,
  overlayChanges,
  unmount,
  unpackImageLayers,
  writeLayer,
  type ChangeSet,
  type ContentLease,
  type ImageStore,
  type Snapshotter,
} from '@lab/layers';
import { isAlreadyExists, isNotFound } from '@lab/oci';
import type { CachedLayer } from './cache.js';

/** What {@link openWorkspace} needs. */
export interface WorkspaceOptions {
  readonly images: ImageStore;
  readonly snapshotter: Snapshotter;
  readonly lease: ContentLease;
  /** A private temporary directory for mount points (removed by the caller). */
  readonly tmp: string;
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
}

/** Filesystem operations of one build. */
export interface Workspace {
  /** Makes sure `layers` exist as committed snapshots; returns the top ChainID. */
  ensure(layers: readonly CachedLayer[]): Promise<string | undefined>;
  /**
   * Mounts a writable snapshot on `layers`, runs `fn` on it, and turns what `fn` changed into a
   * layer (null when nothing changed). `fn` gets the mounted rootfs path.
   */
  change(
    layers: readonly CachedLayer[],
    fn: (rootfs: string) => Promise<void>,
  ): Promise<CachedLayer | null>;
  /** Mounts `layers` read-only for the duration of `fn`. */
  view<T>(layers: readonly CachedLayer[], fn: (rootfs: string) => Promise<T>): Promise<T>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the active snapshots and views of builds whose process died (`build-<kind>-<pid>-…`),
 * so a killed build leaves nothing a later one trips over.
 */
export async function removeAbandonedSteps(snapshotter: Snapshotter): Promise<string[]> {
  const abandoned: string[] = [];
  await snapshotter.walk((info) => {
    const m = /^build-(?:step|view)-(\d+)-/.exec(info.name);
    if (info.kind !== 'committed' && m !== null && !isAlive(Number(m[1]))) {
      abandoned.push(info.name);
    }
  });
  for (const key of abandoned) {
    await snapshotter.remove(key).catch(() => undefined);
  }
  return abandoned;
}

function uniqueKey(kind: string): string {
  return `build-${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Opens the workspace of one build. */
export function openWorkspace(options: WorkspaceOptions): Workspace {
  const { images, snapshotter, lease } = options;

  async function ensure(layers: readonly CachedLayer[]): Promise<string | undefined> {
    if (layers.length === 0) return undefined;
    const ids = chainIDs(layers.map((l) => l.diffID));
    await unpackImageLayers(
      snapshotter,
      layers.map((l, i) => ({
        chainID: ids[i]!,
        diffID: l.diffID,
        open: () => images.content.reader(l.descriptor.digest),
      })),
      options.signal === undefined ? {} : { signal: options.signal },
    );
    return ids[ids.length - 1];
  }

  async function mountPoint(): Promise<string> {
    const dir = path.join(options.tmp, randomBytes(6).toString('hex'));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async function writeBlob(set: Awaited<ReturnType<typeof overlayChanges>>): Promise<CachedLayer> {
    const writer = await images.content.writer({ ref: 'build-layer', lease });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        writer.write(chunk).then(() => {
          done();
        }, done);
      },
    });
    try {
      const created = await writeLayer(set, sink, {
        ...(options.sourceDateEpoch === undefined
          ? {}
          : { sourceDateEpoch: options.sourceDateEpoch }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      await writer.commit(created.size, created.digest).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
      await lease.add(created.digest);
      return {
        descriptor: { mediaType: created.mediaType, digest: created.digest, size: created.size },
        diffID: created.diffID,
      };
    } catch (err) {
      await writer.abort().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Drops directories overlayfs only copied up (as parents of a change, or for a mount point
   * that was removed again) with the same type, mode and owner as below: looked up in a union
   * view of the parent's layers, so the whole lower tree is never scanned.
   */
  async function withoutCopiedUpDirs(
    set: ChangeSet,
    parent: string | undefined,
  ): Promise<ChangeSet> {
    if (parent === undefined) return set;
    const lower = await openUnionView(await snapshotter.layerStack(parent), { format: 'overlay' });
    const kept: ChangeSet['changes'] = [];
    for (const change of set.changes) {
      const info = set.upper.entries.get(change.path);
      if (change.kind !== 'delete' && change.opaque !== true && info?.kind === 'dir') {
        const before = await lower.lookup(`/${change.path}`);
        if (
          before !== undefined &&
          before.type === 'dir' &&
          (before.mode & 0o7777) === (info.mode & 0o7777) &&
          before.uid === info.uid &&
          before.gid === info.gid &&
          Object.keys(info.xattrs).length === 0
        ) {
          continue;
        }
      }
      kept.push(change);
    }
    return { ...set, changes: kept };
  }

  return {
    ensure,
    async change(layers, fn) {
      const parent = await ensure(layers);
      const key = uniqueKey('step');
      const mounts = await snapshotter.prepare(key, parent, { labels: { 'lab.build': 'step' } });
      let committed = false;
      try {
        const rootfs = await mountPoint();
        await mountAll(mounts, rootfs);
        try {
          await fn(rootfs);
        } finally {
          await unmount(rootfs);
          await rm(rootfs, { recursive: true, force: true });
        }
        const upper = await snapshotter.writableDir(key);
        const set =
          snapshotter.layerFormat === 'overlay'
            ? await withoutCopiedUpDirs(await overlayChanges(upper), parent)
            : await diffTrees(
                parent === undefined ? undefined : await snapshotter.layerDir(parent),
                upper,
              );
        if (set.changes.length === 0) return null;
        const layer = await writeBlob(set);
        const ids = chainIDs([...layers.map((l) => l.diffID), layer.diffID]);
        try {
          await snapshotter.commit(ids[ids.length - 1]!, key);
          committed = true;
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
        return layer;
      } finally {
        if (!committed) {
          await snapshotter.remove(key).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
      }
    },
    async view(layers, fn) {
      const rootfs = await mountPoint();
      const parent = await ensure(layers);
      if (parent === undefined) {
        try {
          return await fn(rootfs);
        } finally {
          await rm(rootfs, { recursive: true, force: true });
        }
      }
      const key = uniqueKey('view');
      const mounts = await snapshotter.view(key, parent, { labels: { 'lab.build': 'view' } });
      try {
        await mountAll(mounts, rootfs);
        try {
          return await fn(rootfs);
        } finally {
          await unmount(rootfs);
        }
      } finally {
        await snapshotter.remove(key).catch(() => undefined);
        await rm(rootfs, { recursive: true, force: true });
      }
    },
  };
}
