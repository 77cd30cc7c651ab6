import { snapshotterSuite } from '../testsuite/index.js';
import { openSnapshotter } from './open.js';

const notRoot = process.getuid?.() !== 0;

snapshotterSuite('native', (root) => openSnapshotter('native', root), {
  directoryLayout: true,
  ...(notRoot ? { skip: 'mounting the native snapshots (bind mounts) needs root' } : {}),
});
