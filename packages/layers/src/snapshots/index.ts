export type {
  LayerFormat,
  Mount,
  SnapshotInfo,
  SnapshotKind,
  SnapshotOptions,
  Snapshotter,
  SnapshotterKind,
  SnapshotUsage,
} from './types.js';
export { openSnapshotter } from './open.js';
export {
  mountAll,
  unmount,
  isMountPoint,
  listMountPoints,
  compactOverlayOptions,
} from './mount.js';
export type { UnmountOptions } from './mount.js';
export { unpackImageLayers } from './unpack.js';
export type { LayerApplier, UnpackLayer, UnpackOptions, UnpackedLayer } from './unpack.js';
export { diskUsage } from './usage.js';
export { sweepSnapshots } from './sweep.js';
export type { SweepOptions } from './sweep.js';
