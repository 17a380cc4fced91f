// The teaching kernel's nanobenchmarks (guests/kernel/user/bench.c) as a benchmark.js suite:
// host ns per operation with benchmark.js's margins of error, guest instructions per
// operation, and paravirt over native.
//
//   node bench/nano-suite.js [--quick] [--only a,b] [--type native,paravirt] [--json]
//                                                           (npm run bench:nano:suite)
//
// What is timed: one operation of a nanobenchmark cannot be called from the host, only a whole
// boot can. So for each machine type and benchmark there are two deferred benchmark.js tests:
// one call creates a fresh machine, boots the kernel with `iters=N only=<name>` and runs it to
// power-off; the other does the same with 2N. benchmark.js samples each (about 1 s, at least
// 5 samples) and gives its mean and margin of error (moe, 95 %). What happens once per boot
// (creating the machine, the kernel's start, the warm-up, power-off) is in both means and
// cancels in their difference:
//
//   ns/op   = (mean(2N) − mean(N)) × 1e9 / ops          ops = the guest's ops(2N) − ops(N)
//   ±       = sqrt(moe(2N)² + moe(N)²) × 1e9 / ops
//   insns/op = instret / ops from the guest's own `wvbench` line (2N run: deterministic)
//
// Every call checks its run: powered off, printed "wvbench done" and this benchmark's line with
// the same ops as the first call. Anything else ends the suite with a one-line error, exit 1,
// and no table.
//
// How this differs from bench/nano.js (npm run bench:nano): that one calls runBench()
// (src/bench.ts), which times machine.run() only, runs each length a few times and takes the
// fastest, with the distance to the second fastest as its ±. This takes benchmark.js's means
// over all samples and their margins of error, and its timing includes creating the machine
// (it cancels). Means are pulled up by host noise where the fastest run is not, so expect
// ns/op a little higher and ± wider than bench:nano's on a busy host. Without the per-run
// machine counters (traps, exits, hypercalls per op): for those, use bench:nano.
import Benchmark from 'benchmark';
import { BENCHMARKS, BENCHMARK_NAMES, BENCH_TYPES, MACHINE_TYPES, teachingKernel, runKernelOnce, benchLineOf } from '../dist/index.js';

const USAGE = 'usage: node bench/nano-suite.js [--quick] [--only a,b] [--type native,paravirt] [--json]';

function fail(message, code = 2) {
  process.stderr.write(`bench:nano:suite: ${message}\n`);
  process.exit(code);
}

// ---- options

const opts = { quick: false, json: false, only: undefined, types: undefined };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') fail(`${flag} needs a value (${USAGE.slice(7)})`);
      return v.split(',').map((s) => s.trim()).filter(Boolean);
    };
    if (flag === '--quick') opts.quick = true;
    else if (flag === '--json') opts.json = true;
    else if (flag === '--only') opts.only = value();
    else if (flag === '--type' || flag === '--types') opts.types = value();
    else if (flag === '-h' || flag === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option '${a}' (${USAGE})`);
  }
}

const types = [...new Set(opts.types ?? BENCH_TYPES)];
if (types.length === 0) fail('no machine type given');
for (const t of types) {
  if (!(t in MACHINE_TYPES)) fail(`unknown machine type '${t}' (one of: ${Object.keys(MACHINE_TYPES).join(', ')})`);
  if (!BENCH_TYPES.includes(t)) fail(`machine type '${t}' does not run the teaching kernel yet; ${BENCH_TYPES.join(' and ')} do`);
}
const only = opts.only ?? BENCHMARK_NAMES;
if (only.length === 0) fail('no benchmark given');
for (const n of only) if (!BENCHMARK_NAMES.includes(n)) fail(`unknown benchmark '${n}' (one of: ${BENCHMARK_NAMES.join(', ')})`);
const names = BENCHMARK_NAMES.filter((n) => only.includes(n)); // in the kernel's order

// N per benchmark: each one's default (BENCHMARKS); --quick a quarter, except spawn_exit, whose
// first ~900 spawns in a fresh machine run at half speed (docs/bench.md), as bench/nano.js does
const iters = Object.fromEntries(names.map((n) => [n, opts.quick && n !== 'spawn_exit' ? Math.max(1, Math.round(BENCHMARKS[n].iters / 4)) : BENCHMARKS[n].iters]));
// per benchmark.js test (one length of one benchmark on one machine type)
const MAX_TIME = opts.quick ? 0.25 : 1;
const MIN_SAMPLES = 5;
/** host seconds one boot may take before it counts as hung */
const RUN_TIMEOUT = 120;

// ---- the kernels (as runBench picks them: the fresh build when newer than the prebuilt one)

const kernels = {};
for (const t of types) {
  try {
    kernels[t] = await teachingKernel(t);
  } catch (e) {
    fail(e.message);
  }
}

// ---- one boot: runBench's own (runKernelOnce), held to more: no benchmark may fail or be skipped

/** Boot the kernel once with this command line and run it to power-off; the run, or throws why not. */
async function boot(type, append) {
  const run = await runKernelOnce(type, kernels[type].bytes, append, { memory: '128M', jit: false, timeoutSeconds: RUN_TIMEOUT });
  const where = `${type}, '${append}'`;
  if (run.failure) throw new Error(`${where}: ${run.failure}`);
  const bad = run.lines.find((l) => /^wvbench (error|skipped) /.test(l));
  if (bad) throw new Error(`${where}: the guest printed "${bad}"`);
  return run;
}

/** This benchmark's numbers from a run. */
function parse(run, name, where) {
  const line = benchLineOf(run, name);
  if ('status' in line) throw new Error(`${where}: ${line.reason}`);
  return line;
}

// ---- warm-up: V8 tiers up the core and the device models (the first few thousand MMIO exits of
// a Node process are several times slower than later ones), as runBench does before measuring

const started = performance.now();
const progress = (line) => process.stderr.write(`[bench:nano:suite] ${line}\n`);
try {
  for (const type of types) {
    for (let i = 1; i <= 2; i++) {
      progress(`${type}: warming up (${i}/2), kernel ${kernels[type].source}`);
      await boot(type, `only=${names.join(',')}`);
    }
  }
} catch (e) {
  fail(`the teaching kernel does not run: ${e.message}`, 1);
}

// ---- the suite: per machine type and benchmark, a test with N iterations and one with 2N

const tests = []; // { type, name, iters, bench, guest }
const suite = new Benchmark.Suite('wasmvisor nanobenchmarks');
for (const type of types) {
  for (const name of names) {
    for (const n of [iters[name], 2 * iters[name]]) {
      const test = { type, name, iters: n, guest: undefined };
      const append = `iters=${n} only=${name}`;
      suite.add(`${type} ${name} iters=${n}`, {
        defer: true,
        minSamples: MIN_SAMPLES,
        maxTime: MAX_TIME,
        fn(deferred) {
          boot(type, append)
            .then((run) => {
              const g = parse(run, name, `${type}, '${append}'`);
              if (!test.guest) test.guest = g; // the first call's line; every later call must agree
              else if (g.ops !== test.guest.ops) throw new Error(`${type}, '${append}': ops=${g.ops}, the first run had ops=${test.guest.ops}`);
              deferred.resolve();
            })
            .catch((e) => {
              suite.abort();
              fail(`${e.message} (no numbers reported)`, 1);
            });
        },
      });
      test.bench = suite[suite.length - 1]; // (Suite#add wraps its arguments in a new Benchmark)
      tests.push(test);
    }
  }
}

suite.on('cycle', (e) => {
  const b = e.target;
  const t = tests.find((x) => x.bench === b);
  progress(`${b.name}: mean ${(b.stats.mean * 1e3).toFixed(1)} ms ±${b.stats.rme.toFixed(1)}% (${b.stats.sample.length} samples)`);
  if (b.error) fail(`${t.type} ${t.name} iters=${t.iters}: ${b.error.message ?? b.error}`, 1);
});
progress(`${types.join(', ')}: ${names.length} benchmark${names.length > 1 ? 's' : ''}, ${tests.length} benchmark.js tests (maxTime ${MAX_TIME} s, minSamples ${MIN_SAMPLES})`);
await new Promise((resolve) => {
  suite.on('complete', resolve);
  suite.run({ async: true });
});
const seconds = (performance.now() - started) / 1000;

// ---- results

const side = (t) => ({
  iters: t.iters,
  ops: t.guest.ops,
  instret: t.guest.instret,
  meanMs: t.bench.stats.mean * 1e3,
  moeMs: t.bench.stats.moe * 1e3,
  rme: t.bench.stats.rme,
  samples: t.bench.stats.sample.length,
});
const results = [];
for (const type of types) {
  for (const name of names) {
    const [s, l] = tests.filter((t) => t.type === type && t.name === name);
    const ops = l.guest.ops - s.guest.ops;
    if (!(ops > 0)) fail(`${type} ${name}: the ${l.iters}-iteration run did not do more operations (${l.guest.ops}) than the ${s.iters}-iteration one (${s.guest.ops})`, 1);
    const nsPerOp = ((l.bench.stats.mean - s.bench.stats.mean) * 1e9) / ops;
    const nsPerOpMoe = (Math.hypot(l.bench.stats.moe, s.bench.stats.moe) * 1e9) / ops;
    results.push({ benchmark: name, type, ops, nsPerOp, nsPerOpMoe, instructionsPerOp: l.guest.instret / l.guest.ops, short: side(s), long: side(l) });
  }
}
for (const r of results) {
  const base = results.find((x) => x.type === 'native' && x.benchmark === r.benchmark);
  if (!base || r === base) continue;
  r.ratioToNative = r.nsPerOp / base.nsPerOp;
  // relative errors added in quadrature
  r.ratioMoe = Math.abs(r.ratioToNative) * Math.hypot(r.nsPerOpMoe / r.nsPerOp, base.nsPerOpMoe / base.nsPerOp);
}

if (opts.json) {
  console.log(JSON.stringify({
    node: process.version,
    benchmarkjs: Benchmark.version,
    kernels: Object.fromEntries(types.map((t) => [t, kernels[t].source])),
    types,
    benchmarks: names,
    iters,
    quick: opts.quick,
    maxTime: MAX_TIME,
    minSamples: MIN_SAMPLES,
    seconds,
    results,
  }, null, 2));
} else {
  const f = (x, d) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '-');
  const nd = (x) => (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  const head = ['benchmark', 'machine', 'N', 'ns/op', '±', 'insns/op', 'mean N run', 'mean 2N run', 'samples', 'vs native'];
  const rows = results.map((r) => [
    r.benchmark, r.type, String(r.short.iters), f(r.nsPerOp, nd(r.nsPerOp)),
    `±${f(r.nsPerOpMoe, nd(r.nsPerOpMoe))} (${r.nsPerOp > 0 ? Math.round((100 * r.nsPerOpMoe) / r.nsPerOp) : '-'}%)`,
    f(r.instructionsPerOp, 1),
    `${f(r.short.meanMs, 1)} ms ±${f(r.short.rme, 1)}%`, `${f(r.long.meanMs, 1)} ms ±${f(r.long.rme, 1)}%`,
    `${r.short.samples}/${r.long.samples}`,
    r.ratioToNative === undefined ? (r.type === 'native' ? '1.00x' : '-') : `${r.ratioToNative.toFixed(2)}x ±${r.ratioMoe.toFixed(2)}`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  console.log(`\nnanobenchmarks as a benchmark.js suite, ${types.join(' and ')}${opts.quick ? ' (--quick)' : ''}; kernels: ${types.map((t) => `${t} ${kernels[t].source}`).join(', ')}\n`);
  console.log([line(head), ...rows.map(line)].join('\n'));
  console.log([
    '',
    'ns/op: (mean(2N) − mean(N)) × 1e9 / ops, the means benchmark.js measured of a whole boot (machine created, kernel booted',
    '  with iters=N or 2N, run to power-off); ops: the guest\'s ops(2N) − ops(N). ±: sqrt(moe(2N)² + moe(N)²) × 1e9 / ops, moe',
    '  being benchmark.js\'s 95 % margin of error of a mean. insns/op: guest instructions per operation, kernel included',
    '  (the guest\'s instret around the measured part). mean N/2N run: benchmark.js mean and rme of one boot. samples: of the',
    '  N / 2N test. vs native: ns/op over native\'s, ± from both relative errors.',
    `maxTime ${MAX_TIME} s, minSamples ${MIN_SAMPLES} per test; JIT off; 128M RAM; Node ${process.version}, benchmark.js ${Benchmark.version}; measured in ${seconds.toFixed(1)} s`,
  ].join('\n'));
}
