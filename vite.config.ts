import { defineConfig } from 'vite';

// Cross-origin isolation (COOP/COEP) lets the WASM backend use threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export const viteConfig = defineConfig({
  root: '.',
  server: { headers: isolation, fs: { allow: ['.'] } },
  preview: { headers: isolation },
});

// Vite reads the default export of its config file.
// eslint-disable-next-line no-restricted-syntax
export default viteConfig;
