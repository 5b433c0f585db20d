// The WASM backend writes its pthread scripts to a temporary folder per process (node-wasm.ts): a
// process killed by a signal never removes its own, so the next one removes the folders of processes
// that are gone, and nothing else.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, SHARED } from '../helpers.js';

const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');

describe('WASM script folders', () => {
  it("a run removes the folders of processes that are gone (SIGKILL), keeps a live one's, and leaves none of its own", () => {
    const gone = spawnSync('node', ['-e', 'process.exit(0)']).pid;
    const stale = path.join(os.tmpdir(), `livestyle-wasm-${gone}-test`);
    const live = path.join(os.tmpdir(), `livestyle-wasm-${process.pid}-test`);
    for (const d of [stale, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'script0.cjs'), '');
    }
    const out = mkdtempSync(path.join(os.tmpdir(), 'livestyle-wasm-test-out-'));
    try {
      const r = spawnSync(
        'node',
        [
          BIN,
          'stylize',
          path.join(SHARED, 'data', 'content', 'avril.jpg'),
          '--style',
          path.join(SHARED, 'data', 'style', 'la_muse.jpg'),
        ].concat([
          '--size',
          '32',
          '--style-size',
          '128',
          '--preset',
          'realtime',
          '--backend',
          'wasm',
          '--out',
          path.join(out, 'x.png'),
          '--quiet',
        ]),
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      const own = spawnSync('sh', ['-c', `ls -d ${os.tmpdir()}/livestyle-wasm-${r.pid}-* 2>/dev/null`], { encoding: 'utf8' });
      expect(own.stdout.trim()).toBe('');
    } finally {
      rmSync(live, { recursive: true, force: true });
      rmSync(stale, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
