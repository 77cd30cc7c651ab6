export * from './bundle/index.js';
export * from './cgroups/index.js';
export * from './runtime/index.js';
