import { describe, expect, it } from 'vitest';
import { bytesSize, formatGoG, humanSize } from './human-size.js';

describe('humanSize (docker go-units HumanSizeWithPrecision(_, 3))', () => {
  it.each([
    [0, '0B'],
    [512, '512B'],
    [1000, '1kB'],
    [1088026, '1.09MB'],
    [4261888, '4.26MB'],
    [2_100_000, '2.1MB'],
    [999_999, '1e+03kB'],
    [1_000_000_000, '1GB'],
    [123_456_789_012, '123GB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
  it('binary sizes like BytesSize', () => {
    expect(bytesSize(1536)).toBe('1.5KiB');
    expect(bytesSize(4 * 1024 * 1024)).toBe('4MiB');
  });
  it('formats %g like Go', () => {
    expect(formatGoG(0.00001234, 3)).toBe('1.23e-05');
    expect(formatGoG(12.5, 3)).toBe('12.5');
    expect(formatGoG(100, 3)).toBe('100');
  });
});
