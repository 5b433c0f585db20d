import { defineConfig } from 'vitest/config';
import { defaultClientConditions, defaultServerConditions } from 'vite';

// eslint-disable-next-line no-restricted-syntax
export default defineConfig({
  // The packages' TypeScript sources (their `livestyle-source` export condition), so a test and the
  // package code it drives share one module instance.
  resolve: { conditions: ['livestyle-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['livestyle-source', ...defaultServerConditions] } },
  test: {
    setupFiles: ['test/support/node-env.ts'],
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // WASM threads and models are shared per file; files run one at a time on 2-core machines.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    globalSetup: ['test/global-setup.ts'],
  },
});
