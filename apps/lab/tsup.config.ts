import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  banner: { js: '#!/usr/bin/env node' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});
