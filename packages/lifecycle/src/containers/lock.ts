/**
 * A cross-process lock per container (and one for the name table), as a directory created
 * with mkdir(2) — atomic on any local file system — holding `owner` = `<pid> <start time>`.
 * A waiter that finds the owner dead (pid gone, or reused: start time differs) takes the lock
 * over, so a `lab` killed with SIGKILL never blocks the next command. Node has no flock(2).
 * Re-entrant within one async call chain (AsyncLocalStorage), so an operation that holds a
 * container's lock can call another that takes it; concurrent chains in one process wait.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unavailable } from '@lab/oci';
import { isSameProcessAlive, processStat } from '../runtime/process-info.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The locks the current async call chain holds: taking one of them again is re-entrant. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

let ownStartTime: number | undefined;

async function selfStartTime(): Promise<number> {
  ownStartTime ??= (await processStat(process.pid))?.startTime ?? 0;
  return ownStartTime;
}

/** What a waiter makes of a lock directory it could not create. */
async function ownerAlive(lockDir: string): Promise<{ alive: boolean; owner: string }> {
  let text = '';
  try {
    text = await readFile(join(lockDir, 'owner'), 'utf8');
  } catch {
    // no owner file yet: see below
  }
  const [pid, start] = text.trim().split(' ').map(Number);
  if (pid === undefined || start === undefined || !pid || Number.isNaN(start)) {
    // between mkdir and a complete owner write (the file may exist and still be empty), or a
    // holder that died right there: young lock directories count as held
    try {
      const st = await stat(lockDir);
      return { alive: Date.now() - st.mtimeMs < 2000, owner: text };
    } catch {
      return { alive: false, owner: text };
    }
  }
  return { alive: await isSameProcessAlive(pid, start), owner: text };
}

/** Removes a lock whose owner is dead, unless someone took it over since we looked. */
async function removeStale(lockDir: string, staleOwner: string): Promise<void> {
  const now = await readFile(join(lockDir, 'owner'), 'utf8').catch(() => '');
  if (now === staleOwner) await rm(lockDir, { recursive: true, force: true });
}

/** Runs `fn` holding the lock directory `lockDir` (created next to what it guards). */
export async function withFileLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  options: { waitMs?: number } = {},
): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(lockDir) === true) return fn();
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  const owner = `${process.pid} ${await selfStartTime()}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await ownerAlive(lockDir);
    if (!seen.alive) {
      await removeStale(lockDir, seen.owner);
      continue;
    }
    if (Date.now() > deadline) {
      throw unavailable(
        `timed out waiting for the lock ${lockDir}: another lab process holds it; retry, or remove the directory if no lab process is running`,
        { details: { lock: lockDir } },
      );
    }
    await sleep(Math.min(5 + attempt * 2, 50));
  }
  try {
    await writeFile(join(lockDir, 'owner'), owner);
    return await held.run(new Set([...(mine ?? []), lockDir]), fn);
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
