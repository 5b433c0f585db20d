/**
 * First-order optimisers over an image tensor, stepped one iteration at a time so the caller can
 * report progress, keep the best point and stop at any moment.
 *
 * Each `step()` returns the loss at the point it evaluated and that point (owned by the optimiser,
 * valid until the next step or dispose). The optimiser owns its state tensors; `dispose()` frees them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossParts } from './objective.js';

export type Evaluate = (x: tf.Tensor4D) => Promise<{ parts: LossParts; grad: tf.Tensor4D }>;

export interface StepResult {
  readonly parts: LossParts;
  /** The image these losses belong to (owned by the optimiser). */
  readonly point: tf.Tensor4D;
  /** Objective evaluations (forward + backward passes) this step used. */
  readonly evaluations: number;
  /** True when the optimiser can make no further progress (line search failed, zero gradient). */
  readonly converged: boolean;
}

export interface ImageOptimizer {
  step(): Promise<StepResult>;
  dispose(): void;
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

function dot(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(a, b)));
}

async function readScalar(t: tf.Scalar): Promise<number> {
  const v = (await t.data())[0] as number;
  t.dispose();
  return v;
}

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search.
 * ref: Nocedal & Wright, "Numerical Optimization", 2nd ed. 2006, Algorithm 7.4 (two-loop recursion),
 * Algorithm 7.5 (L-BFGS), eq. 7.20 (initial Hessian scaling), Algorithm 3.1 (backtracking); Liu &
 * Nocedal 1989. The first step is scaled by min(1, 1/|g|_1), as Torch's lbfgs does.
 */
export class Lbfgs implements ImageOptimizer {
  private x: tf.Tensor4D;
  private g: tf.Tensor4D | null = null;
  private f = Number.NaN;
  private parts: LossParts | null = null;
  private readonly s: tf.Tensor4D[] = [];
  private readonly y: tf.Tensor4D[] = [];
  private readonly rho: number[] = [];
  private gamma = 1;
  private disposed = false;

  /**
   * @param x0 start point; copied (and clipped to `bounds`), not disposed.
   * @param bounds when set, every trial point is projected onto the box (a projected search:
   * the Armijo test and the curvature pair use the projected step).
   */
  constructor(
    x0: tf.Tensor4D,
    private readonly evaluate: Evaluate,
    private readonly historySize = 20,
    private readonly bounds: readonly [number, number] | null = null,
    private readonly maxBacktracks = 12,
  ) {
    this.x = bounds ? tf.clipByValue(x0, bounds[0], bounds[1]) : tf.clone(x0);
  }

  async step(): Promise<StepResult> {
    if (!this.g) {
      const ev = await this.evaluate(this.x);
      if (!Number.isFinite(ev.parts.total)) {
        ev.grad.dispose();
        throw new NonFiniteLossError(`loss is ${ev.parts.total} at the start point`);
      }
      this.g = ev.grad;
      this.f = ev.parts.total;
      this.parts = ev.parts;
      return { parts: ev.parts, point: this.x, evaluations: 1, converged: false };
    }
    const g = this.g;
    const first = this.s.length === 0;
    const d = this.direction(g);
    let gtd = await readScalar(dot(g, d));
    let dir = d;
    if (!(gtd < 0)) {
      // Not a descent direction (curvature pairs went stale): restart from steepest descent.
      this.clearHistory();
      dir.dispose();
      dir = tf.neg(g);
      gtd = -(await readScalar(dot(g, g)));
      if (!(gtd < 0)) {
        dir.dispose();
        return { parts: this.parts as LossParts, point: this.x, evaluations: 0, converged: true };
      }
    }
    let t = first ? Math.min(1, 1 / (await readScalar(tf.tidy(() => tf.sum(tf.abs(g)))))) : 1;
    let evaluations = 0;
    let sawFinite = false;
    for (let k = 0; k <= this.maxBacktracks; k++) {
      const b = this.bounds;
      const xNew = tf.tidy(() => {
        const moved = tf.add<tf.Tensor4D>(this.x, tf.mul(dir, t));
        return b ? tf.clipByValue(moved, b[0], b[1]) : moved;
      });
      const sNew = tf.sub<tf.Tensor4D>(xNew, this.x);
      const gts = b ? await readScalar(dot(g, sNew)) : t * gtd;
      const ev = await this.evaluate(xNew);
      evaluations++;
      const fNew = ev.parts.total;
      if (Number.isFinite(fNew)) sawFinite = true;
      if (Number.isFinite(fNew) && gts < 0 && fNew <= this.f + 1e-4 * gts) {
        const yNew = tf.sub<tf.Tensor4D>(ev.grad, g);
        const ys = await readScalar(dot(yNew, sNew));
        if (ys > 1e-10) {
          const yy = await readScalar(dot(yNew, yNew));
          this.s.push(sNew);
          this.y.push(yNew);
          this.rho.push(1 / ys);
          this.gamma = ys / yy;
          if (this.s.length > this.historySize) {
            this.s.shift()?.dispose();
            this.y.shift()?.dispose();
            this.rho.shift();
          }
        } else {
          sNew.dispose();
          yNew.dispose();
        }
        dir.dispose();
        this.x.dispose();
        g.dispose();
        this.x = xNew;
        this.g = ev.grad;
        this.f = fNew;
        this.parts = ev.parts;
        return { parts: ev.parts, point: this.x, evaluations, converged: false };
      }
      xNew.dispose();
      sNew.dispose();
      ev.grad.dispose();
      t *= 0.5;
    }
    dir.dispose();
    if (!sawFinite) throw new NonFiniteLossError(`loss stayed non-finite along the search direction (last step ${t * 2})`);
    return { parts: this.parts as LossParts, point: this.x, evaluations, converged: true };
  }

  /** -H g by the two-loop recursion. @returns caller owns. */
  private direction(g: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let q: tf.Tensor = g;
      const n = this.s.length;
      const alphas: tf.Scalar[] = [];
      for (let i = n - 1; i >= 0; i--) {
        const a = tf.mul<tf.Scalar>(dot(this.s[i] as tf.Tensor, q), this.rho[i] as number);
        alphas[i] = a;
        q = tf.sub(q, tf.mul(this.y[i] as tf.Tensor, a));
      }
      let r: tf.Tensor = tf.mul(q, n > 0 ? this.gamma : 1);
      for (let i = 0; i < n; i++) {
        const b = tf.mul(dot(this.y[i] as tf.Tensor, r), this.rho[i] as number);
        r = tf.add(r, tf.mul(this.s[i] as tf.Tensor, tf.sub(alphas[i] as tf.Scalar, b)));
      }
      return tf.neg(r) as tf.Tensor4D;
    });
  }

  private clearHistory(): void {
    tf.dispose([...this.s, ...this.y]);
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
    this.gamma = 1;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearHistory();
    this.x.dispose();
    this.g?.dispose();
    this.g = null;
  }
}

/**
 * Adam, projected onto the valid pixel range [0, 1] after each step.
 * ref: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.
 */
export class Adam implements ImageOptimizer {
  private x: tf.Tensor4D;
  private evaluated: tf.Tensor4D | null = null;
  private m: tf.Tensor4D;
  private v: tf.Tensor4D;
  private t = 0;
  private disposed = false;

  /** @param x0 start point; copied, not disposed. */
  constructor(
    x0: tf.Tensor4D,
    private readonly evaluate: Evaluate,
    private readonly learningRate = 0.02,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.x = tf.clone(x0);
    this.m = tf.zerosLike(x0);
    this.v = tf.zerosLike(x0);
  }

  async step(): Promise<StepResult> {
    const ev = await this.evaluate(this.x);
    if (!Number.isFinite(ev.parts.total)) {
      ev.grad.dispose();
      throw new NonFiniteLossError(`loss is ${ev.parts.total} at iteration ${this.t}`);
    }
    this.t++;
    const { t, beta1, beta2 } = this;
    const g = ev.grad;
    const m = tf.tidy(() => tf.add<tf.Tensor4D>(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1)));
    const v = tf.tidy(() => tf.add<tf.Tensor4D>(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
    const xNew = tf.tidy(() => {
      const mHat = tf.div(m, 1 - beta1 ** t);
      const vHat = tf.div(v, 1 - beta2 ** t);
      return tf.clipByValue(
        tf.sub(this.x, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), this.learningRate)),
        0,
        1,
      ) as tf.Tensor4D;
    });
    g.dispose();
    this.m.dispose();
    this.v.dispose();
    this.m = m;
    this.v = v;
    this.evaluated?.dispose();
    this.evaluated = this.x;
    this.x = xNew;
    return { parts: ev.parts, point: this.evaluated, evaluations: 1, converged: false };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([this.x, this.m, this.v]);
    this.evaluated?.dispose();
    this.evaluated = null;
  }
}
