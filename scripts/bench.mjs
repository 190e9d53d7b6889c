// `npm run bench [-- name ...]`: runs each test/bench/<name>.bench.ts as its own process (so RSS and
// CPU figures are its own), collects the result each prints as its last stdout line
// (`BENCH_JSON {"section":..,"rows":[{metric,value,unit,reference?,ratio?,goal?,pass?}]}`),
// prints one table and writes bench/results.json. References are measured by each bench in the
// same run; this runner only gathers.
import { build, stop } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const wanted = process.argv.slice(2);
const files = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();
if (files.length === 0) {
  console.error(`bench: nothing matches ${wanted.join(' ') || '(none found)'}`);
  process.exit(2);
}

// Bundles go inside the repo so the packages left external resolve from its node_modules.
mkdirSync('node_modules/.cache', { recursive: true });
const work = mkdtempSync(join('node_modules/.cache', 'torlk-bench-'));
const sections = [];
let failed = 0;
try {
  // Every bench is bundled first and esbuild's service stopped before any runs: an idle esbuild
  // process wakes ~60 times a second (measured), on the same two cores as the private network.
  const bundles = [];
  for (const file of files) {
    const out = join(work, file.replace(/\.ts$/, '.mjs'));
    bundles.push({ file, out });
    await build({
      entryPoints: [join('test/bench', file)],
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      packages: 'external',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
    });
  }
  await stop();
  for (const { file, out } of bundles) {
    console.error(`bench: ${file}`);
    const { code, stdout } = await run(process.execPath, [out]);
    const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('BENCH_JSON '));
    if (code !== 0 || !line) {
      failed++;
      console.error(`bench: ${file} failed (exit ${code})`);
      continue;
    }
    sections.push(JSON.parse(line.slice('BENCH_JSON '.length)));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (v) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4)) : String(v ?? ''));
const table = [['section', 'metric', 'value', 'unit', 'reference', 'ratio', 'goal', 'ok']];
for (const s of sections) {
  for (const r of s.rows) {
    table.push([
      s.section, r.metric, fmt(r.value), r.unit ?? '',
      r.reference ? `${r.reference.name} = ${fmt(r.reference.value)}` : '',
      r.ratio === undefined ? '' : fmt(r.ratio), r.goal ?? '',
      r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
    ]);
  }
}
const widths = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
for (const row of table) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));

mkdirSync('bench', { recursive: true });
const result = { at: new Date().toISOString(), node: process.version, sections };
writeFileSync('bench/results.json', JSON.stringify(result, null, 2) + '\n');
console.log('\nwrote bench/results.json');
process.exit(failed ? 1 : 0);

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('close', (code) => resolve({ code, stdout }));
  });
}
