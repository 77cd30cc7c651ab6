/**
 * Child process for the gc-vs-commit race test: runs gc on the store at argv[2] over and over
 * until the file argv[3] exists, then prints how many rounds it ran.
 */
import { existsSync } from 'node:fs';
import { openImageStore } from '../images/image-store.js';
import { gc } from './gc.js';

const [root, stopFile] = process.argv.slice(2);
if (root === undefined || stopFile === undefined)
  throw new Error('usage: gc-loop <root> <stop-file>');
const images = await openImageStore(root);
let rounds = 0;
while (!existsSync(stopFile)) {
  await gc(images);
  rounds++;
}
process.stdout.write(`${rounds}\n`);
