export * from './bundle/index.js';
export * from './cgroups/index.js';
export * from './runtime/index.js';
export * from './network/index.js';
export * from './volumes/index.js';
export * from './build-executor/index.js';
