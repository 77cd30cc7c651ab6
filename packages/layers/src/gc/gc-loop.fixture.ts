/**
 * Child process for the gc-vs-commit race test: runs gc on the store at argv[2] over and over
 * until the file argv[3] exists, then prints how many rounds it ran. After its first round it
 * creates `<argv[3]>.started`, so the test starts writing only once gc is really looping.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { openImageStore } from '../images/image-store.js';
import { gc } from './gc.js';

const [root, stopFile] = process.argv.slice(2);
if (root === undefined || stopFile === undefined)
  throw new Error('usage: gc-loop <root> <stop-file>');
const images = await openImageStore(root);
let rounds = 0;
while (!existsSync(stopFile)) {
  await gc(images);
  if (rounds++ === 0) writeFileSync(`${stopFile}.started`, '');
}
process.stdout.write(`${rounds}\n`);
