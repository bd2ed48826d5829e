import { defineConfig } from 'vitest/config';

/** Tests against the real local control plane (scripts/cluster.sh): their own project. */
const CLUSTER_TESTS = '**/*.cluster.test.ts';
const ALL_TESTS = ['libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under the "source" condition.
    conditions: ['source'],
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // A deadline, not a duration: a trainer run or a scikit-learn fit takes a few times longer on a
    // busy machine (load average 15-20 on two cores), and a test only fails on its own assertions.
    testTimeout: 300_000,
    // Set-ups that import MLflow in Python or seed a database took over 180 s at load 28.
    hookTimeout: 600_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ALL_TESTS, exclude: ['**/node_modules/**', CLUSTER_TESTS] } },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: [CLUSTER_TESTS],
          globalSetup: ['test/global-setup.ts', 'test/cluster/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
