#!/usr/bin/env node
// The main job: run the built-in guests on every machine type that exists and print what
// was measured. Today that is the `native` machine with the bare-metal workloads of
// bench/workloads.js (S-mode, Sv39 on); later issues add Linux and the other types.
import { runBare } from '../dist/index.js';
import { WORKLOADS, buildImage, RAM_BYTES } from '../bench/workloads.js';

const ITERS = { 'integer ALU loop': 4_000_000, 'memory loop (Sv39, 4 KiB pages)': 40, 'branchy (Collatz)': 60_000 };
const machines = ['native'];

console.log('wasmvisor: built-in guests on each machine type\n');
const head = ['machine', 'guest', 'instructions', 'seconds', 'MIPS', 'traps', 'TLB misses', 'page walks', 'walk refs'];
const rows = [];
for (const machine of machines) {
  for (const name of Object.keys(WORKLOADS)) {
    if (process.stderr.isTTY) process.stderr.write(`  running ${name} on ${machine}...\r`);
    const r = await runBare({ memory: RAM_BYTES, image: buildImage(name, ITERS[name]), imageName: name });
    if (r.reason !== 'poweroff') throw new Error(`${name} on ${machine} stopped: ${r.reason}`);
    const s = r.stats;
    rows.push([machine, name, s.instret, r.seconds.toFixed(3), (Number(s.instret) / r.seconds / 1e6).toFixed(1),
      s.traps, s.tlbMisses, s.pageWalks, s.walkRefs].map(String));
  }
}
if (process.stderr.isTTY) process.stderr.write(' '.repeat(70) + '\r');
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(fmt(head));
for (const r of rows) console.log(fmt(r));
console.log('\nother machine types (hypervisor, paravirt, full, hw-assist, kvm, container) are not built yet.');
