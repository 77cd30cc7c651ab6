export * from './tar/index.js';
export * from './compression/index.js';
export * from './diff/index.js';
export * from './content/index.js';
export * from './snapshots/index.js';
export * from './union/index.js';
export * from './images/index.js';
export * from './archives/index.js';
