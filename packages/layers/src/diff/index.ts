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
