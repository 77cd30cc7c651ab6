/**
 * docker's restart manager: whether to restart after an exit, and the back-off (100 ms,
 * doubling after each restart, back to 100 ms after a run of 10 s or more, at most 1 min).
 */
import { invalidArgument } from '@lab/oci';
import type { RestartPolicy } from '../containers/types.js';

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** `no`, `always`, `unless-stopped`, `on-failure[:N]`. */
export function parseRestartPolicy(value: string): RestartPolicy {
  const [name, count] = value.split(':', 2) as [string, string | undefined];
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== undefined) {
        throw invalidArgument(`maximum retry count cannot be used with restart policy '${name}'`);
      }
      return { Name: name === '' ? 'no' : name, MaximumRetryCount: 0 };
    case 'on-failure': {
      if (count !== undefined && !/^[0-9]+$/.test(count)) {
        throw invalidArgument(
          `invalid restart policy format: maximum retry count must be an integer`,
        );
      }
      return { Name: 'on-failure', MaximumRetryCount: count === undefined ? 0 : Number(count) };
    }
    default:
      throw invalidArgument(
        `invalid restart policy '${value}': use no, always, unless-stopped or on-failure[:max-retries]`,
      );
  }
}

/** Whether the container restarts after exiting with `exitCode`. */
export function shouldRestart(
  policy: RestartPolicy,
  exitCode: number,
  restartCount: number,
  manuallyStopped: boolean,
): boolean {
  if (manuallyStopped) return false;
  switch (policy.Name) {
    case 'no':
      return false;
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return (
        exitCode !== 0 &&
        (policy.MaximumRetryCount === 0 || restartCount < policy.MaximumRetryCount)
      );
  }
}

/** The next back-off delay after a run of `ranMs` that followed a delay of `previousMs`. */
export function nextBackoff(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= BACKOFF_RESET_AFTER_MS) return BACKOFF_START_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}
