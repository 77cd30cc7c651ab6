/**
 * An exclusive cross-process lock around a read-modify-write, built on proper-lockfile.
 *
 * Why proper-lockfile rather than an `O_EXCL` lock file: it takes the lock with `mkdir`
 * (atomic on every local file system and on NFS) and keeps refreshing the lock directory's
 * mtime while the holder is alive. A holder that crashed stops refreshing, so after `stale`
 * milliseconds any waiter takes the lock over: no pid files, which would be wrong across pid
 * namespaces, reboots and hosts. Node has no flock(2), which would be the other sound choice.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { unavailable } from '@lab/oci';

export interface LockOptions {
  /** A lock not refreshed for this long belongs to a dead process and is taken over (ms). */
  staleMs?: number;
  /** Give up waiting after about this long (ms); default 60 s. */
  waitMs?: number;
  /** Stops waiting for the lock. */
  signal?: AbortSignal;
}

const DEFAULT_STALE_MS = 10_000;
const DEFAULT_WAIT_MS = 60_000;
const RETRY_DELAY_MS = 25;

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` while holding the lock at `lockPath` (a directory proper-lockfile creates), waiting
 * for other holders in this or other processes. Throws `unavailable` when the wait times out,
 * and when the lock was lost (taken over as stale) while `fn` ran.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  await mkdir(dirname(lockPath), { recursive: true });
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      release = await lockfile.lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, Math.floor(staleMs / 2)),
        retries: 0,
        onCompromised: (err) => {
          compromised = err;
        },
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (Date.now() >= deadline) {
        throw unavailable(
          `${lockPath} is held by another lab process; wait for it to finish, or remove the directory if no lab process is running`,
          { cause: err, details: { lock: lockPath } },
        );
      }
      await delay(RETRY_DELAY_MS + Math.floor(Math.random() * RETRY_DELAY_MS), options.signal);
    }
  }
  try {
    const result = await fn();
    if (compromised !== undefined) {
      throw unavailable(
        `lost the lock ${lockPath} while working (${compromised.message}); retry the command`,
        { cause: compromised, details: { lock: lockPath } },
      );
    }
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}
