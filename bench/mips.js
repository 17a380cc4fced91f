// MIPS of the core on three guest workloads (bench/workloads.js), measured with benchmark.js,
// interpreter only and with the block compiler (src/jit/), printed beside QEMU's
// (qemu-system-riscv64, TCG) on the same images when QEMU is installed.
//
//   node bench/mips.js [--quick] [--json]
//
// wasmvisor: each benchmark.js sample runs SLICE instructions of a never-ending copy of the
// workload on a warm core; MIPS = samples/s * SLICE. QEMU: wall time of a run with N2
// iterations minus one with N1 (cancelling its start-up), over the instructions between
// them (counted by wasmvisor on the same images: the programs are deterministic).
import Benchmark from 'benchmark';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Core } from '../dist/index.js';
import { WORKLOADS, buildImage, RAM_BYTES } from './workloads.js';
import { qemuAvailable, qemuRunSeconds } from './qemu.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const SLICE = 2_000_000n;
const RAM = 0x8000_0000n;

async function coreFor(image, jit = false) {
  const core = await Core.create(RAM_BYTES);
  if (jit) core.enableJit();
  core.writeRam(RAM, image);
  core.reset(RAM);
  return core;
}

/** Run an image to poweroff; returns instructions retired. */
async function instructionsOf(image) {
  const core = await coreFor(image);
  let r;
  do r = core.run(1n << 40n); while (r === 4 /* console */);
  if (r !== 1) throw new Error(`workload did not power off (exit ${r})`);
  return core.stats().instret;
}

function qemuSeconds(image, dir) {
  const f = join(dir, 'image.bin');
  writeFileSync(f, image);
  return qemuRunSeconds(['-M', 'virt', '-bios', 'none', '-m', '64M', '-nographic', '-kernel', f], { timeoutMs: 120_000 });
}

const ITERS = {
  'integer ALU loop': [100_000, quick ? 5_000_000 : 20_000_000],
  'memory loop (Sv39, 4 KiB pages)': [2, quick ? 100 : 400],
  'branchy (Collatz)': [1_000, quick ? 100_000 : 400_000],
};

const rows = [];
const names = Object.keys(WORKLOADS);
const suite = new Benchmark.Suite('wasmvisor MIPS');
const MODES = ['interpreter', 'JIT'];
for (const name of names) {
  for (const mode of MODES) {
    const core = await coreFor(buildImage(name, 0), mode === 'JIT');
    core.run(5_000_000n); // warm up: page tables built, decoded cache filled, blocks compiled, V8 tiered up
    suite.add(`${name}|${mode}`, () => core.run(SLICE), { minSamples: quick ? 5 : 20, maxTime: quick ? 1 : 4 });
  }
}
suite.on('cycle', (e) => {
  const b = e.target;
  const [name, mode] = b.name.split('|');
  let row = rows.find((r) => r.name === name);
  if (!row) rows.push((row = { name }));
  row[mode === 'JIT' ? 'jitMips' : 'mips'] = (b.hz * Number(SLICE)) / 1e6;
  row[mode === 'JIT' ? 'jitRme' : 'rme'] = b.stats.rme;
});
suite.run();

const haveQemu = qemuAvailable();
const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-bench-'));
for (const row of rows) {
  if (!haveQemu) break;
  const [n1, n2] = ITERS[row.name];
  const small = buildImage(row.name, n1), big = buildImage(row.name, n2);
  const insns = (await instructionsOf(big)) - (await instructionsOf(small));
  const dt = qemuSeconds(big, dir) - qemuSeconds(small, dir);
  row.qemuMips = Number(insns) / dt / 1e6;
  row.ratio = row.mips / row.qemuMips;
  row.jitRatio = row.jitMips / row.qemuMips;
}
rmSync(dir, { recursive: true, force: true });

if (json) {
  console.log(JSON.stringify({ node: process.version, qemu: haveQemu, rows }, null, 2));
} else {
  console.log(`\nwasmvisor core MIPS (Node ${process.version}, Sv39 on, S-mode)${haveQemu ? ' beside QEMU TCG' : ''}`);
  console.log('workload'.padEnd(34) + 'interpreter'.padStart(16) + 'JIT'.padStart(16) + (haveQemu ? 'QEMU'.padStart(10) + 'interp/QEMU'.padStart(13) + 'JIT/QEMU'.padStart(10) : ''));
  for (const r of rows) {
    let line = r.name.padEnd(34) + `${r.mips.toFixed(1)} ±${r.rme.toFixed(1)}%`.padStart(16) + `${r.jitMips.toFixed(1)} ±${r.jitRme.toFixed(1)}%`.padStart(16);
    if (haveQemu) line += r.qemuMips.toFixed(1).padStart(10) + `${r.ratio.toFixed(2)}x`.padStart(13) + `${r.jitRatio.toFixed(2)}x`.padStart(10);
    console.log(line);
  }
  if (!haveQemu) console.log('(qemu-system-riscv64 not installed: no peer column; apt-get install qemu-system-misc)');
}
