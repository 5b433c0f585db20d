import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:unit`: the fast tier (under a minute on 2 cores): no Chromium, no ffmpeg, no GPU,
// no long optimisation. `npm test` runs everything, as CI does. (Not mergeConfig: it would append
// this list to the base's include, which matches every test.)
// eslint-disable-next-line no-restricted-syntax
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/adaptive-resolution.test.ts',
      'test/atomic-write.test.ts',
      'test/checkpoint.test.ts',
      'test/components.test.ts',
      'test/eigen.test.ts',
      'test/model-loader.test.ts',
      'test/network-cost.test.ts',
      'test/public-api.test.ts',
      'test/read-ahead.test.ts',
      'test/service-plan.test.ts',
      'test/ssim.test.ts',
    ],
  },
});
