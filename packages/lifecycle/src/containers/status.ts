/**
 * The container state machine (docker's statuses, youki/podman's guarded transitions):
 *
 *     created ──start──▶ running ◀──unpause── paused
 *        │                 │  ╲──pause──────────▲
 *        │                 │ exit / stop / kill
 *        │                 ▼
 *        │             restarting ──(back-off elapsed)──▶ running
 *        │                 │ stop
 *        ▼                 ▼
 *      removing ◀──rm── exited ──start──▶ running
 *        │
 *        ▼
 *     (removed: the directory is gone)
 *
 * Every operation is checked against the current status with {@link checkTransition}; an
 * illegal one throws failed-precondition with docker's wording, naming the container and the
 * state that forbids it.
 */
import { conflict, failedPrecondition } from '@lab/oci';

/** docker's `State.Status` values (`dead` is a container whose removal failed halfway). */
export type ContainerStatus =
  'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';

/** What a user or the monitor asks of a container. */
export type ContainerOperation =
  'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'remove' | 'exec' | 'restart-policy' | 'exit';

/** The status an operation leads to, or the reason it is refused. */
export type TransitionResult =
  | { ok: true; to: ContainerStatus }
  | { ok: false; reason: string; kind: 'precondition' | 'conflict' };

function refuse(
  reason: string,
  kind: 'precondition' | 'conflict' = 'precondition',
): TransitionResult {
  return { ok: false, reason, kind };
}

function to(status: ContainerStatus): TransitionResult {
  return { ok: true, to: status };
}

/**
 * The transition table. `exit` is what the monitor records when the process ends,
 * `restart-policy` is the monitor restarting it. `remove` here is the plain (not forced) one;
 * a forced remove kills first.
 */
export function transition(from: ContainerStatus, op: ContainerOperation): TransitionResult {
  switch (op) {
    case 'start':
      switch (from) {
        case 'created':
        case 'exited':
          return to('running');
        case 'running':
        case 'restarting':
          return to(from); // docker: starting a running container is a no-op
        case 'paused':
          return refuse('cannot start a paused container, try unpause instead');
        case 'removing':
        case 'dead':
          return refuse(`container is marked for removal and cannot be started`);
      }
      break;
    case 'stop':
      switch (from) {
        case 'running':
        case 'paused':
        case 'restarting':
          return to('exited');
        case 'created':
        case 'exited':
          return to(from); // docker: stopping a stopped container succeeds
        case 'removing':
        case 'dead':
          return refuse('container is marked for removal');
      }
      break;
    case 'kill':
      switch (from) {
        case 'running':
        case 'paused':
          return to(from); // the exit is recorded by the monitor
        case 'restarting':
          return refuse('container is restarting, wait until the container is running');
        case 'created':
        case 'exited':
        case 'removing':
        case 'dead':
          return refuse('container is not running');
      }
      break;
    case 'pause':
      switch (from) {
        case 'running':
          return to('paused');
        case 'paused':
          return refuse('container is already paused');
        case 'restarting':
          return refuse('container is restarting, wait until the container is running');
        case 'created':
        case 'exited':
        case 'removing':
        case 'dead':
          return refuse('container is not running');
      }
      break;
    case 'unpause':
      switch (from) {
        case 'paused':
          return to('running');
        case 'running':
        case 'restarting':
        case 'created':
        case 'exited':
        case 'removing':
        case 'dead':
          return refuse('container is not paused');
      }
      break;
    case 'remove':
      switch (from) {
        case 'created':
        case 'exited':
        case 'dead':
        case 'removing':
          return to('removing');
        case 'running':
          return refuse(
            'container is running: stop the container before removing or force remove',
            'conflict',
          );
        case 'paused':
          return refuse(
            'container is paused and must be unpaused first: stop the container before removing or force remove',
            'conflict',
          );
        case 'restarting':
          return refuse(
            'container is restarting: stop the container before removing or force remove',
            'conflict',
          );
      }
      break;
    case 'exec':
      switch (from) {
        case 'running':
          return to(from);
        case 'paused':
          return refuse('container is paused, unpause the container before exec');
        case 'restarting':
          return refuse('container is restarting, wait until the container is running');
        case 'created':
        case 'exited':
        case 'removing':
        case 'dead':
          return refuse('container is not running');
      }
      break;
    case 'restart-policy':
      switch (from) {
        case 'running':
        case 'restarting':
          return to('restarting');
        case 'paused':
        case 'created':
        case 'exited':
        case 'removing':
        case 'dead':
          return refuse('container is not running');
      }
      break;
    case 'exit':
      switch (from) {
        case 'running':
        case 'paused':
        case 'restarting':
        case 'exited':
          return to('exited');
        case 'created':
          return to('exited');
        case 'removing':
        case 'dead':
          return to(from);
      }
      break;
  }
  // unreachable with the exhaustive switches above; keeps the return type honest
  return refuse(`unknown operation ${op as string}`);
}

const VERB: Record<ContainerOperation, string> = {
  start: 'start',
  stop: 'stop',
  kill: 'kill',
  pause: 'pause',
  unpause: 'unpause',
  remove: 'remove',
  exec: 'exec in',
  'restart-policy': 'restart',
  exit: 'record the exit of',
};

/**
 * The status `op` leads to from `from`; throws failed-precondition (conflict for a remove)
 * with docker's message: `cannot remove container "web": container is running: stop the
 * container before removing or force remove`.
 */
export function checkTransition(
  name: string,
  from: ContainerStatus,
  op: ContainerOperation,
): ContainerStatus {
  const result = transition(from, op);
  if (result.ok) return result.to;
  const message = `cannot ${VERB[op]} container "${name}": ${result.reason}`;
  const options = { details: { container: name, status: from, operation: op } };
  throw result.kind === 'conflict'
    ? conflict(message, options)
    : failedPrecondition(message, options);
}

/** Every status, for exhaustive tests and filters. */
export const CONTAINER_STATUSES: readonly ContainerStatus[] = [
  'created',
  'running',
  'paused',
  'restarting',
  'exited',
  'removing',
  'dead',
];

/** Every operation. */
export const CONTAINER_OPERATIONS: readonly ContainerOperation[] = Object.keys(
  VERB,
) as ContainerOperation[];
