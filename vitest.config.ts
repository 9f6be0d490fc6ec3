import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The end-to-end tests start real peers (Orthanc, dcmtk) and run CPU-heavy inference on a
    // 2-core machine: running files one after another keeps timings sane and ports uncontended.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
