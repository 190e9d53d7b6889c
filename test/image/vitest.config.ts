import { defineConfig } from 'vitest/config';

// The SD-image suite: not part of `npm test` (the root config's projects do not include test/image).
// scripts/test-image runs it: `npx vitest run --config test/image/vitest.config.ts`.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/image/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
