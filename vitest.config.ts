import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "@greentic/source" export
// condition), so the suite never depends on a stale build.
// (Vite's default server conditions follow ours. The server side leaves out "module": vitest hands the conditions
// to Node, and packages such as the OpenTelemetry SDK then load ESM builds that Node cannot resolve.)
const conditions = ['@greentic/source', 'module', 'node', 'development|production'];
const serverConditions = ['@greentic/source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: serverConditions, externalConditions: ['@greentic/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'conformance/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
