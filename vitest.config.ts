import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'simulators/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Fails the run, loudly, when a service the tests need is not reachable.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2-core machines: more forks only fight over the CPU the servers need.
    maxWorkers: 2,
  },
});
