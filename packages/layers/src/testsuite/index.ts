/**
 * `@lab/layers/testsuite`: conformance checks any snapshotter must pass, and the tree listing
 * used to compare filesystems built different ways. Needs vitest (an optional peer dependency).
 */
export { snapshotterSuite } from './snapshotter-suite.js';
export type { SnapshotterFactory, SnapshotterSuiteOptions } from './snapshotter-suite.js';
export { listTree, listUnionView } from './tree-listing.js';
export type { TreeEntry } from './tree-listing.js';
