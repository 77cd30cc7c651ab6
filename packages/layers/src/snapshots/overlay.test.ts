import { snapshotterSuite } from '../testsuite/index.js';
import { openSnapshotter } from './open.js';

const notRoot = process.getuid?.() !== 0;

snapshotterSuite('overlay', (root) => openSnapshotter('overlay', root), {
  directoryLayout: true,
  ...(notRoot ? { skip: 'the overlay snapshotter needs root to mount overlayfs' } : {}),
});
