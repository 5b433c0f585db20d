#!/usr/bin/env node
// @ts-check
// Fails when package-lock.json and package.json disagree, or when the lock lacks optional
// platform packages (npm/cli#4828: a lock written with node_modules present can drop the
// other platforms' `@rollup/rollup-*`, and `npm ci` then refuses a clean clone).
// Usage: node scripts/check-lock.js   (part of `npm test`; fix with `npm install --package-lock-only`)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const problems = [];

const lockRoot = lock.packages?.[''];
if (!lockRoot) problems.push('package-lock.json has no root package entry (lockfileVersion >= 2 expected)');
for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
  const want = pkg[field] ?? {};
  const have = lockRoot?.[field] ?? {};
  for (const [name, range] of Object.entries(want))
    if (have[name] !== range) problems.push(`${field}.${name}: package.json has ${range}, the lock has ${have[name] ?? 'nothing'}`);
  for (const name of Object.keys(have)) if (!(name in want)) problems.push(`${field}.${name}: in the lock but not in package.json`);
}

// Every optional dependency of every locked package must be locked too (resolved from its folder
// upwards, as Node does), whichever platform it is for.
const keys = new Set(Object.keys(lock.packages ?? {}));
/** @param {string} from @param {string} name */
function resolves(from, name) {
  let dir = from;
  for (;;) {
    if (keys.has(`${dir ? `${dir}/` : ''}node_modules/${name}`)) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf('node_modules/');
    dir = i <= 0 ? '' : dir.slice(0, i - 1);
  }
}
for (const [key, entry] of Object.entries(lock.packages ?? {}))
  for (const name of Object.keys(entry.optionalDependencies ?? {}))
    if (!resolves(key, name)) problems.push(`${key || '(root)'}: optional dependency ${name} is missing from the lock`);

if (problems.length > 0) {
  process.stderr.write(
    `package-lock.json does not match package.json (run \`npm install --package-lock-only\`):\n${problems
      .slice(0, 20)
      .map((p) => `  ${p}`)
      .join('\n')}${problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''}\n`,
  );
  process.exit(1);
}
process.stdout.write(`package-lock.json matches package.json (${keys.size - 1} locked packages)\n`);
