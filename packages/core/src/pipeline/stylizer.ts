/**
 * The Stylizer: arbitrary style transfer with a multi-level encoder → transform → decoder cascade.
 * ref: Li et al., "Universal Style Transfer via Feature Transforms", NeurIPS 2017, §3.2 (multi-level
 * coarse-to-fine stylisation); Huang & Belongie, ICCV 2017 (AdaIN).
 *
 * Shaped like MediaPipe tasks: `await Stylizer.create(options)`, `setOptions(partial)`,
 * `setStyles(...)`, image mode `stylize(image)`, video mode `stylizeVideoFrame(frame, timestampMs)`,
 * `reset()`, idempotent `dispose()`.
 *
 * Tensor ownership: results are caller-owned; inputs are never disposed. Long-lived tensors are the
 * model weights (owned by the loaded model) and the style images kept to recompute statistics when
 * the model or levels change; all are freed on replacement and on dispose.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SEGMENTATION_MODEL_DIR, type ModelFolder } from '../weights/segmentation-model.js';
import { LoadedModel, timedByteSource, type ByteSource, type LevelNets } from '../weights/model-loader.js';
import { cachedFetchByteSource } from '../weights/model-cache.js';
import { largestTensorBytes, runNetwork } from '../nets/network.js';
import { halfNetworkAvailable, runNetworkHalf } from '../nets/network-half.js';
import { markStage } from '../backend/stage-marks.js';
import { backendRunsSynchronously, workDone } from '../backend/work-done.js';
import { featureMoments, type FeatureMoments } from '../transforms/moments.js';
import { blendWctStats, colouringFromMoments, uploadWctStats, type WctStyleStats, type WctStyleTensors } from '../transforms/wct.js';
import { adainStatsFromMoments, blendAdainStats, type AdaInStyleStats } from '../transforms/adain.js';
import { transformFeatures, type LevelStyles } from '../transforms/transform.js';
import { VideoSmoother, type PreparedFrame, type SmootherSettings } from '../temporal/video-smoother.js';
import { preserveContentColour } from '../transforms/colour.js';
import { OptionsError, effectiveLevels, normaliseWeights, resolveOptions, type BackendName, type StylizerOptions } from './options.js';
import { InputError, toImageBatch, type StylizerInput } from './input.js';
import { AdaptiveResolution } from './adaptive-resolution.js';
import { checkStyleFitsLevels, prepareStyleImage } from './style-image.js';
import { stylizeLevelTiled } from './tiles.js';
import { maxTensorBytes } from '../backend/precision.js';
import { acquireConstants } from '../backend/constants.js';
import { sha256Hex } from '../weights/model-format.js';
import type { StyleLevelStatistics, StyleStatsKey } from './style-stats-cache.js';
import { SegmentationUnavailableError, SubjectMasker, composeSubject } from './subject.js';

/** One style image and its blend weight, for `setStyles`. */
export interface StyleSpec {
  readonly image: StylizerInput;
  /** Relative weight (>= 0); weights are normalised to sum to 1. Default 1. */
  readonly weight?: number;
  /**
   * SHA-256 (hex, 64 digits) of the image file `image` was decoded from, if the caller has it. The
   * `styleStatsCache` then keys the style by the file instead of hashing its decoded pixels, so
   * statistics computed from the same file elsewhere (another decoder, another machine: the demo's
   * precomputed statistics of its built-in styles) are found. Give it only for the file's own pixels.
   */
  readonly fileSha256?: string;
}

/**
 * Per-stage wall-clock of the last call, in milliseconds (for stats overlays and benchmarks). A tiled
 * run (`tileSizePx`) reports each level's whole time as its `encodeMs`.
 *
 * With `completed` true every figure is completed work: a stage's time runs from the end of the work
 * before it to the end of its own work on the backend. False (WebGL or WebGPU without
 * {@link Stylizer.syncStageTimings}): the figures are only the time to issue the work, which the GPU
 * runs later, and say little about how long a frame takes.
 */
export interface StageTimings {
  /** Encoders, summed over levels. */
  encodeMs: number;
  /** Feature transforms (WCT/AdaIN, content statistics included), summed over levels. */
  transformMs: number;
  /** Decoders, summed over levels. */
  decodeMs: number;
  /**
   * The call from its first level to the finished output (colour kept, scaled back, clipped): at least
   * the sum of the stages. Not in it: the input's upload and scaling, and in video mode the temporal stage.
   */
  totalMs: number;
  perLevel: Array<{ level: number; encodeMs: number; transformMs: number; decodeMs: number }>;
  /**
   * Whether the figures are completed work: always on wasm and cpu (a kernel has run when its call
   * returns), on WebGL and WebGPU when the call ran with {@link Stylizer.syncStageTimings}.
   */
  completed: boolean;
}

/** How the entry point (browser or Node) initialises a backend and reads models. */
export interface StylizerEnvironment {
  initBackend(preference: BackendName | 'auto'): Promise<string>;
  defaultModelSource(model: ModelFolder, options: StylizerOptions): ByteSource;
}

/** The options a model load depends on: changing one of them loads the model again. */
const MODEL_FIELDS: readonly (keyof StylizerOptions)[] = ['model', 'decoderCheckpoints', 'modelBaseUrl', 'modelSource'];

const AUTO_BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Sets the first backend of `order` that initialises; returns its name. */
async function pickBackend(order: readonly BackendName[]): Promise<string> {
  for (const name of order) {
    if (!tf.findBackendFactory(name)) continue;
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next backend
    }
  }
  throw new OptionsError(`no usable tfjs backend among ${order.join(', ')} (is the backend package imported?)`);
}

/** An 'auto' backend choice in progress (shared by stylizers created at the same time). */
let autoBackendPick: Promise<string> | null = null;

let defaultEnvironment: StylizerEnvironment = {
  async initBackend(preference) {
    if (preference !== 'auto') return pickBackend([preference]);
    // tf.js has one global backend for the page: 'auto' keeps the one already in use, so a second
    // stylizer (say a camera and a video element on one page) never moves the first one's tensors.
    const active = tf.engine().backendName as string | null;
    if (active && !autoBackendPick && (AUTO_BACKEND_ORDER as readonly string[]).includes(active)) {
      await tf.ready();
      return active;
    }
    autoBackendPick ??= pickBackend(AUTO_BACKEND_ORDER).finally(() => {
      autoBackendPick = null;
    });
    return autoBackendPick;
  },
  // Kept in the Cache API where there is one (second visits, offline); plain fetch elsewhere.
  defaultModelSource: (model, options) => cachedFetchByteSource(`${options.modelBaseUrl.replace(/\/?$/, '/')}${model}/`),
};

/** The environment set by the entry point (shared by the optimiser). */
export function getDefaultEnvironment(): StylizerEnvironment {
  return defaultEnvironment;
}

/** Used by the package entry points; not needed by applications. */
export function setDefaultEnvironment(env: StylizerEnvironment): void {
  defaultEnvironment = env;
}

/** Rejects a call superseded by a newer one (latest call wins) or cancelled by `dispose()`. */
export class AbortError extends Error {
  override name = 'AbortError';
}

interface StyleLevelStats {
  readonly wct: WctStyleStats;
  readonly adain: AdaInStyleStats;
}

interface StyleSet {
  /** Style images `[1, H, W, 3]`, kept to recompute statistics for other models/levels. Owned here. */
  readonly images: tf.Tensor4D[];
  readonly weights: number[];
  /** stats[model][level][styleIndex] */
  readonly stats: Map<string, Map<number, StyleLevelStats[]>>;
  /**
   * The blended WCT statistics on the backend, per `model:level`, for the weights they were blended
   * with: uploaded once, not every frame (C² + C numbers a level). Owned here.
   */
  readonly uploaded: Map<string, { readonly weights: string; readonly tensors: WctStyleTensors }>;
  /** Replaced or disposed: a frame still running on it gets statistics it must free itself. */
  disposed: boolean;
  /** SHA-256 of each style's pixels, hashed once when a `styleStatsCache` first needs it. */
  readonly pixelsSha256: Array<Promise<string> | undefined>;
  /** The SHA-256 of the file each style was decoded from, where the caller gave it (StyleSpec.fileSha256). */
  readonly fileSha256: ReadonlyArray<string | undefined>;
}

/** Whether statistics from a cache have the level's shape and finite values (a custom cache may hand back anything). */
function usableStats(stats: StyleLevelStatistics, channels: number): boolean {
  return (
    stats.channels === channels &&
    stats.mean.length === channels &&
    stats.std.length === channels &&
    stats.colouring.length === channels ** 2 &&
    [stats.mean, stats.std, stats.colouring].every((a) => a.every(Number.isFinite))
  );
}

/** The cache key of style `index` of `set` at one level (style-stats-cache.ts says what enters it). */
async function styleStatsKey(set: StyleSet, index: number, model: LoadedModel, level: number, backend: string): Promise<StyleStatsKey> {
  const image = set.images[index] as tf.Tensor4D;
  const file = set.fileSha256[index];
  let hash = file === undefined ? set.pixelsSha256[index] : Promise.resolve(file);
  if (!hash) {
    hash = image.data<'float32'>().then((pixels) => sha256Hex(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)));
    set.pixelsSha256[index] = hash;
  }
  const entry = model.manifest.levels[String(level)];
  const group = entry ? model.manifest.groups[entry.encoderGroup] : undefined;
  if (!group) throw new Error(`internal: model ${model.id} has no encoder for level ${level}`);
  return {
    imageSha256: await hash,
    imageHashOf: file === undefined ? 'pixels' : 'file',
    styleHeightPx: image.shape[1],
    styleWidthPx: image.shape[2],
    model: model.id,
    encoderSha256: group.sha256,
    level,
    backend,
  };
}

function disposeStyleSet(set: StyleSet): void {
  set.disposed = true;
  tf.dispose(set.images);
  for (const u of set.uploaded.values()) tf.dispose([u.tensors.colouring, u.tensors.mean]);
  set.uploaded.clear();
}

/**
 * The blend of `perStyle` for the set's current weights, uploaded once per weights.
 * @returns the tensors, and whether the caller owns them (true only when the set was disposed
 * while a frame ran on it: then nothing else would free them).
 */
function uploadedWctStats(set: StyleSet, key: string, perStyle: readonly StyleLevelStats[]): [WctStyleTensors, boolean] {
  const weights = set.weights.join(',');
  const hit = set.uploaded.get(key);
  if (!set.disposed && hit?.weights === weights) return [hit.tensors, false];
  if (hit) tf.dispose([hit.tensors.colouring, hit.tensors.mean]);
  const tensors = uploadWctStats(
    blendWctStats(
      perStyle.map((s) => s.wct),
      set.weights,
    ),
  );
  if (set.disposed) return [tensors, true];
  set.uploaded.set(key, { weights, tensors });
  return [tensors, false];
}

/**
 * Arbitrary style transfer: a VGG-19 encoder, learned decoders and a WCT/AdaIN feature transform per
 * level (Li et al., NeurIPS 2017). Create with `await Stylizer.create(options)`, give it styles with
 * `setStyles`, then `stylize(image)` (image mode) or `stylizeVideoFrame(frame, timestampMs)` (video
 * mode, temporally smoothed). Results are tensors the caller owns; inputs are never disposed.
 * `dispose()` is idempotent and frees everything the stylizer holds.
 */
export class Stylizer {
  private options: StylizerOptions;
  private model: LoadedModel | null = null;
  private modelLoad: { id: number; controller: AbortController; options: StylizerOptions } | null = null;
  /** setOptions calls take effect one after another (see setOptions). */
  private optionsQueue: Promise<unknown> = Promise.resolve();
  private styles: StyleSet | null = null;
  private styleGeneration = 0;
  private lastTimestampMs: number | null = null;
  private readonly smoother: VideoSmoother;
  /** The person mask's network, loaded when `subject` first leaves 'all' (kept after: 250 KB). */
  private masker: SubjectMasker | null = null;
  private maskerLoad: Promise<SubjectMasker> | null = null;
  /** Adaptive resolution of video mode (null while `targetFps` is 0). */
  private adaptive: AdaptiveResolution | null = null;
  /** Video frames run one after another (each depends on the previous output). */
  private videoQueue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private loadCounter = 0;
  /** This stylizer's hold on the GPU constant cache (backend/constants.ts), released on dispose. */
  private readonly releaseConstants = acquireConstants();
  /** Timings of the most recent stylize call (see {@link StageTimings} for what each figure measures). */
  lastTimings: StageTimings | null = null;
  /**
   * On WebGL and WebGPU, time each stage to completion: calls that start while this is true wait
   * (no readback: a fence, `onSubmittedWorkDone`) for each stage's work to finish before timing the
   * next, so `lastTimings` is completed work. That wait costs the overlap of issuing one stage while
   * the GPU runs the previous one, so it is off by default; sample frames with it (the elements time
   * one frame a second). No effect on wasm and cpu, whose timings are always completed work.
   */
  syncStageTimings = false;
  /** Style statistics (one per style and level) encoded so far, and read from `styleStatsCache` instead. */
  private readonly styleStatsCounts = { encoded: 0, cached: 0 };

  private constructor(
    options: StylizerOptions,
    /** The tfjs backend in use (e.g. "webgpu", "wasm"). */
    readonly backend: string,
    private readonly env: StylizerEnvironment,
  ) {
    this.options = options;
    this.smoother = new VideoSmoother(smootherSettings(options));
    this.adaptive = options.targetFps > 0 ? new AdaptiveResolution({ targetFps: options.targetFps }) : null;
  }

  /** Initialises the backend and loads the model manifest (weights load lazily, per level). */
  static async create(options: Partial<StylizerOptions> = {}, env: StylizerEnvironment = defaultEnvironment): Promise<Stylizer> {
    const resolved = resolveOptions(options);
    const backend = await env.initBackend(resolved.backend);
    const s = new Stylizer(resolved, backend, env);
    try {
      await s.loadModel(resolved);
      await s.ensureMasker(resolved);
    } catch (e) {
      s.dispose(); // releases its hold on the GPU constant cache too
      throw e;
    }
    return s;
  }

  /**
   * Current options (a frozen copy). To change some, pass only those to `setOptions`: every field given
   * there counts as the caller's choice, so passing the whole object back would pin the preset's
   * fields (method, levels, whitening, statistics precision, internal resolution) against later presets.
   */
  getOptions(): StylizerOptions {
    return Object.freeze({ ...this.options });
  }

  /**
   * Changes options. Model, decoder or level changes load what is missing; alpha, method and colour
   * changes apply to the next frame without any loading. Calls take effect one after another, in call
   * order, so the latest call wins and the options always name the model that is loaded; a call that
   * changes the model aborts a model load still in flight (that call rejects with an AbortError). A
   * `subject` whose segmentation model cannot load rejects before anything else is loaded or changed.
   * Each call is validated against the options the calls before it leave.
   */
  setOptions(partial: Partial<StylizerOptions>): Promise<void> {
    try {
      this.assertLive();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    // Another model than the one loading: that load is stale (its call rejects with an AbortError).
    const loading = this.modelLoad;
    if (loading && MODEL_FIELDS.some((k) => k in partial && partial[k] !== loading.options[k])) loading.controller.abort();
    const run = this.optionsQueue.then(() => this.applyOptions(partial));
    this.optionsQueue = run.catch(() => undefined);
    return run;
  }

  /** One setOptions call, after the ones before it have settled. */
  private async applyOptions(partial: Partial<StylizerOptions>): Promise<void> {
    this.assertLive();
    const next = resolveOptions(partial, this.options);
    if (next.backend !== this.options.backend) throw new OptionsError('backend cannot change after create(); create a new Stylizer');
    const modelChanged = MODEL_FIELDS.some((k) => next[k] !== this.options[k]);
    // The segmentation model first: when it cannot load, nothing has changed yet.
    await this.ensureMasker(next);
    if (modelChanged) await this.loadModel(next);
    this.commitOptions(next);
    if (this.styles && this.model) await this.ensureStyleStats(this.styles, this.model, effectiveLevels(next), this.styleGeneration);
  }

  /** Makes `next` the options in force (adaptive resolution and smoother follow). */
  private commitOptions(next: StylizerOptions): void {
    if (next.targetFps !== this.options.targetFps) {
      this.adaptive = next.targetFps > 0 ? new AdaptiveResolution({ targetFps: next.targetFps }) : null;
    }
    this.options = next;
    this.smoother.setSettings(smootherSettings(next));
  }

  /**
   * Sets the styles to blend (weights normalised to sum 1). Each style's statistics are computed
   * once per level here; later calls to {@link stylize} only encode the content. Latest call wins:
   * a call superseded by a newer one rejects with an AbortError and frees what it computed.
   */
  async setStyles(styles: readonly StyleSpec[]): Promise<void> {
    this.assertLive();
    if (!Array.isArray(styles) || styles.length === 0) throw new OptionsError('setStyles needs at least one style');
    const specs: readonly StyleSpec[] = styles;
    specs.forEach((s, i) => {
      if (typeof s !== 'object' || s === null || !('image' in s))
        throw new OptionsError(`style ${i + 1}: expected { image, weight? } (got ${s === null ? 'null' : typeof s})`);
      if (s.fileSha256 !== undefined && !(typeof s.fileSha256 === 'string' && /^[0-9a-f]{64}$/.test(s.fileSha256)))
        throw new OptionsError(`style ${i + 1}: fileSha256 must be 64 lowercase hex digits (got ${JSON.stringify(s.fileSha256)})`);
    });
    const weights = normaliseWeights(specs.map((s) => s.weight ?? 1));
    const generation = ++this.styleGeneration;
    const images: tf.Tensor4D[] = [];
    const set: StyleSet = {
      images,
      weights,
      stats: new Map(),
      uploaded: new Map(),
      disposed: false,
      pixelsSha256: [],
      fileSha256: specs.map((s) => s.fileSha256),
    };
    try {
      specs.forEach((s, i) => images.push(prepareStyleImage(s.image, this.options.styleMaxSizePx, `style ${i + 1}`)));
      const model = this.model;
      if (!model) throw new OptionsError('model not loaded');
      await this.ensureStyleStats(set, model, effectiveLevels(this.options), generation);
    } catch (e) {
      tf.dispose(images);
      throw e;
    }
    const old = this.styles;
    this.styles = set;
    if (old) disposeStyleSet(old);
  }

  /** Changes only the blend weights of the current styles: no re-encoding, applies to the next frame. */
  setStyleWeights(weights: readonly number[]): void {
    this.assertLive();
    const styles = this.styles;
    if (!styles) throw new OptionsError('no styles set');
    if (weights.length !== styles.images.length) throw new OptionsError(`expected ${styles.images.length} weights, got ${weights.length}`);
    const normalised = normaliseWeights(weights);
    styles.weights.splice(0, styles.weights.length, ...normalised);
  }

  /**
   * Stylises one image with the current styles.
   * @returns `[H', W', 3]` float32 in [0, 1], where H', W' are H, W rounded down to a multiple of
   * 2^(deepest level - 1) (the encoders pool by flooring). Caller owns; dispose.
   */
  stylize(image: StylizerInput): Promise<tf.Tensor3D> {
    this.assertLive();
    const p = this.runWhole(image, null, true);
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Video mode: stylises a frame at a timestamp, temporally smoothed with the previous frames
   * (see `temporalStrength`). A timestamp that goes backwards (seek) or jumps by more than
   * `videoResetGapMs` (pause) starts afresh, as does a scene cut or a change of frame size.
   * Frames are processed in call order. Same output size as {@link stylize}; caller owns the result.
   */
  stylizeVideoFrame(frame: StylizerInput, timestampMs: number): Promise<tf.Tensor3D> {
    this.assertLive();
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) {
      return Promise.reject(new InputError(`timestampMs must be a finite number (got ${String(timestampMs)})`));
    }
    // Decided in call order, carried out in frame order: a frame issued before this one (not yet
    // run) must still see the state this reset would clear.
    const last = this.lastTimestampMs;
    const restart = last !== null && (timestampMs < last || timestampMs - last > this.options.videoResetGapMs);
    this.lastTimestampMs = timestampMs;
    const p = this.videoQueue.then(() => {
      if (restart) this.resetVideoState();
      return this.runVideoFrame(frame);
    });
    this.videoQueue = p.catch(() => undefined);
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Forgets video state (last timestamp, previous frame and output); styles and model stay. Takes
   * effect in frame order: frames issued before the call finish with the state they had, frames
   * issued after it start afresh.
   */
  reset(): void {
    this.lastTimestampMs = null;
    this.videoQueue = this.videoQueue.then(() => this.resetVideoState());
  }

  private resetVideoState(): void {
    this.smoother.reset();
    this.adaptive?.reset();
  }

  /** Video mode's current internal-resolution scale per side (1 unless `targetFps` lowered it). */
  get adaptiveScale(): number {
    return this.adaptive?.scale ?? 1;
  }

  /**
   * What the temporal stage did on the last video frame (scene cut, tracked fraction), read back
   * from the backend on request: the per-frame path itself never reads back. Null before a video
   * frame, after a reset, and while smoothing is off.
   */
  async videoFrameInfo(): Promise<PreparedFrame | null> {
    this.assertLive();
    await this.videoQueue;
    return this.smoother.lastFrameInfo();
  }

  /** Frees every tensor this stylizer owns. Idempotent; in-flight calls finish first. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.modelLoad?.controller.abort();
    // Calls already issued (video frames queued behind one another included) still run: the model
    // and styles are freed once they settle; new calls are refused by assertLive.
    const free = (): void => {
      const model = this.model;
      const styles = this.styles;
      this.model = null;
      this.styles = null;
      this.smoother.dispose();
      this.masker?.dispose();
      this.masker = null;
      model?.dispose();
      if (styles) disposeStyleSet(styles);
      this.releaseConstants();
    };
    if (this.inFlight.size === 0) free();
    else void Promise.allSettled([...this.inFlight]).then(free);
  }

  /**
   * How many style statistics (one per style and level) this stylizer has encoded, and how many it
   * read from `styleStatsCache` instead, since it was created.
   */
  get styleStatsSources(): { readonly encoded: number; readonly cached: number } {
    return { ...this.styleStatsCounts };
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(): void {
    if (this.disposed) throw new OptionsError('Stylizer is disposed');
  }

  /**
   * Loads the segmentation network when `options.subject` needs it (once; concurrent calls share
   * the load). Rejects with a {@link SegmentationUnavailableError} when the model cannot be read or is
   * not the one its manifest names.
   */
  private async ensureMasker(options: StylizerOptions): Promise<void> {
    if (options.subject === 'all' || this.masker) return;
    if (!this.maskerLoad) {
      const folder = SEGMENTATION_MODEL_DIR;
      const source = timedByteSource(
        options.modelSource ? options.modelSource(folder) : this.env.defaultModelSource(folder, options),
        options.modelLoadTimeoutMs,
      );
      const load = SubjectMasker.load(source).catch((e: unknown) => {
        throw new SegmentationUnavailableError(
          `subject "${options.subject}" needs the person-segmentation model: ${e instanceof Error ? e.message : String(e)}`,
        );
      });
      this.maskerLoad = load;
      load.then(
        (m) => {
          if (this.disposed) m.dispose();
          else this.masker = m;
        },
        () => undefined,
      );
      void load
        .finally(() => {
          if (this.maskerLoad === load) this.maskerLoad = null;
        })
        .catch(() => undefined);
    }
    await this.maskerLoad;
  }

  /**
   * The `subject` option applied to a finished output (disposed; the result replaces it): the
   * stylisation where the subject is, `content` (the content as the output shows it) elsewhere.
   */
  private withSubject(output: tf.Tensor3D, content: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor3D {
    const subject = this.options.subject;
    if (subject === 'all') return output;
    try {
      return composeSubject(output, content, mask, subject);
    } finally {
      output.dispose();
    }
  }

  private async loadModel(options: StylizerOptions): Promise<void> {
    this.modelLoad?.controller.abort();
    const id = ++this.loadCounter;
    const controller = new AbortController();
    this.modelLoad = { id, controller, options };
    const source = timedByteSource(
      options.modelSource ? options.modelSource(options.model) : this.env.defaultModelSource(options.model, options),
      options.modelLoadTimeoutMs,
    );
    // A load that failed or was superseded is not in flight any more (later calls compare against it).
    const settle = (): void => {
      if (this.modelLoad?.id === id) this.modelLoad = null;
    };
    let model: LoadedModel;
    try {
      model = await LoadedModel.open(source, options.model, controller.signal);
    } catch (e) {
      settle();
      throw e;
    }
    try {
      if (this.modelLoad?.id !== id || controller.signal.aborted || this.disposed)
        throw new AbortError('model load superseded by a newer call');
      options.decoderCheckpoints.forEach((bytes, i) => model.useDecoderCheckpoint(bytes, `decoder checkpoint ${i + 1}`));
    } catch (e) {
      model.dispose();
      settle();
      throw e;
    }
    const old = this.model;
    this.model = model;
    this.modelLoad = null;
    if (old) {
      const inflight = [...this.inFlight];
      if (inflight.length === 0) old.dispose();
      else void Promise.allSettled(inflight).then(() => old.dispose());
    }
  }

  /** Computes (or reads from `styleStatsCache`) each style's statistics at every level that lacks them (for the given model). */
  private async ensureStyleStats(set: StyleSet, model: LoadedModel, levels: readonly number[], generation: number): Promise<void> {
    set.images.forEach((image, i) =>
      checkStyleFitsLevels(image.shape[1], image.shape[2], levels, this.options.styleMaxSizePx, `style ${i + 1}`),
    );
    let byLevel = set.stats.get(model.id);
    if (!byLevel) {
      byLevel = new Map();
      set.stats.set(model.id, byLevel);
    }
    for (const level of levels) {
      if (byLevel.has(level)) continue;
      const perStyle: StyleLevelStats[] = [];
      for (let i = 0; i < set.images.length; i++) {
        if (generation !== this.styleGeneration || this.disposed) throw new AbortError('setStyles superseded by a newer call');
        perStyle.push(await this.styleLevelStats(set, i, model, level));
      }
      if (generation !== this.styleGeneration || this.disposed) throw new AbortError('setStyles superseded by a newer call');
      byLevel.set(level, perStyle);
    }
  }

  /**
   * One style's statistics at one level: from the cache when it has them, else encoded (and then
   * offered to the cache). A cache that fails costs the encoding, never the result.
   */
  private async styleLevelStats(set: StyleSet, index: number, model: LoadedModel, level: number): Promise<StyleLevelStats> {
    const cache = this.options.styleStatsCache;
    const image = set.images[index] as tf.Tensor4D;
    // No key (no crypto.subtle: a page not served over https) means no cache, not a failed setStyles.
    const key = cache ? await styleStatsKey(set, index, model, level, this.backend).catch(() => null) : null;
    if (cache && key) {
      const hit = await cache.get(key).catch(() => null);
      if (hit && usableStats(hit, model.channelsAt(level))) {
        this.styleStatsCounts.cached++;
        return {
          wct: { channels: hit.channels, mean: hit.mean, colouring: hit.colouring },
          adain: { channels: hit.channels, mean: hit.mean, std: hit.std },
        };
      }
    }
    const nets = await model.level(level);
    const features = runNetwork(image, nets.encoderLayers, nets.encoderWeights);
    let moments: FeatureMoments;
    try {
      moments = await featureMoments(features, 'float64');
    } finally {
      features.dispose();
    }
    const stats = { wct: colouringFromMoments(moments), adain: adainStatsFromMoments(moments) };
    this.styleStatsCounts.encoded++;
    if (cache && key) {
      const entry = { channels: stats.wct.channels, mean: stats.wct.mean, colouring: stats.wct.colouring, std: stats.adain.std };
      await cache.put(key, entry).catch(() => undefined);
    }
    return stats;
  }

  private async runVideoFrame(frame: StylizerInput): Promise<tf.Tensor3D> {
    // No liveness check: a frame issued before dispose() still runs (dispose waits for it).
    const adaptive = this.adaptive;
    if (!adaptive) return this.runVideoFrameAt(frame, null);
    const t0 = now();
    const result = await this.runVideoFrameAt(frame, adaptive.scale);
    adaptive.update(now() - t0);
    return result;
  }

  /** One video frame; `scale` (adaptive mode) shrinks the internal resolution further. */
  private async runVideoFrameAt(frame: StylizerInput, scale: number | null): Promise<tf.Tensor3D> {
    const strength = this.options.temporalStrength;
    if (strength === 0) {
      // Off: each frame as stylize() gives it; drop any state so turning smoothing back on
      // cannot blend with a stale frame.
      this.smoother.reset();
      return this.runWhole(frame, scale);
    }
    markStage('input');
    const content = toImageBatch(frame, 'frame');
    let shown: tf.Tensor4D | null = null;
    let mask: tf.Tensor4D | null = null;
    try {
      const f = 2 ** (Math.max(...effectiveLevels(this.options)) - 1);
      const [, h, w] = content.shape;
      const oh = Math.floor(h / f) * f;
      const ow = Math.floor(w / f) * f;
      // One decode of the frame serves both the tracker and the stylisation (a playing <video> may move on).
      const frame3d = tf.squeeze<tf.Tensor3D>(content, [0]);
      let stylised: tf.Tensor3D;
      try {
        if (oh > 0 && ow > 0) {
          const cropped = oh === h && ow === w ? content : tf.slice(content, [0, 0, 0, 0], [1, oh, ow, 3]);
          try {
            markStage('temporal');
            // The flow follows the stylisation's internal resolution (processingMaxSidePx, the
            // adaptive scale): finer than the strokes it tracks costs time and buys nothing.
            const internalSidePx = this.internalLongSidePx(h, w, scale);
            const cap = this.options.flowMaxSidePx;
            this.smoother.prepare(cropped, cap > 0 ? Math.min(cap, internalSidePx) : internalSidePx);
            if (this.options.subject !== 'all' && this.masker) {
              shown = this.contentAsOutput(content, oh, ow, this.depictedPx(content, scale));
              // Steadied along this frame's flow (between the smoother's prepare and blend).
              const fresh = this.masker.personMask(shown);
              mask = this.smoother.smoothMask(fresh);
              fresh.dispose();
            } else this.smoother.clearMask(); // frames stylised whole in between would make it stale
          } finally {
            if (cropped !== content) cropped.dispose();
          }
        }
        stylised = await this.run(frame3d, scale); // also reports a frame too small for the levels
      } finally {
        frame3d.dispose();
      }
      // Not inside tf.tidy: blend() keeps its result as the next frame's previous output.
      markStage('temporal');
      const batch = tf.expandDims<tf.Tensor4D>(stylised, 0);
      stylised.dispose();
      const blended = this.smoother.blend(batch);
      batch.dispose();
      const result = tf.squeeze<tf.Tensor3D>(blended, [0]);
      blended.dispose();
      // The smoother keeps the whole stylisation: a person who moves away uncovers a smoothed background.
      return shown && mask ? this.withSubject(result, shown, mask) : result;
    } finally {
      tf.dispose([content, shown, mask].filter((t): t is tf.Tensor4D => t !== null));
    }
  }

  /** {@link run}, then the `subject` option with an unsmoothed mask (image mode; video with smoothing off). */
  private async runWhole(input: StylizerInput, scale: number | null, tileImages = false): Promise<tf.Tensor3D> {
    const masker = this.masker;
    if (this.options.subject === 'all' || !masker) return this.run(input, scale, tileImages);
    // One read of the input serves the stylisation and the kept pixels (a playing <video> moves on).
    const content = toImageBatch(input, 'content');
    // Read before the run: a setOptions call during it must not move the kept pixels against the output.
    const depicted = this.depictedPx(content, scale);
    let output: tf.Tensor3D | null = null;
    let shown: tf.Tensor4D | null = null;
    let mask: tf.Tensor4D | null = null;
    try {
      const frame = tf.squeeze<tf.Tensor3D>(content, [0]);
      try {
        output = await this.run(frame, scale, tileImages);
      } finally {
        frame.dispose();
      }
      shown = this.contentAsOutput(content, output.shape[0], output.shape[1], depicted);
      mask = masker.personMask(shown);
      const stylised = output;
      output = null; // withSubject owns it now
      return this.withSubject(stylised, shown, mask);
    } finally {
      tf.dispose(([content, output, shown, mask] as Array<tf.Tensor | null>).filter((t): t is tf.Tensor => t !== null));
    }
  }

  /**
   * @param scale adaptive mode's extra scale of the internal resolution (null = none).
   * @param tileImages whether `tileSizePx` applies (image mode).
   */
  /** Long side (px) an `h x w` frame is stylised at: `processingMaxSidePx`, then the adaptive `scale` (before the levels' minimum). */
  private internalLongSidePx(h: number, w: number, scale: number | null): number {
    const o = this.options;
    const base = o.processingMaxSidePx > 0 ? Math.min(o.processingMaxSidePx, Math.max(h, w)) : Math.max(h, w);
    return scale !== null && scale < 1 ? Math.round(base * scale) : base;
  }

  private async run(input: StylizerInput, scale: number | null = null, tileImages = false): Promise<tf.Tensor3D> {
    const options = this.options;
    const model = this.model;
    const styles = this.styles;
    if (!model) throw new OptionsError('model not loaded');
    if (!styles) throw new OptionsError('no styles set: call setStyles() first');
    const levels = effectiveLevels(options);
    const deepest = Math.max(...levels);
    markStage('input');
    const prepared = this.prepareContent(input, scale, deepest);
    const { content } = prepared;
    markStage('style');
    await this.ensureStyleStats(styles, model, levels, this.styleGeneration).catch((e: unknown) => {
      content.dispose();
      throw e;
    });
    // The encoder/decoder runner of the `precision` option (float16 only where its kernels are).
    const net = options.precision === 'float16' && halfNetworkAvailable() ? runNetworkHalf : runNetwork;
    const syncing = this.syncStageTimings && !backendRunsSynchronously();
    // A clock read once the backend has run what came before it (wasm, cpu: it has already). A wait
    // that fails (a lost device) still reads the clock, so a stamp never rejects: the next kernel
    // reports the loss.
    const stamp: Stamp = syncing ? () => workDone().then(now, now) : () => Promise.resolve(now());
    const completed = syncing || backendRunsSynchronously();
    const timings: StageTimings = { encodeMs: 0, transformMs: 0, decodeMs: 0, totalMs: 0, perLevel: [], completed };
    let t0 = 0;
    let image: tf.Tensor4D = content;
    // Large stills: tile by tile (image mode only), on the image cropped to the pooling grid.
    const align = 2 ** (deepest - 1);
    const tiled = tileImages && options.tileSizePx > 0 && Math.max(prepared.h, prepared.w) > options.tileSizePx;
    try {
      if (tiled)
        image = tf.slice(content, [0, 0, 0, 0], [1, Math.floor(prepared.h / align) * align, Math.floor(prepared.w / align) * align, 3]);
      t0 = await stamp();
      for (const level of levels) {
        const nets = await model.level(level);
        const perStyle = styles.stats.get(model.id)?.get(level);
        if (!perStyle) throw new Error(`internal: no style statistics for level ${level}`);
        const levelStyles: LevelStyles = {
          wct: perStyle.map((s) => s.wct),
          adain: perStyle.map((s) => s.adain),
          weights: styles.weights,
          backendStats: () => uploadedWctStats(styles, `${model.id}:${level}`, perStyle),
        };
        const next = tiled
          ? await runTiledLevel(image, level, nets, net, levelStyles, options, align, timings, stamp)
          : await runLevel(image, level, nets, net, levelStyles, options, timings, prepared.sourceSize, stamp);
        if (image !== content) image.dispose();
        image = next;
      }
      markStage('output');
      const result = finishOutput(image, content, options.preserveColor, prepared.scaled ? prepared.outputSize : null);
      for (const l of timings.perLevel) {
        timings.encodeMs += l.encodeMs;
        timings.transformMs += l.transformMs;
        timings.decodeMs += l.decodeMs;
      }
      timings.totalMs = (await stamp()) - t0;
      this.lastTimings = timings;
      return result;
    } finally {
      if (image !== content) image.dispose();
      content.dispose();
    }
  }

  /** The input as a batch at its internal resolution (scaled down copy, or the input itself). */
  private prepareContent(input: StylizerInput, scale: number | null, deepest: number): PreparedContent {
    const original = toImageBatch(input, 'content');
    const [, h, w] = original.shape;
    const minSide = 2 ** deepest;
    const { processing } = this.geometry(h, w, scale, deepest);
    if (processing.h < minSide || processing.w < minSide) {
      original.dispose();
      throw new InputError(`content is ${w}x${h}: level ${deepest} needs at least ${minSide}x${minSide} pixels`);
    }
    // Internal resolution: stylise a scaled-down copy, scale the result back up at the end.
    const scaled = processing.h !== h || processing.w !== w;
    const content = scaled ? tf.tidy(() => tf.image.resizeBilinear(original, [processing.h, processing.w], false, true)) : original;
    if (scaled) original.dispose();
    const factor = 2 ** (deepest - 1);
    return {
      content,
      h: processing.h,
      w: processing.w,
      scaled,
      sourceSize: { h, w },
      outputSize: [Math.floor(h / factor) * factor, Math.floor(w / factor) * factor],
    };
  }

  /**
   * Where an `h x w` input is stylised (`processing`), and how much of the input its output shows
   * (`depictedPx`, height and width in input pixels, fractional): the encoders' floor pooling crops
   * the processing image to the pooling grid, and that crop is scaled to the output size, so with an
   * internal resolution the output shows slightly less than its own size of the input.
   */
  private geometry(
    h: number,
    w: number,
    scale: number | null,
    deepest: number,
  ): { processing: { h: number; w: number }; depictedPx: [number, number] } {
    const minSide = 2 ** deepest;
    const maxSide =
      scale !== null && scale < 1 ? Math.max(minSide, this.internalLongSidePx(h, w, scale)) : this.options.processingMaxSidePx;
    const processing = processingSize(h, w, maxSide, minSide);
    const f = 2 ** (deepest - 1);
    const depicted = (side: number, internal: number): number => (Math.floor(internal / f) * f * side) / internal;
    return { processing, depictedPx: [depicted(h, processing.h), depicted(w, processing.w)] };
  }

  /** {@link geometry}'s `depictedPx` of `content` with the options now in force. */
  private depictedPx(content: tf.Tensor4D, scale: number | null): [number, number] {
    const [, h, w] = content.shape;
    return this.geometry(h, w, scale, Math.max(...effectiveLevels(this.options))).depictedPx;
  }

  /**
   * The content as the output shows it (`[1, oh, ow, 3]`, caller owns): the part of `content` the
   * output depicts, at the output's size, so the person mask and the kept pixels line up with the
   * stylisation (see {@link geometry}). `content` is not disposed.
   */
  private contentAsOutput(content: tf.Tensor4D, oh: number, ow: number, [dh, dw]: readonly [number, number]): tf.Tensor4D {
    const [, h, w] = content.shape;
    return tf.tidy(() => {
      const region = [Math.min(h, Math.max(1, Math.round(dh))), Math.min(w, Math.max(1, Math.round(dw)))] as const;
      const crop = region[0] === h && region[1] === w ? content : tf.slice(content, [0, 0, 0, 0], [1, region[0], region[1], 3]);
      return region[0] === oh && region[1] === ow ? tf.clone(crop) : tf.image.resizeBilinear<tf.Tensor4D>(crop, [oh, ow], false, true);
    });
  }
}

/** One level, whole image: encode, transform, decode, with the options the frame started with. The input stays the caller's. */
async function runLevel(
  image: tf.Tensor4D,
  level: number,
  nets: LevelNets,
  net: typeof runNetwork,
  styles: LevelStyles,
  options: StylizerOptions,
  timings: StageTimings,
  source: { h: number; w: number },
  stamp: Stamp,
): Promise<tf.Tensor4D> {
  checkGpuBufferLimit(image, level, nets, source);
  const tEnc = await stamp(); // not encode time: a level's first use uploads its weights
  markStage('encode');
  const features = net(image, nets.encoderLayers, nets.encoderWeights);
  const tTr = await stamp(); // never rejects: nothing here can leak
  markStage('transform');
  let transformed: tf.Tensor4D;
  try {
    transformed = await transformFeatures(features, options, styles);
  } finally {
    features.dispose();
  }
  const tDec = await stamp();
  markStage('decode');
  let decoded: tf.Tensor4D;
  try {
    decoded = net(transformed, nets.decoderLayers, nets.decoderWeights);
  } finally {
    transformed.dispose();
  }
  timings.perLevel.push({ level, encodeMs: tTr - tEnc, transformMs: tDec - tTr, decodeMs: (await stamp()) - tDec });
  return decoded;
}

/** One level, tile by tile (large stills): memory bounded by the tile. The input stays the caller's. */
async function runTiledLevel(
  image: tf.Tensor4D,
  level: number,
  nets: LevelNets,
  net: typeof runNetwork,
  styles: LevelStyles,
  o: StylizerOptions,
  align: number,
  timings: StageTimings,
  stamp: Stamp,
): Promise<tf.Tensor4D> {
  const tLevel = await stamp();
  const next = await stylizeLevelTiled(
    image,
    {
      level,
      nets,
      network: net,
      method: o.method,
      wct: blendWctStats(styles.wct, styles.weights),
      adain: blendAdainStats(styles.adain, styles.weights),
      alpha: o.alpha,
    },
    o.tileSizePx,
    align,
  );
  timings.perLevel.push({ level, encodeMs: (await stamp()) - tLevel, transformMs: 0, decodeMs: 0 });
  return next;
}

/** The content batch at its internal resolution, and the sizes `run` needs. */
interface PreparedContent {
  readonly content: tf.Tensor4D;
  /** The internal resolution. */
  readonly h: number;
  readonly w: number;
  readonly scaled: boolean;
  readonly sourceSize: { h: number; w: number };
  /** The output size: the input cropped to the pooling grid. */
  readonly outputSize: [number, number];
}

/**
 * A GPU buffer over the device's limit is a validation error and garbage, not an exception: refused
 * before the level runs.
 */
function checkGpuBufferLimit(image: tf.Tensor4D, level: number, nets: LevelNets, source: { h: number; w: number }): void {
  const limit = maxTensorBytes();
  if (limit === null) return;
  const [, ih, iw] = image.shape;
  const f = 2 ** (level - 1);
  const need = Math.max(
    largestTensorBytes(nets.encoderLayers, ih, iw),
    largestTensorBytes(nets.decoderLayers, Math.floor(ih / f), Math.floor(iw / f)),
  );
  if (need <= limit) return;
  const mb = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
  throw new InputError(
    `content ${source.w}x${source.h} needs a ${mb(need)} GPU buffer at level ${level}, over this device's ${mb(limit)} per buffer: ` +
      `stylise it at a smaller size (--size, processingMaxSidePx) or, a still image, tile by tile (tileSizePx, stylize --tile 1024)`,
  );
}

/** The last level's image as the result: colours kept if asked, scaled back to `outputSize` (null: as is), clipped. Caller owns. */
function finishOutput(image: tf.Tensor4D, content: tf.Tensor4D, preserveColor: boolean, outputSize: [number, number] | null): tf.Tensor3D {
  return tf.tidy(() => {
    const rgb = preserveColor ? preserveContentColour(image, content) : image;
    const [, rh, rw] = rgb.shape;
    const full = outputSize && (rh !== outputSize[0] || rw !== outputSize[1]) ? tf.image.resizeBilinear(rgb, outputSize, false, true) : rgb;
    return tf.squeeze<tf.Tensor3D>(tf.clipByValue(full, 0, 1), [0]);
  });
}

/**
 * The size stylisation runs at: the input scaled so its longer side is at most `maxSidePx` (0 = no
 * limit), never below `minSidePx` on the shorter side (when the input itself allows it).
 */
export function processingSize(h: number, w: number, maxSidePx: number, minSidePx: number): { h: number; w: number } {
  if (maxSidePx <= 0 || Math.max(h, w) <= maxSidePx) return { h, w };
  let scale = maxSidePx / Math.max(h, w);
  if (Math.min(h, w) * scale < minSidePx) scale = Math.min(1, minSidePx / Math.min(h, w));
  return { h: Math.max(1, Math.round(h * scale)), w: Math.max(1, Math.round(w * scale)) };
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The clock read at a stage boundary: after the backend has finished the work issued so far, when timing to completion. Never rejects. */
type Stamp = () => Promise<number>;

function smootherSettings(o: StylizerOptions): SmootherSettings {
  return { strength: o.temporalStrength, flowMaxSidePx: o.flowMaxSidePx, flowCheckLevels: o.flowCheckLevels };
}
