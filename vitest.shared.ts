import { defineConfig } from 'vitest/config';

/** Shared by every project: read sibling packages from source, not from dist. */
export default defineConfig({
  resolve: { conditions: ['@lab/source'] },
  ssr: { resolve: { conditions: ['@lab/source'], externalConditions: ['@lab/source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    // CI runs every real-kernel test at once on 2 cores: one retry absorbs a timing flake
    // there (vitest still reports the test as flaky); locally a failure is a failure.
    retry: process.env.CI === 'true' ? 1 : 0,
  },
});
