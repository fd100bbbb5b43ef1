/**
 * Folder-level import cycles of production code (`npm run lint`): two folders of src/ must not
 * import each other. Tests are left out (a test may reach across folders, e.g. to a fake in
 * another folder's testing/). So are the runner and the composition root of src/canary
 * (runner.ts, local-run.ts, judge-adapter.ts): they sit above every engine, while the rest of
 * src/canary (plan, step, routes, result) sits below them; `.dependency-cruiser.cjs` checks those
 * two layers file by file (rules canary-core-below-engines and engines-not-to-canary-shell).
 */
module.exports = {
  extends: './.dependency-cruiser.cjs',
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Two folders of src/ import each other: one of them should depend on the other only.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    exclude: {
      path: [
        '^(node_modules|reports|test-artifacts)/',
        '(\\.test\\.ts|\\.shared-cases\\.ts|\\.fixture\\.ts)$',
        '/(testing|fixtures)/',
        '^src/canary/(runner|local-run|judge-adapter)\\.ts$',
      ],
    },
  },
};
