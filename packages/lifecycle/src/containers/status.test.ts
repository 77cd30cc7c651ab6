import { isConflict, isFailedPrecondition } from '@lab/oci';
import { describe, expect, it } from 'vitest';
import type { ContainerOperation, ContainerStatus } from './status.js';
import { CONTAINER_OPERATIONS, CONTAINER_STATUSES, checkTransition, transition } from './status.js';

/** The legal transitions, written out: status → operation → resulting status. */
const LEGAL: Partial<
  Record<ContainerStatus, Partial<Record<ContainerOperation, ContainerStatus>>>
> = {
  created: { start: 'running', stop: 'created', remove: 'removing', exit: 'exited' },
  running: {
    start: 'running',
    stop: 'exited',
    kill: 'running',
    pause: 'paused',
    exec: 'running',
    'restart-policy': 'restarting',
    exit: 'exited',
  },
  paused: { stop: 'exited', kill: 'paused', unpause: 'running', exit: 'exited' },
  restarting: {
    start: 'restarting',
    stop: 'exited',
    'restart-policy': 'restarting',
    exit: 'exited',
  },
  exited: { start: 'running', stop: 'exited', remove: 'removing', exit: 'exited' },
  removing: { remove: 'removing', exit: 'removing' },
  dead: { remove: 'removing', exit: 'dead' },
};

describe('container state machine', () => {
  for (const from of CONTAINER_STATUSES) {
    for (const op of CONTAINER_OPERATIONS) {
      const expected = LEGAL[from]?.[op];
      it(`${from} + ${op} → ${expected ?? 'refused'}`, () => {
        const r = transition(from, op);
        if (expected === undefined) {
          expect(r.ok).toBe(false);
          expect(() => checkTransition('web', from, op)).toThrow(/^cannot .* container "web": /);
        } else {
          expect(r).toEqual({ ok: true, to: expected });
          expect(checkTransition('web', from, op)).toBe(expected);
        }
      });
    }
  }

  it("uses docker's wording for the common refusals", () => {
    const msg = (from: ContainerStatus, op: ContainerOperation) => {
      try {
        checkTransition('web', from, op);
      } catch (err) {
        return err;
      }
      throw new Error('not refused');
    };
    const rm = msg('running', 'remove');
    expect(isConflict(rm)).toBe(true);
    expect((rm as Error).message).toBe(
      'cannot remove container "web": container is running: stop the container before removing or force remove',
    );
    const pause = msg('exited', 'pause');
    expect(isFailedPrecondition(pause)).toBe(true);
    expect((pause as Error).message).toBe('cannot pause container "web": container is not running');
    expect((msg('paused', 'pause') as Error).message).toBe(
      'cannot pause container "web": container is already paused',
    );
    expect((msg('running', 'unpause') as Error).message).toBe(
      'cannot unpause container "web": container is not paused',
    );
    expect((msg('created', 'kill') as Error).message).toBe(
      'cannot kill container "web": container is not running',
    );
  });
});
