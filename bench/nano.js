// The teaching kernel's nanobenchmarks (guests/kernel/user/bench.c) on the native machine:
// host ns per operation, guest instructions, traps, exits and hypercalls per operation.
//
//   node bench/nano.js [--quick] [--json] [--jit] [--html FILE]    (npm run bench:nano)
//
// Why not benchmark.js samples (as bench/mips.js takes): one operation of a nanobenchmark
// cannot be called from the host on its own. It happens inside the guest, which must first be
// booted (a fresh machine, the kernel's set-up, a warm-up) and then powers off; so the smallest
// thing the host can time is a whole boot of some tens to hundreds of milliseconds, of which
// the operations are only a part. benchmark.js would time boot + operations, and its
// statistics would describe the boot. Instead this runs runBench() (src/bench.ts, the API
// behind `wasmvisor bench`), which boots each benchmark alone with N and with 2N iterations and
// takes the difference: the boot cancels, and what remains is N operations' worth of host time.
// Each length runs several times and the fastest counts; the ± column is the distance to the
// second fastest. ops/s below is 1e9 / (ns/op), the number benchmark.js would have printed.
import { writeFileSync } from 'node:fs';
import { runBench, formatBenchTable, benchHtml } from '../dist/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const htmlAt = argv.indexOf('--html');
const html = htmlAt >= 0 ? argv[htmlAt + 1] : undefined;
if (htmlAt >= 0 && !html) {
  console.error('bench:nano: --html needs a file name');
  process.exit(2);
}

const report = await runBench({
  types: ['native', 'paravirt'],
  // --quick: a quarter of the default iterations (spawn_exit: the same, see docs/bench.md),
  // three runs of each length
  iters: quick ? { null_syscall: 10000, page_fault: 1000, pte_update: 1000, context_switch: 2500, mmio_read: 10000, block_read: 1500, timer_irq: 2000, hypercall: 10000 } : undefined,
  repeats: quick ? 3 : 5,
  jit: argv.includes('--jit'),
  onProgress: (line) => process.stderr.write(`[bench:nano] ${line}\n`),
});

if (html) {
  writeFileSync(html, benchHtml(report));
  process.stderr.write(`[bench:nano] wrote ${html}\n`);
}
if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`\nnanobenchmarks, ${report.types.join(' and ')} (teaching kernel: ${Object.entries(report.kernels).map(([t, k]) => `${t} ${k}`).join(', ')})\n`);
  console.log(formatBenchTable(report));
  console.log('\nops/s (host):');
  for (const r of report.results) {
    const opsPerSec = r.status === 'ok' && r.nsPerOp > 0 ? Math.round(1e9 / r.nsPerOp).toLocaleString('en-US') : `${r.status}${r.reason ? ` (${r.reason})` : ''}`;
    console.log(`  ${r.benchmark.padEnd(16)} ${opsPerSec}`);
  }
}
process.exit(report.results.some((r) => r.status === 'error') ? 1 : 0);
