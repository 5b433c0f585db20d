/** The `chunk` job kind of the worker. */
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import { ImplausibleOutputError, checkStylised } from '@livestyle/cli/internal/output-check.js';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { videoFrameName } from '@livestyle/cli/internal/io/video.js';
import { ChunkStoppedError, stylizeChunk } from './chunk.js';
import { fadeInName, leadOutName } from './stitch.js';
import { DEFAULT_JOB_OPTIONS } from './config.js';
import { readJobSpec } from './spec.js';
import { CancelledError, checkNotStopped, type ChunkJobData, type WorkerContext } from './worker-context.js';

/** chunk: stylises its frames in video mode (warm-up first), one PNG per frame. */
export async function runChunkJob(ctx: WorkerContext, job: Job<ChunkJobData>): Promise<void> {
  const { settings, store } = ctx;
  const { storage } = settings;
  const c = job.data;
  await checkNotStopped(store, storage, c.jobId);
  const dir = storage.jobDir(c.jobId);
  const spec = await readJobSpec(dir);
  const o = { ...DEFAULT_JOB_OPTIONS, ...spec.options };
  const pooled = await ctx.pool.acquire(o);
  const { stylizer } = pooled;
  try {
    if (pooled.stylesOf !== c.jobId) {
      pooled.stylesOf = null;
      const styles = [];
      for (const s of spec.styles)
        styles.push({ image: await readImageFile(path.join(dir, s.file), { maxSidePx: o.styleSize }), weight: s.weight });
      await stylizer.setStyles(styles);
      pooled.stylesOf = c.jobId;
    }
    await store.setChunkFrames(c.jobId, c.index, 0);
    let done = 0;
    await stylizeChunk({
      stylizer,
      clip: path.join(dir, spec.clip),
      fps: spec.fps,
      sizePx: o.size,
      chunk: c,
      shouldStop: () => store.isStopped(c.jobId),
      ...(c.seekS !== undefined ? { seekS: c.seekS } : {}),
      onFrame: async (index, frame, role, content) => {
        // A flat or NaN frame from a content that is not is a broken result, never a `done` job.
        await checkStylised(frame, content, `model ${o.model}`).catch((e: unknown) => {
          throw e instanceof ImplausibleOutputError ? new UnrecoverableError(`frame ${index + 1}: ${e.message}`) : e;
        });
        const name = role === 'own' ? videoFrameName(index) : role === 'fadeIn' ? fadeInName(index) : leadOutName(index);
        await writePngFile(path.join(storage.framesDir(c.jobId), name), frame, 1);
        ctx.countFrame();
        if (role === 'leadOut') return;
        done++;
        await store.setChunkFrames(c.jobId, c.index, done);
        await job.updateProgress({ jobId: c.jobId, chunk: c.index, frames: done });
      },
    });
  } catch (e) {
    if (e instanceof ChunkStoppedError) throw new CancelledError('cancelled');
    throw e;
  } finally {
    ctx.pool.release(pooled);
  }
}
