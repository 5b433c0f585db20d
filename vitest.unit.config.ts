import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:unit`: the fast tier, test/unit/ (seconds on 2 cores): no models, no ../shared, no
// Chromium, ffmpeg, Redis or GPU, so no global set-up either. `npm test` runs every tier, as CI does.
// (Not mergeConfig: it would append this include to the base's, which matches every test.)
// eslint-disable-next-line no-restricted-syntax
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts'],
    globalSetup: [],
  },
});
