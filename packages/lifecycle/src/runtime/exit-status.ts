/**
 * Waiting for a container's exit, shared by the runtimes: the keeper (parent of the
 * container's init) exits with the container's status and writes it to an exit file first.
 */
import { readFile } from 'node:fs/promises';
import type { Cgroup } from '../cgroups/cgroup.js';
import { isSameProcessAlive, signalName } from './process-info.js';
import type { ExitStatus } from './runtime.js';
import type { ContainerRecord } from './state-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The status encoded in a shell-style code (128 + n = killed by signal n). */
export function exitStatusFromCode(
  code: number,
  oomKilled: boolean,
  finishedAt = new Date(),
): ExitStatus {
  const signal = code > 128 && code < 128 + 65 ? signalName(code - 128) : undefined;
  return {
    exitCode: code,
    ...(signal === undefined ? {} : { signal }),
    oomKilled,
    finishedAt: finishedAt.toISOString(),
  };
}

/** Reads the exit file, if written. */
export async function readExitFile(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the keeper of `record` is gone (`local`: the in-process exit event when this
 * process spawned it; otherwise polling the keeper pid + start time), then reads the exit file
 * and the cgroup's OOM count.
 */
export async function waitForExit(
  record: ContainerRecord,
  cgroup: Cgroup | undefined,
  local: Promise<unknown> | undefined,
  signal?: AbortSignal,
): Promise<ExitStatus> {
  if (local !== undefined) {
    await local;
  } else {
    while (await isSameProcessAlive(record.keeperPid, record.keeperStartTime)) {
      signal?.throwIfAborted();
      await sleep(50);
    }
  }
  let code = await readExitFile(record.exitFile);
  for (let i = 0; code === undefined && i < 10; i++) {
    // the keeper writes the file just before it exits; a killed keeper never does
    await sleep(10);
    code = await readExitFile(record.exitFile);
  }
  const events =
    cgroup === undefined ? undefined : await cgroup.memoryEvents().catch(() => undefined);
  return exitStatusFromCode(code ?? -1, (events?.oomKills ?? 0) > 0);
}
