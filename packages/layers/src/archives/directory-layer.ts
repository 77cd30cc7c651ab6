/**
 * A directory as a layer tar, for `import DIR`: the diff package's deterministic layer writer
 * (sorted, numeric owners, PAX, mtimes in seconds) over the tree against nothing, uncompressed,
 * as a stream.
 */
import { PassThrough, type Readable } from 'node:stream';
import { createLayer } from '../diff/create.js';

export function directoryLayer(directory: string, sourceDateEpoch?: number): Readable {
  const out = new PassThrough();
  createLayer({ kind: 'trees', upper: directory }, out, {
    compression: 'none',
    ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
  }).catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
