import { defineConfig } from 'vitest/config';

/** Shared by every project: read sibling packages from source, not from dist. */
export default defineConfig({
  resolve: { conditions: ['@lab/source'] },
  ssr: { resolve: { conditions: ['@lab/source'], externalConditions: ['@lab/source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    restoreMocks: true,
  },
});
