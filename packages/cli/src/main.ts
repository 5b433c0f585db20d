#!/usr/bin/env node
/**
 * `livestyle` command line: `stylize`, `video`, `optimize`, `eval quality|temporal|flow` and `models` (the job
 * service's `serve` and `worker` are in `@livestyle/service`). Usage errors and failures print one line on
 * stderr and exit non-zero; outputs are written atomically.
 */
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { convertModel } from '@livestyle/core/internal/weights/convert.js';
import { modelsDir, PACKAGE_ROOT } from '@livestyle/core/internal/io/model-files.js';
import { installSegmentationModel } from '@livestyle/core/internal/io/segmentation-files.js';
import { SELFIE_SEGMENTATION } from '@livestyle/core/internal/weights/segmentation-model.js';
import { SegmentationUnavailableError } from '@livestyle/core/internal/pipeline/subject.js';
import { createRequire } from 'node:module';
import { MODEL_IDS, MODEL_FAMILIES, isModelId, type ModelId } from '@livestyle/core/internal/weights/architectures.js';
import {
  DEFAULT_OPTIMIZER_OPTIONS,
  OPTIMIZE_MAX_ITERATIONS,
  OPTIMIZE_MAX_SIDE_PX,
  OPTIMIZE_MIN_SIDE_PX,
} from '@livestyle/core/internal/optimize/options.js';
import { SUBJECTS, effectiveLevels, resolveOptions } from '@livestyle/core/internal/pipeline/options.js';
import { PRESETS } from '@livestyle/core/internal/pipeline/presets.js';
import { SURFACE_DEFAULTS } from '@livestyle/core/internal/pipeline/settings.js';
import { releaseNodeWebGpu } from '@livestyle/core/internal/backend/node-webgpu.js';
import { createProgress } from './progress.js';
import { checkWritableFolder, clobberedInput } from './io/paths.js';
import { checkStylised } from './output-check.js';
import { modelDescription, readStyleImages } from './args.js';
import {
  parseStyleArg,
  wrap,
  parseLevels,
  parseUnitInterval,
  parseSidePx,
  checkStyleWeights,
  withStyleFile,
  parseIntInRange,
  parseTileSize,
  parseNonNegativeNumber,
  stylisationOptions,
  type StyleArg,
  type StylisationFlags,
} from './args.js';
import { optimizeCommand, type OptimizeFlags } from './optimize.js';
import { evalQualityCommand, type EvalQualityFlags } from './eval-quality.js';
import { videoCommand, type VideoFlags } from './video.js';
import { evalTemporalCommand, evalFlowCommand, type EvalTemporalFlags, type EvalFlowFlags } from './eval-temporal.js';
import { VIDEO_EXTENSIONS } from './io/video.js';
import { announceBackend, backendOption } from './backend.js';
import { styleStatsCacheFor, styleStatsLine } from './style-cache.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

interface StylizeFlags extends StylisationFlags {
  style: StyleArg[];
  size: number;
  out?: string;
  decoder: string[];
  tile: number;
  quiet: boolean;
}

async function stylizeCommand(contentPath: string, flags: StylizeFlags): Promise<void> {
  if (flags.style.length === 0) throw new UsageError('at least one --style <file>[@weight] is required');
  const out = flags.out ?? `${path.basename(contentPath, path.extname(contentPath))}.stylized.png`;
  if (path.extname(out).toLowerCase() !== '.png') throw new UsageError(`--out must end in .png (got ${out})`);
  if (!existsSync(path.dirname(path.resolve(out)))) throw new UsageError(`--out folder ${path.dirname(out)} does not exist`);
  checkWritableFolder(path.dirname(path.resolve(out)), (m) => new UsageError(m));
  const clobbered = clobberedInput(out, [contentPath, ...flags.style.map((s) => s.file), ...flags.decoder]);
  if (clobbered !== undefined)
    throw new UsageError(`--out ${out} is the input ${clobbered}: refusing to overwrite it; choose another --out`);
  checkStyleWeights(flags.style, (m) => new UsageError(m));
  const options = stylisationOptions(flags);
  const steps = 2 + flags.style.length + effectiveLevels(resolveOptions(options)).length;
  const progress = createProgress(steps, flags.quiet);
  try {
    progress.step('reading images');
    const content = await readImageFile(contentPath, flags.size);
    const styles = await readStyleImages(flags.style, flags.styleSize);
    const decoderCheckpoints = await Promise.all(
      flags.decoder.map(async (d) => {
        try {
          return new Uint8Array(await readFile(d));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const why = code === 'EISDIR' ? 'a folder, not a .pth file' : code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message);
          throw new Error(`--decoder ${d}: cannot read (${why})`);
        }
      }),
    );
    progress.step('loading model');
    const stylizer = await Stylizer.create({
      ...options,
      decoderCheckpoints,
      tileSizePx: flags.tile,
      styleStatsCache: styleStatsCacheFor(flags),
    });
    announceBackend(stylizer.backend, flags.quiet);
    try {
      progress.step('encoding styles');
      await stylizer.setStyles(styles).catch((e: unknown) => {
        throw withStyleFile(
          e,
          flags.style.map((s) => s.file),
        );
      });
      if (!flags.quiet) process.stderr.write(`livestyle: ${styleStatsLine(stylizer.styleStatsSources)}\n`);
      progress.step(`stylising ${content.width}x${content.height}`);
      const result = await stylizer.stylize(content);
      try {
        await checkStylised(result, content, modelDescription(flags.model, flags.decoder));
        await writePngFile(out, result);
      } finally {
        result.dispose();
      }
      progress.done(`${out} (${stylizer.backend}, ${Math.round(stylizer.lastTimings?.totalMs ?? 0)} ms)`);
    } finally {
      stylizer.dispose();
    }
  } catch (e) {
    progress.stop();
    throw e;
  }
}

/**
 * Where model `id`'s raw checkpoints are under `dir`: `dir/<id>/`, or `dir` itself when it holds
 * that model's files directly (a folder of downloads). Null when neither holds any of them.
 */
function rawFolderFor(id: ModelId, dir: string): string | null {
  const files = Object.keys(MODEL_FAMILIES[id].rawSha256);
  const has = (d: string): boolean => files.some((f) => existsSync(path.join(d, f)));
  if (has(path.join(dir, id))) return path.join(dir, id);
  return has(dir) ? dir : null;
}

/** `livestyle models`'s flags (`segmentation`: a file, or false for `--no-segmentation`). */
interface ModelsFlags {
  from?: string;
  src?: string;
  out?: string;
  model?: string;
  float16: boolean;
  quiet: boolean;
  segmentation?: string | boolean;
}

async function modelsCommand(flags: ModelsFlags): Promise<void> {
  if (flags.from !== undefined && flags.src !== undefined) throw new UsageError('give --from or --src, not both (--src is the old name)');
  const given = flags.from ?? flags.src;
  const src = given ?? process.env.LIVESTYLE_MODELS_SRC ?? path.resolve(PACKAGE_ROOT, '..', '..', '..', 'shared', 'models', 'raw');
  if (flags.model && !isModelId(flags.model)) throw new UsageError(`--model must be one of ${MODEL_IDS.join(', ')}`);
  const origin =
    given !== undefined
      ? flags.from !== undefined
        ? '--from'
        : '--src'
      : process.env.LIVESTYLE_MODELS_SRC
        ? '$LIVESTYLE_MODELS_SRC'
        : 'the default folder';
  if (!existsSync(src)) throw new UsageError(`${origin} ${src}: no such folder (give --from <dir>; see the README, "Getting the weights")`);
  const wanted: ModelId[] = flags.model ? [flags.model as ModelId] : [...MODEL_IDS];
  const found = wanted.map((id) => [id, rawFolderFor(id, src)] as const);
  // All models are converted when all are there; a folder holding one model's files converts that one.
  const present = found.filter(([, dir]) => dir !== null);
  const missing = found.filter(([, dir]) => dir === null).map(([id]) => id);
  if (present.length === 0 || (flags.model && missing.length > 0))
    throw new UsageError(
      `no raw checkpoints of ${missing.join(' or ')} in ${src} (expected ${missing.map((id) => Object.keys(MODEL_FAMILIES[id].rawSha256).join(', ')).join('; or ')}, ` +
        `there or under ${missing.map((id) => `${id}/`).join(' or ')}; see the README, "Getting the weights")`,
    );
  const outDir = flags.out ?? modelsDir();
  for (const [id, raw] of present) {
    // convertModel checks every file's sha256 against the published checkpoint before converting.
    const manifest = await convertModel(id, raw as string, path.join(outDir, id), { float16: flags.float16 });
    const bytes = Object.values(manifest.groups).reduce((a, g) => a + g.byteLength, 0);
    if (!flags.quiet)
      process.stderr.write(
        `converted ${id} (sha256 verified): levels ${Object.keys(manifest.levels).join(',')}, ${(bytes / 1e6).toFixed(2)} MB -> ${path.join(outDir, id)}\n`,
      );
  }
  if (missing.length > 0 && !flags.quiet) process.stderr.write(`not found in ${src}, skipped: ${missing.join(', ')}\n`);
  if (flags.segmentation !== false) await segmentationModelStep(flags.segmentation, outDir, flags.quiet);
}

/** The published `.tflite` of `@mediapipe/selfie_segmentation`, where that package is installed; else null. */
function publishedSegmentationModel(): string | null {
  try {
    return createRequire(import.meta.url).resolve(`@mediapipe/selfie_segmentation/${SELFIE_SEGMENTATION.file}`);
  } catch {
    return null;
  }
}

/** `livestyle models` also installs the person-segmentation model (the `subject` option). */
async function segmentationModelStep(given: string | true | undefined, outDir: string, quiet: boolean): Promise<void> {
  const file = typeof given === 'string' ? given : publishedSegmentationModel();
  if (file === null || !existsSync(file)) {
    if (typeof given === 'string') throw new UsageError(`--segmentation ${given}: no such file`);
    if (!quiet)
      process.stderr.write(
        'segmentation model not installed: `npm install @mediapipe/selfie_segmentation` (or give --segmentation <file>) for subject background/person\n',
      );
    return;
  }
  const dir = await installSegmentationModel(file, outDir);
  if (!quiet) process.stderr.write(`installed the selfie segmentation model (sha256 verified) -> ${dir}\n`);
}

function collect<T>(parse: (v: string) => T) {
  return (value: string, previous: T[] = []): T[] => {
    try {
      return [...previous, parse(value)];
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/** `--size` of the optimiser commands: the content's short side, within the optimiser's limits. */
function optimizeSizeOption(): Option {
  return new Option(
    '--size <px>',
    `content short side in px (${OPTIMIZE_MIN_SIDE_PX}..${OPTIMIZE_MAX_SIDE_PX}; the long side must stay <= ${OPTIMIZE_MAX_SIDE_PX})`,
  )
    .argParser(wrap((v) => parseIntInRange(v, OPTIMIZE_MIN_SIDE_PX, OPTIMIZE_MAX_SIDE_PX)))
    .default(256);
}

/** An iteration count within the optimiser's limit. */
function iterationsOption(flags: string, description: string, defaultValue: number): Option {
  return new Option(flags, `${description} (1..${OPTIMIZE_MAX_ITERATIONS})`)
    .argParser(wrap((v) => parseIntInRange(v, 1, OPTIMIZE_MAX_ITERATIONS)))
    .default(defaultValue);
}

/** `stylize` and `video` share their defaults (core's settings.ts, SURFACE_DEFAULTS). */
const CLI_DEFAULTS = SURFACE_DEFAULTS['cli-stylize'];

/** The options `stylize` and `video` share: styles, transform, model, levels, strength, sizes, colour. */
function withStylisationOptions(command: Command, sizeDescription: string): Command {
  return (
    command
      .addOption(
        new Option('-s, --style <file[@weight]>', 'style image, optionally weighted; repeat to blend')
          .argParser(collect(parseStyleArg))
          .default([]),
      )
      .addOption(
        new Option('--preset <name>', 'quality/speed preset: method, levels and whitening chosen by measurement')
          .choices([...PRESETS])
          .default(CLI_DEFAULTS.preset),
      )
      .addOption(new Option('-m, --method <method>', 'feature transform (default: wct; overrides the preset)').choices(['wct', 'adain']))
      .addOption(new Option('--model <id>', 'model family').choices([...MODEL_IDS]).default(CLI_DEFAULTS.model))
      .addOption(
        new Option(
          '--levels <list>',
          'levels, coarse to fine (default: 5,4,3,2,1 for cd16x, 3,2,1 for vgg19; overrides the preset)',
        ).argParser(wrap(parseLevels)),
      )
      .addOption(new Option('-a, --alpha <0..1>', 'style strength').argParser(wrap(parseUnitInterval)).default(CLI_DEFAULTS.alpha))
      // Below 32 px the deepest level (relu5_1 pools 16x) cannot run: refused here, before any work.
      .addOption(new Option('--size <px>', sizeDescription).argParser(wrap(parseSidePx)).default(512))
      .addOption(
        new Option('--style-size <px>', 'scale style images down to this longest side while decoding (0 or 32..8192); 0 keeps them native')
          .argParser(wrap(parseSidePx))
          .default(CLI_DEFAULTS.styleSize),
      )
      .option('--preserve-color', "keep the content's colours (luminance-only transfer)", false)
      .addOption(
        new Option('--precision <p>', 'encoder/decoder precision; float16 halves GPU memory traffic (webgpu backend only)')
          .choices(['float32', 'float16'])
          .default(CLI_DEFAULTS.precision),
      )
      .addOption(
        new Option('--subject <what>', 'what is stylised: all, background (people kept as they are) or person (people only)')
          .choices([...SUBJECTS])
          .default(CLI_DEFAULTS.subject),
      )
      .option(
        '--no-style-cache',
        'encode the styles on every run instead of reusing their statistics from the cache folder ($LIVESTYLE_CACHE_DIR, else $XDG_CACHE_HOME/livestyle, else ~/.cache/livestyle)',
      )
  );
}

/** `livestyle stylize`: one image, one or more weighted styles. */
function addStylizeCommand(program: Command): void {
  withStylisationOptions(
    program
      .command('stylize')
      .description('stylise one image with one or more (weighted) styles; writes a PNG')
      .argument('<content>', 'content image (jpg, png, webp, ...)'),
    "resize the content's short side to this many px; 0 keeps the input pixels",
  )
    .option('-o, --out <file.png>', 'output PNG (default: <content>.stylized.png)')
    .addOption(
      new Option('--decoder <file.pth>', 'use your own decoder checkpoint (its level is detected); repeatable')
        .argParser(collect((v) => v))
        .default([]),
    )
    .addOption(
      new Option('--tile <px>', 'stylise images larger than this (longer side) tile by tile, to bound memory; 0 = never (64..8192)')
        .argParser(wrap((v) => parseTileSize(v)))
        .default(0),
    )
    .addOption(backendOption())
    .option('-q, --quiet', 'no progress output', false)
    .action(async (content: string, flags: StylizeFlags) => stylizeCommand(content, flags));
}

/** `livestyle optimize`: the Gatys optimiser. */
function addOptimizeCommand(program: Command): void {
  program
    .command('optimize')
    .description('the Gatys optimiser (offline quality reference); Ctrl-C writes the best image so far')
    .argument('<content>', 'content image')
    .addOption(
      new Option('-s, --style <file[@weight]>', 'style image, optionally weighted; repeat to blend')
        .argParser(collect(parseStyleArg))
        .default([]),
    )
    .addOption(iterationsOption('--iters <n>', 'iterations per scale', DEFAULT_OPTIMIZER_OPTIONS.iterations))
    .addOption(optimizeSizeOption())
    .addOption(
      new Option('--init <kind>', 'start image; wct = the hybrid (WCT output refined)')
        .choices(['content', 'noise', 'wct'])
        .default('content'),
    )
    .addOption(
      new Option('--content-weight <w>', 'content loss weight')
        .argParser(wrap(parseNonNegativeNumber))
        .default(DEFAULT_OPTIMIZER_OPTIONS.contentWeight),
    )
    .addOption(
      new Option('--style-weight <w>', 'style loss weight')
        .argParser(wrap(parseNonNegativeNumber))
        .default(DEFAULT_OPTIMIZER_OPTIONS.styleWeight),
    )
    .addOption(
      new Option('--tv-weight <w>', 'total-variation weight')
        .argParser(wrap(parseNonNegativeNumber))
        .default(DEFAULT_OPTIMIZER_OPTIONS.tvWeight),
    )
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['lbfgs', 'adam']).default('lbfgs'))
    .addOption(
      new Option('--loss-network <id>', 'loss network: vgg19 (full size, to relu3_1) or cd16x (distilled, to relu5_1)')
        .choices(['vgg19', 'cd16x'])
        .default('vgg19'),
    )
    .addOption(new Option('--scales <n>', 'coarse-to-fine scales (1..4)').argParser(wrap((v) => parseIntInRange(v, 1, 4))).default(1))
    .addOption(
      new Option('--lr <rate>', 'Adam step size').argParser(wrap(parseUnitInterval)).default(DEFAULT_OPTIMIZER_OPTIONS.learningRate),
    )
    .option('--preserve-color', "keep the content's colours", false)
    .addOption(new Option('--seed <n>', 'noise seed').argParser(wrap((v) => parseIntInRange(v, 0, 2 ** 31 - 1))).default(0))
    .option('-o, --out <file.png>', 'output PNG (default: <content>.optimized.png)')
    .option('--json <file>', 'also write losses per iteration as JSON')
    .addOption(backendOption())
    .option('-q, --quiet', 'no progress output', false)
    .action(async (content: string, flags: OptimizeFlags) => optimizeCommand(content, flags, (m) => new UsageError(m)));
}

/** `livestyle video`: a clip with temporal smoothing. */
function addVideoCommand(program: Command): void {
  withStylisationOptions(
    program
      .command('video')
      .description('stylise a clip (video file or folder of frames) with optical-flow temporal smoothing; Ctrl-C keeps what is written')
      .argument('<input>', `video file (${VIDEO_EXTENSIONS.join(', ')}; needs ffmpeg) or a folder of frames (sorted by name)`),
    'resize frames so the short side is this many px; 0 keeps the input pixels',
  )
    .option('--temporal', 'temporal smoothing (default)', true)
    .option('--no-temporal', 'stylise every frame independently')
    .addOption(
      new Option('--strength <0..1>', 'temporal smoothing strength')
        .argParser(wrap(parseUnitInterval))
        .default(SURFACE_DEFAULTS['cli-video'].strength),
    )
    .addOption(
      new Option(
        '--flow-size <px>',
        "cap on the long side the optical flow runs at (32..4096); 0 = no cap (the output size); default: the preset's",
      ).argParser(wrap((v) => (v.trim() === '0' ? 0 : parseIntInRange(v, 32, 4096)))),
    )
    .addOption(
      new Option('--fps <n>', 'frame rate of a frame folder (video files keep theirs)')
        .argParser(wrap((v) => parseIntInRange(v, 1, 240)))
        .default(25),
    )
    .option('-o, --out <dir|file.webm|file.mp4>', 'output: a folder of PNG frames (input names) or a video file')
    .addOption(backendOption())
    .option('-q, --quiet', 'no progress output', false)
    .action(async (input: string, flags: VideoFlags) => videoCommand(input, flags, (m) => new UsageError(m)));
}

/** `livestyle eval temporal|flow|quality`. */
function addEvalCommands(program: Command): void {
  const evalCommand = program.command('eval').description('evaluation reports');
  evalCommand
    .command('temporal')
    .description(
      'warping error (Lai et al. 2018) of a stylised clip, flow computed on the input frames; prints one number, then per-pair JSON',
    )
    .requiredOption('--input <dir>', 'the input frames')
    .requiredOption('--output <dir>', 'the stylised frames (same count and order)')
    .option('--flow <dir>', 'forward flows (.flo, one per consecutive pair) to use instead of estimating them')
    .option(
      '--style <file>',
      'also report the mean Gram style loss (vgg19 relu1_1..relu3_1) of the output frames, against the style at the scale the run used (--style-size)',
    )
    .addOption(
      new Option('--style-size <px>', 'the --style-size the output was stylised with (0 or 32..8192; 0: native)')
        .argParser(wrap(parseSidePx))
        .default(SURFACE_DEFAULTS['cli-video'].styleSize),
    )
    .option(
      '--per-frame <dir>',
      'the same clip stylised frame by frame (--no-temporal): reports the blur equivalent, the Gaussian blur of it (σ px) that scores the style loss of --output',
    )
    .option('--json <file>', 'also write the report as JSON')
    .addOption(backendOption())
    .option('-q, --quiet', 'no per-pair lines on stderr', false)
    .action(async (flags: EvalTemporalFlags) => evalTemporalCommand(flags));

  evalCommand
    .command('flow')
    .description('end-point error of the optical-flow estimator against ground truth (all / non-occluded pixels)')
    .requiredOption('--frames <files...>', 'the two frames (flow from the first to the second)')
    .requiredOption('--gt <file.flo>', 'ground-truth flow (Middlebury/Sintel .flo)')
    .option('--occlusions <mask.png>', 'occlusion mask (white = occluded); found automatically in the Sintel layout')
    .option('--invalid <mask.png>', 'invalid-flow mask (white = invalid); found automatically in the Sintel layout')
    .addOption(
      new Option('--finest-level <n>', 'finest pyramid level solved (0 = full size)').argParser(wrap((v) => parseIntInRange(v, 0, 4))),
    )
    .option('--json <file>', 'also write the report as JSON')
    .addOption(backendOption())
    .action(async (flags: EvalFlowFlags) => evalFlowCommand(flags));

  evalCommand
    .command('quality')
    .description('WCT, AdaIN, the Gatys optimiser and the hybrid side by side: losses, SSIM, time; writes index.html + metrics.json')
    .requiredOption(
      '--pairs <list|dir>',
      'a text file of "content style" lines, or a folder of <pair>__content_*.png / <pair>__style_*.png',
    )
    .requiredOption('--out <dir>', 'report folder (created)')
    .addOption(optimizeSizeOption())
    .addOption(iterationsOption('--iters <n>', 'Gatys iterations', DEFAULT_OPTIMIZER_OPTIONS.iterations))
    .addOption(iterationsOption('--hybrid-iters <n>', 'hybrid refinement iterations', 50))
    .addOption(backendOption())
    .option('-q, --quiet', 'no progress output', false)
    .action(async (flags: EvalQualityFlags) => evalQualityCommand(flags, (m) => new UsageError(m)));
}

/** `livestyle models`: verify and convert checkpoints. */
function addModelsCommand(program: Command): void {
  program
    .command('models')
    .description('verify (sha256) and convert the published PyTorch checkpoints into the web format under models/')
    .option(
      '--from <dir>',
      'folder holding the downloaded .pth files (or <model>/ subfolders of them); default: $LIVESTYLE_MODELS_SRC or ../shared/models/raw',
    )
    .addOption(new Option('--src <dir>', 'old name of --from').hideHelp())
    .option('--out <dir>', 'output folder (default: $LIVESTYLE_MODELS_DIR, else the installed @livestyle/models package)')
    .option('--model <id>', `only this model (${MODEL_IDS.join(', ')})`)
    .option('--float16', 'store weights as float16', false)
    .option(
      '--segmentation <file>',
      `the person-segmentation model to install (default: ${SELFIE_SEGMENTATION.file} of @mediapipe/selfie_segmentation, where installed)`,
    )
    .option('--no-segmentation', 'do not install the person-segmentation model')
    .option('-q, --quiet', 'no output', false)
    .action(async (flags: ModelsFlags) => modelsCommand(flags));
}

/** The `livestyle` program: one function per command. */
export function buildProgram(): Command {
  const program = new Command('livestyle')
    .description('Arbitrary neural style transfer (VGG encoders, learned decoders, AdaIN/WCT) on TensorFlow.js')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'livestyle: error: ')) });
  for (const add of [addStylizeCommand, addOptimizeCommand, addVideoCommand, addEvalCommands, addModelsCommand]) add(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (help and version exit 0)
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e as Error;
    // Some failures (an aborted GPU call: DOMException AbortError) carry no message: name them.
    // The segmentation model is installed by `livestyle models` from an npm package: say how.
    const hint =
      err instanceof SegmentationUnavailableError
        ? ' (install it: `npm install @mediapipe/selfie_segmentation`, then `npx livestyle models`)'
        : '';
    process.stderr.write(`livestyle: error: ${err.message || err.name || String(e)}${hint}\n`);
    if (process.env.LIVESTYLE_DEBUG) process.stderr.write(`${String(err.stack)}\n`);
    return err instanceof UsageError ? 2 : 1;
  } finally {
    // Dawn's device is destroyed so nothing keeps the process alive.
    releaseNodeWebGpu();
  }
}

const invokedDirectly = process.argv[1] !== undefined && /[\\/]cli[\\/](?:src|dist)[\\/]main\.[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
