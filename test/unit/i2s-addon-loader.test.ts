// The addon loader: found from the sources, from beside a bundle (dist/i2s-audio, the SD image
// layout), through TORLK_ADDON_DIR, and a clear AddonLoadError when it or node-gyp-build is nowhere.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonSearchDirs, loadAddon } from '../../hardware/i2s-audio/index.js';
import { makeTempDir, type TempDir } from '../fixtures/audio/speech-fixture.js';

const addonDir = resolve('hardware/i2s-audio');
let dir: TempDir;
let bundle: string;

beforeAll(async () => {
  dir = makeTempDir('torlk-loader-');
  bundle = join(dir.path, 'dist', 'probe.cjs');
  // A tiny CommonJS bundle like dist/torlk.cjs: it loads the addon and prints what it found.
  const entry = join(dir.path, 'probe.ts');
  writeFileSync(
    entry,
    `import { loadAddon } from ${JSON.stringify(join(addonDir, 'index.ts'))};
try { const a = loadAddon(); console.log(JSON.stringify({ ok: a.versions.opus })); }
catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, searched: e.searched })); }`,
  );
  await build({ entryPoints: [entry], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
});
afterAll(() => dir.remove());

function runBundle(env: Record<string, string>): { ok?: string; name?: string; message?: string; searched?: string[] } {
  const out = execFileSync(process.execPath, [bundle], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim()) as never;
}

describe('loadAddon', () => {
  it('loads from the repository when run from the sources', () => {
    expect(addonSearchDirs()).toContain(addonDir);
    expect(loadAddon().versions.opus).toMatch(/libopus/);
  });

  it('fails with AddonLoadError when node-gyp-build is not installed beside the bundle', () => {
    const r = runBundle({});
    expect(r.name).toBe('AddonLoadError');
    expect(r.message).toMatch(/node-gyp-build package is not installed.*npm ci/);
    // From here on the bundle has node_modules beside it, as the SD image has for onoff.
    symlinkSync(resolve('node_modules'), join(dir.path, 'node_modules'));
  });

  it('fails with AddonLoadError naming every directory it searched when the addon is nowhere', () => {
    const r = runBundle({});
    expect(r.name).toBe('AddonLoadError');
    expect(r.message).toMatch(/npm rebuild|TORLK_ADDON_DIR/);
    expect(r.searched).toContain(join(dir.path, 'dist', 'i2s-audio'));
  });

  it('loads from TORLK_ADDON_DIR', () => {
    expect(runBundle({ TORLK_ADDON_DIR: addonDir }).ok).toMatch(/libopus/);
  });

  it('reports a found-but-unloadable addon with the loader error', () => {
    const bad = join(dir.path, 'bad');
    mkdirSync(join(bad, 'build', 'Release'), { recursive: true });
    writeFileSync(join(bad, 'build', 'Release', 'i2s-audio.node'), 'not an ELF file');
    const r = runBundle({ TORLK_ADDON_DIR: bad });
    expect(r.name).toBe('AddonLoadError');
    expect(r.message).toContain(join(bad, 'build', 'Release', 'i2s-audio.node'));
    expect(r.message).toMatch(/file too short|ELF/);
  });

  it('loads from i2s-audio beside the bundle (the SD image layout)', () => {
    const beside = join(dir.path, 'dist', 'i2s-audio');
    mkdirSync(join(beside, 'build', 'Release'), { recursive: true });
    cpSync(join(addonDir, 'build', 'Release', 'i2s-audio.node'), join(beside, 'build', 'Release', 'i2s-audio.node'));
    expect(runBundle({}).ok).toMatch(/libopus/);
  });

});
