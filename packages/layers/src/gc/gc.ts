/**
 * Garbage collection of the content store: mark from `index.json` (every entry, named or
 * dangling), live leases and caller-supplied roots; sweep every other blob; remove ingest
 * leftovers of crashed writers; hand the set of still-needed snapshot keys (ChainIDs) to the
 * snapshot owner's sweep. Mark and sweep run under the index lock, so no lab process changes
 * the names in between. Idempotent: a sweep that died halfway is finished by the next run.
 */
import { readIndex, withIndexLock } from '../images/index-file.js';
import type { ImageStore } from '../images/image-store.js';
import type { Digest } from '@lab/oci';
import { isNotFound } from '@lab/oci';
import { collectLeases, DEFAULT_LEASE_MAX_AGE_MS } from './lease.js';
import { markReachable } from './mark.js';

/** Extra roots: blobs and snapshot keys someone still uses (containers, builds…). */
export interface GcRoots {
  blobs?: Iterable<Digest>;
  snapshots?: Iterable<string>;
}

/** A hook through which another owner (containers, builder) contributes roots at gc time. */
export type GcReferences = () => GcRoots | Promise<GcRoots>;

export interface GcOptions {
  /** Roots given directly. */
  extraRoots?: GcRoots;
  /** Roots contributed by other owners, asked at gc time (under the index lock). */
  references?: readonly GcReferences[];
  /** Ingest files untouched for this long are leftovers of crashed writers (default 30 min). */
  ingestMaxAgeMs?: number;
  /** Leases untouched for this long belong to dead processes (default 6 h). */
  leaseMaxAgeMs?: number;
  /**
   * The snapshot owner's sweep: gets the snapshot keys (ChainIDs) still referenced by images
   * and roots, removes the others, returns what it removed.
   */
  sweepSnapshots?: (keep: ReadonlySet<string>) => Promise<readonly string[]>;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
  /** Called after each blob is removed. */
  onRemove?: (digest: Digest, size: number) => void;
  signal?: AbortSignal;
}

export interface GcResult {
  removedBlobs: { digest: Digest; size: number }[];
  reclaimedBytes: number;
  /** Ingest files (refs) removed. */
  removedIngests: string[];
  /** Expired leases removed. */
  expiredLeases: string[];
  /** Snapshot keys still referenced (ChainIDs of images, plus extra snapshot roots). */
  keptSnapshots: ReadonlySet<string>;
  /** What `sweepSnapshots` removed. */
  removedSnapshots: readonly string[];
}

const DEFAULT_INGEST_MAX_AGE_MS = 30 * 60 * 1000;

/** Runs a full mark-and-sweep over the store of `images`. */
export async function gc(images: ImageStore, options: GcOptions = {}): Promise<GcResult> {
  const { root, content } = images;
  const now = Date.now();
  return withIndexLock(root, async () => {
    const index = await readIndex(root);
    const leases =
      options.dryRun === true
        ? { digests: new Set<Digest>(), expired: [] }
        : await collectLeases(root, options.leaseMaxAgeMs ?? DEFAULT_LEASE_MAX_AGE_MS, now);
    const extraBlobs = new Set<Digest>([...(options.extraRoots?.blobs ?? []), ...leases.digests]);
    const extraSnapshots = new Set<string>(options.extraRoots?.snapshots ?? []);
    for (const hook of options.references ?? []) {
      const roots = await hook();
      for (const d of roots.blobs ?? []) extraBlobs.add(d);
      for (const s of roots.snapshots ?? []) extraSnapshots.add(s);
    }
    const marked = await markReachable(
      content,
      { descriptors: index.manifests, digests: extraBlobs },
      options.signal,
    );

    const removedBlobs: { digest: Digest; size: number }[] = [];
    for await (const info of content.walk((i) => !marked.blobs.has(i.digest))) {
      options.signal?.throwIfAborted();
      if (options.dryRun !== true) {
        try {
          await content.delete(info.digest);
        } catch (err) {
          if (!isNotFound(err)) throw err; // removed meanwhile by another gc: fine
        }
        options.onRemove?.(info.digest, info.size);
      }
      removedBlobs.push({ digest: info.digest, size: info.size });
    }

    const removedIngests: string[] = [];
    const maxAge = options.ingestMaxAgeMs ?? DEFAULT_INGEST_MAX_AGE_MS;
    for (const ingest of await content.ingests()) {
      if (now - ingest.updatedAt.getTime() <= maxAge) continue;
      if (options.dryRun !== true) await content.removeIngest(ingest.ref);
      removedIngests.push(ingest.ref);
    }

    const keptSnapshots = new Set<string>([...marked.chainIDs, ...extraSnapshots]);
    const removedSnapshots =
      options.sweepSnapshots === undefined || options.dryRun === true
        ? []
        : await options.sweepSnapshots(keptSnapshots);

    return {
      removedBlobs,
      reclaimedBytes: removedBlobs.reduce((sum, b) => sum + b.size, 0),
      removedIngests,
      expiredLeases: leases.expired,
      keptSnapshots,
      removedSnapshots,
    };
  });
}

/**
 * The snapshot keys (ChainIDs) still referenced by the images in `index.json` (every
 * platform present in the store), so a snapshot gc can remove the rest.
 */
export async function referencedChainIDs(images: ImageStore): Promise<Set<string>> {
  const index = await readIndex(images.root);
  return (await markReachable(images.content, { descriptors: index.manifests })).chainIDs;
}
