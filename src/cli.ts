#!/usr/bin/env node
// wasmvisor command line. Flags follow QEMU's names where QEMU has them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runBare } from './machines/bare.js';
import { LoadError } from './loader/elf.js';
import { STAT_NAMES, FV_STAT_NAMES, type CoreStats } from './core.js';
import { disassemble } from './isa/disasm.js';
import {
  createMachine, parseSize, ConfigError, quotedList, MACHINE_TYPES, IMPLEMENTED_TYPES, FULL_TECHNIQUES, SHADOW_POLICIES,
  type MachineOptions, type DeviceStats, type DriveOptions,
} from './machine.js';
import { openFileBackend } from './devices/virtio/block-file.js';
import { FdtError } from './platform/fdt.js';
import { BoardConfigError } from './platform/devicetree.js';
import { parseCpu } from './platform/cpu.js';
import { KvmMachine, KvmMachineError } from './kvm/machine.js';
import type { VmmStats } from './kvm/vmm.js';
import {
  runBench, formatBenchTable, benchHtml, checkBenchTypes, checkBenchNames, BENCHMARK_NAMES, BENCH_TYPES, type BenchReport,
} from './bench.js';

const PRIV_NAMES = ['U', 'S', '?', 'M'];
const TYPES = Object.keys(MACHINE_TYPES);
const DEVICES = ['virtio-rng-device', 'virtio-net-device', 'virtio-console-device'];

const USAGE = `usage: wasmvisor run [options]
  -kernel FILE        Linux Image, ELF64 RISC-V executable or raw binary
  -initrd FILE        initial ramdisk (placed below the device tree, at the top of RAM)
  -append CMDLINE     kernel command line
  -bios FILE|none     M-mode firmware such as OpenSBI's fw_dynamic.bin; 'none' runs the kernel
                      from reset in M-mode. Default: the host answers SBI calls (no firmware)
  -m SIZE             guest RAM, e.g. 256M, 1G (a bare number means MiB, as in QEMU); default 256M
  -drive file=F,if=virtio[,format=raw][,readonly=on][,snapshot=on]
                      a virtio-blk disk (snapshot: writes go to memory, the file is untouched)
  -device virtio-rng-device|virtio-net-device|virtio-console-device
  -cpu rv64[,h=on|off]  the hart (rv64imafdch, zicsr, zifencei, zicntr, sv39/sv48); h (the
                      hypervisor extension) is on by default, as in QEMU
  -nographic          accepted for QEMU compatibility (the console is always the terminal)
  --type TYPE         virtualization type: ${TYPES.join('|')} (default native)
  --technique trap-and-emulate|binary-translation
                      full: how the guest kernel's privileged instructions reach the VMM
                      (default trap-and-emulate)
  --shadow lazy|trace full: shadow page tables follow the guest's at its SFENCE.VMA (default
                      lazy) or by write-protecting its page tables
  --idle sleep|skip   while the guest idles: wait in real time (default) or skip ahead
  --jit on|off        compile hot guest code to WebAssembly (default on) or interpret only
  --max-insns N       stop after N instructions
  --stats             print the event counters on exit (stderr)
  --trace             print every executed instruction, disassembled (stderr; slow; -bios none)
  -h, --help          this text
The console is the terminal; on a TTY, Ctrl-A x quits (as in QEMU).
wasmvisor bench --help: the teaching kernel's nanobenchmarks on each machine type.`;

const BENCH_USAGE = `usage: wasmvisor bench [options]
Boots the teaching kernel (guests/kernel) on each machine type and measures its nanobenchmarks
from the host: each benchmark runs alone with N and with 2N iterations, and the difference
gives host ns per operation; the guest counts its instructions, the machine its traps, exits
and hypercalls. Progress goes to stderr. See docs/bench.md.
  --type T[,T...]     machine types (default: every one that runs the teaching kernel: ${BENCH_TYPES.join(', ')})
  --iters N           N for every benchmark (default: each one's own, 4000 to 40000)
  --only a,b          these benchmarks only: ${BENCHMARK_NAMES.join(', ')}
  --repeats R         runs of each length; the fastest counts (default 5)
  --jit on|off        the block compiler (default off: steadier numbers; docs/bench.md)
  -kernel FILE        the teaching kernel's native build (default: build/guests/kernel/kernel-native.elf
                      when newer than guests/kernel/prebuilt/kernel-native.elf, else the latter)
  --pv-kernel FILE    its paravirtual build, for paravirt (default: kernel-pv.elf, found the same way)
  --json              print the results as JSON instead of the table
  --html FILE         also write a self-contained HTML report with a chart
  -h, --help          this text
Exit status: 0, or 1 if a benchmark failed.`;

/** A bad command line; `usage` is the line printed after the message (none: one line only). */
class UsageError extends Error {
  constructor(message: string, readonly usage: string | null = USAGE.split('\n')[0]) {
    super(message);
  }
}

interface RunArgs {
  kernel?: string;
  initrd?: string;
  append?: string;
  bios?: string;
  memory: string;
  type: string;
  cpu?: string;
  drives: DriveSpec[];
  devices: string[];
  idle?: string;
  jit?: string;
  technique?: string;
  shadow?: string;
  maxInsns?: bigint;
  stats: boolean;
  trace: boolean;
}

function parseRun(argv: string[]): RunArgs {
  const a: RunArgs = { memory: '256M', type: 'native', stats: false, trace: false, drives: [], devices: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-kernel': a.kernel = value(); break;
      case '-initrd': a.initrd = value(); break;
      case '-append': a.append = value(); break;
      case '-bios': a.bios = value(); break;
      case '-m': a.memory = value(); break;
      case '-drive': a.drives.push(parseDrive(value())); break;
      case '-device': {
        const d = value();
        if (!DEVICES.includes(d)) throw new UsageError(`-device ${d}: unknown device (one of: ${DEVICES.join(', ')})`);
        a.devices.push(d);
        break;
      }
      case '-cpu': a.cpu = value(); break;
      case '-nographic': break;
      case '--type': a.type = value(); break;
      case '--idle': a.idle = value(); break;
      case '--jit': a.jit = value(); break;
      case '--technique': a.technique = value(); break;
      case '--shadow': a.shadow = value(); break;
      case '--max-insns': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new UsageError(`--max-insns takes a whole number, not '${v}'`);
        a.maxInsns = BigInt(v);
        break;
      }
      case '--stats': a.stats = true; break;
      case '--trace': a.trace = true; break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new UsageError(`unknown option '${flag}'`);
    }
  }
  if (!TYPES.includes(a.type)) throw new UsageError(`unknown machine type '${a.type}' (one of: ${TYPES.join(', ')})`);
  if (!MACHINE_TYPES[a.type as keyof typeof MACHINE_TYPES].implemented)
    throw new UsageError(`machine type '${a.type}' is not implemented yet; ${quotedList(IMPLEMENTED_TYPES)} run today`);
  if (!a.kernel && (a.bios === undefined || a.bios === 'none')) throw new UsageError('-kernel FILE is required');
  if (a.idle !== undefined && a.idle !== 'sleep' && a.idle !== 'skip') throw new UsageError(`--idle takes sleep or skip, not '${a.idle}'`);
  if (a.jit !== undefined && a.jit !== 'on' && a.jit !== 'off') throw new UsageError(`--jit takes on or off, not '${a.jit}'`);
  if (a.technique !== undefined && !(FULL_TECHNIQUES as readonly string[]).includes(a.technique))
    throw new UsageError(`--technique takes ${FULL_TECHNIQUES.join(' or ')}, not '${a.technique}'`);
  if (a.shadow !== undefined && !(SHADOW_POLICIES as readonly string[]).includes(a.shadow))
    throw new UsageError(`--shadow takes ${SHADOW_POLICIES.join(' or ')}, not '${a.shadow}'`);
  if ((a.technique !== undefined || a.shadow !== undefined) && a.type !== 'full')
    throw new UsageError(`${a.technique !== undefined ? '--technique' : '--shadow'} is for --type full (the full machine), not ${a.type}`);
  if (a.trace && a.bios !== 'none') throw new UsageError('--trace needs -bios none');
  try {
    parseSize(a.memory);
    parseCpu(a.cpu);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return a;
}

interface DriveSpec {
  file: string;
  readOnly: boolean;
  snapshot: boolean;
}

/** QEMU's -drive key=value list. */
function parseDrive(spec: string): DriveSpec {
  const kv = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`-drive ${spec}: '${part}' is not key=value`);
    kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const file = kv.get('file');
  if (!file) throw new UsageError(`-drive ${spec}: file= is required`);
  const bool = (k: string) => {
    const v = kv.get(k);
    if (v === undefined) return false;
    if (['on', 'true', 'yes'].includes(v)) return true;
    if (['off', 'false', 'no'].includes(v)) return false;
    throw new UsageError(`-drive: ${k}=${v}: expected on or off`);
  };
  for (const k of kv.keys())
    if (!['file', 'if', 'format', 'readonly', 'snapshot', 'id', 'media'].includes(k)) throw new UsageError(`-drive: unknown key '${k}'`);
  if ((kv.get('if') ?? 'virtio') !== 'virtio') throw new UsageError(`-drive: if=${kv.get('if')} is not supported (if=virtio)`);
  if ((kv.get('format') ?? 'raw') !== 'raw') throw new UsageError(`-drive: format=${kv.get('format')} is not supported (format=raw)`);
  return { file, readOnly: bool('readonly'), snapshot: bool('snapshot') };
}

function openDrive(d: DriveSpec): DriveOptions {
  // snapshot: the file is opened read-only and writes go to an overlay in memory
  return { backend: openFileBackend(d.file, { readOnly: d.readOnly || d.snapshot }), readOnly: d.readOnly, snapshot: d.snapshot };
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new LoadError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function printStats(s: CoreStats & { devices?: DeviceStats[] }, seconds: number): void {
  const lines = [...STAT_NAMES, ...FV_STAT_NAMES].map((n) => `${n.padEnd(14)} ${s[n]}`);
  const mips = Number(s.instret) / seconds / 1e6;
  lines.push(`${'seconds'.padEnd(14)} ${seconds.toFixed(3)}`, `${'MIPS'.padEnd(14)} ${mips.toFixed(1)}`);
  if (s.jit) {
    const j = s.jit;
    lines.push(`jit            ${j.blocks} regions (${j.instructions} instructions) compiled in ${j.compileMs.toFixed(0)} ms (engine ${j.engineMs.toFixed(0)} ms), ${j.rejected} rejected, ${j.flushes} flushes, ${j.errors} errors`);
  }
  for (const d of s.devices ?? [])
    lines.push(`${d.device} @${d.address}: ${d.requests} requests, ${d.notifies} notifies, ${d.interrupts} interrupts, ${d.errors} errors`);
  process.stderr.write(lines.join('\n') + '\n');
}

/** -bios none --trace: the bare single-stepping runner. */
async function traceRun(a: RunArgs): Promise<number> {
  const r = await runBare({
    memory: parseSize(a.memory),
    image: readInput(a.kernel!, 'kernel'),
    imageName: a.kernel,
    maxInstructions: a.maxInsns,
    onConsole: (b) => process.stdout.write(b),
    trace: (pc, insn, priv) => process.stderr.write(`${PRIV_NAMES[priv]} 0x${pc.toString(16).padStart(16, '0')}: ${disassemble(insn, pc)}\n`),
    h: parseCpu(a.cpu).h,
  });
  if (a.stats) printStats(r.stats, r.seconds);
  return r.reason === 'fail' ? r.status || 1 : 0;
}

/** --type kvm: the VM is a worker running the userspace VMM over the KVM-shaped API (src/kvm/). */
async function kvmRun(a: RunArgs): Promise<number> {
  if (a.bios !== undefined) throw new UsageError('--type kvm: the kernel answers the guest\'s SBI calls (with userspace for the console); no -bios');
  if (a.trace) throw new UsageError('--type kvm: no --trace');
  const cpu = parseCpu(a.cpu);
  if (!cpu.h) throw new ConfigError(`kvm requires hardware support: this hart's ISA lacks the H extension (-cpu ${a.cpu})`);
  const memory = parseSize(a.memory);
  if (memory % (2n << 20n) !== 0n) throw new ConfigError(`kvm: guest memory must be a multiple of 2 MiB, not ${memory} bytes`);
  const m = new KvmMachine({
    memory,
    kernel: readInput(a.kernel!, 'kernel'),
    initrd: a.initrd ? readInput(a.initrd, 'initrd') : undefined,
    append: a.append,
    drives: a.drives.map((d) => ({ file: resolve(d.file), readOnly: d.readOnly, snapshot: d.snapshot })),
    rng: a.devices.includes('virtio-rng-device'),
    net: a.devices.includes('virtio-net-device'),
    virtioConsole: a.devices.includes('virtio-console-device'),
    idle: a.idle as 'sleep' | 'skip' | undefined,
    jit: a.jit !== 'off',
    maxInstructions: a.maxInsns,
  });
  m.onConsole((b) => process.stdout.write(b));
  const r = await runOnConsole(m);
  if (a.stats) printKvmStats(r.stats);
  switch (r.reason) {
    case 'limit': process.stderr.write(`wasmvisor: stopped after ${a.maxInsns} instructions\n`); return 0;
    case 'idle': process.stderr.write('wasmvisor: the vCPU is halted (KVM_EXIT_HLT) with no interrupt that can wake it\n'); return 1;
    case 'error': process.stderr.write(`wasmvisor: ${r.message}\n`); return 1;
    case 'reset': process.stderr.write('wasmvisor: the guest asked for a reset (KVM_SYSTEM_EVENT_RESET); stopping\n'); return 0;
    case 'stopped': return 0;
    default: return r.status;
  }
}

function printKvmStats(s: VmmStats): void {
  printStats(s, s.seconds);
  const lines = ['exits to the userspace VMM:'];
  for (const [n, c] of Object.entries(s.kvmExits).sort((x, y) => y[1] - x[1])) lines.push(`  ${n.padEnd(24)} ${c}`);
  const total = Object.values(s.kvmExits).reduce((x, y) => x + y, 0);
  lines.push(`  ${'total'.padEnd(24)} ${total}`, `handled in the kernel     ${s.hvExits - BigInt(total - (s.kvmExits.KVM_EXIT_INTR ?? 0))} of ${s.hvExits} guest exits`);
  const mmio = Object.entries(s.mmioByDevice).sort((x, y) => y[1] - x[1]).map(([n, c]) => `${n} ${c}`).join(', ');
  if (mmio) lines.push(`KVM_EXIT_MMIO by device: ${mmio}`);
  process.stderr.write(lines.join('\n') + '\n');
}

/** Run a machine with the terminal (or stdin/stdout) as its console. */
async function runOnConsole<R>(m: { sendConsole(b: Uint8Array): void; stop(): void; endInput(): void; run(): Promise<R> }): Promise<R> {
  const detach = attachConsole((b) => m.sendConsole(b), () => m.stop(), () => m.endInput());
  try {
    return await m.run();
  } finally {
    detach();
  }
}

async function cmdRun(argv: string[]): Promise<number> {
  const a = parseRun(argv);
  if (a.type === 'kvm') return kvmRun(a);
  if (a.trace) return traceRun(a);
  const opts: MachineOptions = {
    type: a.type as MachineOptions['type'],
    memory: a.memory,
    cpu: a.cpu,
    kernel: a.kernel ? readInput(a.kernel, 'kernel') : undefined,
    initrd: a.initrd ? readInput(a.initrd, 'initrd') : undefined,
    append: a.append,
    bios: a.bios === undefined ? 'host' : a.bios === 'none' ? 'none' : readInput(a.bios, 'firmware'),
    drives: a.drives.map(openDrive),
    idle: a.idle as MachineOptions['idle'],
    jit: a.jit !== 'off',
    technique: a.technique as MachineOptions['technique'],
    shadow: a.shadow as MachineOptions['shadow'],
    maxInstructions: a.maxInsns,
    onConsole: (b) => process.stdout.write(b),
  };
  opts.rng = a.devices.includes('virtio-rng-device');
  opts.net = a.devices.includes('virtio-net-device');
  opts.virtioConsole = a.devices.includes('virtio-console-device');
  const m = await createMachine(opts);
  const r = await runOnConsole(m);
  const core = m.core;
  const where = `pc 0x${core.pc.toString(16)} in ${PRIV_NAMES[core.priv]}-mode, after ${disassemble(core.lastInsn, undefined)}`;
  if (a.stats) printStats(r.stats, r.stats.seconds);
  switch (r.reason) {
    case 'limit': process.stderr.write(`wasmvisor: stopped after ${a.maxInsns} instructions (${where})\n`); return 0;
    case 'idle':
      process.stderr.write(`wasmvisor: the hart is waiting (WFI) with no interrupt that can wake it (${where})\n`);
      return 1;
    case 'error': process.stderr.write(`wasmvisor: ${r.message}\n`); return 1;
    case 'reset': process.stderr.write('wasmvisor: the guest asked for a reset; stopping\n'); return 0;
    case 'stopped': return 0;
    default: return r.status;
  }
}

/**
 * The terminal as the guest's console. On a TTY: raw mode, Ctrl-A x quits, Ctrl-A Ctrl-A
 * sends Ctrl-A (QEMU's -nographic keys). Otherwise stdin is passed through as it comes.
 */
function attachConsole(send: (b: Uint8Array) => void, quit: () => void, eof: () => void): () => void {
  const stdin = process.stdin;
  const tty = stdin.isTTY;
  let escape = false;
  const onData = (chunk: Buffer) => {
    if (!tty) return send(chunk);
    const out: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */) { quit(); return; }
        if (b === 0x01) out.push(0x01);
        continue;
      }
      if (b === 0x01) escape = true;
      else out.push(b);
    }
    if (out.length) send(new Uint8Array(out));
  };
  if (tty) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('end', eof);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', eof);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };
}

interface BenchArgs {
  types: string[];
  iters?: number;
  only?: string[];
  repeats?: number;
  jit: boolean;
  kernel?: string;
  pvKernel?: string;
  json: boolean;
  html?: string;
}

function parseBench(argv: string[]): BenchArgs {
  const a: BenchArgs = { types: [...BENCH_TYPES], jit: false, json: false };
  const bad = (msg: string) => new UsageError(`bench: ${msg}`, null);
  const whole = (flag: string, v: string, max: number) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw bad(`${flag} takes a whole number from 1 to ${max}, not '${v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw bad(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--type': a.types = value().split(','); break;
      case '--iters': a.iters = whole('--iters', value(), 1e9); break;
      case '--only': a.only = value().split(','); break;
      case '--repeats': a.repeats = whole('--repeats', value(), 100); break;
      case '--jit': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw bad(`--jit takes on or off, not '${v}'`);
        a.jit = v === 'on';
        break;
      }
      case '-kernel': case '--kernel': a.kernel = value(); break;
      case '--pv-kernel': a.pvKernel = value(); break;
      case '--json': a.json = true; break;
      case '--html': a.html = value(); break;
      case '-h': case '--help': console.log(BENCH_USAGE); process.exit(0);
      default: throw bad(`unknown option '${flag}' (wasmvisor bench --help)`);
    }
  }
  // the API's own checks, reported as usage errors
  try {
    checkBenchTypes(a.types);
    if (a.only) checkBenchNames(a.only);
  } catch (e) {
    if (e instanceof ConfigError) throw bad(e.message);
    throw e;
  }
  return a;
}

async function cmdBench(argv: string[]): Promise<number> {
  const a = parseBench(argv);
  // find out now, not after the measurement, that the report cannot be written
  if (a.html && !existsSync(dirname(resolve(a.html)))) throw new ConfigError(`cannot write ${a.html}: no directory ${dirname(resolve(a.html))}`);
  const tty = process.stderr.isTTY;
  let shown = false;
  const progress = (line: string) => {
    if (tty) {
      process.stderr.write(`\r\x1b[K[bench] ${line}`);
      shown = true;
    } else {
      process.stderr.write(`[bench] ${line}\n`);
    }
  };
  let report: BenchReport;
  try {
    report = await runBench({ types: a.types, iters: a.iters, only: a.only, repeats: a.repeats, jit: a.jit, kernel: a.kernel, pvKernel: a.pvKernel, onProgress: progress });
  } finally {
    if (shown) process.stderr.write('\r\x1b[K');
  }
  if (a.html) {
    try {
      writeFileSync(a.html, benchHtml(report));
    } catch (e) {
      throw new ConfigError(`cannot write ${a.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stderr.write(`[bench] wrote ${a.html}\n`);
  }
  process.stdout.write(a.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBenchTable(report)}\n`);
  return report.results.some((r) => r.status === 'error') ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return cmdRun(rest);
    case 'bench': return cmdBench(rest);
    case undefined: case '-h': case '--help': console.log(USAGE); return cmd ? 0 : 2;
    default: throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`wasmvisor: ${e.message}\n${e.usage ? `${e.usage}\n` : ''}`);
      process.exit(2);
    }
    if (e instanceof LoadError || e instanceof RangeError || e instanceof ConfigError || e instanceof FdtError ||
        e instanceof BoardConfigError || e instanceof KvmMachineError || (e instanceof Error && /^cannot open disk image/.test(e.message))) {
      process.stderr.write(`wasmvisor: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`wasmvisor: internal error: ${(e as Error).stack ?? e}\n`);
    process.exit(70);
  },
);
