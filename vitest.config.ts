import { defineConfig } from 'vitest/config';

const colocated = ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'simulators/*/src/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2-core machines: more forks only fight over the CPU the servers need.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: colocated, exclude: ['**/*.int.test.ts', '**/node_modules/**'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/src/**/*.int.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          // Fails the run, loudly, when a server these tests need is not reachable.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
