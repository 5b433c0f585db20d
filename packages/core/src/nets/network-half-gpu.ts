/**
 * WebGPU kernels of the half-precision networks (network-half.ts): a fused conv layer and the
 * filter packing it reads. Imported for its side effect by the browser entry and the Node WebGPU
 * start-up; `test/webgpu-node.test.ts` checks them against tfjs's float32 ops.
 * ref: WGSL §17.9 (pack2x16float, unpack2x16float), §4.1 (`enable f16`); Gatys/Li et al. networks:
 * 3x3 conv, reflection padding 1 — ../shared/README.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { F16_SHADER_MARKER, FlatWebGPUProgram, hasF16Shaders } from '../backend/webgpu-program.js';
import { HALF_CONV_KERNEL, PACK_HALF_FILTER_KERNEL } from './network-half.js';

/** Input channel pairs summed in half precision before the float32 accumulator takes them. */
const HALF_SUM_PAIRS = 4;

type Resample = 'none' | 'pool' | 'upsample';

/**
 * Filter words: index ((tap * inPairs * 2 + ci) * groups * 2 + g * 2 + j) holds output channels
 * 4g + 2j and 4g + 2j + 1 of input channel ci at tap (ky * k + kx); channels past the real ones are 0.
 */
class PackHalfFilterProgram extends FlatWebGPUProgram implements WebGPUProgram {
  variableNames = ['taps'];
  shaderKey = 'livestylePackHalfFilter';
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let cin = uniforms.tapsShape.z;
          let cout = uniforms.tapsShape.w;
          let cinPad = (cin + 1) / 2 * 2;
          let words = (cout + 3) / 4 * 2;
          let word = index % words;
          let ci = (index / words) % cinPad;
          let tap = index / (words * cinPad);
          let co = word * 2;
          let base = (tap * cin + ci) * cout + co;
          var v = vec2<f32>(0.0);
          if (ci < cin && co < cout) { v.x = taps[base]; }
          if (ci < cin && co + 1 < cout) { v.y = taps[base + 1]; }
          result[index] = bitcast<i32>(pack2x16float(v));
        }
      }`;
  }
}

tf.registerKernel({
  kernelName: PACK_HALF_FILTER_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const filter = inputs['filter'];
    if (!filter || filter.shape.length !== 4) throw new Error(`${PACK_HALF_FILTER_KERNEL}: needs a [k, k, in, out] filter`);
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
    const words = kh * kw * (Math.ceil(cin / 2) * 2) * Math.ceil(cout / 4) * 2;
    return (backend as WebGPUBackend).runWebGPUProgram(new PackHalfFilterProgram([words]), [filter], 'int32');
  },
});

interface ConvSpec {
  readonly kernel: 1 | 3;
  readonly relu: boolean;
  readonly resample: Resample;
  readonly inHalf: boolean;
  readonly outHalf: boolean;
  readonly f16: boolean;
}

/**
 * One invocation computes 4 output channels of one pixel: for each tap and input channel pair it
 * reads one activation word (or two floats) and two filter words. The conv's input map is the
 * source pooled (2x2 max, floor) or upsampled (nearest x2) on the fly, reflection-padded by index.
 */
class HalfConvProgram implements WebGPUProgram {
  variableNames = ['x', 'w', 'b'];
  shaderKey: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor(
    outputShape: number[],
    invocations: number,
    private readonly s: ConvSpec,
  ) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: [0] };
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, [invocations], this.workgroupSize);
    this.shaderKey = `livestyleHalfConv_${s.kernel}_${s.relu}_${s.resample}_${s.inHalf}_${s.outHalf}_${s.f16}`;
  }

  getUserCode(): string {
    const s = this.s;
    const T = s.f16 ? 'f16' : 'f32';
    const pad = s.kernel === 3 ? 1 : 0;
    // Two activations at source pixel (sy, sx), channels 2 * c2 and 2 * c2 + 1.
    const load = s.inHalf
      ? s.f16
        ? `return bitcast<vec2<f16>>(bitcast<u32>(x[(sy * srcW + sx) * uniforms.xShape.w + c2]));`
        : `return unpack2x16float(bitcast<u32>(x[(sy * srcW + sx) * uniforms.xShape.w + c2]));`
      : `let cin = uniforms.xShape.w;
         let i = (sy * srcW + sx) * cin + 2 * c2;
         var v = vec2<f32>(x[i], 0.0);
         if (2 * c2 + 1 < cin) { v.y = x[i + 1]; }
         return vec2<${T}>(v);`;
    const read =
      s.resample === 'pool'
        ? `return max(max(load(2 * y, 2 * px, c2), load(2 * y, 2 * px + 1, c2)), max(load(2 * y + 1, 2 * px, c2), load(2 * y + 1, 2 * px + 1, c2)));`
        : s.resample === 'upsample'
          ? `return load(y / 2, px / 2, c2);`
          : `return load(y, px, c2);`;
    const filterWords = s.f16
      ? `let wa = vec4<f16>(bitcast<vec2<f16>>(bitcast<u32>(w[wi])), bitcast<vec2<f16>>(bitcast<u32>(w[wi + 1])));
         let wb = vec4<f16>(bitcast<vec2<f16>>(bitcast<u32>(w[wi + words])), bitcast<vec2<f16>>(bitcast<u32>(w[wi + words + 1])));`
      : `let wa = vec4<f32>(unpack2x16float(bitcast<u32>(w[wi])), unpack2x16float(bitcast<u32>(w[wi + 1])));
         let wb = vec4<f32>(unpack2x16float(bitcast<u32>(w[wi + words])), unpack2x16float(bitcast<u32>(w[wi + words + 1])));`;
    const store = s.outHalf
      ? `result[pix * uniforms.outShape.w + g * 2] = bitcast<i32>(pack2x16float(acc.xy));
         result[pix * uniforms.outShape.w + g * 2 + 1] = bitcast<i32>(pack2x16float(acc.zw));`
      : `for (var j = 0; j < 4; j++) {
           if (co + j < cout) { result[pix * cout + co + j] = acc[j]; }
         }`;
    return `
      ${s.f16 ? F16_SHADER_MARKER : ''}
      var<private> srcW : i32;
      fn load(sy : i32, sx : i32, c2 : i32) -> vec2<${T}> {
        ${load}
      }
      fn readPair(y : i32, px : i32, c2 : i32) -> vec2<${T}> {
        ${read}
      }
      // ref: reflection padding (PyTorch ReflectionPad2d): index -1 reads 1, index n reads n - 2.
      fn reflectIndex(i : i32, n : i32) -> i32 {
        var r = abs(i);
        if (r >= n) { r = 2 * n - 2 - r; }
        return r;
      }
      fn main(index : i32) {
        let H = uniforms.outShape.y;
        let W = uniforms.outShape.z;
        let cout = ${s.outHalf ? 'uniforms.outShape.w * 2' : 'uniforms.outShape.w'};
        let groups = (cout + 3) / 4;
        if (index >= H * W * groups) { return; }
        srcW = uniforms.xShape.z;
        let g = index % groups;
        let pix = index / groups;
        let oy = pix / W;
        let ox = pix % W;
        let co = g * 4;
        let inPairs = ${s.inHalf ? 'uniforms.xShape.w' : '(uniforms.xShape.w + 1) / 2'};
        let words = groups * 2;
        var acc = vec4<f32>(0.0);
        for (var j = 0; j < 4; j++) {
          if (co + j < cout) { acc[j] = b[co + j]; }
        }
        for (var ky = 0; ky < ${s.kernel}; ky++) {
          let iy = reflectIndex(oy + ky - ${pad}, H);
          for (var kx = 0; kx < ${s.kernel}; kx++) {
            let ix = reflectIndex(ox + kx - ${pad}, W);
            let tapBase = (ky * ${s.kernel} + kx) * inPairs * 2;
            var c2 = 0;
            loop {
              if (c2 >= inPairs) { break; }
              let end = min(c2 + ${HALF_SUM_PAIRS}, inPairs);
              var part = vec4<${T}>(0.0);
              for (; c2 < end; c2++) {
                let v = readPair(iy, ix, c2);
                let wi = (tapBase + 2 * c2) * words + g * 2;
                ${filterWords}
                part = part + v.x * wa + v.y * wb;
              }
              acc = acc + vec4<f32>(part);
            }
          }
        }
        ${s.relu ? 'acc = max(acc, vec4<f32>(0.0));' : ''}
        ${store}
      }`;
  }
}

tf.registerKernel({
  kernelName: HALF_CONV_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, w, b } = inputs;
    const a = attrs ?? {};
    const kernel = a['kernel'];
    const resample = a['resample'] as Resample;
    const inChannels = a['inChannels'];
    const outChannels = a['outChannels'];
    if (!x || !w || !b || x.shape.length !== 4) throw new Error(`${HALF_CONV_KERNEL}: needs x (NHWC), w and b`);
    if ((kernel !== 1 && kernel !== 3) || (resample !== 'none' && resample !== 'pool' && resample !== 'upsample'))
      throw new Error(`${HALF_CONV_KERNEL}: kernel must be 1 or 3 and resample none, pool or upsample`);
    if (typeof inChannels !== 'number' || typeof outChannels !== 'number')
      throw new Error(`${HALF_CONV_KERNEL}: needs inChannels and outChannels`);
    const inHalf = a['inHalf'] === true;
    const outHalf = a['outHalf'] === true;
    if (x.shape[0] !== 1) throw new Error(`${HALF_CONV_KERNEL}: one image at a time (batch ${x.shape[0]})`);
    if (x.shape[3] !== (inHalf ? inChannels / 2 : inChannels))
      throw new Error(
        `${HALF_CONV_KERNEL}: input has ${x.shape[3]} ${inHalf ? 'words' : 'channels'} per pixel, expected ${inChannels} channels`,
      );
    if (outHalf && outChannels % 4 !== 0) throw new Error(`${HALF_CONV_KERNEL}: packed output needs a multiple of 4 channels`);
    const [, sh, sw] = x.shape as [number, number, number, number];
    const [h, wd] = resample === 'pool' ? [Math.floor(sh / 2), Math.floor(sw / 2)] : resample === 'upsample' ? [sh * 2, sw * 2] : [sh, sw];
    // Reflection padding needs 2 px per side for a 3x3 conv.
    if (kernel === 3 && (h < 2 || wd < 2)) throw new Error(`${HALF_CONV_KERNEL}: a ${wd}x${h} map is too small to reflection-pad`);
    const webgpu = backend as WebGPUBackend;
    // `f16Arithmetic: false` asks for float32 arithmetic where the device has f16 (tests of both).
    const f16 = hasF16Shaders(webgpu.device) && a['f16Arithmetic'] !== false;
    const spec: ConvSpec = { kernel, relu: a['relu'] === true, resample, inHalf, outHalf, f16 };
    const outputShape = [1, h, wd, outHalf ? outChannels / 2 : outChannels];
    const program = new HalfConvProgram(outputShape, h * wd * Math.ceil(outChannels / 4), spec);
    return webgpu.runWebGPUProgram(program, [x, w, b], outHalf ? 'int32' : 'float32');
  },
});
