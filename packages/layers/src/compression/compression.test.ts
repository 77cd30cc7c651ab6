import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import { hasTool } from '../tar/fixture-tree.js';
import { compressStream, decompressedStream, detectCompression } from './index.js';

const payload = Buffer.alloc(1_000_000);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 10)) & 0xff;

function chunked(data: Buffer, size = 10_000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('compression', () => {
  it('detects gzip, zstd and plain by magic', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('ustar'))).toBe('none');
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
  });

  it('passes plain data through unchanged, even in 1-byte first chunks', async () => {
    const parts = [payload.subarray(0, 1), payload.subarray(1, 2), payload.subarray(2)];
    const d = decompressedStream(Readable.from(parts));
    expect((await collect(d.stream)).equals(payload)).toBe(true);
    expect(await d.compression).toBe('none');
  });

  it('round-trips gzip and matches gzip(1)', async () => {
    const gz = compressStream('gzip');
    const compressed = collect(gz);
    gz.end(payload);
    const bytes = await compressed;
    expect(
      execFileSync('gzip', ['-dc'], { input: bytes, maxBuffer: 1 << 24 }).equals(payload),
    ).toBe(true);
    const d = decompressedStream(chunked(bytes, 777));
    expect((await collect(d.stream)).equals(payload)).toBe(true);
    expect(await d.compression).toBe('gzip');
  });

  it('is reproducible: the same input gives the same gzip bytes', async () => {
    const once = async (): Promise<Buffer> => {
      const gz = compressStream('gzip');
      const out = collect(gz);
      gz.end(payload);
      return out;
    };
    expect((await once()).equals(await once())).toBe(true);
  });

  it.skipIf(!hasTool('zstd'))('reads zstd written by the zstd CLI', async () => {
    const bytes = execFileSync('zstd', ['-c', '-q', '-3'], { input: payload, maxBuffer: 1 << 24 });
    const d = decompressedStream(chunked(bytes, 1000));
    expect((await collect(d.stream)).equals(payload)).toBe(true);
    expect(await d.compression).toBe('zstd');
  });

  it('rejects corrupt gzip with invalid-argument', async () => {
    const bytes = Buffer.from(gzipSync(payload));
    for (let i = 100; i < 200; i++) bytes[i] = bytes[i]! ^ 0xa5;
    const err = await collect(decompressedStream(chunked(bytes)).stream).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(/gzip stream is corrupt/);
  });

  it('rejects truncated gzip and truncated zstd', async () => {
    const gz = gzipSync(payload);
    const err = await collect(
      decompressedStream(chunked(gz.subarray(0, gz.length / 2))).stream,
    ).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    if (hasTool('zstd')) {
      const zs = execFileSync('zstd', ['-c', '-q'], { input: payload, maxBuffer: 1 << 24 });
      const err2 = await collect(
        decompressedStream(chunked(zs.subarray(0, zs.length / 2))).stream,
      ).catch((e: unknown) => e);
      expect(isInvalidArgument(err2)).toBe(true);
      expect((err2 as Error).message).toMatch(/zstd stream is corrupt or truncated/);
    }
  });
});
