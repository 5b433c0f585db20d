/**
 * Loads a converted model lazily, one weight group at a time, from any byte source (fetch in the
 * browser, the file system in Node). Every group's size and sha256 are checked against the manifest
 * and every conv's filter/bias shape against the layer list before a tensor is created.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_FAMILIES, bindLayers, matchDecoderLevel, outputChannels, type LayerSpec, type ModelId } from './architectures.js';
import { ModelFormatError, groupByteLength, sha256Hex, validateManifest, type ModelManifest, type WeightGroup } from './model-format.js';
import { readTorchCheckpoint } from './torch-checkpoint.js';

/** Reads a file of the model folder by its relative path. */
export type ByteSource = (relativePath: string, signal?: AbortSignal) => Promise<Uint8Array>;

/**
 * `source` with a limit per file: a read that has not settled within `timeoutMs` is aborted (its
 * signal) and rejects with a ModelFormatError naming the file. 0 = no limit.
 */
export function timedByteSource(source: ByteSource, timeoutMs: number): ByteSource {
  if (timeoutMs <= 0) return source;
  return (rel, signal) => {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ModelFormatError(`${rel}: not received within ${timeoutMs} ms (modelLoadTimeoutMs); check the model source`));
      }, timeoutMs);
    });
    return Promise.race([source(rel, controller.signal), timeout]).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  };
}

/** The npm package that holds the converted models. */
export const MODELS_PACKAGE = '@livestyle/models';

/** Told how many bytes of a file have arrived (`totalBytes` from Content-Length, else null). */
export type BytesReceived = (loadedBytes: number, totalBytes: number | null) => void;

/**
 * One file of the model folder `base` over HTTP(S). A missing file (404, or a dev server's HTML
 * fallback) is a ModelFormatError that says how to serve the models. `onBytes` follows the download.
 */
export async function fetchModelFile(base: string, rel: string, signal?: AbortSignal, onBytes?: BytesReceived): Promise<Uint8Array> {
  const url = `${base}${rel}`;
  const res = await fetch(url, signal ? { signal } : {});
  // A dev server's SPA fallback answers a missing file with the page itself (200, text/html).
  const html = (res.headers.get('content-type') ?? '').startsWith('text/html');
  if (res.status === 404 || (res.ok && html)) {
    // The URL as the browser resolved it, so the message says where the page looked.
    const where = (u: string): string => (typeof location === 'undefined' ? u : new URL(u, location.href).href);
    throw new ModelFormatError(
      `${where(url)}: not found${html ? ' (the server answered with an HTML page)' : ' (HTTP 404)'}: this page does not serve the models. ` +
        `Serve the model folders of the npm package ${MODELS_PACKAGE} under ${where(base)} (see its README), or point modelBaseUrl / model-base-url at them`,
    );
  }
  if (!res.ok) throw new ModelFormatError(`${url}: HTTP ${res.status} ${res.statusText}`);
  if (!onBytes || !res.body) return new Uint8Array(await res.arrayBuffer());
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onBytes(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** A byte source over HTTP(S), relative to `baseUrl` (which should end in `/`). */
export function fetchByteSource(baseUrl: string): ByteSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return (rel, signal) => fetchModelFile(base, rel, signal);
}

/** One level's networks, ready to run. Tensors are owned by the {@link LoadedModel}. */
export interface LevelNets {
  readonly level: number;
  readonly channels: number;
  readonly encoderLayers: readonly LayerSpec[];
  readonly decoderLayers: readonly LayerSpec[];
  readonly encoderWeights: tf.NamedTensorMap;
  readonly decoderWeights: tf.NamedTensorMap;
}

function checkLayerWeights(layers: readonly LayerSpec[], weights: tf.NamedTensorMap, where: string): void {
  for (const l of layers) {
    if (l.op !== 'conv') continue;
    const f = weights[`${l.name}.filter`];
    const b = weights[`${l.name}.bias`];
    const want = [l.kernel, l.kernel, l.inChannels, l.outChannels];
    if (!f) throw new ModelFormatError(`${where}: missing tensor ${l.name}.filter`);
    if (!b) throw new ModelFormatError(`${where}: missing tensor ${l.name}.bias`);
    if (f.shape.join(',') !== want.join(',')) {
      throw new ModelFormatError(`${where}: ${l.name}.filter has shape [${f.shape.join(', ')}], expected [${want.join(', ')}]`);
    }
    if (b.shape.join(',') !== String(l.outChannels)) {
      throw new ModelFormatError(`${where}: ${l.name}.bias has shape [${b.shape.join(', ')}], expected [${l.outChannels}]`);
    }
  }
}

export class LoadedModel {
  private readonly groups = new Map<string, Promise<tf.NamedTensorMap>>();
  private readonly settled: tf.NamedTensorMap[] = [];
  private readonly decoderOverrides = new Map<number, { layers: LayerSpec[]; weights: tf.NamedTensorMap }>();
  private disposed = false;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly source: ByteSource,
  ) {}

  /** Reads and validates `manifest.json`; no weights are fetched yet. */
  static async open(source: ByteSource, expectedId?: ModelId, signal?: AbortSignal): Promise<LoadedModel> {
    let text: string;
    try {
      text = new TextDecoder().decode(await source('manifest.json', signal));
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      // Messages that already say where the models come from (not served, package not installed).
      if ((e as Error).message.includes(MODELS_PACKAGE)) throw new ModelFormatError(`model ${expectedId ?? ''}: ${(e as Error).message}`);
      throw new ModelFormatError(
        `model ${expectedId ?? ''} manifest.json: ${(e as Error).message}. Install ${MODELS_PACKAGE}, or convert checkpoints: \`npx livestyle models --from <folder with the .pth files>\` (README, "Getting the weights")`,
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ModelFormatError(`manifest.json: invalid JSON (${(e as Error).message})`);
    }
    const manifest = validateManifest(raw, 'manifest.json');
    if (expectedId && manifest.id !== expectedId) {
      throw new ModelFormatError(`manifest.json describes model ${manifest.id}, expected ${expectedId}`);
    }
    return new LoadedModel(manifest, source);
  }

  get id(): ModelId {
    return this.manifest.id;
  }

  get availableLevels(): number[] {
    return Object.keys(this.manifest.levels)
      .map(Number)
      .sort((a, b) => a - b);
  }

  channelsAt(level: number): number {
    const entry = this.manifest.levels[String(level)];
    if (!entry) throw new ModelFormatError(`model ${this.id} has no level ${level} (has ${this.availableLevels.join(', ')})`);
    return entry.channels;
  }

  /** Loads (once) and returns the networks of one level. */
  async level(level: number, signal?: AbortSignal): Promise<LevelNets> {
    const entry = this.manifest.levels[String(level)];
    if (!entry) throw new ModelFormatError(`model ${this.id} has no level ${level} (has ${this.availableLevels.join(', ')})`);
    const override = this.decoderOverrides.get(level);
    const [encoderWeights, decoderWeights] = await Promise.all([
      this.group(entry.encoderGroup, signal),
      override ? Promise.resolve(override.weights) : this.group(entry.decoderGroup, signal),
    ]);
    const decoderLayers = override?.layers ?? entry.decoderLayers;
    checkLayerWeights(entry.encoderLayers, encoderWeights, `${this.id} ${entry.encoderGroup}`);
    checkLayerWeights(decoderLayers, decoderWeights, `${this.id} level ${level} decoder`);
    return { level, channels: entry.channels, encoderLayers: entry.encoderLayers, decoderLayers, encoderWeights, decoderWeights };
  }

  /**
   * Replaces a level's decoder by a user's PyTorch checkpoint (legacy or zip). The level is found
   * from the checkpoint's layer names; shapes must chain from the level's feature width to RGB.
   * @returns the level it replaced
   */
  useDecoderCheckpoint(bytes: Uint8Array, where = 'decoder checkpoint'): number {
    this.assertLive();
    const family = MODEL_FAMILIES[this.id];
    let tensors;
    try {
      tensors = readTorchCheckpoint(bytes);
    } catch (e) {
      throw new ModelFormatError(`${where}: ${(e as Error).message}`);
    }
    const level = matchDecoderLevel(family, tensors);
    const template = family.levels.get(level);
    if (!template) throw new ModelFormatError(`${where}: no level ${level}`);
    const bound = bindLayers(template.decoder, tensors, this.channelsAt(level), where);
    if (outputChannels(bound.layers) !== 3) throw new ModelFormatError(`${where}: decoder does not end in 3 channels`);
    const weights: tf.NamedTensorMap = {};
    for (const [name, t] of bound.weights) {
      if (!t.data.every(Number.isFinite)) throw new ModelFormatError(`${where}: ${name} holds NaN or Inf`);
      weights[name] = tf.tensor(t.data, [...t.shape], 'float32');
    }
    const old = this.decoderOverrides.get(level);
    if (old) tf.dispose(old.weights);
    this.decoderOverrides.set(level, { layers: bound.layers, weights });
    return level;
  }

  private group(name: string, signal?: AbortSignal): Promise<tf.NamedTensorMap> {
    this.assertLive();
    let p = this.groups.get(name);
    if (!p) {
      p = this.fetchGroup(name, signal);
      this.groups.set(name, p);
      // A failed or aborted load must be retryable.
      p.catch(() => this.groups.delete(name));
    }
    return p;
  }

  private async fetchGroup(name: string, signal?: AbortSignal): Promise<tf.NamedTensorMap> {
    const g = this.manifest.groups[name];
    if (!g) throw new ModelFormatError(`model ${this.id}: group ${name} missing from manifest`);
    const file = g.paths[0];
    const where = `model ${this.id} ${file}`;
    const bytes = await this.source(file, signal);
    const expected = groupByteLength(g);
    // The manifest contradicting itself is the manifest's fault, not the weight file's.
    if (g.byteLength !== expected) {
      throw new ModelFormatError(
        `model ${this.id} manifest.json: group ${name}'s weight shapes and dtypes need ${expected} bytes, its byteLength says ${g.byteLength} (manifest edited or damaged; convert the model again)`,
      );
    }
    if (bytes.byteLength !== g.byteLength) {
      throw new ModelFormatError(`${where}: size is ${bytes.byteLength} bytes, expected ${g.byteLength} (file truncated or replaced)`);
    }
    const digest = await sha256Hex(bytes);
    if (digest !== g.sha256) throw new ModelFormatError(`${where}: sha256 ${digest} does not match the manifest (${g.sha256})`);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const odd = g.weights.find((w) => w.dtype !== 'float32');
    if (odd) {
      throw new ModelFormatError(
        `${where} (manifest.json group ${name}): weight '${odd.name}' has dtype ${String(odd.dtype)}; models hold float32 (manifest edited or damaged)`,
      );
    }
    // NaN or Inf weights (a damaged conversion whose manifest matches it) would turn every output
    // black or flat without an error: refused here, once per file, before any use. Checked on the
    // bytes, not on the backend: no kernel to compile for it before the first frame.
    const bad = firstNonFiniteWeight(new DataView(buffer), g.weights);
    if (bad !== null)
      throw new ModelFormatError(`${where}: weight '${bad}' holds NaN or infinite values (damaged model; convert it again)`);
    let weights: tf.NamedTensorMap;
    try {
      weights = tf.io.decodeWeights(
        buffer,
        g.weights.map((w) => ({ ...w, shape: [...w.shape] })),
      );
    } catch (e) {
      throw new ModelFormatError(`${where} (manifest.json group ${name}): ${(e as Error).message}`);
    }
    if (this.disposed) {
      tf.dispose(weights);
      throw new ModelFormatError('model was disposed while loading');
    }
    this.settled.push(weights);
    return weights;
  }

  private assertLive(): void {
    if (this.disposed) throw new ModelFormatError(`model ${this.id} is disposed`);
  }

  /** Frees every weight tensor. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.settled) tf.dispose(w);
    this.settled.length = 0;
    for (const o of this.decoderOverrides.values()) tf.dispose(o.weights);
    this.decoderOverrides.clear();
    this.groups.clear();
  }
}

/**
 * The name of the first weight holding a NaN or an infinity in a group's bytes (laid out in manifest
 * order: float32, or float16 where quantised), or null. An all-ones exponent is NaN or Inf in both.
 */
function firstNonFiniteWeight(view: DataView, weights: WeightGroup['weights']): string | null {
  let offset = 0;
  for (const w of weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.quantization) {
      for (let i = 0; i < n; i++) if ((view.getUint16(offset + 2 * i, true) & 0x7c00) === 0x7c00) return w.name;
      offset += 2 * n;
    } else {
      for (let i = 0; i < n; i++) if ((view.getUint32(offset + 4 * i, true) & 0x7f800000) === 0x7f800000) return w.name;
      offset += 4 * n;
    }
  }
  return null;
}
