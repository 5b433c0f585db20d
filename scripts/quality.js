// @ts-check
// `npm run quality`: the README's quality report (`livestyle eval quality` on the reference pairs at
// 256 px, grid copied to docs/quality.jpg). `npm run quality -- --matrix [options]`: the quality
// matrix instead (scripts/quality-matrix.js: every shared content × 6 styles, each preset).
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--matrix');
if (at >= 0) {
  process.argv.splice(at, 1);
  await import('./quality-matrix.js');
} else {
  const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
  const out = path.join(root, 'bench-out', 'quality-256');
  execFileSync(
    'node',
    [
      path.join(root, 'packages', 'cli', 'bin', 'livestyle.js'),
      'eval',
      'quality',
      '--pairs',
      path.join(shared, 'reference', 'wct-cd16x-512'),
      '--out',
      out,
      '--size',
      '256',
      '--hybrid-iters',
      '100',
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  copyFileSync(path.join(out, 'comparison.jpg'), path.join(root, 'docs', 'quality.jpg'));
}
