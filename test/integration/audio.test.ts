// The clip's audio survives the encode of the stylised frames, in mp4 and webm (issue 31, item 1):
// the output's audio lasts as long as the input's, within one audio frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeFrameFolder } from '../../packages/cli/src/io/video.js';
import { REPO_ROOT, SHARED } from '../helpers.js';
import { makeToneClip } from '../support/service-client.js';

const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
const STYLE = path.join(SHARED, 'data', 'style', 'la_muse.jpg');

let dir: string;
const ffmpeg = (args: string[]): void => void execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
/** Duration (s) of the file's first video and audio streams, from their packets (webm has no stream duration). */
function durations(file: string): { video: number; audio: number } {
  const span = (stream: 'v' | 'a'): number => {
    const rows = execFileSync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      `${stream}:0`,
      '-show_entries',
      'packet=pts_time,duration_time',
      '-of',
      'csv=p=0',
      file,
    ])
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split(',').map(Number))
      .filter(([pts, d]) => Number.isFinite(pts) && Number.isFinite(d));
    if (rows.length === 0) return 0;
    return Math.max(...rows.map(([pts, d]) => pts! + d!)) - Math.min(...rows.map(([pts]) => pts!));
  };
  return { video: span('v'), audio: span('a') };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-audio-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("encodeFrameFolder keeps the clip's audio", () => {
  for (const seconds of [1, 2])
    for (const ext of ['.mp4', '.webm'])
      it(`${seconds} s of AAC audio, ${ext} output`, async () => {
        const clip = makeToneClip(path.join(dir, `clip-${seconds}.mp4`), seconds);
        const frames = path.join(dir, `frames-${seconds}${ext}`);
        mkdirSync(frames);
        ffmpeg(['-i', clip, '-start_number', '1', path.join(frames, 'frame_%06d.png')]);
        const out = path.join(dir, `out-${seconds}${ext}`);
        await encodeFrameFolder(frames, 25 * seconds, 25, out, clip);
        const input = durations(clip);
        const output = durations(out);
        // One audio frame: AAC 1024 samples at 44.1 kHz (23 ms); Opus 20 ms.
        expect(Math.abs(output.audio - input.audio)).toBeLessThanOrEqual(1024 / 44100 + 1e-3);
        expect(Math.abs(output.video - seconds)).toBeLessThanOrEqual(0.05);
      });
});

describe("`livestyle video` keeps the clip's audio", () => {
  for (const ext of ['.mp4', '.webm'])
    it(`1 s of AAC audio, ${ext} output`, () => {
      const clip = makeToneClip(path.join(dir, 'cli-clip.mp4'), 1, '64x48');
      const out = path.join(dir, `cli-out${ext}`);
      execFileSync('node', [
        BIN,
        'video',
        clip,
        '--style',
        STYLE,
        '--style-size',
        '128',
        '--size',
        '32',
        '--preset',
        'realtime',
        '--out',
        out,
        '--quiet',
      ]);
      const input = durations(clip);
      const output = durations(out);
      expect(Math.abs(output.audio - input.audio)).toBeLessThanOrEqual(1024 / 44100 + 1e-3);
      expect(Math.abs(output.video - 1)).toBeLessThanOrEqual(0.05);
      // No temporary file is left beside the output.
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }, 120_000);
});
