/**
 * Child process for the concurrent-tagging test: gives image argv[3] of the store at argv[2]
 * the names `<argv[4]>-0` … `<argv[4]>-<argv[5]-1>`, one read-modify-write of index.json each.
 */
import { openImageStore } from './image-store.js';

const [root, source, prefix, count] = process.argv.slice(2);
if (root === undefined || source === undefined || prefix === undefined || count === undefined) {
  throw new Error('usage: tag-child <root> <source> <prefix> <count>');
}
const images = await openImageStore(root);
for (let i = 0; i < Number(count); i++) await images.tag(source, `${prefix}-${i}`);
