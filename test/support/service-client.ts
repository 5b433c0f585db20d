/** A client of the job service for tests: uploads, status polling, and what a storage folder holds. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** Frames in the file's first video stream (ffprobe, counted). */
export function countFrames(file: string): number {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim());
}

export interface Upload {
  clip?: { file: string; name?: string };
  styles?: Array<{ file: string; name?: string }>;
  styleIds?: string[];
  weights?: string;
  options?: string;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export async function postJob(base: string, upload: Upload, signal?: AbortSignal): Promise<Answer> {
  const form = new FormData();
  if (upload.clip)
    form.append(
      'clip',
      new Blob([readFileSync(upload.clip.file)], { type: 'video/mp4' }),
      upload.clip.name ?? path.basename(upload.clip.file),
    );
  for (const s of upload.styles ?? []) form.append('style', new Blob([readFileSync(s.file)]), s.name ?? path.basename(s.file));
  for (const id of upload.styleIds ?? []) form.append('styleId', id);
  if (upload.weights !== undefined) form.append('weights', upload.weights);
  if (upload.options !== undefined) form.append('options', upload.options);
  const res = await fetch(`${base}/jobs`, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface JobStatusAnswer {
  state: string;
  framesDone: number;
  framesTotal: number;
  error?: string;
}

export async function getJob(base: string, id: string, token: string): Promise<Answer> {
  const res = await fetch(`${base}/jobs/${id}?token=${encodeURIComponent(token)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls the job until `until` holds; throws on another end state or after `timeoutMs`. */
export async function waitForJob(
  base: string,
  id: string,
  token: string,
  until: (s: JobStatusAnswer) => boolean,
  timeoutMs = 120_000,
): Promise<JobStatusAnswer> {
  const end = Date.now() + timeoutMs;
  let last: Answer | null = null;
  for (;;) {
    // Transient 503s (Redis away) are waited out like any other state.
    last = await getJob(base, id, token).catch(() => null);
    if (last?.status === 200) {
      const s = last.body as unknown as JobStatusAnswer;
      if (until(s)) return s;
      if (['done', 'failed', 'cancelled'].includes(s.state)) throw new Error(`job ${id} ended ${s.state}: ${s.error ?? ''}`);
    } else if (last && last.status !== 503) throw new Error(`job ${id}: ${last.status} ${JSON.stringify(last.body)}`);
    if (Date.now() > end) throw new Error(`job ${id} still ${JSON.stringify(last?.body)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What is in a storage folder's uploads/ and jobs/ (a job folder listed with its files). */
export function storageContents(storage: string): string[] {
  const out: string[] = [];
  for (const f of existsSync(path.join(storage, 'uploads')) ? readdirSync(path.join(storage, 'uploads')) : []) out.push(`uploads/${f}`);
  for (const f of existsSync(path.join(storage, 'jobs')) ? readdirSync(path.join(storage, 'jobs')) : [])
    out.push(
      `jobs/${f}: ${readdirSync(path.join(storage, 'jobs', f))
        .sort()
        .join(' ')}`,
    );
  return out;
}

/** A clip of `seconds` at 25 frames/s (`size` WxH) with a 440 Hz AAC tone as long as the video: H.264 in MP4. */
export function makeToneClip(file: string, seconds: number, size = '96x64'): string {
  ffmpeg(
    ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', String(seconds)].concat([
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-shortest',
      file,
    ]),
  );
  return file;
}
