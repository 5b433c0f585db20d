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
  /** Set when the optimiser can make no further progress: why (see {@link OptimizerStop}). */
  readonly stop: OptimizerStop | null;
}

/**
 * Why an optimiser stopped before its iteration budget:
 * - `'gradient'`: the projected gradient's largest entry fell to the tolerance (a stationary point
 *   of the box-constrained problem);
 * - `'line-search'`: neither the quasi-Newton direction nor, after a history restart, a safeguarded
 *   steepest-descent step lowered the loss (it cannot be lowered in float32 from here).
 */
export type OptimizerStop = 'gradient' | 'line-search';

/** Largest projected-gradient entry at which L-BFGS stops (Torch's lbfgs `tolerance_grad`). */
export const GRADIENT_TOLERANCE = 1e-7;
/** The safeguarded gradient step's first trial moves no pixel more than this (of the [0, 1] range). */
export const SAFE_STEP = 0.05;
/** A curvature pair is kept when s'y > CURVATURE_EPS * y'y (float32 round-off is ~1e-7). */
const CURVATURE_EPS = 1e-6;
/** Halvings of the safeguarded step: 0.05 / 2^30 ≈ 5e-11, below float32's resolution of a pixel. */
const SAFE_BACKTRACKS = 30;

export interface ImageOptimizer {
  step(): Promise<StepResult>;
  dispose(): void;
}

/** The objective became NaN or infinite (weights that overflow float32, a diverging step). */
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
 * Limited-memory BFGS with a backtracking (Armijo) line search, for a box (pixels in [0, 1]).
 * Variables held at a bound by the gradient (at 0 with the gradient pushing below, or at 1 pushing
 * above) are fixed for the step: the gradient and the two-loop direction are masked to the free
 * variables, so projection does not bend the step (the curvature pairs stay those of the whole
 * image: a simplification of L-BFGS-B's reduced space that keeps a descent direction, since
 * g_free . (mask * H g_free) = g_free^T H g_free > 0) (a projected search along an unmasked direction truncates most of the step once many
 * pixels saturate, and the search then fails after a few iterations). A failed search is never the
 * end by itself: the history is dropped and a safeguarded steepest-descent step (at most
 * {@link SAFE_STEP} per pixel, halved up to 30 times) is tried; only if that fails too does the
 * optimiser stop, with `stop: 'line-search'`.
 * ref: Nocedal & Wright, "Numerical Optimization", 2nd ed. 2006, Algorithm 7.4 (two-loop recursion),
 * Algorithm 7.5 (L-BFGS), eq. 7.20 (initial Hessian scaling), Algorithm 3.1 (backtracking), §16.7
 * (projected gradient, the active set of bound constraints); Byrd, Lu, Nocedal & Zhu 1995 (L-BFGS-B);
 * Liu & Nocedal 1989. The first step is scaled by min(1, 1/|g|_1), as Torch's lbfgs does.
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
  /**
   * Growth of the first step while no curvature pair is held. Along a direction of negative
   * curvature (s'y < 0; seaport x woman_with_hat_matisse at 128 px from the content image) no pair
   * can be kept, and the textbook first step 1/|g|_1 (~1e-4 per pixel there) was retaken every
   * iteration: 40 iterations moved the loss by 0.3%. A first step taken at once grows 4x for the
   * next one; one that had to backtrack shrinks it back.
   * ref: Nocedal & Wright, "Numerical Optimization", 2nd ed., §3.5 (initial step from the last one).
   */
  private firstStepScale = 1;
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
      return { parts: ev.parts, point: this.x, evaluations: 1, stop: null };
    }
    const g = this.g;
    // The projected gradient: zero where a bound holds the variable (its descent would leave the box).
    const free = this.freeMask(g);
    const gFree = free ? tf.mul<tf.Tensor4D>(g, free) : g;
    try {
      const largest = await readScalar(tf.tidy(() => tf.max(tf.abs(gFree))));
      if (!(largest > GRADIENT_TOLERANCE)) return { parts: this.parts as LossParts, point: this.x, evaluations: 0, stop: 'gradient' };
      const first = this.s.length === 0;
      const t0 = first ? Math.min(1, this.firstStepScale / (await readScalar(tf.tidy(() => tf.sum(tf.abs(gFree)))))) : 1;
      const d = tf.tidy(() => {
        const r = this.direction(gFree);
        return free ? tf.mul<tf.Tensor4D>(r, free) : r;
      });
      const searched = await this.search(d, gFree, t0, this.maxBacktracks, first);
      if (searched.accepted) return searched.result;
      // Failed: drop the curvature pairs (they may be stale) and take a safeguarded gradient step.
      this.clearHistory();
      const sd = tf.neg<tf.Tensor4D>(gFree);
      const retry = await this.search(sd, gFree, SAFE_STEP / largest, SAFE_BACKTRACKS);
      const evaluations = searched.evaluations + retry.evaluations;
      if (retry.accepted) return { ...retry.result, evaluations };
      if (!searched.sawFinite && !retry.sawFinite) throw new NonFiniteLossError(`loss stayed non-finite along the search direction`);
      return { parts: this.parts as LossParts, point: this.x, evaluations, stop: 'line-search' };
    } finally {
      if (free) {
        free.dispose();
        gFree.dispose();
      }
    }
  }

  /** 1 where a variable may move along -g, 0 where a bound holds it. Null without bounds. @returns caller owns. */
  private freeMask(g: tf.Tensor4D): tf.Tensor4D | null {
    const b = this.bounds;
    if (!b) return null;
    return tf.tidy(() => {
      const atLow = tf.logicalAnd(tf.lessEqual(this.x, b[0]), tf.greater(g, 0));
      const atHigh = tf.logicalAnd(tf.greaterEqual(this.x, b[1]), tf.less(g, 0));
      return tf.cast(tf.logicalNot(tf.logicalOr(atLow, atHigh)), 'float32') as tf.Tensor4D;
    });
  }

  /**
   * Backtracking from step `t0` along `dir` (disposed here). On success the optimiser has moved.
   * @param g the gradient at x (masked to the free variables where bounds apply); not disposed.
   */
  private async search(
    dir: tf.Tensor4D,
    g: tf.Tensor4D,
    t0: number,
    maxBacktracks = this.maxBacktracks,
    /** This is the first-step search of an empty history: its outcome sets {@link firstStepScale}. */
    adaptFirstStep = false,
  ): Promise<
    | { accepted: true; result: StepResult; evaluations: number; sawFinite: boolean }
    | { accepted: false; evaluations: number; sawFinite: boolean }
  > {
    const gtd = await readScalar(dot(g, dir));
    if (!(gtd < 0)) {
      dir.dispose();
      return { accepted: false, evaluations: 0, sawFinite: false };
    }
    const gFull = this.g as tf.Tensor4D;
    let t = t0;
    let evaluations = 0;
    let sawFinite = false;
    try {
      for (let k = 0; k <= maxBacktracks; k++) {
        const b = this.bounds;
        const xNew = tf.tidy(() => {
          const moved = tf.add<tf.Tensor4D>(this.x, tf.mul(dir, t));
          return b ? tf.clipByValue(moved, b[0], b[1]) : moved;
        });
        // Tensors of this trial, freed unless the step is taken (also when evaluate or a read throws).
        const trial: tf.Tensor[] = [xNew];
        try {
          const sNew = tf.sub<tf.Tensor4D>(xNew, this.x);
          trial.push(sNew);
          const gts = b ? await readScalar(dot(gFull, sNew)) : t * gtd;
          const ev = await this.evaluate(xNew);
          trial.push(ev.grad);
          evaluations++;
          const fNew = ev.parts.total;
          if (Number.isFinite(fNew)) sawFinite = true;
          if (Number.isFinite(fNew) && gts < 0 && fNew <= this.f + 1e-4 * gts) {
            const yNew = tf.sub<tf.Tensor4D>(ev.grad, gFull);
            trial.push(yNew);
            const ys = await readScalar(dot(yNew, sNew));
            const yy = ys > 0 ? await readScalar(dot(yNew, yNew)) : 0;
            // Taken: from here nothing can throw, and the trial's tensors become the state.
            trial.length = 0;
            // A pair is kept only with positive curvature, relative to y'y so that small steps
            // are not rejected for their scale (ref: Byrd, Lu, Nocedal & Zhu 1995, L-BFGS-B).
            const keepPair = ys > CURVATURE_EPS * yy && yy > 0;
            if (adaptFirstStep) this.firstStepScale = keepPair ? 1 : Math.max(1, this.firstStepScale * (k === 0 ? 4 : 0.5 ** k));
            if (keepPair) {
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
            this.x.dispose();
            gFull.dispose();
            this.x = xNew;
            this.g = ev.grad;
            this.f = fNew;
            this.parts = ev.parts;
            return { accepted: true, result: { parts: ev.parts, point: this.x, evaluations, stop: null }, evaluations, sawFinite };
          }
        } finally {
          tf.dispose(trial);
        }
        t *= 0.5;
      }
      return { accepted: false, evaluations, sawFinite };
    } finally {
      dir.dispose();
    }
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
    return { parts: ev.parts, point: this.evaluated, evaluations: 1, stop: null };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([this.x, this.m, this.v]);
    this.evaluated?.dispose();
    this.evaluated = null;
  }
}
