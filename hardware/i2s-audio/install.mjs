// `npm install` / `npm ci` hook for the addon: runs node-gyp-build here (use a matching prebuild, else
// build with node-gyp), pointing node-gyp at the Node headers installed beside this node binary.
// Without that, node-gyp downloads the headers from nodejs.org, and Torlk installs only from the npm
// registry and Debian's apt. Debian's nodejs and the official tarballs both ship include/node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const env = { ...process.env };
const local = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(local, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = local;
if (!env.npm_config_nodedir) {
  console.error(`i2s-audio: no Node headers beside ${process.execPath}; node-gyp will try to download them (set npm_config_nodedir to avoid that)`);
}
const bin = createRequire(import.meta.url).resolve('node-gyp-build/bin.js');
const r = spawnSync(process.execPath, [bin], { cwd: dirname(new URL(import.meta.url).pathname), env, stdio: 'inherit' });
process.exit(r.status ?? 1);
