import { mkdir } from 'node:fs/promises';
import { runTool } from './run-tool.js';
import type { SnapshotDriver } from './snapshotter.js';

/**
 * The copy-based driver, for hosts without overlayfs or root: every snapshot's `fs` is the
 * whole tree with all whiteouts applied. Preparing on a parent copies the parent's tree
 * (`cp -a --reflink=auto`, which keeps modes, owners, times, hard links, devices and xattrs
 * where the caller may set them, and shares blocks on filesystems that can); a view of a
 * committed snapshot is a read-only bind mount of it, since committed trees never change.
 */
export const nativeDriver: SnapshotDriver = {
  kind: 'native',
  layerFormat: 'merged',

  async populate(dirs, kind, parents, signal) {
    await mkdir(dirs.fs, { mode: 0o755 });
    const top = parents[0];
    if (kind === 'active' && top !== undefined) {
      await runTool(
        'cp',
        ['-a', '--reflink=auto', '--no-target-directory', `${top}/.`, dirs.fs],
        signal === undefined ? {} : { signal },
      );
    }
  },

  mounts(dirs, kind, parents) {
    if (kind === 'active') return [{ type: 'bind', source: dirs.fs, options: ['rbind', 'rw'] }];
    return [{ type: 'bind', source: parents[0] ?? dirs.fs, options: ['rbind', 'ro'] }];
  },
};
