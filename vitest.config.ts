import { defineConfig } from 'vitest/config';

// Suites named *.e2e.test.ts start real servers (Prometheus, MariaDB, Chromium, the whole mesh, the
// test cluster). They are slow but run in CI like the rest; `npm run test:unit` leaves them out by
// setting CANARY_TESTS=unit (vitest's --exclude flag does not reach projects that set their own
// exclude, so the choice is made here).
// Whole canary runs (the harness with its mesh, load and judge as child processes) each take most of
// the machine and judge latency between processes: they run after everything else, one at a time,
// so that no other suite competes with their canary for the CPU.
const WHOLE_RUNS = [
  'src/canary/run.e2e.test.ts',
  'src/canary/shutdown.e2e.test.ts',
  'test/cluster/canary-run.e2e.test.ts',
];
const UNIT_ONLY = process.env.CANARY_TESTS === 'unit';
if (process.env.CANARY_TESTS !== undefined && !UNIT_ONLY) {
  throw new Error(`CANARY_TESTS must be 'unit' or unset, got '${process.env.CANARY_TESTS}'`);
}
const E2E = UNIT_ONLY ? ['**/*.e2e.test.ts'] : [];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['src/**/*.test.ts', 'load/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...WHOLE_RUNS, ...E2E],
          // The quick loop shares modules between the files of one worker: importing them again for
          // every file was most of its time (31 s with, 13 s without, 887 tests, quiet machine).
          // `npm test` keeps each file isolated, so CI still catches state that leaks between files.
          isolate: !UNIT_ONLY,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'whole-runs',
          include: UNIT_ONLY ? [] : WHOLE_RUNS,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
