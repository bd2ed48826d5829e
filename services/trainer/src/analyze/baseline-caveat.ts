import type { NeDelta } from './feature-report.js';
import { isRealGain, type Thresholds } from './recommend.js';

export interface BaselineFacts {
  fullNe: number;
  /** NE of the training sample's CTR predicted for every holdout row. */
  constantNe: number;
  /** NE(full) − NE(constant) on the same holdout rows. */
  fullVsConstant: NeDelta;
  trainSampleClicks: number;
  holdoutSampleClicks: number;
  trainSampleCtr: number;
  holdoutCtr: number;
}

/** True when the full model beats the training CTR predicted everywhere by the report's own bar. */
export function modelLearned(f: Pick<BaselineFacts, 'fullVsConstant'>, t: Thresholds): boolean {
  return isRealGain({ delta: -f.fullVsConstant.delta, se: f.fullVsConstant.se }, t);
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/**
 * What a reader must know before the field and cross numbers, in plain words, or null when there is
 * nothing to say. On a small sample the full model can be no better than predicting the training CTR
 * everywhere (it has learned nothing the holdout can measure, so every delta is noise), and NE can
 * exceed 1: NE divides by the entropy of the holdout's own CTR, which no model knows in advance, so
 * even the training CTR scores above 1 when the two rates differ.
 */
export function baselineCaveat(f: BaselineFacts, t: Thresholds): string | null {
  const parts: string[] = [];
  if (!modelLearned(f, t)) {
    parts.push(
      `The full model is no better than predicting the training sample's CTR for every impression ` +
        `(NE ${signed(f.fullVsConstant.delta)} ± ${f.fullVsConstant.se.toFixed(4)} against it): with ` +
        `${f.trainSampleClicks} clicks to learn from and ${f.holdoutSampleClicks} to measure on, this sample is too ` +
        'small for the field and cross numbers below to mean anything. Widen the window or raise ' +
        'ANALYZE_SAMPLE_ROWS and ANALYZE_HOLDOUT_ROWS.',
    );
  }
  if (f.fullNe > 1) {
    parts.push(
      `NE ${f.fullNe.toFixed(4)} is above 1: worse than the holdout's own CTR (${pct(f.holdoutCtr)}), which no ` +
        `model knows in advance. The training sample's CTR was ${pct(f.trainSampleCtr)}; predicting it for ` +
        `every impression scores NE ${f.constantNe.toFixed(4)}.`,
    );
  }
  return parts.length > 0 ? parts.join(' ') : null;
}
