// Bundles the firmware into one CommonJS file, dist/torlk.cjs.
// CommonJS because onoff's epoll loads through `bindings`, which needs a real require(); packages
// that carry native code stay external and are loaded at run time (node-gyp-build for our addon).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['firmware/cli.ts'],
  outfile: 'dist/torlk.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['onoff', 'epoll'],
  define: {
    TORLK_VERSION: JSON.stringify(pkg.version),
    // The clock check refuses to start tor before this instant (a Pi has no RTC).
    TORLK_BUILD_TIME: JSON.stringify(new Date().toISOString()),
  },
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  legalComments: 'none',
});
