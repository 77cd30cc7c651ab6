import { describe, expect, it } from 'vitest';
import { resolveRoot } from './root-dir.js';

describe('resolveRoot', () => {
  it('prefers --root over LAB_ROOT', () => {
    expect(resolveRoot('/a', { LAB_ROOT: '/b' }, 0)).toBe('/a');
  });
  it('uses LAB_ROOT when no flag is given', () => {
    expect(resolveRoot(undefined, { LAB_ROOT: '/b' }, 0)).toBe('/b');
  });
  it('defaults to /var/lib/lab for root', () => {
    expect(resolveRoot(undefined, {}, 0)).toBe('/var/lib/lab');
  });
  it('uses XDG_DATA_HOME for other users', () => {
    expect(resolveRoot(undefined, { XDG_DATA_HOME: '/home/u/.data' }, 1000)).toBe(
      '/home/u/.data/lab',
    );
  });
});
