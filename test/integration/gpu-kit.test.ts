// The GPU benchmark kit (`npm run gpu-kit`): built here, unpacked into a temporary folder and run
// with --quick on this machine's adapter (lavapipe in CI), with no project node_modules and no
// system `node` on its PATH: only the shell tools run.sh uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { probeNodeWebGpu, releaseNodeWebGpu } from '../../packages/core/src/backend/node-webgpu.js';
import { REPO_ROOT } from '../helpers.js';

const run = promisify(execFile);

let unavailable = '';
try {
  await probeNodeWebGpu();
} catch (e) {
  unavailable = (e as Error).message;
}
releaseNodeWebGpu();
if (unavailable) {
  if (process.env.LIVESTYLE_REQUIRE_WEBGPU === '1') throw new Error(`WebGPU in Node is required here but unavailable: ${unavailable}`);
  console.warn(`skipping the GPU kit test: ${unavailable}`);
}

/** Finds a tool on the current PATH (for the kit's restricted PATH). */
async function which(tool: string): Promise<string> {
  const r = await run('sh', ['-c', `command -v ${tool}`]);
  return r.stdout.trim();
}

describe.skipIf(unavailable !== '')('GPU benchmark kit', () => {
  let dir: string;
  let archive: string;
  beforeAll(() => {
    if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bench', 'kit-entry.js')))
      throw new Error('dist/ is missing: run `npm run build:lib` first');
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-kit-'));
    archive = path.join(dir, 'livestyle-gpu-kit.tar');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds one archive of at most 60 MiB, which runs --quick from a bare folder and writes one JSON report', async () => {
    await run('node', [path.join(REPO_ROOT, 'scripts', 'gpu-kit.js'), '--out', archive], { timeout: 300_000 });
    const bytes = statSync(archive).size;
    expect(bytes).toBeLessThanOrEqual(60 * 2 ** 20);
    const runDir = path.join(dir, 'run');
    mkdirSync(runDir);
    await run('tar', ['-xf', archive, '-C', runDir]);
    // A PATH with only the tools run.sh uses: no node, and no node_modules anywhere above.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'dirname', 'xz', 'chmod', 'mv', 'getconf', 'sed']) symlinkSync(await which(tool), path.join(bin, tool));
    await expect(run('sh', ['-c', 'command -v node'], { env: { PATH: bin } })).rejects.toThrow();
    const r = await run('sh', [path.join(runDir, 'livestyle-gpu-kit', 'run.sh'), '--quick'], {
      cwd: runDir,
      env: { PATH: bin, HOME: dir },
      timeout: 600_000,
    });
    expect(r.stdout).toMatch(/^adapter: /m);
    const report = JSON.parse(readFileSync(path.join(runDir, 'livestyle-gpu-bench.json'), 'utf8')) as {
      adapter: { software: boolean; description: string };
      backend: string;
      rows: Array<{
        preset: string;
        mode: string;
        size: string;
        precision: string;
        counts: Record<string, number>;
        frameMs: number;
        gpuMs: number | null;
        stageGpuMs: Record<string, number> | null;
      }>;
    };
    expect(report.backend).toBe('webgpu');
    if (report.adapter.software) expect(r.stdout).toContain('no hardware GPU adapter found');
    expect(report.rows.map((x) => `${x.preset}/${x.mode}/${x.precision}`)).toEqual([
      'realtime/image/float32',
      'realtime/image/float16',
      'realtime/video/float32',
      'realtime/video/float16',
    ]);
    for (const row of report.rows) {
      expect(row.size).toBe('128x128');
      expect(row.counts['dispatches']).toBeGreaterThan(20);
      expect(row.counts['pipelinesCreated']).toBe(0); // warmed up
      expect(row.counts['readbacks']).toBe(0); // realtime and balanced read nothing back
      expect(row.frameMs).toBeGreaterThan(0);
      // lavapipe and NVIDIA's driver both offer timestamp queries: the GPU time per frame is measured.
      expect(row.gpuMs).toBeGreaterThan(0);
      // ... and split by stage.
      for (const stage of ['encode', 'transform', 'decode']) expect(row.stageGpuMs?.[stage]).toBeGreaterThan(0);
      if (row.mode === 'video') expect(row.stageGpuMs?.['temporal']).toBeGreaterThan(0);
    }
    // float16 runs each conv in one dispatch: fewer than float32 in the same mode.
    const d = (mode: string, p: string): number => report.rows.find((x) => x.mode === mode && x.precision === p)!.counts['dispatches']!;
    expect(d('image', 'float16')).toBeLessThan(d('image', 'float32'));
    expect(d('video', 'float16')).toBeLessThan(d('video', 'float32'));
  }, 900_000);
});
