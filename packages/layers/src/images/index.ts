export * from './chain-id.js';
export * from './commit-image.js';
export * from './image-store.js';
export * from './index-file.js';
export * from './names.js';
export * from './resolve-manifest.js';
