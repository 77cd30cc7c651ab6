import { describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import { renderRows } from './format.js';

const spec = {
  defaultTable: 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}',
  headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID' },
};
const rows = [
  { Repository: 'busybox', Tag: 'latest', ID: 'abc', Labels: { a: '1' }, Names: ['x', 'y'] },
];

describe('renderRows (docker --format)', () => {
  it('prints the default table with headers', () => {
    expect(renderRows(undefined, rows, spec)).toBe(
      'REPOSITORY   TAG       IMAGE ID\nbusybox      latest    abc\n',
    );
  });
  it('prints one JSON object per line for json', () => {
    expect(JSON.parse(renderRows('json', rows, spec))).toMatchObject({ Repository: 'busybox' });
  });
  it('executes a plain template per row without header', () => {
    expect(renderRows('{{.Repository}}:{{.Tag}}', rows, spec)).toBe('busybox:latest\n');
    expect(renderRows('{{json .Labels}} {{join .Names ","}} {{upper .Tag}}', rows, spec)).toBe(
      '{"a":"1"} x,y LATEST\n',
    );
    expect(renderRows('{{truncate .Repository 3}}', rows, spec)).toBe('bus\n');
  });
  it('renders a custom table with a header row', () => {
    expect(renderRows('table {{.ID}}\\t{{.Tag}}', rows, spec)).toBe(
      'IMAGE ID   TAG\nabc        latest\n',
    );
  });
  it('names an unknown field or function', () => {
    expect(() => renderRows('{{.Nope}}', rows, spec)).toThrow(/can't evaluate field Nope/);
    try {
      renderRows('{{frob .ID}}', rows, spec);
    } catch (err) {
      expect(isInvalidArgument(err)).toBe(true);
    }
  });
});
