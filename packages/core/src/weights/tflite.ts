/**
 * A small reader for TensorFlow Lite flatbuffers: enough to run MediaPipe's selfie segmentation
 * model in tf.js (one runtime and one GPU context with the stylizer, in browsers and in Node).
 * It reads the first subgraph's tensors (float32, or float16 fed through DEQUANTIZE), operators
 * with their builtin options, and custom options as raw bytes; it executes nothing.
 * ref: tensorflow/lite/schema/schema.fbs (field order = vtable slot) and the FlatBuffers binary
 * format (google.github.io/flatbuffers/flatbuffers_internals.html).
 */

/** A `.tflite` file that is not one, or uses something this reader does not know; the message says what. */
export class TfliteFormatError extends Error {
  override name = 'TfliteFormatError';
}

export interface TfliteTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: 'float32' | 'float16' | 'int32';
  /** Constant data (float16 already widened to float32), or null for activations. */
  readonly data: Float32Array | Int32Array | null;
}

export interface TfliteOperator {
  /** The builtin operator's schema name (e.g. 'CONV_2D'), or the custom code (e.g. 'Convolution2DTransposeBias'). */
  readonly op: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Builtin options by schema field name (only the ones this reader knows for the op). */
  readonly options: Readonly<Record<string, number>>;
  /** A custom op's raw option bytes. */
  readonly customOptions: Uint8Array | null;
}

export interface TfliteGraph {
  readonly description: string;
  readonly tensors: readonly TfliteTensor[];
  readonly operators: readonly TfliteOperator[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

// BuiltinOperator codes (schema.fbs) of the ops a small vision model uses.
const BUILTIN_NAMES: Readonly<Record<number, string>> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  23: 'RESIZE_BILINEAR',
  32: 'CUSTOM',
  34: 'PAD',
  41: 'SUB',
  67: 'TRANSPOSE_CONV',
  117: 'HARD_SWISH',
};

// Builtin option tables: field names in vtable-slot order, with their scalar byte widths.
type Field = readonly [name: string, bytes: 1 | 4, fallback: number];
const PADDED: readonly Field[] = [
  ['padding', 1, 0],
  ['strideW', 4, 0],
  ['strideH', 4, 0],
];
const OPTION_FIELDS: Readonly<Record<string, readonly Field[]>> = {
  CONV_2D: [...PADDED, ['activation', 1, 0], ['dilationW', 4, 1], ['dilationH', 4, 1]],
  DEPTHWISE_CONV_2D: [...PADDED, ['depthMultiplier', 4, 0], ['activation', 1, 0], ['dilationW', 4, 1], ['dilationH', 4, 1]],
  AVERAGE_POOL_2D: [...PADDED, ['filterW', 4, 0], ['filterH', 4, 0], ['activation', 1, 0]],
  MAX_POOL_2D: [...PADDED, ['filterW', 4, 0], ['filterH', 4, 0], ['activation', 1, 0]],
  ADD: [['activation', 1, 0]],
  MUL: [['activation', 1, 0]],
  SUB: [['activation', 1, 0]],
  CONCATENATION: [
    ['axis', 4, 0],
    ['activation', 1, 0],
  ],
  RESIZE_BILINEAR: [
    ['newHeight', 4, 0],
    ['newWidth', 4, 0],
    ['alignCorners', 1, 0],
    ['halfPixelCenters', 1, 0],
  ],
  TRANSPOSE_CONV: PADDED,
};

/** Minimal FlatBuffers table access over one file. */
class Flat {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(at: number): number {
    this.check(at, 1);
    return this.view.getUint8(at);
  }
  i32(at: number): number {
    this.check(at, 4);
    return this.view.getInt32(at, true);
  }
  u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, true);
  }
  /** Byte position of a table field's value, or null when the field is absent. */
  field(table: number, slot: number): number | null {
    const vtable = table - this.i32(table);
    this.check(vtable, 4);
    const vtableBytes = this.view.getUint16(vtable, true);
    this.check(vtable, vtableBytes);
    if (4 + 2 * slot >= vtableBytes) return null;
    const offset = this.view.getUint16(vtable + 4 + 2 * slot, true);
    return offset === 0 ? null : table + offset;
  }
  /** The position an offset field points to. */
  deref(at: number): number {
    return at + this.u32(at);
  }
  table(table: number, slot: number): number | null {
    const at = this.field(table, slot);
    return at === null ? null : this.deref(at);
  }
  /** A vector field: its first element's position and its length. */
  vector(table: number, slot: number): { start: number; length: number } | null {
    const at = this.table(table, slot);
    if (at === null) return null;
    const length = this.u32(at);
    return { start: at + 4, length };
  }
  tables(table: number, slot: number): number[] {
    const v = this.vector(table, slot);
    if (!v) return [];
    this.check(v.start, 4 * v.length); // before allocating: a hostile length must not cost memory
    return Array.from({ length: v.length }, (_, i) => this.deref(v.start + 4 * i));
  }
  ints(table: number, slot: number): number[] {
    const v = this.vector(table, slot);
    if (!v) return [];
    this.check(v.start, 4 * v.length);
    return Array.from({ length: v.length }, (_, i) => this.i32(v.start + 4 * i));
  }
  bytesOf(table: number, slot: number): Uint8Array | null {
    const v = this.vector(table, slot);
    if (!v) return null;
    this.check(v.start, v.length);
    return this.bytes.subarray(v.start, v.start + v.length);
  }
  string(table: number, slot: number): string {
    const b = this.bytesOf(table, slot);
    return b ? new TextDecoder().decode(b) : '';
  }
  scalar(table: number, slot: number, bytes: 1 | 4, fallback: number): number {
    const at = this.field(table, slot);
    if (at === null) return fallback;
    return bytes === 1 ? this.u8(at) : this.i32(at);
  }
  private check(at: number, length: number): void {
    if (!(at >= 0 && at + length <= this.bytes.byteLength))
      throw new TfliteFormatError(`tflite: an offset points outside the file (${at} + ${length} > ${this.bytes.byteLength} bytes)`);
  }
}

/** IEEE 754 binary16 to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const TENSOR_TYPES: Readonly<Record<number, TfliteTensor['type']>> = { 0: 'float32', 1: 'float16', 2: 'int32' };

function readTensor(f: Flat, t: number, buffers: readonly number[]): TfliteTensor {
  const name = f.string(t, 3);
  const shape = f.ints(t, 0);
  const typeCode = f.scalar(t, 1, 1, 0);
  const type = TENSOR_TYPES[typeCode];
  if (!type) throw new TfliteFormatError(`tflite: tensor '${name}' has type ${typeCode}; this reader takes float32, float16 and int32`);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 1 << 20))
    throw new TfliteFormatError(`tflite: tensor '${name}' has an impossible shape [${shape.join(', ')}]`);
  const bufferIndex = f.scalar(t, 2, 4, 0);
  const buffer = buffers[bufferIndex];
  const raw = buffer === undefined ? null : f.bytesOf(buffer, 0);
  if (!raw || raw.byteLength === 0) return { name, shape, type, data: null };
  const count = shape.reduce((a, b) => a * b, 1);
  const width = type === 'float16' ? 2 : 4;
  if (raw.byteLength !== count * width)
    throw new TfliteFormatError(
      `tflite: tensor '${name}' holds ${raw.byteLength} bytes; its shape [${shape.join(', ')}] needs ${count * width}`,
    );
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (type === 'int32') return { name, shape, type, data: Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true)) };
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = type === 'float16' ? halfToFloat(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
  return { name, shape, type, data };
}

/** Parses a `.tflite` file's first subgraph. Throws TfliteFormatError on anything it cannot read. */
export function readTflite(bytes: Uint8Array): TfliteGraph {
  if (bytes.byteLength < 8 || new TextDecoder().decode(bytes.subarray(4, 8)) !== 'TFL3')
    throw new TfliteFormatError(`tflite: not a TensorFlow Lite model (no 'TFL3' identifier in the first 8 of ${bytes.byteLength} bytes)`);
  const f = new Flat(bytes);
  const model = f.deref(0);
  const codes = f.tables(model, 1).map((c) => {
    const custom = f.string(c, 1);
    // The builtin code moved from an int8 (slot 0) to an int32 (slot 3); the larger of the two is it.
    const code = Math.max(f.scalar(c, 0, 1, 0), f.scalar(c, 3, 4, 0));
    if (code === 32) return custom || 'CUSTOM';
    const name = BUILTIN_NAMES[code];
    if (!name) throw new TfliteFormatError(`tflite: builtin operator ${code} is not one this reader runs`);
    return name;
  });
  const buffers = f.tables(model, 4);
  const [subgraph] = f.tables(model, 2);
  if (subgraph === undefined) throw new TfliteFormatError('tflite: the model has no subgraph');
  const tensors = f.tables(subgraph, 0).map((t) => readTensor(f, t, buffers));
  const operators = f.tables(subgraph, 3).map((o): TfliteOperator => {
    const op = codes[f.scalar(o, 0, 4, 0)];
    if (op === undefined) throw new TfliteFormatError('tflite: an operator names an operator code the model does not list');
    const fields = OPTION_FIELDS[op] ?? [];
    const optionsTable = f.table(o, 4);
    const options: Record<string, number> = {};
    fields.forEach(([name, width, fallback], slot) => {
      options[name] = optionsTable === null ? fallback : f.scalar(optionsTable, slot, width, fallback);
    });
    return { op, inputs: f.ints(o, 1), outputs: f.ints(o, 2), options, customOptions: f.bytesOf(o, 5) };
  });
  return {
    description: f.string(model, 3),
    tensors,
    operators,
    inputs: f.ints(subgraph, 1),
    outputs: f.ints(subgraph, 2),
  };
}
