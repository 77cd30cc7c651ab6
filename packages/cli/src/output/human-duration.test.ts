import { describe, expect, it } from 'vitest';
import { humanDuration, timeAgo } from './human-duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration (go-units HumanDuration)', () => {
  it.each([
    [500, 'Less than a second'],
    [S, '1 second'],
    [47 * S, '47 seconds'],
    [M, 'About a minute'],
    [59 * M, '59 minutes'],
    [H, 'About an hour'],
    [90 * M, '2 hours'],
    [47 * H, '47 hours'],
    [3 * D, '3 days'],
    [20 * D, '2 weeks'],
    [90 * D, '3 months'],
    [800 * D, '2 years'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
  it('adds "ago" and says N/A for an unknown time', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(timeAgo('2026-01-01T10:00:00Z', now)).toBe('2 hours ago');
    expect(timeAgo(undefined, now)).toBe('N/A');
    expect(timeAgo('0001-01-01T00:00:00Z', now)).toBe('N/A');
    expect(timeAgo('2000-01-01T00:00:00Z', now)).toBe('26 years ago');
  });
});
