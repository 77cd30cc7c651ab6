/**
 * Child process for the two-process unpack test: opens the `argv[3]` snapshotter of the lab
 * root `argv[2]`, says "ready", waits for "go" on stdin, unpacks the layer tars `argv[4..]`
 * (bottom first) and prints the statuses as JSON.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { chainID } from '../diff/index.js';
import { openSnapshotter } from './open.js';
import { unpackImageLayers } from './unpack.js';
import type { SnapshotterKind } from './types.js';

const [root, kind, ...spec] = process.argv.slice(2);
if (root === undefined || kind === undefined || spec.length === 0) {
  throw new Error('usage: unpack-child <root> <overlay|native> <diffID=tar>...');
}
const layers = spec.map((item, i) => {
  const [, file] = item.split('=') as [string, string];
  const diffIDs = spec.slice(0, i + 1).map((s) => s.split('=')[0]!);
  return { chainID: chainID(diffIDs), open: () => createReadStream(file) };
});
const snapshotter = await openSnapshotter(kind as SnapshotterKind, root);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'go') break;
}
lines.close();
const result = await unpackImageLayers(snapshotter, layers);
process.stdout.write(`${JSON.stringify(result)}\n`);
