// Test helper: writes named float32 tensors as a current-PyTorch zip checkpoint (torch.save since 1.6),
// with a protocol-2 pickle exactly shaped like torch's: OrderedDict of _rebuild_tensor_v2 calls whose
// storages are persistent ids ('storage', torch.FloatStorage, key, 'cpu', numel).
import { zipSync } from 'fflate';
import type { NamedTensor } from '../packages/core/src/weights/torch-checkpoint.js';

class PickleWriter {
  private readonly bytes: number[] = [];
  op(code: number): this {
    this.bytes.push(code);
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58); // BINUNICODE
    this.u32(b.length);
    this.bytes.push(...b);
    return this;
  }
  int(n: number): this {
    this.op(0x4a); // BININT
    return this.u32(n);
  }
  global(module: string, name: string): this {
    this.op(0x63);
    this.bytes.push(...new TextEncoder().encode(`${module}\n${name}\n`));
    return this;
  }
  tuple(items: number[]): this {
    this.op(0x28);
    for (const i of items) this.int(i);
    return this.op(0x74);
  }
  u32(n: number): this {
    this.bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export function writeTorchZip(tensors: ReadonlyMap<string, NamedTensor>): Uint8Array {
  const p = new PickleWriter().op(0x80).op(2);
  p.global('collections', 'OrderedDict').op(0x29).op(0x52); // OrderedDict()
  p.op(0x28); // MARK for SETITEMS
  const files: Record<string, Uint8Array> = {};
  let key = 0;
  for (const [name, t] of tensors) {
    const numel = t.data.length;
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // args MARK
    p.op(0x28).str('storage').global('torch', 'FloatStorage').str(String(key)).str('cpu').int(numel).op(0x74).op(0x51); // BINPERSID
    p.int(0)
      .tuple([...t.shape])
      .tuple(strides)
      .op(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').op(0x29).op(0x52); // backward_hooks
    p.op(0x74).op(0x52); // TUPLE, REDUCE
    files[`archive/data/${key}`] = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    key++;
  }
  p.op(0x75).op(0x2e); // SETITEMS, STOP
  files['archive/data.pkl'] = p.done();
  files['archive/byteorder'] = new TextEncoder().encode('little');
  files['archive/version'] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}
