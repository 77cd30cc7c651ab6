/**
 * Child process for the crash test: removes image argv[3] from the store at argv[2] and
 * SIGKILLs itself right after gc deleted the first blob, leaving a half-done sweep.
 */
import { openImageStore } from '../images/image-store.js';
import { removeImage } from './remove-image.js';

const [root, name] = process.argv.slice(2);
if (root === undefined || name === undefined) throw new Error('usage: remove-child <root> <name>');
const images = await openImageStore(root);
await removeImage(images, name, {
  gc: {
    onRemove: () => {
      process.kill(process.pid, 'SIGKILL');
    },
  },
});
