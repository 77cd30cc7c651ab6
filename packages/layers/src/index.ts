export * from './tar/index.js';
