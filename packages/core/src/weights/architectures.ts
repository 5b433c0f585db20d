/**
 * The two model families this project can run, described as layer sequences. Channel counts are
 * not written here: they are read from the checkpoints and checked for consistency when converting.
 *
 * ref: Li et al., "Universal Style Transfer via Feature Transforms", NeurIPS 2017 (encoder/decoder
 * pairs per reluL_1); Wang et al., "Collaborative Distillation for Ultra-Resolution Universal Style
 * Transfer", CVPR 2020 (the cd16x pruned encoders/decoders); ../shared/models/raw/*\/SOURCE.md.
 */
import type { NamedTensor } from './torch-checkpoint.js';

/** A model family: `'cd16x'` (distilled VGG-19 to relu5_1, the default) or `'vgg19'` (full VGG-19 to relu3_1). */
export type ModelId = 'cd16x' | 'vgg19';
/** Every {@link ModelId}. */
export const MODEL_IDS: readonly ModelId[] = ['cd16x', 'vgg19'];

/** A layer as written in a family definition: which conv, and where pooling/upsampling goes. */
export type LayerTemplate =
  | { readonly op: 'conv'; readonly name: string; readonly kernel: 1 | 3; readonly relu: boolean }
  | { readonly op: 'pool' }
  | { readonly op: 'upsample' };

/** A layer with its shapes filled in from the weights. 3x3 convs use reflection padding 1. */
export type LayerSpec =
  | {
      readonly op: 'conv';
      readonly name: string;
      readonly kernel: 1 | 3;
      readonly relu: boolean;
      readonly inChannels: number;
      readonly outChannels: number;
    }
  | { readonly op: 'pool' }
  | { readonly op: 'upsample' };

export interface LevelTemplate {
  /** Raw checkpoint file holding this level's encoder. */
  readonly encoderFile: string;
  readonly decoderFile: string;
  readonly encoder: readonly LayerTemplate[];
  readonly decoder: readonly LayerTemplate[];
  /** Name of the converted encoder weight group (levels may share one, as vgg19's do). */
  readonly encoderGroup: string;
  readonly decoderGroup: string;
}

export interface ModelFamily {
  readonly id: ModelId;
  readonly description: string;
  readonly levels: ReadonlyMap<number, LevelTemplate>;
  readonly defaultLevels: readonly number[];
  /** sha256 of the published raw checkpoints (from SOURCE.md), checked on conversion. */
  readonly rawSha256: Readonly<Record<string, string>>;
}

const conv = (name: string, relu = true, kernel: 1 | 3 = 3): LayerTemplate => ({ op: 'conv', name, kernel, relu });
const POOL: LayerTemplate = { op: 'pool' };
const UP: LayerTemplate = { op: 'upsample' };

/** The VGG-19 body up to relu5_1 with the distilled models' layer names; pooling after conv12/22/34/44. */
const CD16X_BODY: readonly LayerTemplate[] = [
  conv('conv11'),
  conv('conv12'),
  POOL,
  conv('conv21'),
  conv('conv22'),
  POOL,
  conv('conv31'),
  conv('conv32'),
  conv('conv33'),
  conv('conv34'),
  POOL,
  conv('conv41'),
  conv('conv42'),
  conv('conv43'),
  conv('conv44'),
  POOL,
  conv('conv51'),
];

/** Encoder L ends at reluL_1; its decoder is the mirror (pool -> nearest x2 upsampling, ReLU everywhere). */
function cd16xLevel(level: number): LevelTemplate {
  const endName = `conv${level}1`;
  const end = CD16X_BODY.findIndex((l) => l.op === 'conv' && l.name === endName);
  const body = CD16X_BODY.slice(0, end + 1);
  return {
    encoderFile: `${level}SE.pth`,
    decoderFile: `${level}SD.pth`,
    // conv0: the learned 1x1 RGB[0,1] -> mean-subtracted BGR*255 map, no ReLU.
    encoder: [conv('conv0', false, 1), ...body],
    decoder: [...body].reverse().map((l) => (l.op === 'pool' ? UP : l)),
    encoderGroup: `enc${level}`,
    decoderGroup: `dec${level}`,
  };
}

const VGG19_BODY: readonly LayerTemplate[] = [
  conv('conv1', false, 1),
  conv('conv2'), // relu1_1
  conv('conv3'),
  POOL,
  conv('conv4'), // relu2_1
  conv('conv5'),
  POOL,
  conv('conv6'), // relu3_1
];
const VGG19_LEVEL_END: Record<number, string> = { 1: 'conv2', 2: 'conv4', 3: 'conv6' };
const VGG19_DECODERS: Record<number, readonly LayerTemplate[]> = {
  1: [conv('seq.conv1_1')],
  2: [conv('seq.conv2_1'), UP, conv('seq.conv1_2'), conv('seq.conv1_1')],
  3: [conv('conv7'), UP, conv('conv8'), conv('conv9'), UP, conv('conv10'), conv('conv11')],
};

function vgg19Level(level: number): LevelTemplate {
  const end = VGG19_BODY.findIndex((l) => l.op === 'conv' && l.name === VGG19_LEVEL_END[level]);
  return {
    encoderFile: 'vgg19_normalised_r31.pth',
    decoderFile: `decoder_r${level}1.pth`,
    encoder: VGG19_BODY.slice(0, end + 1),
    decoder: VGG19_DECODERS[level] ?? [],
    encoderGroup: 'enc',
    decoderGroup: `dec${level}`,
  };
}

export const MODEL_FAMILIES: Readonly<Record<ModelId, ModelFamily>> = {
  cd16x: {
    id: 'cd16x',
    description: 'Collaborative-Distillation 16x-smaller normalised VGG-19 encoders + decoders, relu1_1..relu5_1',
    levels: new Map([1, 2, 3, 4, 5].map((l) => [l, cd16xLevel(l)])),
    defaultLevels: [5, 4, 3, 2, 1],
    rawSha256: {
      '1SD.pth': '05f26ad40044c019da0cf731372d5bd2ee4b477825c7f45508da70b1cd5a95fd',
      '1SE.pth': 'f74755a65164a88e0db8cbb7d99d7078b9fa505df0953fac5123bfc7c84e0ea4',
      '2SD.pth': '94dd26f0e69857f79bf284a43a3708aa05c09c2593427c7f6e400ad12ce314e6',
      '2SE.pth': 'cb654af6bae77176f8c7721c965483e865b987f2f1612dda1ba0d0b5c3819a61',
      '3SD.pth': '005faba27859435762a8a9386116c00629cd8835a01617d0a71defa577c42174',
      '3SE.pth': '269cdd0e2634e3e1e5d3005b9e7eca0f4cc8077653fee1ac8c0cf1cbe9ab8758',
      '4SD.pth': '902f65e2c6033d803d02df552eb898e5985190a7ae67d155e384826eec6f04cb',
      '4SE.pth': 'd2f059cbcd6669556a43aadef58d20c8b280462c18b60a9e7424a14dd271cd6b',
      '5SD.pth': '17fd0f81622f01366eb21cb4d40140ee38cf988ed6eaf266629709c397a8b485',
      '5SE.pth': '9417c34d0d8d621bc6af78be745f1b8d30f5f210efa01e50655c60eb3770816b',
    },
  },
  vgg19: {
    id: 'vgg19',
    description: 'full-size normalised VGG-19 up to relu3_1 + the original WCT decoders for relu1_1..relu3_1',
    levels: new Map([1, 2, 3].map((l) => [l, vgg19Level(l)])),
    defaultLevels: [3, 2, 1],
    rawSha256: {
      'decoder_r11.pth': '5acfb86387177772161e0a7e02a7044dc91a635c06af994d15e645a0df2e8764',
      'decoder_r21.pth': 'bfb33101799e3894fb5370a571f4e6fd765eb6de5ebb5d333215a09b1dc8c907',
      'decoder_r31.pth': '3ccc3bbc97a15e1d002d0b13523543c518dda2d0346c8f4d39c1d381d8490f68',
      'vgg19_normalised_r31.pth': 'f9bffd632f87360d4de1bcd1627246d2b41a6278aa46e1c1fe7212796b646b7e',
    },
  },
};

export function isModelId(v: string): v is ModelId {
  return (MODEL_IDS as readonly string[]).includes(v);
}

export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

/** Conv weights as the network runs them: HWIO filter (tf.conv2d layout) and bias. */
export interface ConvWeights {
  readonly filterHWIO: NamedTensor;
  readonly bias: NamedTensor;
}

/**
 * Fills a template's shapes from checkpoint tensors (OIHW) and converts the filters to HWIO.
 * Checks that every conv is present with a consistent shape chain.
 * @param inChannels channels entering the first layer (3 for encoders, the level's width for decoders)
 */
export function bindLayers(
  template: readonly LayerTemplate[],
  tensors: ReadonlyMap<string, NamedTensor>,
  inChannels: number,
  source: string,
): { layers: LayerSpec[]; weights: Map<string, NamedTensor> } {
  const layers: LayerSpec[] = [];
  const weights = new Map<string, NamedTensor>();
  let channels = inChannels;
  for (const t of template) {
    if (t.op !== 'conv') {
      layers.push(t);
      continue;
    }
    const w = tensors.get(`${t.name}.weight`);
    const b = tensors.get(`${t.name}.bias`);
    if (!w) throw new ArchitectureError(`${source}: missing tensor ${t.name}.weight`);
    if (!b) throw new ArchitectureError(`${source}: missing tensor ${t.name}.bias`);
    const [o = 0, i = 0, kh = 0, kw = 0] = w.shape;
    if (w.shape.length !== 4 || kh !== t.kernel || kw !== t.kernel || i !== channels) {
      throw new ArchitectureError(
        `${source}: ${t.name}.weight has shape [${w.shape.join(', ')}], expected [out, ${channels}, ${t.kernel}, ${t.kernel}]`,
      );
    }
    if (b.shape.length !== 1 || b.shape[0] !== o) {
      throw new ArchitectureError(`${source}: ${t.name}.bias has shape [${b.shape.join(', ')}], expected [${o}]`);
    }
    weights.set(`${t.name}.filter`, { shape: [kh, kw, i, o], data: oihwToHwio(w.data, o, i, kh, kw) });
    weights.set(`${t.name}.bias`, b);
    layers.push({ op: 'conv', name: t.name, kernel: t.kernel, relu: t.relu, inChannels: i, outChannels: o });
    channels = o;
  }
  return { layers, weights };
}

/** Output channels of a bound layer list. */
export function outputChannels(layers: readonly LayerSpec[]): number {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    if (l?.op === 'conv') return l.outChannels;
  }
  throw new ArchitectureError('layer list has no conv');
}

function oihwToHwio(src: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const dst = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) dst[((y * kw + x) * i + ii) * o + oo] = src[((oo * i + ii) * kh + y) * kw + x] as number;
  return dst;
}

/** Which level's decoder a user-supplied checkpoint fits: the one whose conv names it holds exactly. */
export function matchDecoderLevel(family: ModelFamily, tensors: ReadonlyMap<string, NamedTensor>): number {
  const names = new Set([...tensors.keys()].filter((k) => k.endsWith('.weight')).map((k) => k.slice(0, -7)));
  for (const [level, t] of family.levels) {
    const convs = t.decoder.filter((l) => l.op === 'conv').map((l) => (l.op === 'conv' ? l.name : ''));
    if (convs.length === names.size && convs.every((c) => names.has(c))) return level;
  }
  throw new ArchitectureError(
    `checkpoint with convs [${[...names].join(', ')}] matches no ${family.id} decoder (levels ${[...family.levels.keys()].join(', ')})`,
  );
}
