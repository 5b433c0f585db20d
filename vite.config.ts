import path from 'node:path';
import { defaultClientConditions, defineConfig } from 'vite';
import { demoAssets } from './demo/vite-plugins.js';

// Cross-origin isolation (COOP/COEP) lets the WASM backend use threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const repoRoot = import.meta.dirname;

/**
 * The demo site (`npm run demo` serves it, `npm run build` writes it to dist-site/ with the models
 * and style images copied in, `npm run preview` serves the build). `livestyle-elements.js` in the
 * build is the standalone bundle of the web components.
 */
export const viteConfig = defineConfig({
  root: path.join(repoRoot, 'demo'),
  base: './',
  publicDir: false,
  // The packages' TypeScript sources (their `livestyle-source` export condition).
  resolve: { conditions: ['livestyle-source', ...defaultClientConditions] },
  server: { headers: isolation, fs: { allow: [repoRoot] } },
  preview: { headers: isolation },
  plugins: [
    demoAssets({
      modelsDir: path.resolve(process.env.LIVESTYLE_MODELS_DIR ?? path.join(repoRoot, 'packages', 'models')),
      stylesDir: path.resolve(process.env.LIVESTYLE_STYLES_DIR ?? path.join(repoRoot, '..', 'shared', 'data', 'style')),
    }),
  ],
  build: {
    outDir: path.join(repoRoot, 'dist-site'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // The standalone bundle keeps its exports (Vite's app builds drop unused entry exports).
      preserveEntrySignatures: 'exports-only',
      input: {
        index: path.join(repoRoot, 'demo', 'index.html'),
        // The chromeless output page (the stylised camera alone, for an OBS Browser Source).
        camera: path.join(repoRoot, 'demo', 'camera.html'),
        'livestyle-elements': path.join(repoRoot, 'demo', 'livestyle-elements.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'livestyle-elements' ? 'livestyle-elements.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
});

// Vite reads the default export of its config file.
// eslint-disable-next-line no-restricted-syntax
export default viteConfig;
