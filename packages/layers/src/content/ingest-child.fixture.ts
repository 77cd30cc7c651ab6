/**
 * Child process for the two-process ingest test: opens the content store at argv[2], says
 * "ready", waits for "go" on stdin, then ingests the file argv[3] expecting digest argv[4]
 * and size argv[5], and prints the commit result as JSON.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { asDigest } from '@lab/oci';
import { openContentStore } from './content-store.js';

const [root, file, digest, size] = process.argv.slice(2);
if (root === undefined || file === undefined || digest === undefined || size === undefined) {
  throw new Error('usage: ingest-child <root> <file> <digest> <size>');
}
const store = await openContentStore(root);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'go') break;
}
lines.close();
const result = await store.ingest(
  createReadStream(file, { highWaterMark: 16 * 1024 }),
  { digest: asDigest(digest), size: Number(size) },
  { ref: `child-${process.pid}` },
);
process.stdout.write(`${JSON.stringify(result)}\n`);
