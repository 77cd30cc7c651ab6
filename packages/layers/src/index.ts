export * from './tar/index.js';
export * from './content/index.js';
