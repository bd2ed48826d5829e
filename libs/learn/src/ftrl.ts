import { parseOrThrow } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { invalidOptions, LearnError, LearnErrorCode } from './errors.js';

/**
 * The FTRL-Proximal defaults, in one place: the learner's schema, the trainer's FTRL_* settings, its
 * feature analysis and the hyper-parameter search all read them from here. Chosen on the synthetic click
 * logs and checked on a real log (see the README's "Defaults").
 */
export const FTRL_DEFAULTS = Object.freeze({ alpha: 0.1, beta: 1, l1: 1, l2: 1 });

/** Defaults of the training options around the learner (passes, field overrides). */
export const TRAIN_DEFAULTS = Object.freeze({ passes: 1, missingRate: 0, rareRate: 0 });

/** Hyper-parameters of FTRL-Proximal (McMahan et al., KDD 2013). */
export const FtrlOptionsSchema = z.object({
  /** log2 of the number of weights; must match the feature spec's hashBits. */
  hashBits: z.number().int().min(4).max(26),
  /** Per-coordinate learning-rate scale α. */
  alpha: z.number().positive().default(FTRL_DEFAULTS.alpha),
  /** Per-coordinate learning-rate smoothing β (1 usually suffices). */
  beta: z.number().nonnegative().default(FTRL_DEFAULTS.beta),
  /** L1 strength λ1 (sparsity); never applied to the bias. */
  l1: z.number().nonnegative().default(FTRL_DEFAULTS.l1),
  /** L2 strength λ2; never applied to the bias. */
  l2: z.number().nonnegative().default(FTRL_DEFAULTS.l2),
  /**
   * The bias before the first update, in log-odds: baseRateLogOdds of the training rows makes the first
   * predictions the base rate instead of 0.5 (at a 0.4 % CTR a fit started at 0 still over-predicts
   * after one pass). 0 = the textbook start.
   */
  initialBias: z.number().finite().default(0),
});
export type FtrlOptions = z.infer<typeof FtrlOptionsSchema>;
export type FtrlOptionsInput = z.input<typeof FtrlOptionsSchema>;

/**
 * FTRL-Proximal logistic regression over binary hashed features (x_i = 1 for each listed index) plus a
 * bias. Per coordinate i, with p = sigmoid(bias + Σ w_i) and label y:
 *   g = p − y;  σ = (sqrt(n_i + g²) − sqrt(n_i)) / α;  z_i += g − σ·w_i;  n_i += g²
 *   w_i = 0 if |z_i| ≤ λ1, else −(z_i − sign(z_i)·λ1) / ((β + sqrt(n_i))/α + λ2)
 * The bias follows the same rule with λ1 = λ2 = 0, started at b0 = initialBias: its proximal term is
 * centred there (½·σ_0·(b − b0)² with σ_0 = β/α, i.e. z_b = −β·b0/α, n_b = 0), so each step moves it
 * from b0 exactly as from 0 without it. The weights are kept materialised, so a prediction
 * is one sum; memory is 24 bytes × 2^hashBits, (w, z, sqrt n) interleaved so that one coordinate's
 * state shares a cache line (rows touch coordinates at random).
 */
export interface Ftrl {
  readonly options: FtrlOptions;
  readonly size: number;
  /** A copy of the current weights. */
  weights(): Float64Array;
  /** The current weight of one coordinate. */
  weight(index: number): number;
  bias(): number;
  /** Margin bias + Σ w[indices[start..start+n)]. */
  margin(indices: Uint32Array, start: number, n: number): number;
  /** Predicts, then learns from one example; returns the prediction made before the update. */
  update(indices: Uint32Array, start: number, n: number, label: number): number;
  /** A copy of the learner state (z, n, w, bias state) for checkpoints and tests. */
  snapshot(): FtrlState;
  /** A copy of the whole state as it is laid out, to resume from with createFtrl(options, checkpoint). */
  checkpoint(): FtrlCheckpoint;
}

/** The learner's state as laid out in memory: (w, z, sqrt n) per coordinate, then the bias's. */
export interface FtrlCheckpoint {
  state: Float64Array;
  biasZ: number;
  biasSqrtN: number;
  bias: number;
}

export interface FtrlState {
  z: Float64Array;
  sqrtN: Float64Array;
  weights: Float64Array;
  biasZ: number;
  biasSqrtN: number;
  bias: number;
}

/**
 * log(p / (1 − p)) of the click rate the learner sees: `clicks` of `rows`, with the non-clicks kept at
 * `negativeRate` (negative down-sampling). Half a click and half a non-click are added, so a slice
 * without clicks (or without non-clicks) still gives a finite start.
 */
export function baseRateLogOdds(clicks: number, rows: number, negativeRate = 1): number {
  return Math.log((clicks + 0.5) / (negativeRate * (rows - clicks) + 0.5));
}

export function parseFtrlOptions(input: FtrlOptionsInput): FtrlOptions {
  return parseOrThrow(FtrlOptionsSchema, input, invalidOptions('FTRL'));
}

/** A new learner, or (with `from`) one that resumes where a checkpoint of the same options left off. */
export function createFtrl(input: FtrlOptionsInput, from?: FtrlCheckpoint): Ftrl {
  const options = parseFtrlOptions(input);
  const { alpha, beta, l1, l2 } = options;
  const size = 2 ** options.hashBits;
  // state[3i] = w_i, state[3i + 1] = z_i, state[3i + 2] = sqrt(n_i)
  const state = new Float64Array(size * 3);
  if (from !== undefined) {
    if (from.state.length !== state.length) {
      throw new LearnError(
        LearnErrorCode.OPTIONS_INVALID,
        `checkpoint of ${from.state.length / 3} coordinates for hashBits ${options.hashBits}`,
      );
    }
    state.set(from.state);
  }
  const invAlpha = 1 / alpha;
  let bw = from?.bias ?? options.initialBias;
  let bz = from?.biasZ ?? -beta * invAlpha * bw;
  let bsqn = from?.biasSqrtN ?? 0;

  function margin(indices: Uint32Array, start: number, n: number): number {
    let m = bw;
    const end = start + n;
    for (let k = start; k < end; k++) m += state[(indices[k] as number) * 3] as number;
    return m;
  }

  function update(indices: Uint32Array, start: number, n: number, label: number): number {
    const m = margin(indices, start, n);
    let p: number;
    if (m >= 0) p = 1 / (1 + Math.exp(-m));
    else {
      const e = Math.exp(m);
      p = e / (1 + e);
    }
    const g = p - label;
    const g2 = g * g;
    const end = start + n;
    for (let k = start; k < end; k++) {
      const o = (indices[k] as number) * 3;
      const w0 = state[o] as number;
      const s0 = state[o + 2] as number;
      const s1 = Math.sqrt(s0 * s0 + g2);
      const z = (state[o + 1] as number) + g - (s1 - s0) * invAlpha * w0;
      state[o + 1] = z;
      state[o + 2] = s1;
      if (z <= l1 && z >= -l1) state[o] = 0;
      else state[o] = -(z - (z > 0 ? l1 : -l1)) / ((beta + s1) * invAlpha + l2);
    }
    const b1 = Math.sqrt(bsqn * bsqn + g2);
    bz += g - (b1 - bsqn) * invAlpha * bw;
    bsqn = b1;
    bw = -bz / ((beta + b1) * invAlpha);
    return p;
  }

  function strided(offset: number): Float64Array {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = state[i * 3 + offset] as number;
    return out;
  }

  return {
    options,
    size,
    weights: () => strided(0),
    weight: (index: number) => state[index * 3] as number,
    bias: () => bw,
    margin,
    update,
    snapshot: () => ({
      z: strided(1),
      sqrtN: strided(2),
      weights: strided(0),
      biasZ: bz,
      biasSqrtN: bsqn,
      bias: bw,
    }),
    checkpoint: () => ({ state: state.slice(), biasZ: bz, biasSqrtN: bsqn, bias: bw }),
  };
}
