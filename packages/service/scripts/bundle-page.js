// @ts-check
// The job service's page script (`livestyle-service serve`, GET /page.js): the style mixer element
// and the page's form logic, bundled for browsers into vendor/service-page.js.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(root, 'src', 'page-client.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'inline',
  outfile: path.join(root, 'vendor', 'service-page.js'),
  logLevel: 'warning',
});
