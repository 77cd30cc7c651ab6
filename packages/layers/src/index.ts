export * from './tar/index.js';
export * from './content/index.js';
export * from './snapshots/index.js';
export * from './union/index.js';
