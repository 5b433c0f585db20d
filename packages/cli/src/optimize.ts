/**
 * `livestyle optimize`: the Gatys optimiser from the command line. Ctrl-C (or SIGTERM) stops the run,
 * writes the best image so far and exits 130 (143), as `video` does; a second signal quits at once.
 * Output is written atomically.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StyleOptimizer } from '@livestyle/core/internal/optimize/style-optimizer.js';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { type InitKind, type OptimizerKind } from '@livestyle/core/internal/optimize/options.js';
import { type LossNetworkId } from '@livestyle/core/internal/optimize/loss-network.js';
import { writeJsonFile } from '@livestyle/core/internal/io/atomic-file.js';
import { announceBackend, type CliBackend } from './backend.js';
import { createIterationProgress } from './progress.js';
import { checkStyleWeights, type StyleArg } from './args.js';
import { listenForInterrupt } from './interrupt.js';
import { checkWritableFolder, clobberedInput } from './io/paths.js';
import type { StopReason } from '@livestyle/core/internal/optimize/style-optimizer.js';

/** What the CLI says when fewer iterations ran than asked. */
const STOP_REASONS: Record<Exclude<StopReason, 'iterations'>, string> = {
  aborted: 'interrupted',
  gradient: 'converged (projected gradient below 1e-7)',
  loss: 'converged (loss fell by under 1e-6 of itself over 10 iterations)',
  'line-search': 'no step lowers the loss, even a safeguarded gradient step (float32 resolution reached)',
};

export interface OptimizeFlags {
  style: StyleArg[];
  iters: number;
  size: number;
  init: InitKind;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  optimizer: OptimizerKind;
  lossNetwork: LossNetworkId;
  scales: number;
  lr: number;
  preserveColor: boolean;
  seed: number;
  out?: string;
  json?: string;
  backend: CliBackend;
  quiet: boolean;
}

export async function optimizeCommand(contentPath: string, flags: OptimizeFlags, usage: (msg: string) => Error): Promise<void> {
  if (flags.style.length === 0) throw usage('at least one --style <file>[@weight] is required');
  const out = flags.out ?? `${path.basename(contentPath, path.extname(contentPath))}.optimized.png`;
  if (path.extname(out).toLowerCase() !== '.png') throw usage(`--out must end in .png (got ${out})`);
  if (!existsSync(path.dirname(path.resolve(out)))) throw usage(`--out folder ${path.dirname(out)} does not exist`);
  checkWritableFolder(path.dirname(path.resolve(out)), usage);
  const inputs = [contentPath, ...flags.style.map((s) => s.file)];
  for (const [flag, file] of [['--out', out], ...(flags.json ? [['--json', flags.json]] : [])] as const) {
    const clobbered = clobberedInput(file, inputs);
    if (clobbered !== undefined) throw usage(`${flag} ${file} is the input ${clobbered}: refusing to overwrite it; choose another ${flag}`);
  }
  checkStyleWeights(flags.style, usage);
  const content = await readImageFile(contentPath, flags.size);
  const styles = [];
  for (const s of flags.style) styles.push({ image: await readImageFile(s.file, flags.size), weight: s.weight });
  const optimizer = await StyleOptimizer.create({
    iterations: flags.iters,
    init: flags.init,
    contentWeight: flags.contentWeight,
    styleWeight: flags.styleWeight,
    tvWeight: flags.tvWeight,
    optimizer: flags.optimizer,
    lossNetwork: flags.lossNetwork,
    scales: flags.scales,
    learningRate: flags.lr,
    preserveColor: flags.preserveColor,
    seed: flags.seed,
    backend: flags.backend,
  });
  const backend = announceBackend(optimizer.backend, flags.quiet);
  const controller = new AbortController();
  const interrupt = listenForInterrupt(() => {
    controller.abort();
    if (!flags.quiet) process.stderr.write('\nstopping: writing the best image so far (Ctrl-C again to quit now)\n');
  });
  const progress = createIterationProgress(flags.iters * flags.scales, flags.quiet);
  try {
    const result = await optimizer.optimize(content, styles, {
      signal: controller.signal,
      onIteration: (i) =>
        progress.update(
          i.iteration,
          `${i.widthPx}x${i.heightPx} loss ${i.parts.total.toPrecision(4)} (content ${i.parts.content.toPrecision(3)}, style ${i.parts.style.toPrecision(3)})`,
        ),
    });
    progress.stop();
    try {
      await writePngFile(out, result.image);
      if (flags.json) {
        await writeJsonFile(flags.json, {
          content: contentPath,
          styles: flags.style,
          options: optimizer.getOptions(),
          backend,
          parts: result.parts,
          iterations: result.iterations,
          evaluations: result.evaluations,
          stoppedEarly: result.stoppedEarly,
          stopReason: result.stopReason,
          elapsedMs: result.elapsedMs,
          history: result.history.map((h) => ({ iteration: h.iteration, scale: h.scale, evaluations: h.evaluations, ...h.parts })),
        });
      }
    } finally {
      result.image.dispose();
    }
    if (!flags.quiet) {
      const how =
        result.stopReason === 'iterations'
          ? `${result.iterations} iterations`
          : `stopped after ${result.iterations} iterations: ${STOP_REASONS[result.stopReason]}`;
      process.stderr.write(
        `wrote ${out} (${how}, ${result.evaluations} evaluations, ${(result.elapsedMs / 1000).toFixed(1)} s, loss ${result.parts.total.toPrecision(4)})\n`,
      );
    }
  } finally {
    progress.stop();
    interrupt.dispose();
    optimizer.dispose();
  }
  if (interrupt.exitCode !== null) process.exit(interrupt.exitCode);
}
