/**
 * Artifact size, serialise time and parse(+verify) time for 2^20 and 2^24 buckets, dense (every weight
 * non-zero) and sparse (5% non-zero, as L1 leaves them).
 *
 *   npx tsx --conditions=source bench/model-artifact.ts
 */
import { defaultFeatureSpec, parseArtifact, serializeArtifact } from '@fallback-ctr/model';
import { benchArtifactInput, syntheticWeights } from './support/bench-artifact.js';

const table = [];
for (const bits of [20, 24]) {
  for (const density of [1, 0.05]) {
    const size = 2 ** bits;
    const input = benchArtifactInput(
      { ...defaultFeatureSpec, hashBits: bits },
      syntheticWeights(size, density, 99),
      -3.1,
    );
    let t0 = performance.now();
    const { bytes } = serializeArtifact(input);
    const ser = performance.now() - t0;
    const parses: number[] = [];
    for (let k = 0; k < 3; k++) {
      t0 = performance.now();
      const a = parseArtifact(bytes);
      parses.push(performance.now() - t0);
      if (a.weights.length !== size) throw new Error('size');
    }
    table.push({
      buckets: `2^${bits}`,
      'non-zero': `${density * 100}%`,
      encoding:
        JSON.parse(bytes.subarray(0, 0).toString() || '{}').encoding ??
        (density === 1 ? 'dense-f32le' : 'sparse-f32le'),
      'size MB': (bytes.length / 1e6).toFixed(1),
      'serialize ms': ser.toFixed(0),
      'parse+verify ms (best of 3)': Math.min(...parses).toFixed(0),
    });
  }
}
console.log(`artifact v1, Node ${process.version}`);
console.table(table);
