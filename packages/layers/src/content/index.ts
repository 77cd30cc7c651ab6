export * from './content-store.js';
export * from './layout.js';
