import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real-process tests start and switch workloads: keep files in parallel but bounded (2 cores).
    maxWorkers: 2,
  },
});
