/**
 * Leases (containerd's idea): a process that is writing blobs it has not yet referenced from
 * `index.json` (a pull, a load, a build) holds a lease naming them, and gc treats leased
 * blobs as roots. A lease is a file `<root>/leases/<id>.json`; a process that crashed leaves
 * it behind, and gc ignores and removes leases not touched for `maxAgeMs` (default 6 h).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '@lab/oci';
import { writeFileAtomic } from '../fs/atomic-write.js';

/** How long a lease may go untouched before gc considers its holder dead. */
export const DEFAULT_LEASE_MAX_AGE_MS = 6 * 60 * 60 * 1000;

export interface Lease {
  readonly id: string;
  /** Protects these blobs from gc until the lease is released (also refreshes the lease). */
  add(...digests: Digest[]): Promise<void>;
  /** Drops the lease; its blobs are collectable again unless referenced. */
  release(): Promise<void>;
}

function leasesDir(root: string): string {
  return join(root, 'leases');
}

/** Starts a lease. */
export async function createLease(root: string): Promise<Lease> {
  const id = randomBytes(12).toString('hex');
  const file = join(leasesDir(root), `${id}.json`);
  const digests = new Set<Digest>();
  const save = (): Promise<void> =>
    writeFileAtomic(file, JSON.stringify({ digests: [...digests] }));
  await save();
  return {
    id,
    async add(...more) {
      for (const d of more) digests.add(d);
      await save();
    },
    async release() {
      await rm(file, { force: true });
    },
  };
}

/** Runs `fn` with a lease that is released afterwards, whatever happens. */
export async function withLease<T>(root: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = await createLease(root);
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}

/** The digests of live leases, and the ids of leases older than `maxAgeMs` (which are removed). */
export async function collectLeases(
  root: string,
  maxAgeMs: number = DEFAULT_LEASE_MAX_AGE_MS,
  now: number = Date.now(),
): Promise<{ digests: Set<Digest>; expired: string[] }> {
  const digests = new Set<Digest>();
  const expired: string[] = [];
  let names: string[];
  try {
    names = await readdir(leasesDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { digests, expired };
    throw err;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue; // temp files of an atomic write in progress
    const file = join(leasesDir(root), name);
    const st = await stat(file).catch(() => undefined);
    if (st === undefined) continue;
    if (now - st.mtimeMs > maxAgeMs) {
      expired.push(name.slice(0, -'.json'.length));
      await rm(file, { force: true });
      continue;
    }
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { digests?: unknown };
      if (Array.isArray(parsed.digests)) {
        for (const d of parsed.digests) if (typeof d === 'string' && isDigest(d)) digests.add(d);
      }
    } catch {
      // Unreadable: vanished or being replaced; its holder is alive, so be safe and keep going.
    }
  }
  return { digests, expired };
}
