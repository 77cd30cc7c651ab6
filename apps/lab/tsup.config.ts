import { defineConfig } from 'tsup';

/**
 * The `lab` binary is one bundled ESM file (plus lazily loaded chunks): resolving and
 * compiling ~200 separate modules costs more start-up time than the whole of most commands.
 * Everything is bundled; CommonJS dependencies get a real `require` through createRequire.
 */
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
  splitting: true,
  minify: true,
  noExternal: [/.*/],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __labCreateRequire } from 'node:module';",
      'const require = __labCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
