import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "@greentic/source" export
// condition), so the suite never depends on a stale build.
// (Vite's default server conditions follow ours.)
const conditions = ['@greentic/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@greentic/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'conformance/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
