/**
 * Import rules, checked by `npm run lint` (CONTRIBUTING.md, "Where a change goes"):
 * - no import cycles between files; none between folders either (test files aside), checked by
 *   `.dependency-cruiser-folders.cjs` over src/ without the tests;
 * - the pure core (the judge, the canary plan and state machine, the analysis config) reaches no
 *   I/O: no file system, network, process, database or cluster module, directly or through
 *   another file, and none of the project's I/O folders;
 * - production code under src/ never imports tests, test support or benches.
 *
 * TypeScript is read with swc (`parser: 'swc'`): dependency-cruiser's TypeScript front end needs
 * TypeScript < 7, and the project compiles with 7. Type-only imports count like any other.
 */

/** Files of the pure core. config/load.ts (reads the file) and config/generate-schema.ts (a build step) are its edge. */
const PURE_CORE = '^src/(judge/|config/(?!load\\.ts$|generate-schema\\.ts$)|canary/(plan[^/]*|step)\\.ts$)';
/** Node built-ins and packages that do I/O. */
const IO_MODULES = [
  '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|tls|cluster|worker_threads|readline|readline/promises)$',
  '^node_modules/(undici|better-sqlite3|mysql2|@kubernetes/client-node|prom-client|playwright-core)/',
];
/**
 * Folders of the project whose modules start servers, processes, connections or write files;
 * app/knobs.ts (parsing the knobs' environment, which the plan shares) is pure.
 */
const IO_FOLDERS = '^src/(app/(?!knobs\\.ts$)|cli/|driver/|history/|mesh/|platform/|report/)';
/** Telemetry files that read over the network (the data types measurement/histogram/buckets are pure). */
const IO_TELEMETRY = '^src/telemetry/(scrape|prometheus[^/]*|factory|source)\\.ts$';
/** The runner and the composition root of src/canary: they may use every engine (folder cycles with src/canary are checked as these two layers). */
const CANARY_SHELL = '^src/canary/(runner|local-run|judge-adapter)\\.ts$';
const CANARY_CORE = '^src/canary/(?!(runner|local-run|judge-adapter)\\.ts$)[^/]+\\.ts$';
const TESTS = '(\\.test\\.ts$|\\.shared-cases\\.ts$|\\.fixture\\.ts$|/testing/|/fixtures/)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment:
        'An import cycle between files: move the shared types or the registry to where the arrows point one way.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'canary-core-below-engines',
      comment:
        'src/canary holds the pure core and the runner that drives the engines: the core must not import an engine or a report.',
      severity: 'error',
      from: { path: CANARY_CORE, pathNot: TESTS },
      to: { path: [IO_FOLDERS, IO_TELEMETRY] },
    },
    {
      name: 'engines-not-to-canary-shell',
      comment: 'An engine, the reports or the history import the runner or the composition root of src/canary.',
      severity: 'error',
      from: {
        path: '^src/(platform|driver|telemetry|mesh|app|report|history|judge|config|manifests)/',
        pathNot: TESTS,
      },
      to: { path: CANARY_SHELL },
    },
    {
      name: 'pure-core-no-io-module',
      comment:
        'The pure core reaches an I/O module (here or through a file it imports); do the I/O at the edge and pass data in.',
      severity: 'error',
      from: { path: PURE_CORE, pathNot: TESTS },
      to: { reachable: true, path: IO_MODULES },
    },
    {
      name: 'pure-core-no-io-folder',
      comment: 'The pure core imports an I/O folder of the project; pass what it needs in as data.',
      severity: 'error',
      from: { path: PURE_CORE, pathNot: TESTS },
      to: { path: [IO_FOLDERS, IO_TELEMETRY] },
    },
    {
      name: 'src-not-to-tests-or-benches',
      comment: 'Production code imports a test, test support or a bench.',
      severity: 'error',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: ['^test/', '^bench/', TESTS] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // ESM first, as Node resolves our imports (tsx/esm/api has only import and require conditions).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    exclude: { path: '^(node_modules|reports|test-artifacts)/' },
  },
};
