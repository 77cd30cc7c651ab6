export * from './gc.js';
export * from './lease.js';
export * from './mark.js';
export * from './remove-image.js';
export * from './check.js';
