// @ts-check
// Runs after `npm install` (from `prepare`, once the packages are built): converts the raw checkpoints
// into packages/models/ (the @livestyle/models package) when they are available ($LIVESTYLE_MODELS_SRC
// or ../shared/models/raw). Never fails the install: without raw weights it only says how to get models.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = process.env.LIVESTYLE_MODELS_SRC ?? path.resolve(root, '..', 'shared', 'models', 'raw');
if (!existsSync(src)) {
  console.warn(`livestyle: no raw checkpoints at ${src}; set LIVESTYLE_MODELS_SRC and run \`npm run models\` to convert them.`);
} else {
  const { main } = await import('@livestyle/cli');
  const code = await main(['models', '--from', src, '--out', path.join(root, 'packages', 'models')]);
  if (code !== 0) console.warn('livestyle: model conversion failed (see above); run `npm run models` to retry.');
  process.exit(0);
}
