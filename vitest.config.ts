import { defineConfig } from 'vitest/config';

// eslint-disable-next-line no-restricted-syntax
export default defineConfig({
  test: {
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
