import { defineConfig } from 'vitest/config';

// Suites named *.e2e.test.ts start real servers (Prometheus, MariaDB, Chromium, the whole mesh).
// They are slow but run in CI like the rest; `npm run test:unit` leaves them out for quick loops.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'load/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
