import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The database tests of each file share one database; files run in parallel, two at a time
    // even on two cores: most of a file's time is spent waiting on databases and child processes.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
