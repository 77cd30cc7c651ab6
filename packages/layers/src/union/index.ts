export { openUnionView } from './union-view.js';
export type {
  UnionEntry,
  UnionEntryType,
  UnionLayerFormat,
  UnionView,
  UnionViewOptions,
} from './union-view.js';
