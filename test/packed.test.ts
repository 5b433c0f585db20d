// The package as a user gets it: `npm pack`, installed from the tarball into a fresh project (no link
// to this repository), then the README's Node example typechecked and run, `npx livestyle --help`
// and one `stylize` from that install, and a tiny Vite page that imports `livestyle/elements`,
// built and opened in headless Chromium (elements defined, no console errors).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM_FLAGS, REPO_ROOT, SHARED } from './helpers.js';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CONTENT = path.join(SHARED, 'data', 'content', 'golden_gate.jpg');
const STYLE = path.join(SHARED, 'data', 'style', 'starry_night.jpg');

describe('the packed package, installed from its tarball', () => {
  let dir: string;
  let app: string;
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

  beforeAll(async () => {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'node.js'))) throw new Error('dist/ is missing: run `npm run build:lib` first');
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-packed-'));
    // dist/ is built by `npm test` before the tests; the tarball takes it as it is (no prepare run).
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, env });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }, null, 2));
    // From npm's cache where it can (the same versions this repository's lock holds).
    await run('npm', ['install', '--prefer-offline', '--no-save', path.join(dir, tarball)], { cwd: app, env, maxBuffer: 1 << 24 });
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs as a package (not a link), with tf.js as its peer and only the packaged files', () => {
    const installed = path.join(app, 'node_modules', 'livestyle');
    expect(existsSync(path.join(installed, 'dist', 'node.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'src'))).toBe(false); // sources are not shipped
    expect(existsSync(path.join(installed, 'test'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@tensorflow', 'tfjs-core'))).toBe(true); // peer, installed by npm
  });

  it("typechecks and runs the README's Node example, and the CLI stylises from the install", async () => {
    writeFileSync(
      path.join(app, 'example.ts'),
      `import { Stylizer, readImageFile, writePngFile } from 'livestyle';
const content = await readImageFile(${JSON.stringify(CONTENT)}, 64);
const stylizer = await Stylizer.create({ preset: 'realtime', backend: 'wasm' });
await stylizer.setStyles([{ image: await readImageFile(${JSON.stringify(STYLE)}, 64) }]);
const out = await stylizer.stylize(content);
await writePngFile('out.png', out);
out.dispose();
stylizer.dispose();
console.log('backend', stylizer.backend);
`,
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          outDir: 'build',
          skipLibCheck: true,
          types: [],
        },
        files: ['example.ts'],
      }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const typed = await run(tsc, ['-p', app]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    expect(typed.stdout).toBe('');
    // The models come from where the test set-up converted them (a user runs `livestyle models --from`).
    const ran = await run('node', ['build/example.js'], { cwd: app, env, timeout: 180_000 });
    expect(ran.stdout).toMatch(/backend wasm/);
    expect((await sharp(path.join(app, 'out.png')).metadata()).width).toBe(64);

    const help = await run('npx', ['--no-install', 'livestyle', '--help'], { cwd: app, env });
    expect(help.stdout).toMatch(/Usage: livestyle/);
    expect(help.stdout).toMatch(/stylize/);
    const out = path.join(app, 'cli.png');
    const cli = await run(
      'npx',
      [
        '--no-install',
        'livestyle',
        'stylize',
        CONTENT,
        '--style',
        STYLE,
        '--size',
        '64',
        '--preset',
        'realtime',
        '--backend',
        'wasm',
        '--out',
        out,
      ],
      {
        cwd: app,
        env,
        timeout: 180_000,
      },
    );
    expect(cli.stderr).toMatch(/backend wasm/);
    expect((await sharp(out).metadata()).width).toBeGreaterThan(0);
  }, 600_000);

  it('a Vite page importing livestyle/elements builds and defines the elements in Chromium without console errors', async () => {
    const site = path.join(app, 'site');
    mkdirSync(site);
    writeFileSync(
      path.join(site, 'index.html'),
      `<!doctype html><html lang="en"><title>app</title><link rel="icon" href="data:,"><body><script type="module" src="./main.js"></script></body></html>`,
    );
    writeFileSync(
      path.join(site, 'main.js'),
      `import 'livestyle/elements';
window.defined = ['livestyle-camera', 'livestyle-video', 'livestyle-style-mixer', 'livestyle-stats'].map((n) => [n, customElements.get(n) !== undefined]);`,
    );
    const outDir = path.join(site, 'dist');
    await build({ root: site, configFile: false, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    let server: PreviewServer | null = null;
    let browser: Browser | null = null;
    try {
      server = await preview({
        root: site,
        configFile: false,
        logLevel: 'error',
        build: { outDir },
        preview: { port: 0, host: '127.0.0.1' },
      });
      const address = server.httpServer.address();
      if (!address || typeof address === 'string') throw new Error('no preview address');
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS] });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`http://127.0.0.1:${address.port}/`);
      await page.waitForFunction(() => (window as unknown as { defined?: unknown }).defined !== undefined);
      const defined = await page.evaluate(() => (window as unknown as { defined: Array<[string, boolean]> }).defined);
      expect(defined).toEqual([
        ['livestyle-camera', true],
        ['livestyle-video', true],
        ['livestyle-style-mixer', true],
        ['livestyle-stats', true],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
    }
  }, 300_000);
});
