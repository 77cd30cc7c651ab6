/**
 * Host process facts from /proc. Node has no pidfd, so a pid is identified by pid + start
 * time (field 22 of /proc/<pid>/stat, clock ticks since boot), as crun does: a pid whose
 * start time differs is a reused pid, not our process.
 */
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { invalidArgument } from '@lab/oci';

const osSignals = constants.signals;

/** Start time and state of `pid`, or undefined when there is no such process. */
export async function processStat(
  pid: number,
): Promise<{ startTime: number; state: string; ppid: number } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '?';
  return { state, ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

/** Whether `pid` is alive (not a zombie) and still the process that started at `startTime`. */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  if (pid <= 0) return false;
  const stat = await processStat(pid);
  return (
    stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X'
  );
}

/** The children of `pid` (from /proc/<pid>/task/<pid>/children). */
export async function childrenOf(pid: number): Promise<number[]> {
  try {
    return (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8'))
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Signal number of a name (`SIGTERM`, `TERM`) or number. */
export function signalNumber(signal: number | string): number {
  if (typeof signal === 'number') return signal;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`).toUpperCase();
  const n = (osSignals as Record<string, number | undefined>)[name];
  if (n === undefined) {
    throw invalidArgument(
      `unknown signal "${signal}": use a name such as SIGTERM or KILL, or a number`,
    );
  }
  return n;
}

/** Signal name of a number, when known. */
export function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, value] of Object.entries(osSignals))
    if (value === n) return name as NodeJS.Signals;
  return undefined;
}
