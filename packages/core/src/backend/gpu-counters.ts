/**
 * Counts what a frame costs a WebGPU device in calls rather than milliseconds: compute dispatches,
 * compute passes, queue submits, pipelines created, tensor uploads and readbacks. On a GPU, fixed
 * per-call costs (~10–20 µs per dispatch in Dawn/Vulkan) decide the frame time of networks this
 * small, and these counts are the same on every machine, so they can be measured on a software
 * adapter and compared across changes.
 *
 * Works by wrapping the WebGPU classes' prototype methods (Dawn's in Node, the browser's in a
 * page) while installed; every device on the page is counted.
 */
import { listenStages, type FrameStage } from './stage-marks.js';

export interface GpuCounts {
  /** `dispatchWorkgroups` calls: one per shader pass tfjs (or our kernels) run. */
  dispatches: number;
  /** Compute passes begun (tfjs ends one at every tensor upload and every 15 dispatches). */
  computePasses: number;
  /** `queue.submit` calls. */
  submits: number;
  /** Compute pipelines created (shader compilations): 0 after warm-up on a steady frame. */
  pipelinesCreated: number;
  /** Tensor data uploads (buffers mapped at creation: tf.scalar constants, input pixels). */
  uploads: number;
  uploadBytes: number;
  /** Uniform writes (`queue.writeBuffer`, one per dispatch in tfjs: shapes, sizes). */
  uniformWrites: number;
  uniformBytes: number;
  /** Buffers mapped for reading (data brought back to the CPU). */
  readbacks: number;
  readbackBytes: number;
}

type Method = (this: unknown, ...args: never[]) => unknown;

const zero = (): GpuCounts => ({
  dispatches: 0,
  computePasses: 0,
  submits: 0,
  pipelinesCreated: 0,
  uploads: 0,
  uploadBytes: 0,
  uniformWrites: 0,
  uniformBytes: 0,
  readbacks: 0,
  readbackBytes: 0,
});

/** Installed counters; {@link GpuCounters.uninstall} restores the original methods. */
export class GpuCounters {
  private counts = zero();
  private readonly restore: Array<() => void> = [];

  private constructor() {}

  /** Starts counting on the WebGPU classes found in `scope` (default: `globalThis`). */
  static install(scope: Record<string, unknown> = globalThis): GpuCounters {
    const c = new GpuCounters();
    const proto = (name: string): Record<string, Method> => {
      const cls = scope[name] as { prototype: Record<string, Method> } | undefined;
      if (!cls?.prototype) throw new Error(`GpuCounters: ${name} is not defined (no WebGPU implementation loaded)`);
      return cls.prototype;
    };
    const wrap = (name: string, method: string, before: (self: unknown, args: unknown[]) => void): void => {
      const p = proto(name);
      const original = p[method];
      if (typeof original !== 'function') throw new Error(`GpuCounters: ${name}.${method} is missing`);
      p[method] = function (this: unknown, ...args: never[]): unknown {
        before(this, args);
        return original.apply(this, args);
      };
      c.restore.push(() => {
        p[method] = original;
      });
    };
    const mapRead = (scope['GPUMapMode'] as { READ: number } | undefined)?.READ ?? 1;
    wrap('GPUComputePassEncoder', 'dispatchWorkgroups', () => {
      c.counts.dispatches++;
    });
    wrap('GPUComputePassEncoder', 'dispatchWorkgroupsIndirect', () => {
      c.counts.dispatches++;
    });
    wrap('GPUCommandEncoder', 'beginComputePass', () => {
      c.counts.computePasses++;
    });
    wrap('GPUQueue', 'submit', () => {
      c.counts.submits++;
    });
    wrap('GPUQueue', 'writeBuffer', (_self, args) => {
      c.counts.uniformWrites++;
      // writeBuffer(buffer, offset, data, dataOffset?, size?): size in elements of data when given.
      const data = args[2] as ArrayBufferView | ArrayBuffer;
      const bytesPer = ArrayBuffer.isView(data) ? ((data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
      const size = args[4] as number | undefined;
      c.counts.uniformBytes += size !== undefined ? size * bytesPer : data.byteLength;
    });
    wrap('GPUDevice', 'createComputePipeline', () => {
      c.counts.pipelinesCreated++;
    });
    wrap('GPUDevice', 'createComputePipelineAsync', () => {
      c.counts.pipelinesCreated++;
    });
    wrap('GPUDevice', 'createBuffer', (_self, args) => {
      const d = args[0] as { size: number; mappedAtCreation?: boolean };
      if (d.mappedAtCreation) {
        c.counts.uploads++;
        c.counts.uploadBytes += d.size;
      }
    });
    wrap('GPUBuffer', 'mapAsync', (self, args) => {
      if (((args[0] as number) & mapRead) !== 0) {
        c.counts.readbacks++;
        c.counts.readbackBytes += (self as { size: number }).size;
      }
    });
    return c;
  }

  /** The counts since install or the last {@link reset}. */
  snapshot(): GpuCounts {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = zero();
  }

  /** Restores the original methods. Idempotent. */
  uninstall(): void {
    for (const r of this.restore.splice(0).reverse()) r();
  }
}

/** `b - a`, field by field. */
export function diffCounts(a: GpuCounts, b: GpuCounts): GpuCounts {
  const out = zero();
  for (const k of Object.keys(out) as Array<keyof GpuCounts>) out[k] = b[k] - a[k];
  return out;
}

/**
 * GPU time of every compute pass, from timestamp queries (the adapter's `timestamp-query`
 * feature): each pass begun while installed gets a begin and end timestamp; {@link GpuPassTimer.readMs}
 * resolves them and returns the passes' summed GPU time. Time between passes (idle, submits) is
 * not counted, so this is the device's busy time, not the frame's wall time. *
 * With `stages`, each pass is also labelled with the frame stage (stage-marks.ts) current when it
 * began, and every mark ends tfjs's open compute pass so that no pass spans two stages (this adds
 * passes: time frames with stages apart from frames whose calls are counted);
 * {@link GpuPassTimer.readStageMs} then splits the time by stage.
 */
export class GpuPassTimer {
  private readonly querySet: GPUQuerySet;
  private next = 0;
  private overflowed = false;
  private restore: (() => void) | null = null;
  private stage: FrameStage | 'other' = 'other';
  private labels: Array<FrameStage | 'other'> = [];

  private constructor(
    private readonly device: GPUDevice,
    private readonly capacity: number,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
  }

  /** Null where the device lacks `timestamp-query`. `scope` holds the WebGPU classes (default globalThis). */
  static install(
    device: GPUDevice,
    capacity = 2048,
    scope: Record<string, unknown> = globalThis,
    stages: { readonly endPass: () => void } | null = null,
  ): GpuPassTimer | null {
    if (!device.features.has('timestamp-query')) return null;
    const t = new GpuPassTimer(device, capacity);
    const proto = (scope['GPUCommandEncoder'] as { prototype: Record<string, Method> }).prototype;
    const original = proto['beginComputePass'] as Method;
    proto['beginComputePass'] = function (this: unknown, ...args: never[]): unknown {
      const d = (args[0] ?? {}) as GPUComputePassDescriptor;
      if (d.timestampWrites || t.next >= t.capacity) {
        if (!d.timestampWrites) t.overflowed = true;
        return original.apply(this, args);
      }
      const i = t.next++;
      t.labels[i] = t.stage;
      const timed: GPUComputePassDescriptor = {
        ...d,
        timestampWrites: { querySet: t.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      };
      return original.apply(this, [timed] as never[]);
    };
    const unlisten = stages
      ? listenStages((stage) => {
          stages.endPass();
          t.stage = stage;
        })
      : null;
    t.restore = () => {
      proto['beginComputePass'] = original;
      unlisten?.();
    };
    return t;
  }

  /**
   * Summed GPU time (ms) of the passes timed since install or the last read, then starts afresh.
   * Call once the device has finished them. Throws if more passes ran than the timer has room for.
   */
  async readMs(): Promise<number> {
    return (await this.readPasses()).reduce((a, p) => a + p.ms, 0);
  }

  /** Like {@link readMs}, split by frame stage (passes begun before any mark count as `other`). */
  async readStageMs(): Promise<Partial<Record<FrameStage | 'other', number>>> {
    const out: Partial<Record<FrameStage | 'other', number>> = {};
    for (const p of await this.readPasses()) out[p.stage] = (out[p.stage] ?? 0) + p.ms;
    return out;
  }

  private async readPasses(): Promise<Array<{ stage: FrameStage | 'other'; ms: number }>> {
    const n = this.next;
    if (this.overflowed) throw new Error(`GpuPassTimer: more than ${this.capacity} compute passes; raise its capacity`);
    if (n === 0) return [];
    const bytes = 2 * n * 8;
    const usage = (globalThis as unknown as { GPUBufferUsage: Record<string, number> }).GPUBufferUsage;
    const mapRead = (globalThis as unknown as { GPUMapMode: { READ: number } }).GPUMapMode.READ;
    const resolved = this.device.createBuffer({ size: bytes, usage: (usage['QUERY_RESOLVE'] ?? 0) | (usage['COPY_SRC'] ?? 0) });
    const read = this.device.createBuffer({ size: bytes, usage: (usage['MAP_READ'] ?? 0) | (usage['COPY_DST'] ?? 0) });
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.resolveQuerySet(this.querySet, 0, 2 * n, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, read, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      await read.mapAsync(mapRead);
      const ts = new BigInt64Array(read.getMappedRange().slice(0));
      read.unmap();
      const passes: Array<{ stage: FrameStage | 'other'; ms: number }> = [];
      for (let i = 0; i < n; i++) {
        const d = Number((ts[2 * i + 1] as bigint) - (ts[2 * i] as bigint));
        passes.push({ stage: this.labels[i] ?? 'other', ms: Math.max(0, d) / 1e6 });
      }
      this.next = 0;
      return passes;
    } finally {
      resolved.destroy();
      read.destroy();
    }
  }

  /** Restores `beginComputePass` and frees the query set. Idempotent. */
  uninstall(): void {
    this.restore?.();
    this.restore = null;
    this.querySet.destroy();
  }
}
