/**
 * A small, safe Python pickle reader (protocols 0–5), enough for PyTorch checkpoints.
 *
 * ref: Python's `Lib/pickletools.py` (opcode table) and `Lib/pickle.py` (`_Unpickler`).
 * Nothing is executed: a global (`module.name`) becomes a {@link PyGlobal} marker and calls
 * (`REDUCE`, `NEWOBJ`) are handed to a caller-supplied `call` hook, so an untrusted file can
 * at worst produce an error, never run code.
 */

/** A reference to a Python global (`module.name`), as pickled by GLOBAL / STACK_GLOBAL. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling a global the reader does not know: kept as data. */
export class PyCall {
  state: unknown = undefined;
  constructor(
    readonly callable: PyGlobal,
    readonly args: readonly unknown[],
  ) {}
}

/** A value produced by the pickle stream. Python tuples and lists both become arrays. */
export type PyValue = unknown;

export interface PickleHooks {
  /** Called for REDUCE / NEWOBJ on a global; return the constructed value. */
  call?: (callable: PyGlobal, args: readonly PyValue[]) => PyValue;
  /** Called for PERSID / BINPERSID. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

const MARK = Symbol('mark');

export class PickleError extends Error {
  override name = 'PickleError';
}

/**
 * Reads one pickle starting at `offset`.
 * @returns the unpickled value and the offset just past its STOP opcode.
 */
export function readPickle(bytes: Uint8Array, offset = 0, hooks: PickleHooks = {}): { value: PyValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = offset;

  const need = (n: number): void => {
    if (pos + n > bytes.byteLength) {
      throw new PickleError(`truncated pickle: needed ${n} bytes at offset ${pos}, file has ${bytes.byteLength}`);
    }
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const start = pos;
    while (pos < bytes.byteLength && bytes[pos] !== 0x0a) pos++;
    if (pos >= bytes.byteLength) throw new PickleError('truncated pickle: unterminated line');
    const s = latin1.decode(bytes.subarray(start, pos));
    pos++;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at offset ${pos}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at offset ${pos}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items: unknown[] = [];
    for (;;) {
      const v = pop();
      if (v === MARK) break;
      items.push(v);
    }
    return items.reverse();
  };
  // Python ints beyond 2^53 come back as bigint (e.g. PyTorch's legacy magic number).
  const signedLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return v;
    return Number(v);
  };
  const call = (callable: unknown, args: unknown): unknown => {
    if (!(callable instanceof PyGlobal)) throw new PickleError('REDUCE on something that is not a global');
    const argList = Array.isArray(args) ? args : [];
    if (callable.qualifiedName === 'collections.OrderedDict' || callable.qualifiedName === 'builtins.dict') {
      return new Map<unknown, unknown>();
    }
    return hooks.call ? hooks.call(callable, argList) : new PyCall(callable, argList);
  };
  const setItem = (target: unknown, key: unknown, value: unknown): void => {
    if (target instanceof Map) target.set(key, value);
    else throw new PickleError('SETITEM on something that is not a dict');
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLE(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLE(take(u32())));
        break;
      case 0x49: {
        // INT (text)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number.parseInt(line().replace(/L$/, ''), 10));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(decoder.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decoder.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape line)
        stack.push(line());
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x53: {
        // STRING (quoted repr)
        const s = line();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map<unknown, unknown>());
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set<unknown>());
        break;
      case 0x91: // FROZENSET
        stack.push(new Set<unknown>(popMark()));
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError('APPEND on something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError('APPENDS on something that is not a list');
        list.push(...items);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) throw new PickleError('ADDITEMS on something that is not a set');
        for (const item of items) set.add(item);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const target = top();
        for (let i = 0; i + 1 < items.length; i += 2) setItem(target, items[i], items[i + 1]);
        break;
      }
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x67 ? Number.parseInt(line(), 10) : op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw new PickleError(`memo key ${key} missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(new PyGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        stack.push(new PyGlobal(String(module), String(name)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: set state; plain data objects keep it, dicts ignore it (OrderedDict _metadata)
        const state = pop();
        const obj = top();
        if (obj instanceof PyCall) obj.state = state;
        break;
      }
      case 0x50: // PERSID
      case 0x51: {
        // BINPERSID
        const pid = op === 0x50 ? line() : pop();
        if (!hooks.persistentLoad) throw new PickleError('persistent id found but no loader given');
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16)} at offset ${pos - 1}`);
    }
  }
}
