// The package's types as a user's project resolves them: in Node, `import … from '@livestyle/core'` must
// see the Node entry's exports (readImageFile, writePngFile, the WebGPU device calls), not the
// browser entry's. Typechecks the README's Node example in a scratch project that links this package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers.js';

const run = promisify(execFile);

describe('package types', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(path.join(REPO_ROOT, 'packages', 'core', 'dist', 'node.d.ts')))
      throw new Error('dist/ is missing: run `npm run build:lib` first');
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-types-'));
    mkdirSync(path.join(dir, 'node_modules', '@livestyle'), { recursive: true });
    symlinkSync(path.join(REPO_ROOT, 'packages', 'core'), path.join(dir, 'node_modules', '@livestyle', 'core'));
    symlinkSync(path.join(REPO_ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    const compilerOptions = {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      types: ['node'],
    };
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck: true }, files: ['example.ts'] }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("typechecks the README's Node example against the Node entry's types", async () => {
    writeFileSync(
      path.join(dir, 'example.ts'),
      `import { Stylizer, readImageFile, writePngFile, initNodeWebGpu, releaseNodeWebGpu } from '@livestyle/core';
const content = await readImageFile('photo.jpg', 512);
const stylizer = await Stylizer.create({ preset: 'realtime', backend: 'auto' });
await stylizer.setStyles([{ image: await readImageFile('style.jpg') }]);
const out = await stylizer.stylize(content);
await writePngFile('out.png', out);
out.dispose();
stylizer.dispose();
const adapter = await initNodeWebGpu();
console.log(adapter.description, adapter.software);
releaseNodeWebGpu();
`,
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const r = await run(tsc, ['-p', dir]).catch((e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }));
    expect(r.stdout).toBe('');
  });

  it('types @livestyle/core/offline and /temporal, and keeps them out of the main entry', async () => {
    writeFileSync(
      path.join(dir, 'example.ts'),
      `import { readImageFile } from '@livestyle/core';
import { StyleOptimizer, type StopReason } from '@livestyle/core/offline';
import { estimateFlow, warpBilinear, type FlowOptions } from '@livestyle/core/temporal';
const optimizer = await StyleOptimizer.create({ iterations: 10 });
const r = await optimizer.optimize(await readImageFile('a.png'), [{ image: await readImageFile('b.png') }]);
const why: StopReason = r.stopReason;
const options: Partial<FlowOptions> = { warps: 2 };
console.log(why, options, estimateFlow, warpBilinear);
`,
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const ok = await run(tsc, ['-p', dir]).catch((e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }));
    expect(ok.stdout).toBe('');
    writeFileSync(
      path.join(dir, 'example.ts'),
      `import { StyleOptimizer, estimateFlow } from '@livestyle/core';\nconsole.log(StyleOptimizer, estimateFlow);\n`,
    );
    const bad = await run(tsc, ['-p', dir]).catch((e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }));
    expect(bad.stdout).toMatch(/TS2305: Module '"@livestyle\/core"' has no exported member 'StyleOptimizer'/);
    expect(bad.stdout).toMatch(/no exported member 'estimateFlow'/);
  });

  it('loads the subpaths at run time in Node', async () => {
    writeFileSync(
      path.join(dir, 'load.mjs'),
      `const main = await import('@livestyle/core');
const offline = await import('@livestyle/core/offline');
const temporal = await import('@livestyle/core/temporal');
console.log(JSON.stringify([typeof main.Stylizer, typeof offline.StyleOptimizer, typeof temporal.estimateFlow, 'StyleOptimizer' in main]));
`,
    );
    const r = await run(process.execPath, [path.join(dir, 'load.mjs')], { cwd: dir });
    expect(JSON.parse(r.stdout)).toEqual(['function', 'function', 'function', false]);
  });
});
