import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DigestStream, parseDigest, sha256, isDigest, blobPath } from './digest.js';
import { isInvalidArgument } from './errors.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('digest', () => {
  it('hashes the empty input to the well-known sha256', () => {
    expect(sha256('')).toBe(EMPTY);
  });
  it('parses algorithm and encoded part', () => {
    expect(parseDigest(EMPTY)).toEqual({ algorithm: 'sha256', encoded: EMPTY.slice(7) });
    expect(blobPath(EMPTY)).toBe(`blobs/sha256/${EMPTY.slice(7)}`);
  });
  it.each(['sha256:abc', 'sha256:' + 'A'.repeat(64), 'md5:' + 'a'.repeat(32), 'nocolon', ':x'])(
    'rejects %s with invalid-argument',
    (value) => {
      expect(isDigest(value)).toBe(false);
      try {
        parseDigest(value);
        expect.unreachable();
      } catch (err) {
        expect(isInvalidArgument(err)).toBe(true);
      }
    },
  );
  it('streams: digest and size of what passed through', async () => {
    const stream = new DigestStream();
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      stream,
      new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          cb();
        },
      }),
    );
    expect(stream.size).toBe(11);
    expect(stream.digest()).toBe(sha256('hello world'));
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
  });
});
