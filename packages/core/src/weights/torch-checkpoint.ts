/**
 * Reads PyTorch checkpoints — the legacy (pre-1.6) stream format and the current zip format — into
 * plain float32 arrays. Pure TypeScript: runs in Node and in the browser (a user's own decoder).
 *
 * ref: PyTorch `torch/serialization.py` (`_legacy_load`, `_load`) and `torch/_utils.py`
 * (`_rebuild_tensor_v2`).
 */
import { unzipSync } from 'fflate';
import { PyCall, PyGlobal, readPickle, type PyValue } from './pickle.js';

/** One named float32 tensor, row-major (PyTorch's own layout, e.g. OIHW for conv weights). */
export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A PyTorch `.pth` checkpoint that cannot be read (not a zip or legacy pickle, unsupported storage). */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Legacy files start with this pickled integer. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

interface StorageType {
  readonly dtype: 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'int8' | 'int16' | 'bool';
  readonly bytesPerElement: number;
}

const STORAGE_TYPES: Record<string, StorageType> = {
  FloatStorage: { dtype: 'float32', bytesPerElement: 4 },
  DoubleStorage: { dtype: 'float64', bytesPerElement: 8 },
  HalfStorage: { dtype: 'float16', bytesPerElement: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytesPerElement: 2 },
  LongStorage: { dtype: 'int64', bytesPerElement: 8 },
  IntStorage: { dtype: 'int32', bytesPerElement: 4 },
  ShortStorage: { dtype: 'int16', bytesPerElement: 2 },
  CharStorage: { dtype: 'int8', bytesPerElement: 1 },
  ByteStorage: { dtype: 'uint8', bytesPerElement: 1 },
  BoolStorage: { dtype: 'bool', bytesPerElement: 1 },
};

/** A storage referenced by tensors; its bytes are filled in after the pickle is read (legacy). */
class StorageRef {
  bytes: Uint8Array | null = null;
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function storageTypeOf(v: PyValue): StorageType {
  if (v instanceof PyGlobal) {
    const t = STORAGE_TYPES[v.name];
    if (t) return t;
    throw new CheckpointError(`unsupported storage type ${v.qualifiedName}`);
  }
  throw new CheckpointError('malformed persistent id: storage type is not a global');
}

function asNumberArray(v: PyValue, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
    throw new CheckpointError(`malformed tensor: ${what} is not a tuple of integers`);
  }
  return v;
}

function rebuildTensor(args: readonly PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new CheckpointError('malformed tensor: no storage');
  if (typeof offset !== 'number') throw new CheckpointError('malformed tensor: storage offset');
  return new TensorRef(storage, offset, asNumberArray(size, 'size'), asNumberArray(stride, 'stride'));
}

function callHook(callable: PyGlobal, args: readonly PyValue[]): PyValue {
  switch (callable.qualifiedName) {
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor':
      return rebuildTensor(args);
    case 'torch._utils._rebuild_parameter':
      return args[0];
    default:
      return new PyCall(callable, args);
  }
}

function elementAsFloat(bytes: Uint8Array, type: StorageType, index: number, view: DataView): number {
  const o = index * type.bytesPerElement;
  switch (type.dtype) {
    case 'float32':
      return view.getFloat32(o, true);
    case 'float64':
      return view.getFloat64(o, true);
    case 'float16':
      return halfToFloat(view.getUint16(o, true));
    case 'bfloat16': {
      const tmp = new DataView(new ArrayBuffer(4));
      tmp.setUint32(0, view.getUint16(o, true) << 16, true);
      return tmp.getFloat32(0, true);
    }
    case 'int64':
      return Number(view.getBigInt64(o, true));
    case 'int32':
      return view.getInt32(o, true);
    case 'int16':
      return view.getInt16(o, true);
    case 'int8':
      return view.getInt8(o);
    case 'uint8':
    case 'bool':
      return bytes[o] as number;
  }
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function materialise(name: string, t: TensorRef): NamedTensor {
  const { storage } = t;
  if (!storage.bytes) throw new CheckpointError(`tensor ${name}: storage ${storage.key} has no data`);
  const numel = t.shape.reduce((a, b) => a * b, 1);
  // Highest element index this view touches must lie inside the storage.
  let last = t.storageOffset;
  for (let d = 0; d < t.shape.length; d++) last += ((t.shape[d] as number) - 1) * (t.stride[d] as number);
  if (numel > 0 && (last + 1) * storage.type.bytesPerElement > storage.bytes.byteLength) {
    throw new CheckpointError(
      `tensor ${name}: shape [${t.shape.join(', ')}] reaches past its storage (${storage.bytes.byteLength} bytes); the file is truncated or corrupt`,
    );
  }
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.byteLength);
  const out = new Float32Array(numel);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let src = t.storageOffset;
    for (let d = 0; d < idx.length; d++) src += (idx[d] as number) * (t.stride[d] as number);
    out[i] = elementAsFloat(storage.bytes, storage.type, src, view);
    for (let d = idx.length - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (t.shape[d] as number)) break;
      idx[d] = 0;
    }
  }
  return { shape: t.shape, data: out };
}

/** Finds the state dict: a bare one, or the usual `{model|state_dict: ...}` wrappers. */
function findStateDict(root: PyValue): Map<unknown, unknown> {
  if (!(root instanceof Map)) throw new CheckpointError('checkpoint does not contain a dict of tensors');
  for (const key of ['model', 'state_dict', 'model_state_dict', 'net']) {
    const inner: unknown = root.get(key);
    if (inner instanceof Map) return inner;
  }
  return root;
}

function collectTensors(root: PyValue): Map<string, NamedTensor> {
  const dict = findStateDict(root);
  const out = new Map<string, NamedTensor>();
  for (const [k, v] of dict) {
    if (typeof k === 'string' && v instanceof TensorRef) out.set(k, materialise(k, v));
  }
  if (out.size === 0) throw new CheckpointError('checkpoint holds no tensors');
  return out;
}

function readLegacy(bytes: Uint8Array): Map<string, NamedTensor> {
  let pos = 0;
  const magic = readPickle(bytes, pos);
  pos = magic.end;
  if (magic.value !== LEGACY_MAGIC) {
    throw new CheckpointError('not a PyTorch checkpoint (bad magic number)');
  }
  const protocol = readPickle(bytes, pos);
  pos = protocol.end;
  if (protocol.value !== 1001) throw new CheckpointError(`unsupported legacy protocol ${String(protocol.value)}`);
  pos = readPickle(bytes, pos).end; // sys_info
  const storages = new Map<string, StorageRef>();
  const main = readPickle(bytes, pos, {
    call: callHook,
    persistentLoad: (pid) => {
      // ('storage', storage_type, root_key, location, size, view_metadata)
      if (!Array.isArray(pid) || pid[0] !== 'storage') throw new CheckpointError('unknown persistent id');
      const key = String(pid[2]);
      let s = storages.get(key);
      if (!s) {
        s = new StorageRef(key, storageTypeOf(pid[1]), Number(pid[4]));
        storages.set(key, s);
      }
      if (pid[5] != null) throw new CheckpointError('storage views (legacy view_metadata) are not supported');
      return s;
    },
  });
  pos = main.end;
  const keys = readPickle(bytes, pos);
  pos = keys.end;
  if (!Array.isArray(keys.value)) throw new CheckpointError('malformed checkpoint: storage key list missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys.value) {
    const s = storages.get(String(key));
    if (!s) throw new CheckpointError(`malformed checkpoint: unknown storage ${String(key)}`);
    if (pos + 8 > bytes.byteLength) throw new CheckpointError(`truncated checkpoint: storage ${s.key} header missing`);
    const numel = Number(view.getBigInt64(pos, true));
    pos += 8;
    const n = numel * s.type.bytesPerElement;
    if (pos + n > bytes.byteLength) {
      throw new CheckpointError(`truncated checkpoint: storage ${s.key} needs ${n} bytes at offset ${pos}, file has ${bytes.byteLength}`);
    }
    s.bytes = bytes.subarray(pos, pos + n);
    pos += n;
  }
  return collectTensors(main.value);
}

function readZip(bytes: Uint8Array): Map<string, NamedTensor> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new CheckpointError(`unreadable zip checkpoint: ${(e as Error).message}`);
  }
  const pklName = Object.keys(files).find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) throw new CheckpointError('zip checkpoint has no data.pkl');
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new CheckpointError('big-endian checkpoints are not supported');
  }
  const storages = new Map<string, StorageRef>();
  const main = readPickle(files[pklName] as Uint8Array, 0, {
    call: callHook,
    persistentLoad: (pid) => {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage') throw new CheckpointError('unknown persistent id');
      const key = String(pid[2]);
      let s = storages.get(key);
      if (!s) {
        s = new StorageRef(key, storageTypeOf(pid[1]), Number(pid[4]));
        const data = files[`${prefix}data/${key}`];
        if (!data) throw new CheckpointError(`zip checkpoint is missing storage data/${key}`);
        if (data.byteLength < s.numel * s.type.bytesPerElement) {
          throw new CheckpointError(
            `truncated checkpoint: storage data/${key} is ${data.byteLength} bytes, needs ${s.numel * s.type.bytesPerElement}`,
          );
        }
        s.bytes = data;
        storages.set(key, s);
      }
      return s;
    },
  });
  return collectTensors(main.value);
}

/**
 * Parses a PyTorch checkpoint (legacy or zip) into named float32 tensors.
 * @throws CheckpointError with a message naming what is wrong.
 */
export function readTorchCheckpoint(bytes: Uint8Array): Map<string, NamedTensor> {
  if (bytes.byteLength < 4) throw new CheckpointError(`file is ${bytes.byteLength} bytes: not a checkpoint`);
  // Zip local-file header "PK\x03\x04".
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return readZip(bytes);
  if (bytes[0] === 0x80) {
    try {
      return readLegacy(bytes);
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`unreadable checkpoint: ${(e as Error).message}`);
    }
  }
  throw new CheckpointError('not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)');
}
