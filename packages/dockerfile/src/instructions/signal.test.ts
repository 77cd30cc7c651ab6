import { describe, expect, it } from 'vitest';
import { parseSignal } from './signal.js';

describe('STOPSIGNAL values', () => {
  it.each([
    ['SIGTERM', 15],
    ['term', 15],
    ['SIGKILL', 9],
    ['9', 9],
    ['SIGRTMIN', 34],
    ['SIGRTMIN+2', 36],
    ['RTMAX-1', 63],
    ['sigwinch', 28],
  ])('%s is %i', (raw, n) => {
    expect(parseSignal(raw)).toBe(n);
  });

  it.each(['0', 'SIGFOO', 'SIGRTMIN+16', '', 'TERM '])('rejects %j', (raw) => {
    expect(() => parseSignal(raw)).toThrow(`Invalid signal: ${raw}`);
  });
});
