#!/usr/bin/env node
// The main job: run the built-in guests on every machine type that exists and print what was
// measured. Today:
//   native    (1) Debian's riscv64 Linux, booted to a command and powered off (npm run
//             guests:linux fetches it), (2) the bare-metal workloads of bench/workloads.js
//             (S-mode, Sv39 on), (3) the teaching kernel's nanobenchmarks, its native build
//   paravirt  the teaching kernel's paravirtual build (an unmodified Linux cannot run
//             paravirtualized: that takes a kernel rebuilt to make hypercalls)
//   hw-assist Debian's Linux and the teaching kernel's native build, unmodified, in VS-mode
//             under the VMM on the H extension
//   kvm       the same two through the /dev/kvm-shaped API: the VM in a worker, its devices
//             in the userspace VMM there
//   full      the same two, unmodified, deprivileged in U-mode under the trap-and-emulate VMM
//             on shadow page tables; the teaching kernel also with binary translation and
//             with traced shadows
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createMachine, runBare, MACHINE_TYPES, MACHINE_VARIANTS, KvmMachine } from '../dist/index.js';
import { openFileBackend } from '../dist/node.js';
import { WORKLOADS, buildImage, RAM_BYTES } from '../bench/workloads.js';

const ITERS = { 'integer ALU loop': 4_000_000, 'memory loop (Sv39, 4 KiB pages)': 40, 'branchy (Collatz)': 60_000 };
const machines = Object.entries(MACHINE_TYPES).filter(([, t]) => t.implemented).map(([n]) => n);
// which built-in guests each machine type runs
const RUNS = {
  native: ['linux', 'bare', 'kernel-native.elf'], paravirt: ['kernel-pv.elf'], 'hw-assist': ['linux', 'kernel-native.elf'], kvm: ['linux', 'kernel-native.elf'],
  full: ['linux', 'kernel-native.elf'],
};
/** A machine of this type: kvm runs each VM in a worker (KvmMachine), the others createMachine(). */
// `disk`: a read-only disk image file; `memory` in MiB
async function machineOf(type, { disk, memory, onConsole, ...opts }) {
  if (type === 'kvm') {
    const m = new KvmMachine({ ...opts, memory: BigInt(memory) << 20n, drives: disk ? [{ file: disk, readOnly: true }] : opts.drives });
    m.onConsole(onConsole);
    return m;
  }
  const drives = disk ? [{ backend: openFileBackend(disk, { readOnly: true }), readOnly: true }] : opts.drives;
  return createMachine({ type, ...opts, memory: `${memory}M`, drives, onConsole });
}
const runs = (machine, guest) => (RUNS[machine] ?? []).includes(guest);
const progress = (s) => process.stderr.isTTY && process.stderr.write(`  ${s}`.padEnd(78) + '\r');
const rows = [];
const row = (machine, guest, s, seconds) => rows.push([machine, guest, s.instret, seconds.toFixed(2),
  (Number(s.instret) / seconds / 1e6).toFixed(1), s.traps, s.interrupts, s.tlbMisses, s.pageWalks, s.walkRefs,
  s.walkRefs2d, s.sbiCalls + s.pvHypercalls, s.mmioExits + s.pvHostExits + s.hvExits, s.pvPrivFaults + s.fvEmulated,
  s.fvHiddenFaults, s.fvShadowSyncs + s.fvPtWrites].map(String));

console.log('wasmvisor: built-in guests on each machine type\n');

// Debian Linux (downloaded once; exit 3 = it cannot be downloaded here)
process.stderr.write('guests: npm run guests:linux\n');
const g = spawnSync(process.execPath, ['scripts/guests-linux.mjs'], { stdio: ['ignore', 'inherit', 'inherit'] });
const G = 'build/guests/linux/';
const COMMAND = 'uname -a; sha256sum /mnt/hello.txt';
let linuxOut = '';
if (g.status === 0) {
  for (const machine of machines.filter((m) => runs(m, 'linux'))) {
    progress(`booting Debian Linux on ${machine} (about 20 s)...`);
    let out = '';
    const m = await machineOf(machine, {
      memory: 512,
      kernel: readFileSync(G + 'Image'), initrd: readFileSync(G + 'initramfs.cpio.gz'),
      append: `console=ttyS0 quiet wvrun="${COMMAND}"`, disk: G + 'disk.ext4',
      onConsole: (b) => (out += Buffer.from(b).toString()),
    });
    const r = await m.run();
    if (r.reason !== 'poweroff' || !out.includes('wasmvisor: run exit 0'))
      throw new Error(`Linux on ${machine} stopped: ${r.reason} ${r.message ?? ''}\n${out.slice(-1500)}`);
    linuxOut += out.split('\n').filter((l) => /^Linux |\/mnt\/hello\.txt/.test(l)).map((l) => `${machine}: ${l}`).join('\n') + '\n';
    row(machine, 'Debian Linux: boot, run, poweroff', r.stats, r.stats.seconds);
  }
} else {
  console.log(`(Debian Linux skipped: npm run guests:linux exited ${g.status})\n`);
}

for (const machine of machines.filter((m) => runs(m, 'bare'))) {
  for (const name of Object.keys(WORKLOADS)) {
    progress(`running ${name} on ${machine}...`);
    const r = await runBare({ memory: RAM_BYTES, image: buildImage(name, ITERS[name]), imageName: name });
    if (r.reason !== 'poweroff') throw new Error(`${name} on ${machine} stopped: ${r.reason}`);
    row(machine, name, r.stats, r.seconds);
  }
}
// the teaching kernel (guests/kernel): every nanobenchmark, 1000 iterations, one build per type
for (const machine of machines) {
  const build = ['kernel-native.elf', 'kernel-pv.elf'].find((k) => runs(machine, k));
  if (!build) continue;
  progress(`running the teaching kernel (${build}) on ${machine}...`);
  let out = '';
  const m = await machineOf(machine, {
    memory: 128, kernel: readFileSync(`guests/kernel/prebuilt/${build}`), append: 'iters=1000', idle: 'skip',
    drives: [{ data: new Uint8Array(64 * 1024), readOnly: true }], onConsole: (b) => (out += Buffer.from(b).toString()),
  });
  const r = await m.run();
  if (r.reason !== 'poweroff' || r.status !== 0 || !out.includes('wvbench done'))
    throw new Error(`the teaching kernel on ${machine} stopped: ${r.reason} ${r.message ?? ''}\n${out.slice(-1500)}`);
  row(machine, `teaching kernel: 9 nanobenchmarks x 1000`, r.stats, r.stats.seconds);
}
// the full machine's other techniques and shadow policies (src/bench.ts)
for (const [name, { type, options }] of Object.entries(MACHINE_VARIANTS)) {
  if (!machines.includes(type)) continue;
  progress(`running the teaching kernel (kernel-native.elf) on ${name}...`);
  let out = '';
  const m = await machineOf(type, {
    ...options, memory: 128, kernel: readFileSync('guests/kernel/prebuilt/kernel-native.elf'), append: 'iters=1000', idle: 'skip',
    drives: [{ data: new Uint8Array(64 * 1024), readOnly: true }], onConsole: (b) => (out += Buffer.from(b).toString()),
  });
  const r = await m.run();
  if (r.reason !== 'poweroff' || r.status !== 0 || !out.includes('wvbench done'))
    throw new Error(`the teaching kernel on ${name} stopped: ${r.reason} ${r.message ?? ''}\n${out.slice(-1500)}`);
  row(name, `teaching kernel: 9 nanobenchmarks x 1000`, r.stats, r.stats.seconds);
}
progress('');
const head = ['machine', 'guest', 'instructions', 'seconds', 'MIPS', 'traps', 'interrupts', 'TLB misses', 'page walks', 'walk refs', '2-D refs', 'hypercalls', 'exits', 'emulated', 'hidden', 'syncs'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(fmt(head));
for (const r of rows) console.log(fmt(r));
if (linuxOut) {
  console.log(`\nLinux said (${COMMAND}):\n  ${linuxOut.trim().split('\n').join('\n  ')}`);
}
console.log('\nhypercalls: SBI calls answered by the host (native) or the hw-assist VMM, or the paravirt VMM\'s hypercalls;');
console.log('exits: to the host\'s device models (MMIO, PV block ring) and, under hw-assist and kvm, VM exits to the VMM; emulated:');
console.log('privileged instructions a deprivileged kernel executed, emulated by its VMM (trapped on, or called from translated');
console.log('code under full+bt); 2-D refs: of the walks two-stage translation made; hidden: shadow page faults the full VMM');
console.log('filled; syncs: shadow syncs (lazy: the guest\'s SFENCE.VMAs; full+trace: page-table writes applied).');
console.log('Per-operation costs, side by side: wasmvisor bench (docs/bench.md).');
const missing = Object.keys(MACHINE_TYPES).filter((n) => !machines.includes(n));
console.log(`\nmachine types not built yet: ${missing.join(', ')}.`);
