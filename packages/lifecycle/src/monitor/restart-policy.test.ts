import { isInvalidArgument } from '@lab/oci';
import { describe, expect, it } from 'vitest';
import { nextBackoff, parseRestartPolicy, shouldRestart } from './restart-policy.js';

describe('restart policies', () => {
  it('parses docker policy strings', () => {
    expect(parseRestartPolicy('no')).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(parseRestartPolicy('always')).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    expect(parseRestartPolicy('unless-stopped')).toEqual({
      Name: 'unless-stopped',
      MaximumRetryCount: 0,
    });
    expect(parseRestartPolicy('on-failure')).toEqual({ Name: 'on-failure', MaximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure:2')).toEqual({
      Name: 'on-failure',
      MaximumRetryCount: 2,
    });
    for (const bad of ['sometimes', 'always:3', 'on-failure:x']) {
      expect(() => parseRestartPolicy(bad)).toThrow();
      try {
        parseRestartPolicy(bad);
      } catch (err) {
        expect(isInvalidArgument(err)).toBe(true);
      }
    }
  });

  it('on-failure:2 restarts failures twice, never successes', () => {
    const p = parseRestartPolicy('on-failure:2');
    expect(shouldRestart(p, 1, 0, false)).toBe(true);
    expect(shouldRestart(p, 1, 1, false)).toBe(true);
    expect(shouldRestart(p, 1, 2, false)).toBe(false);
    expect(shouldRestart(p, 0, 0, false)).toBe(false);
  });

  it('a manual stop disables every policy', () => {
    for (const name of ['always', 'unless-stopped', 'on-failure']) {
      expect(shouldRestart(parseRestartPolicy(name), 1, 0, true)).toBe(false);
    }
    expect(shouldRestart(parseRestartPolicy('always'), 0, 100, false)).toBe(true);
    expect(shouldRestart(parseRestartPolicy('no'), 1, 0, false)).toBe(false);
  });

  it('doubles the back-off from 100 ms and resets it after 10 s of running', () => {
    let d = nextBackoff(undefined, 0);
    expect(d).toBe(100);
    d = nextBackoff(d, 50);
    expect(d).toBe(200);
    d = nextBackoff(d, 50);
    expect(d).toBe(400);
    expect(nextBackoff(d, 10_000)).toBe(100);
    expect(nextBackoff(40_000, 1)).toBe(60_000);
  });
});
