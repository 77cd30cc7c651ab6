export {
  applyLayer,
  OVERLAY_OPAQUE_XATTR,
  WHITEOUT_OPAQUE,
  WHITEOUT_PREFIX,
  type ApplyFormat,
  type ApplyOptions,
  type ApplyResult,
} from './apply.js';
export { cleanEntryName } from './paths.js';
export { chainID } from './chain.js';
export {
  diffTrees,
  overlayChanges,
  type Change,
  type ChangeKind,
  type ChangeSet,
} from './changes.js';
export {
  createLayer,
  writeChanges,
  writeLayer,
  type CreatedLayer,
  type CreateLayerOptions,
  type LayerSource,
} from './create.js';
export type { FileInfo, FileKind, TreeScan } from './scan-tree.js';
