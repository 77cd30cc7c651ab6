import { describe, expect, it } from 'vitest';
import { alignTabs, formatTable } from './tab-writer.js';

describe('formatTable (tabwriter 10,1,3,space)', () => {
  it('pads every column but the last to max(10, widest + 3)', () => {
    const out = formatTable([
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      ['busybox', 'latest', '0123456789ab', '26 years ago', '2.1MB'],
    ]);
    expect(out).toBe(
      'REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\n' +
        'busybox      latest    0123456789ab   26 years ago   2.1MB\n',
    );
  });
  it('does not pad the last cell and handles empty input', () => {
    expect(formatTable([])).toBe('');
    expect(alignTabs('a\tb\n')).toBe('a         b\n');
  });
});
