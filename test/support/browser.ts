// Debian's headless Chromium with a still photo as its fake camera: what the browser tests that use a
// camera share (the elements, the chromeless page, the consumers' builds, the first-frame timings).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Throws the one line a machine without Debian's Chromium needs. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (see .ci/run)`);
}

/**
 * Writes `photo` as a 4-frame y4m clip for `--use-file-for-fake-video-capture` (Chromium loops it).
 * @param filter ffmpeg's `-vf`; default 160x120, the 4:3 of a webcam.
 */
export function stillCameraClip(photo: string, outFile: string, filter = 'scale=160:120'): string {
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-loop', '1', '-i', photo, '-vf', filter, '-frames:v', '4', '-pix_fmt', 'yuv420p', outFile],
    {
      stdio: 'pipe',
    },
  );
  return outFile;
}

/** Headless Chromium whose camera plays `clip` (permission granted), with the project's flags and `extraArgs`. */
export function launchWithFakeCamera(clip: string, extraArgs: readonly string[] = []): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_FLAGS,
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${clip}`,
      ...extraArgs,
    ],
  });
}
