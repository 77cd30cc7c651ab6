import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StreamDigest } from './stream-digest.js';

const data = Buffer.alloc(3_000_000);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
const expected = `sha256:${createHash('sha256').update(data).digest('hex')}`;

function feed(d: StreamDigest, chunk: number): void {
  for (let i = 0; i < data.length; i += chunk) d.update(data.subarray(i, i + chunk));
}

describe('StreamDigest', () => {
  it('hashes small streams inline', async () => {
    const d = new StreamDigest({ threshold: 10_000_000 });
    feed(d, 65_536);
    expect(await d.digest()).toBe(expected);
    expect(d.size).toBe(data.length);
  });

  it.each(['openssl', 'worker'] as const)(
    'hands big streams to a helper (%s) and gives the same digest',
    async (helper) => {
      const d = new StreamDigest({ threshold: 100_000, helper });
      feed(d, 4_099);
      expect(await d.digest()).toBe(expected);
      expect(d.size).toBe(data.length);
    },
  );

  it.each(['openssl', 'worker'] as const)('close() stops the %s helper', async (helper) => {
    const d = new StreamDigest({ threshold: 1000, helper });
    feed(d, 10_000);
    await d.close();
  });
});
