// The consumer matrix: every package packed (`npm pack`), installed from its tarball into fresh
// projects started as users start them (`npm init -y`, which npm 11 writes as "type": "commonjs"),
// with no link to this repository:
// - browser apps on Vite latest (8.x today), Vite 7 and plain esbuild install @livestyle/elements and
//   @livestyle/models; each builds, and in Debian's Chromium with a fake camera `<livestyle-camera>`
//   draws stylised frames (models served by the documented line for that bundler);
// - a Node project runs the README's Node example with no configuration (models found in the
//   installed package); a CLI project runs `npx livestyle stylize`; a service project `--help`.
// Each consumer's node_modules size and the versions it ran are written to
// test-artifacts/consumers.json (the README's table comes from there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { REPO_ROOT, SHARED } from '../helpers.js';
import { launchWithFakeCamera, requireChromium, stillCameraClip } from '../support/browser.js';
import { meanAbsDiff, readOutput, readRawCameraFrame } from '../e2e/page.js';

const run = promisify(execFile);
const CONTENT = path.join(SHARED, 'data', 'content', 'golden_gate.jpg');
const STYLE = path.join(SHARED, 'data', 'style', 'starry_night.jpg');
const PACKAGES = ['core', 'models', 'elements', 'cli', 'service'] as const;
/** What a browser app must never get. */
const SERVER_ONLY = [
  'webgpu',
  'sharp',
  'bullmq',
  'ioredis',
  'fastify',
  'commander',
  'cli-progress',
  '@livestyle/cli',
  '@livestyle/service',
];
/** The environment a user has: no models folder set (the models come from the installed package). */
const env: NodeJS.ProcessEnv = {
  ...process.env,
  LIVESTYLE_MODELS_DIR: undefined,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

let dir: string;
const tarballs: Record<string, string> = {};
const report: Record<string, { versions: Record<string, string>; nodeModulesBytes: number; packages: number }> = {};

function pkgVersion(project: string, name: string): string {
  const file = path.join(project, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'absent';
}

/** Bytes under a folder (files only, links not followed), as `du -sb` counts them. */
async function folderBytes(folder: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', folder]);
  return Number(stdout.split('\t')[0]);
}

function installedPackages(project: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages)
    .filter((k) => k.startsWith('node_modules/'))
    .map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

/** `npm init -y` then `npm install` of the given tarballs and registry packages. */
async function newProject(name: string, ours: readonly (typeof PACKAGES)[number][], registry: readonly string[] = []): Promise<string> {
  const project = path.join(dir, name);
  mkdirSync(project);
  await run('npm', ['init', '-y'], { cwd: project, env });
  // From npm's cache where it can; the registry otherwise.
  const { stderr } = await run(
    'npm',
    ['install', '--prefer-offline', '--loglevel', 'warn', ...ours.map((p) => tarballs[p]!), ...registry],
    {
      cwd: project,
      env,
      maxBuffer: 1 << 24,
      timeout: 600_000,
    },
  );
  // No package of ours, nor any of their dependencies, rejects this Node (engines).
  expect(stderr).not.toMatch(/EBADENGINE/);
  return project;
}

async function record(name: string, project: string, versions: readonly string[]): Promise<void> {
  report[name] = {
    versions: Object.fromEntries(['node', ...versions].map((v) => [v, v === 'node' ? process.versions.node : pkgVersion(project, v)])),
    nodeModulesBytes: await folderBytes(path.join(project, 'node_modules')),
    packages: installedPackages(project).length,
  };
}

beforeAll(async () => {
  for (const p of PACKAGES) {
    const must = p === 'models' ? path.join('cd16x', 'manifest.json') : p === 'service' ? path.join('vendor', 'service-page.js') : 'dist';
    if (!existsSync(path.join(REPO_ROOT, 'packages', p, must)))
      throw new Error(`packages/${p}/${must} is missing: run \`npm run build:lib\` (and \`npm run models\`) first`);
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-consumers-'));
  // The packages as they are built (no prepare run), one tarball each.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--workspaces', '--pack-destination', dir], {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 1 << 24,
  });
  for (const t of JSON.parse(stdout) as Array<{ name: string; filename: string }>)
    tarballs[t.name.replace('@livestyle/', '')] = path.join(dir, t.filename);
  expect(Object.keys(tarballs).sort()).toEqual([...PACKAGES].sort());
}, 300_000);

afterAll(() => {
  if (Object.keys(report).length > 0) {
    mkdirSync(path.join(REPO_ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, 'test-artifacts', 'consumers.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      Object.entries(report)
        .map(([k, v]) => `${k}: ${(v.nodeModulesBytes / 1e6).toFixed(1)} MB, ${v.packages} packages, ${JSON.stringify(v.versions)}`)
        .join('\n'),
    );
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packages, each packed and installed from its tarball', () => {
  it('ship only what they declare: built code, no sources or tests; the models with their licences', async () => {
    const list = async (p: string): Promise<string[]> => (await run('tar', ['-tzf', tarballs[p]!])).stdout.trim().split('\n');
    for (const p of ['core', 'elements', 'cli', 'service']) {
      const files = await list(p);
      expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
      expect(files).toContain('package/README.md');
    }
    const models = await list('models');
    expect(models).toEqual(
      expect.arrayContaining([
        'package/cd16x/manifest.json',
        'package/vgg19/manifest.json',
        'package/selfie/manifest.json',
        'package/selfie/selfie_segmentation.tflite',
        'package/LICENSES.md',
      ]),
    );
    expect(await list('elements')).toContain('package/custom-elements.json');
  });

  it('a Node project runs the README example with no configuration: models from @livestyle/models', async () => {
    const project = await newProject(
      'node-app',
      ['core', 'models'],
      [`sharp@${pkgVersion(REPO_ROOT, 'sharp')}`, '@tensorflow/tfjs-core@4.22.0'],
    );
    await record('node (core + models + sharp)', project, ['@livestyle/core', '@tensorflow/tfjs-core', 'sharp']);
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const example = /<!-- node-example -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!example) throw new Error('README: no ```js block after <!-- node-example -->');
    writeFileSync(path.join(project, 'example.mjs'), example.replaceAll('content.jpg', CONTENT).replaceAll('style.jpg', STYLE));
    const ran = await run('node', ['example.mjs'], { cwd: project, env, timeout: 300_000 });
    expect(ran.stdout).toMatch(/backend (wasm|webgpu)/);
    const meta = await sharp(path.join(project, 'stylized.png')).metadata();
    expect(meta.width).toBeGreaterThan(0);
  }, 900_000);

  it('a Node project without @livestyle/models gets one message naming the package to install', async () => {
    const project = await newProject('node-no-models', ['core'], ['@tensorflow/tfjs-core@4.22.0']);
    writeFileSync(
      path.join(project, 'no-models.mjs'),
      `import { Stylizer } from '@livestyle/core';
try { await Stylizer.create({ backend: 'cpu' }); console.log('created'); } catch (e) { console.log(e.message); }`,
    );
    const ran = await run('node', ['no-models.mjs'], { cwd: project, env, timeout: 120_000 });
    expect(ran.stdout).toMatch(/npm install @livestyle\/models/);
  }, 900_000);

  it('the CLI and the service install by name and run: `npx livestyle stylize`, `npx livestyle-service --help`', async () => {
    const project = await newProject('cli-app', ['core', 'models', 'cli']);
    await record('cli (cli + core + models)', project, ['@livestyle/cli', 'sharp', 'webgpu']);
    const out = path.join(project, 'cli.png');
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
      { cwd: project, env, timeout: 300_000 },
    );
    expect(cli.stderr).toMatch(/backend wasm/);
    expect((await sharp(out).metadata()).width).toBeGreaterThan(0);

    const service = await newProject('service-app', ['core', 'models', 'cli', 'service']);
    await record('service (service + cli + core + models)', service, ['@livestyle/service', 'fastify', 'bullmq']);
    const help = await run('npx', ['--no-install', 'livestyle-service', '--help'], { cwd: service, env });
    expect(help.stdout).toMatch(/Usage: livestyle-service/);
    expect(help.stdout).toMatch(/serve/);
    expect(help.stdout).toMatch(/worker/);
  }, 900_000);
});

interface Bundler {
  name: string;
  /** Registry packages the app installs besides ours. */
  install: string[];
  /** Writes the build set-up, builds into `dist/`, returns the build's console output. */
  build(project: string): Promise<string>;
}

const MAIN_JS = `import '@livestyle/elements';
window.framesDrawn = 0;
window.pageErrors = [];
const camera = document.querySelector('livestyle-camera');
camera.addEventListener('frame', () => window.framesDrawn++);
camera.addEventListener('error', (e) => window.pageErrors.push(e.detail.message));
`;
const INDEX_HTML = (script: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>app</title><link rel="icon" href="data:,"></head>
<body>
<livestyle-camera autostart resolution="160x120" preset="realtime" processing-size="128" style-size="256" style-src="./style.jpg"></livestyle-camera>
<script type="module" src="${script}"></script>
</body></html>
`;

const VITE_CONFIG = `import { livestyleModels } from '@livestyle/models/vite';
export default { plugins: [livestyleModels()] };
`;

async function viteBuild(project: string): Promise<string> {
  writeFileSync(path.join(project, 'index.html'), INDEX_HTML('./main.js'));
  writeFileSync(path.join(project, 'main.js'), MAIN_JS);
  writeFileSync(path.join(project, 'vite.config.mjs'), VITE_CONFIG);
  mkdirSync(path.join(project, 'public'));
  copyFileSync(path.join(dir, 'style.jpg'), path.join(project, 'public', 'style.jpg'));
  const { stdout, stderr } = await run('npx', ['--no-install', 'vite', 'build'], {
    cwd: project,
    env,
    timeout: 600_000,
    maxBuffer: 1 << 24,
  });
  return stdout + stderr;
}

const BUNDLERS: Bundler[] = [
  { name: 'vite-latest', install: ['vite@latest'], build: viteBuild },
  { name: 'vite-7', install: ['vite@7'], build: viteBuild },
  {
    name: 'esbuild',
    install: [`esbuild@${pkgVersion(REPO_ROOT, 'esbuild')}`],
    async build(project) {
      // A plain static site: the bundle, the page, the style and the models folder copied beside them.
      writeFileSync(path.join(project, 'main.js'), MAIN_JS);
      const out = path.join(project, 'dist');
      mkdirSync(out);
      writeFileSync(path.join(out, 'index.html'), INDEX_HTML('./main.js'));
      copyFileSync(path.join(dir, 'style.jpg'), path.join(out, 'style.jpg'));
      const { stdout, stderr } = await run(
        'npx',
        ['--no-install', 'esbuild', 'main.js', '--bundle', '--format=esm', '--splitting', '--outdir=dist', '--log-level=warning'],
        { cwd: project, env, timeout: 600_000 },
      );
      // The documented line for a static site.
      mkdirSync(path.join(out, 'models'));
      cpSync(path.join(project, 'node_modules', '@livestyle', 'models', 'cd16x'), path.join(out, 'models', 'cd16x'), { recursive: true });
      return stdout + stderr;
    },
  },
];

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.jpg': 'image/jpeg' };

/** A static server for a built site (no SPA fallback: a missing file is a 404). */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = path.join(root, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(root)) return res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

describe("browser apps on today's bundlers: <livestyle-camera> draws stylised frames from a fake camera", () => {
  let browser: Browser;
  beforeAll(async () => {
    requireChromium();
    await sharp(STYLE).resize(256).jpeg().toFile(path.join(dir, 'style.jpg'));
    // The fake camera: a still photo as a y4m clip.
    browser = await launchWithFakeCamera(stillCameraClip(CONTENT, path.join(dir, 'camera.y4m')));
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
  });

  for (const bundler of BUNDLERS) {
    it(`${bundler.name}: builds without warnings about our packages, and the camera draws stylised frames`, async () => {
      const project = await newProject(bundler.name, ['core', 'models', 'elements'], bundler.install);
      await record(`browser: ${bundler.name} (elements + models)`, project, [
        '@livestyle/elements',
        'vite',
        'rolldown',
        'esbuild',
        'lit',
        '@tensorflow/tfjs-core',
      ]);
      // A browser app gets no server or Node-only package.
      const installed = installedPackages(project);
      expect(SERVER_ONLY.filter((p) => installed.includes(p))).toEqual([]);
      expect((JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as { type?: string }).type ?? 'commonjs').toBe(
        'commonjs',
      );

      const log = await bundler.build(project);
      expect(log).not.toMatch(/IMPORT_IS_UNDEFINED|camera_utils|mediabunny|@livestyle/);
      const { server, url } = await serve(path.join(project, 'dist'));
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      try {
        await page.goto(url);
        await page.waitForFunction(
          () =>
            (window as unknown as { framesDrawn: number }).framesDrawn >= 2 ||
            (window as unknown as { pageErrors: string[] }).pageErrors?.length > 0,
          undefined,
          {
            timeout: 240_000,
          },
        );
        expect(await page.evaluate(() => (window as unknown as { pageErrors: string[] }).pageErrors)).toEqual([]);
        expect(errors).toEqual([]);
        // The drawn frame is the stylised picture at the processing size, not the camera's.
        const out = await readOutput(page, 'livestyle-camera');
        expect(Math.max(out.width, out.height)).toBe(128);
        const raw = await readRawCameraFrame(page, out.width, out.height);
        expect(meanAbsDiff(out.rgb, raw)).toBeGreaterThan(0.08);
      } finally {
        await page.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }, 1_200_000);
  }

  it('a page that does not serve the models gets one message naming the URL and the package', async () => {
    const project = path.join(dir, 'esbuild');
    rmSync(path.join(project, 'dist', 'models'), { recursive: true, force: true });
    const { server, url } = await serve(path.join(project, 'dist'));
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { pageErrors: string[] }).pageErrors.length > 0, undefined, {
        timeout: 120_000,
      });
      const [message] = await page.evaluate(() => (window as unknown as { pageErrors: string[] }).pageErrors);
      expect(message).toContain(`${url}models/cd16x/manifest.json`);
      expect(message).toContain('@livestyle/models');
    } finally {
      await page.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 300_000);
});
