#!/usr/bin/env node
// Long differential-testing soak against QEMU (docs/differential-testing.md).
//
//   node scripts/diff-soak.mjs [--flavour all|integer,fp,...] [--seed 1] [--count N | --time S]
//                              [--steps 200] [--jobs 3] [--quiet]
//
// Seeds start at --seed; each seed is run in every chosen flavour. It stops after --count
// seeds (per flavour) or --time seconds, whichever comes first (default: --time 600). Every
// failing seed is bisected to the first differing step and reported (now and in the summary).
// Exit status: 0 all agreed, 1 some disagreed, 2 could not run.
// Needs the core (npm run build:core) and qemu-system-riscv64.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = { flavour: 'all', seed: 1, count: Infinity, time: undefined, steps: 200, jobs: 3, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--flavour' || a === '--flavours') o.flavour = v();
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--count') o.count = Number(v());
    else if (a === '--time') o.time = Number(v());
    else if (a === '--steps') o.steps = Number(v());
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log(readmeText());
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.time === undefined && o.count === Infinity) o.time = 600;
  return o;
}

function readmeText() {
  return `usage: node scripts/diff-soak.mjs [--flavour all|integer,fp,...] [--seed S] [--count N | --time SECONDS]
                               [--steps 200] [--jobs 3] [--quiet]
reproduce one seed: node scripts/diff-soak.mjs --flavour FLAVOUR --seed SEED --count 1`;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`${e.message}\n${readmeText()}`);
  process.exit(2);
}

if (!existsSync(join(root, 'build/core.wasm'))) {
  console.error('build/core.wasm is missing: run "npm run build:core" first');
  process.exit(2);
}

// The harness is TypeScript: bundle it next to the core (core.ts finds ../build/core.wasm
// relative to the bundle) and load it.
const out = join(root, 'build/diff-harness.mjs');
await build({
  entryPoints: [join(root, 'tests/diff/harness.ts')], bundle: true, platform: 'node', format: 'esm',
  outfile: out, logLevel: 'error', target: 'node20',
});
const H = await import(pathToFileURL(out).href);

const q = H.qemuAvailable();
if (!q.ok) {
  console.error(`cannot soak: ${q.why}`);
  process.exit(2);
}
const flavours = opts.flavour === 'all' ? [...H.FLAVOURS] : opts.flavour.split(',');
for (const f of flavours) if (!H.FLAVOURS.includes(f)) {
  console.error(`unknown flavour ${f} (known: ${H.FLAVOURS.join(', ')})`);
  process.exit(2);
}

console.log(`differential soak against ${q.version}`);
console.log(`flavours ${flavours.join(', ')}; seeds from ${opts.seed}; ${opts.count === Infinity ? '' : `${opts.count} seeds, `}` +
  `${opts.time ? `time limit ${opts.time} s, ` : ''}${opts.steps} steps per program, ${opts.jobs} QEMUs in parallel\n`);

const t0 = performance.now();
const deadline = opts.time ? t0 + opts.time * 1000 : Infinity;
const per = Object.fromEntries(flavours.map((f) => [f, { ok: 0, bad: 0, seconds: 0 }]));
const failures = [];
let next = 0;
const total = opts.count === Infinity ? Infinity : opts.count * flavours.length;
let done = 0;
let stopped = false;

function progress() {
  if (opts.quiet || !process.stderr.isTTY) return;
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  process.stderr.write(`  ${done} programs, ${failures.length} failing, ${s} s\r`);
}

async function worker() {
  for (;;) {
    if (performance.now() >= deadline) { stopped = true; return; }
    const k = next++;
    if (k >= total) return;
    const seed = opts.seed + Math.floor(k / flavours.length);
    const flavour = flavours[k % flavours.length];
    const r = await H.checkSeed(seed, flavour, opts.steps);
    done++;
    const p = per[flavour];
    p.seconds += r.seconds;
    if (r.ok) p.ok++;
    else {
      p.bad++;
      failures.push(r);
      if (process.stderr.isTTY) process.stderr.write(' '.repeat(60) + '\r');
      console.log(r.report + '\n');
    }
    progress();
  }
}
await Promise.all(Array.from({ length: opts.jobs }, worker));
if (process.stderr.isTTY) process.stderr.write(' '.repeat(60) + '\r');

const secs = (performance.now() - t0) / 1000;
console.log(`summary (${secs.toFixed(1)} s wall${stopped ? ', stopped by the time limit' : ''}):`);
for (const f of flavours) {
  const p = per[f];
  console.log(`  ${f.padEnd(11)} ${String(p.ok).padStart(6)} agreed  ${String(p.bad).padStart(4)} disagreed`);
}
console.log(`  ${'total'.padEnd(11)} ${String(done - failures.length).padStart(6)} agreed  ${String(failures.length).padStart(4)} disagreed`);
if (failures.length) {
  console.log('\nfailing seeds:');
  for (const r of failures) console.log(`  --flavour ${r.flavour} --seed ${r.seed}: first differing step ${r.firstBad} (${r.diffs.length} lines differ)`);
}
process.exit(failures.length ? 1 : 0);
