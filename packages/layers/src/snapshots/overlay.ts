import { chmod, chown, lstat, mkdir, readFile } from 'node:fs/promises';
import { failedPrecondition } from '@lab/oci';
import type { SnapshotDriver } from './snapshotter.js';

/**
 * The overlayfs driver: a committed snapshot's `fs` holds only that layer's changes in
 * overlayfs's own format (deletions as 0/0 character devices, `trusted.overlay.opaque=y`
 * directories); an active snapshot is an overlay with its `fs` as upper dir and the parent
 * chain as lower dirs; a view of one committed layer is a read-only bind mount of it.
 */
export const overlayDriver: SnapshotDriver = {
  kind: 'overlay',
  layerFormat: 'overlay',

  async populate(dirs, kind, parents) {
    await mkdir(dirs.fs, { mode: 0o755 });
    if (kind === 'active') await mkdir(dirs.work, { mode: 0o711 });
    const top = parents[0];
    if (top !== undefined) {
      // The merged root takes the upper dir's attributes: give it the parent's.
      const st = await lstat(top);
      await chown(dirs.fs, st.uid, st.gid);
      await chmod(dirs.fs, st.mode & 0o7777);
    }
  },

  mounts(dirs, kind, parents) {
    if (kind === 'active') {
      if (parents.length === 0)
        return [{ type: 'bind', source: dirs.fs, options: ['rbind', 'rw'] }];
      return [
        {
          type: 'overlay',
          source: 'overlay',
          options: [
            'index=off',
            `workdir=${dirs.work}`,
            `upperdir=${dirs.fs}`,
            `lowerdir=${parents.join(':')}`,
          ],
        },
      ];
    }
    if (parents.length === 0) return [{ type: 'bind', source: dirs.fs, options: ['rbind', 'ro'] }];
    if (parents.length === 1) {
      return [{ type: 'bind', source: parents[0]!, options: ['rbind', 'ro'] }];
    }
    return [
      {
        type: 'overlay',
        source: 'overlay',
        options: ['ro', 'index=off', `lowerdir=${parents.join(':')}`],
      },
    ];
  },
};

/** Throws failed-precondition unless this host can mount overlayfs (root, and the module loaded). */
export async function checkOverlaySupport(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw failedPrecondition(
      'the overlay snapshotter needs root to mount overlayfs; run as root or use the native snapshotter',
    );
  }
  const filesystems = await readFile('/proc/filesystems', 'utf8');
  if (!/\boverlay$/m.test(filesystems)) {
    throw failedPrecondition(
      'this kernel has no overlayfs (not in /proc/filesystems); run `modprobe overlay` or use the native snapshotter',
    );
  }
}
