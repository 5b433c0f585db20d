/** The routes of one job: `GET /jobs/:id`, `/events`, `/output`, and `DELETE /jobs/:id`. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { removeJobFlow } from './worker-context.js';
import { HttpError, authorised, publicStatus, sendStatus, type ServerContext } from './server-context.js';

/** DELETE answers within this (the 5 s promise with Redis away, with room for the token check). */
const DELETE_DEADLINE_MS = 2500;

/** Registers the job routes. */
export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { settings, store, queue, progress, streams } = ctx;
  const { storage } = settings;
  app.get('/jobs/:id', async (req) => {
    const id = await authorised(ctx, req);
    return publicStatus(await sendStatus(ctx, id));
  });

  app.get('/jobs/:id/events', async (req, reply: FastifyReply) => {
    const id = await authorised(ctx, req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let last = '';
    let closed = false;
    let busy = false;
    let again = false;
    // One read at a time, in order; a change during a read is read again after it.
    const push = async (): Promise<void> => {
      if (closed) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          const s = await store.status(id).catch(() => undefined);
          if (closed || s === undefined) return; // Redis away: asked again at the next tick
          if (!s) return end();
          const text = JSON.stringify(publicStatus(s));
          if (text !== last) {
            last = text;
            res.write(`event: status\ndata: ${text}\n\n`);
          }
          if (['done', 'failed', 'cancelled'].includes(s.state)) return end();
        } while (again);
      } finally {
        busy = false;
      }
    };
    const onProgress = (): void => void push();
    // Progress events come from BullMQ; state changes without one (plan, stitch) are polled. A
    // comment line every 15 s keeps proxies from closing an idle stream.
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks % 15 === 0 && !closed) res.write(': keep-alive\n\n');
      onProgress();
    }, 1000);
    const end = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      progress.off(id, onProgress);
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    progress.on(id, onProgress);
    req.raw.on('close', end);
    await push();
  });

  app.get('/jobs/:id/output', async (req, reply) => {
    const id = await authorised(ctx, req);
    const s = await sendStatus(ctx, id);
    if (s.state !== 'done') throw new HttpError(409, `the job is ${s.state}; its output is ready when it is done`);
    const file = storage.outputPath(id, s.format);
    if (!existsSync(file)) throw new HttpError(410, 'the output has expired');
    return reply
      .header('content-type', s.format === 'mp4' ? 'video/mp4' : 'video/webm')
      .header('content-length', statSync(file).size)
      .header('content-disposition', `attachment; filename="livestyle-${id}.${s.format}"`)
      .send(createReadStream(file));
  });

  app.delete('/jobs/:id', async (req) => {
    const id = await authorised(ctx, req);
    const cancel = async (): Promise<{ state: string | null; removed: true }> => {
      const before = await store.state(id);
      const cancelled = await store.transition(id, 'cancelled', { finishedAtMs: Date.now() });
      // The files go first (disk is the source of truth; a running chunk sees the state within a
      // frame and stops), then the waiting jobs.
      await storage.removeJob(id);
      await removeJobFlow(queue, id);
      if (cancelled) await store.expire(id, settings.keepSeconds);
      else await store.remove(id); // an ended job: nothing of it is kept
      return { state: cancelled ? 'cancelled' : before, removed: true };
    };
    // One deadline for the whole clean-up (each step swallows a Redis timeout): a 503 within it, and
    // the clean-up goes on behind the answer (a repeated DELETE finishes it).
    const work = cancel();
    work.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('Command timed out: DELETE')), DELETE_DEADLINE_MS);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  });
}
