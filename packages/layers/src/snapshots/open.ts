import path from 'node:path';
import { invalidArgument } from '@lab/oci';
import { nativeDriver } from './native.js';
import { checkOverlaySupport, overlayDriver } from './overlay.js';
import { openSnapshotterAt } from './snapshotter.js';
import type { Snapshotter, SnapshotterKind } from './types.js';

/**
 * Opens the `kind` snapshotter of a lab root: its data lives in `<root>/snapshots/<kind>/`.
 * Leftovers of a crashed prepare or remove are cleaned up here. The overlay snapshotter throws
 * failed-precondition on hosts that cannot mount overlayfs.
 */
export async function openSnapshotter(kind: SnapshotterKind, root: string): Promise<Snapshotter> {
  const dir = path.resolve(root, 'snapshots', kind);
  switch (kind) {
    case 'overlay':
      await checkOverlaySupport();
      return openSnapshotterAt(dir, overlayDriver);
    case 'native':
      return openSnapshotterAt(dir, nativeDriver);
    default:
      throw invalidArgument(`unknown snapshotter "${String(kind)}"; use "overlay" or "native"`, {
        details: { kind },
      });
  }
}
