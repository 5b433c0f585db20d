// @ts-check
// Bundles tfjs-core's gradient registrations into vendor/tfjs-gradients.js for Node. tfjs-core's
// Node bundle (dist/tf-core.node.js) leaves them out and its ESM files cannot be loaded by Node
// directly (extensionless imports in a CommonJS package); the @tensorflow/tfjs union bundle inlines
// them the same way. Gradient registries and the engine are global, so this copy registers into the
// one engine every backend uses. The browser imports the ESM module directly (see src/index.ts).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';", resolveDir: root, loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'inline',
  outfile: path.join(root, 'vendor', 'tfjs-gradients.js'),
  logLevel: 'warning',
});
