// `wasmvisor bench`: the teaching kernel's nanobenchmarks (guests/kernel/user/bench.c) on each
// machine type, measured from the host. See docs/bench.md.
//
// The guest measures guest instructions per operation itself (instret around the measured
// part). The host measures time and the machine's counters from outside: every benchmark
// runs alone (`only=<name>`) in a fresh machine with N and then 2N iterations; the difference
// of the two runs, divided by the difference in operations, cancels everything that does not
// repeat per operation (creating the machine, booting the kernel, the warm-up, powering off).
// Runs are repeated and the fastest run of each length taken (timer and GC noise only ever
// add time); the counters are deterministic (`idle: 'skip'`) and taken from the first pair.
import {
  createMachine, ConfigError, MACHINE_TYPES, quotedList, parseSize, type MachineStats, type MachineType, type MachineOptions,
} from './machine.js';
import { KvmMachine } from './kvm/machine.js';

/**
 * The nanobenchmarks, in the order the kernel runs them, with the N runBench uses by default:
 * the kernel's own default iterations (guests/kernel/README.md), raised where the difference
 * between the N and 2N runs would otherwise be under about 30 ms of host time, and for
 * spawn_exit past a fresh machine's first ~900 spawns, which run at half speed (docs/bench.md).
 */
export const BENCHMARKS = {
  null_syscall: { iters: 40000, summary: 'getpid(): a system call that does nothing' },
  page_fault: { iters: 4000, summary: 'a load from an untouched anonymous page: a demand-zero fault' },
  pte_update: { iters: 4000, summary: 'map one page, then unmap it' },
  context_switch: { iters: 10000, summary: 'one switch between two processes that yield to each other (2 operations per iteration)' },
  mmio_read: { iters: 40000, summary: 'a system call that reads a device register (native: virtio-mmio MagicValue; paravirt: the disk size, by hypercall)' },
  block_read: { iters: 6000, summary: 'read one 512-byte sector from the disk (native: virtio-blk; paravirt: the PV block ring)' },
  timer_irq: { iters: 8000, summary: 'arm the timer for now, spin until its interrupt has set a flag' },
  hypercall: { iters: 40000, summary: "a system call in which the kernel makes its cheapest call to the layer below (paravirt: PV_NOP to the VMM; native: an SBI call)" },
  spawn_exit: { iters: 1000, summary: 'spawn a process that exits at once, and wait for it' },
} as const;
export type BenchmarkName = keyof typeof BENCHMARKS;
export const BENCHMARK_NAMES = Object.keys(BENCHMARKS) as BenchmarkName[];

/** Which teaching-kernel build each machine type boots (guests/kernel/README.md). */
// hw-assist and kvm run the native build unmodified (in VS-mode)
const KERNEL_BUILD: Partial<Record<MachineType, string>> = {
  native: 'kernel-native.elf', paravirt: 'kernel-pv.elf', 'hw-assist': 'kernel-native.elf', kvm: 'kernel-native.elf',
  full: 'kernel-native.elf',
};
/**
 * Variants of a machine type measured as machines of their own (here, by bench:boot and by
 * npm start): the full machine's techniques and shadow policies (plain `full` is
 * trap-and-emulate on lazy shadows).
 */
export const MACHINE_VARIANTS: Record<string, { type: MachineType; options: Pick<MachineOptions, 'technique' | 'shadow'> }> = {
  'full+bt': { type: 'full', options: { technique: 'binary-translation' } },
  'full+trace': { type: 'full', options: { shadow: 'trace' } },
};
/** The machines that run the teaching kernel today (runBench's default): types and variants. */
export const BENCH_TYPES = [...Object.keys(KERNEL_BUILD), ...Object.keys(MACHINE_VARIANTS)];
/** The machine type a machine name (a type or a variant) stands for, and its options. */
export function benchMachine(name: string): { type: MachineType; options: Pick<MachineOptions, 'technique' | 'shadow'> } {
  return MACHINE_VARIANTS[name] ?? { type: name as MachineType, options: {} };
}

const EXCEPTION_NAMES = [
  'insn misaligned', 'insn access fault', 'illegal insn', 'breakpoint', 'load misaligned', 'load access fault',
  'store misaligned', 'store access fault', 'ecall from U', 'ecall from S', 'ecall from VS', 'ecall from M',
  'insn page fault', 'load page fault', '14', 'store page fault',
];
const INTERRUPT_NAMES = ['0', 'S software', '2', 'M software', '4', 'S timer', '6', 'M timer', '8', 'S external', '10', 'M external'];

export interface BenchOptions {
  /** machine types to run, default BENCH_TYPES (all that run the teaching kernel) */
  types?: readonly string[];
  /**
   * N, the short run's iterations (the long run does 2N): one number for every benchmark, or
   * per benchmark; default (and for benchmarks a record leaves out): each one's own (BENCHMARKS)
   */
  iters?: number | Partial<Record<BenchmarkName, number>>;
  /** benchmarks to run (default: all) */
  only?: readonly string[];
  /** pairs of runs (N, 2N) per benchmark and machine; the fastest of each length counts. Default 5 */
  repeats?: number;
  /** the native build of the teaching kernel: a path or the image; default build/guests/kernel/kernel-native.elf when newer, else the committed prebuilt one */
  kernel?: string | Uint8Array;
  /** the paravirtual build (for type paravirt), likewise; default kernel-pv.elf */
  pvKernel?: string | Uint8Array;
  /** guest RAM (default 128M) */
  memory?: string;
  /**
   * the block compiler (src/jit/). Default off: the interpreter's ns/op is much steadier; the
   * block compiler's compile time grows with the run's length (so it does not cancel between
   * N and 2N) and varies from run to run (docs/bench.md)
   */
  jit?: boolean;
  /**
   * give up on a run (one boot) after this many host seconds (default 300). A timer, not the
   * machine's maxInstructions: with that set, run() reads every counter after each MMIO exit.
   */
  timeoutSeconds?: number;
  /** what is happening, one line at a time (the CLI writes it to stderr) */
  onProgress?: (line: string) => void;
}

/** One run of the kernel: what the guest printed and what the host measured. */
export interface BenchSample {
  iters: number;
  /** operations the guest reported (context_switch: 2 per iteration) */
  ops: number;
  /** guest counter deltas over the measured part, as printed */
  cycles: number;
  instret: number;
  time: number;
  /** host milliseconds of machine.run() (the fastest of the repeats) */
  ms: number;
  /** every repeat, in order */
  allMs: number[];
  /** of each repeat, host milliseconds the block compiler spent compiling (included in allMs) */
  jitCompileMs: number[];
}

export interface BenchResult {
  benchmark: string;
  type: string;
  status: 'ok' | 'skipped' | 'error';
  /** why skipped or failed (the guest's reason, or what went wrong on the host) */
  reason?: string;
  /** operations measured: the long run's minus the short run's */
  ops: number;
  /** host nanoseconds per operation: (ms(2N) - ms(N)) / ops */
  nsPerOp: number;
  /** guest instructions per operation, as the guest measured it (instret around the measured part, long run) */
  instructionsPerOp: number;
  /** instructions retired per operation from the machine's counter (2N minus N: includes unmeasured per-op work such as page_fault's unmap) */
  hostInstructionsPerOp: number;
  /** guest nanoseconds per operation (its `time` counter, 10 MHz: one tick per 10 instructions) */
  guestNsPerOp: number;
  /** exceptions + interrupts taken by the hart, per operation */
  trapsPerOp: number;
  exceptionsPerOp: number;
  interruptsPerOp: number;
  /**
   * exits per operation: the guest leaving for the layer below it other than by a hypercall
   * of its own: to the host's device models (MMIO stores, PV block notifies), and under
   * hw-assist every VM exit to the VMM (SBI calls, emulated MMIO, ...)
   */
  exitsPerOp: number;
  /** hypercalls per operation: the paravirt VMM's, or SBI calls answered by the host firmware */
  hypercallsPerOp: number;
  /** trap-and-emulate events per operation: privileged instructions the (deprivileged) kernel executed anyway */
  emulatedPerOp: number;
  /** page-table references of two-stage (VS over G) walks per operation (H extension; 0 elsewhere) */
  walkRefs2dPerOp: number;
  /** hidden page faults per operation: shadow entries the full VMM filled from the guest's tables */
  hiddenFaultsPerOp: number;
  /** shadow syncs per operation: SFENCE.VMAs the full VMM acted on (lazy), page-table writes it applied (trace) */
  shadowSyncsPerOp: number;
  /** other counters per operation */
  tlbMissesPerOp: number;
  pageWalksPerOp: number;
  tlbFlushesPerOp: number;
  /** exceptions and interrupts per operation by cause, the nonzero ones */
  exceptionsByCause: Record<string, number>;
  interruptsByCause: Record<string, number>;
  /**
   * how far nsPerOp may be off: the second-fastest minus the fastest run of each length, over
   * the operations (NaN with one repeat). Timer and scheduling noise only ever add time.
   */
  nsPerOpError: number;
  /** nsPerOp / native's nsPerOp for the same benchmark (when native ran) */
  ratioToNative?: number;
  short?: BenchSample;
  long?: BenchSample;
}

export interface BenchReport {
  /** the kernel image each machine type booted: its path, or '(bytes)' */
  kernels: Record<string, string>;
  types: string[];
  benchmarks: string[];
  /** N per benchmark (the short run; the long one does 2N) */
  iters: Record<string, number>;
  repeats: number;
  memory: string;
  jit: boolean;
  host: { node?: string; platform?: string; cpu?: string; cpus?: number };
  date: string;
  /** host seconds for the whole measurement */
  seconds: number;
  results: BenchResult[];
}

/** One boot of the teaching kernel (runKernelOnce): host time, counters, the guest's wvbench lines, and what went wrong. */
export interface KernelRun {
  ms: number;
  stats: MachineStats;
  lines: string[];
  failure?: string;
}

/** with every N at least this, the warm-up runs use the kernel's default iterations; else the largest N */
const WARM_UP_ITERS = 1000;
/** host seconds a warm-up run may take */
const WARM_UP_TIMEOUT = 20;
const WVBENCH = /^wvbench name=(\w+) ops=(\d+) cycles=(\d+) instret=(\d+) time=(\d+)$/;

/** Where a default kernel image is: the fresh build when newer than the committed one. */
async function defaultKernel(file: string): Promise<{ bytes: Uint8Array; source: string }> {
  const built = new URL(`../build/guests/kernel/${file}`, import.meta.url);
  const prebuilt = new URL(`../guests/kernel/prebuilt/${file}`, import.meta.url);
  if (built.protocol !== 'file:') {
    const r = await fetch(prebuilt);
    if (!r.ok) throw new ConfigError(`cannot fetch the teaching kernel ${prebuilt.href}: HTTP ${r.status}`);
    return { bytes: new Uint8Array(await r.arrayBuffer()), source: prebuilt.href };
  }
  const { statSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const mtime = (u: URL) => {
    try {
      return statSync(u).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const b = mtime(built);
  const p = mtime(prebuilt);
  const pick = b !== undefined && (p === undefined || b > p) ? built : prebuilt;
  return readKernel(fileURLToPath(pick));
}

async function readKernel(path: string): Promise<{ bytes: Uint8Array; source: string }> {
  const { readFileSync } = await import('node:fs');
  try {
    return { bytes: new Uint8Array(readFileSync(path)), source: path };
  } catch (e) {
    throw new ConfigError(`cannot read kernel ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function hostInfo(): Promise<BenchReport['host']> {
  if (typeof process === 'undefined' || !process.versions?.node) return {};
  try {
    const os = await import('node:os');
    const cpus = os.cpus();
    return { node: process.version, platform: `${process.platform}-${process.arch}`, cpu: cpus[0]?.model.trim(), cpus: cpus.length };
  } catch {
    return { node: process.version };
  }
}

/** Check the machine types: known and implemented. */
export function checkBenchTypes(types: readonly string[]): string[] {
  if (types.length === 0) throw new ConfigError('no machine type given');
  for (const t of types) {
    if (MACHINE_VARIANTS[t]) continue;
    const info = (MACHINE_TYPES as Record<string, { implemented: boolean }>)[t];
    if (!info) throw new ConfigError(`unknown machine type '${t}' (one of: ${[...Object.keys(MACHINE_TYPES), ...Object.keys(MACHINE_VARIANTS)].join(', ')})`);
    if (!info.implemented || !KERNEL_BUILD[t as MachineType])
      throw new ConfigError(`machine type '${t}' is not implemented yet; ${quotedList(Object.keys(KERNEL_BUILD))} run today`);
  }
  return [...new Set(types)];
}

/** Check benchmark names. */
export function checkBenchNames(names: readonly string[]): BenchmarkName[] {
  if (names.length === 0) throw new ConfigError('no benchmark given');
  for (const n of names)
    if (!(BENCHMARK_NAMES as string[]).includes(n)) throw new ConfigError(`unknown benchmark '${n}' (one of: ${BENCHMARK_NAMES.join(', ')})`);
  // in the kernel's order
  return BENCHMARK_NAMES.filter((n) => names.includes(n));
}

/**
 * The teaching kernel a machine type boots: `given` (a path or the image), else its build
 * (KERNEL_BUILD) from build/guests/kernel when newer than the committed prebuilt one.
 */
export async function teachingKernel(machine: string, given?: string | Uint8Array): Promise<{ bytes: Uint8Array; source: string }> {
  if (given instanceof Uint8Array) return { bytes: given, source: '(bytes)' };
  if (typeof given === 'string') return readKernel(given);
  const type = benchMachine(machine).type;
  const file = KERNEL_BUILD[type];
  if (!file) throw new ConfigError(`machine type '${type}' runs no build of the teaching kernel`);
  return defaultKernel(file);
}

/**
 * Boot the kernel once with this command line (iters=, only=) as runBench does (a 64 KiB
 * read-only disk, idle skipped) and run it to power-off, timing run(). `failure` says why a
 * run is unusable: no power-off (within timeoutSeconds), no "wvbench done", a bad exit status.
 */
export async function runKernelOnce(machine: string, kernel: Uint8Array, append: string,
  o: Required<Pick<BenchOptions, 'memory' | 'jit' | 'timeoutSeconds'>> = { memory: '128M', jit: false, timeoutSeconds: 300 }): Promise<KernelRun> {
  let text = '';
  const decoder = new TextDecoder();
  const onConsole = (b: Uint8Array) => (text += decoder.decode(b, { stream: true }));
  // a 64 KiB in-memory disk (the benchmark cycles over its first 64 sectors)
  const drives = [{ data: new Uint8Array(64 * 1024).fill(0x5a), readOnly: true }];
  const { type, options } = benchMachine(machine);
  let m: { run(): Promise<{ reason: string; status: number; message?: string; stats: MachineStats }>; stop(): void };
  if (type === 'kvm') {
    // the VM in its own worker, its devices in the userspace VMM there (src/kvm/)
    const k = new KvmMachine({ memory: parseSize(o.memory), kernel, append, drives, idle: 'skip', jit: o.jit });
    k.onConsole(onConsole);
    m = k;
  } else {
    m = await createMachine({ type, ...options, memory: o.memory, kernel, append, drives, idle: 'skip', jit: o.jit, onConsole });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    m.stop();
  }, o.timeoutSeconds * 1000);
  const t0 = performance.now();
  const r = await m.run().finally(() => clearTimeout(timer));
  const ms = performance.now() - t0;
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.startsWith('wvbench '));
  let failure: string | undefined;
  if (timedOut) failure = `no power-off within ${o.timeoutSeconds} s`;
  else if (r.reason !== 'poweroff') failure = `the machine stopped (${r.reason}${r.message ? `: ${r.message}` : ''})`;
  else if (!lines.includes('wvbench done')) failure = 'the kernel powered off without "wvbench done"';
  else if (r.status !== 0 && !lines.some((l) => l.startsWith('wvbench error '))) failure = `the kernel exited with status ${r.status}`;
  return { ms, stats: r.stats, lines, failure };
}

export interface BenchLine {
  ops: number;
  cycles: number;
  instret: number;
  time: number;
}

/** This benchmark's line of a run: its numbers, or why there are none. */
export function benchLineOf(run: KernelRun, name: string): BenchLine | { status: 'skipped' | 'error'; reason: string } {
  if (run.failure) return { status: 'error', reason: run.failure };
  for (const line of run.lines) {
    const m = WVBENCH.exec(line);
    if (m && m[1] === name) return { ops: Number(m[2]), cycles: Number(m[3]), instret: Number(m[4]), time: Number(m[5]) };
    const s = /^wvbench (skipped|error) name=(\w+) reason=(\S+)$/.exec(line);
    if (s && s[2] === name) return { status: s[1] as 'skipped' | 'error', reason: s[3] };
  }
  return { status: 'error', reason: `no wvbench line for ${name}` };
}

const byCause = (long: bigint[], short: bigint[], names: string[], ops: number) => {
  const out: Record<string, number> = {};
  long.forEach((v, i) => {
    const d = Number(v - (short[i] ?? 0n));
    if (d !== 0) out[names[i] ?? String(i)] = d / ops;
  });
  return out;
};

const emptyResult = (benchmark: string, type: string, status: 'skipped' | 'error', reason: string): BenchResult => ({
  benchmark, type, status, reason, ops: 0, nsPerOp: NaN, nsPerOpError: NaN, instructionsPerOp: NaN, hostInstructionsPerOp: NaN, guestNsPerOp: NaN,
  trapsPerOp: NaN, exceptionsPerOp: NaN, interruptsPerOp: NaN, exitsPerOp: NaN, hypercallsPerOp: NaN, emulatedPerOp: NaN, walkRefs2dPerOp: NaN,
  hiddenFaultsPerOp: NaN, shadowSyncsPerOp: NaN,
  tlbMissesPerOp: NaN, pageWalksPerOp: NaN, tlbFlushesPerOp: NaN, exceptionsByCause: {}, interruptsByCause: {},
});

/**
 * Run the nanobenchmarks on each machine type and measure them from the host.
 * Throws ConfigError for a bad option (unknown or unimplemented type, unknown benchmark, bad
 * iterations, unreadable kernel); a benchmark that fails is a result with status 'error'.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const types = checkBenchTypes(opts.types ?? BENCH_TYPES);
  const names = checkBenchNames(opts.only ?? BENCHMARK_NAMES);
  const iters: Record<string, number> = {};
  for (const name of names) {
    const n = typeof opts.iters === 'object' ? opts.iters[name] ?? BENCHMARKS[name].iters : opts.iters ?? BENCHMARKS[name].iters;
    if (!Number.isSafeInteger(n) || n < 1 || n > 1e9) throw new ConfigError(`iterations must be a whole number from 1 to 1000000000, not ${n}`);
    iters[name] = n;
  }
  if (typeof opts.iters === 'object') checkBenchNames(Object.keys(opts.iters));
  const repeats = opts.repeats ?? 5;
  if (!Number.isSafeInteger(repeats) || repeats < 1 || repeats > 100) throw new ConfigError(`repeats must be a whole number from 1 to 100, not ${repeats}`);
  const o = { memory: opts.memory ?? '128M', jit: opts.jit ?? false, timeoutSeconds: opts.timeoutSeconds ?? 300 };
  if (!(o.timeoutSeconds > 0)) throw new ConfigError(`timeoutSeconds must be positive, not ${o.timeoutSeconds}`);
  const progress = opts.onProgress ?? (() => {});
  const kernels = new Map<string, { bytes: Uint8Array; source: string }>();
  for (const type of types) kernels.set(type, await teachingKernel(type, type === 'paravirt' ? opts.pvKernel : opts.kernel));
  const started = performance.now();

  // warm up: the core module's code tiered up by V8, and V8's code for the run loop and the
  // device models optimized. The first few thousand MMIO exits of a process are several times
  // slower than the later ones, so: two runs at the kernel's default iterations (about 0.4 s
  // each), or at the largest N when all are small
  const maxN = Math.max(...Object.values(iters));
  const warm = maxN >= WARM_UP_ITERS ? '' : `iters=${maxN} `;
  for (const type of types) {
    const kernel = kernels.get(type)!;
    for (let i = 1; i <= 2; i++) {
      progress(`${type}: warming up (${i}/2), ${names.length} benchmark${names.length > 1 ? 's' : ''} (kernel ${kernel.source})`);
      // (about a second of work: an image that is not the teaching kernel is found out sooner)
      const w = await runKernelOnce(type, kernel.bytes, `${warm}only=${names.join(',')}`, { ...o, timeoutSeconds: Math.min(o.timeoutSeconds, WARM_UP_TIMEOUT) });
      if (w.failure) throw new ConfigError(`${type}: the teaching kernel does not run: ${w.failure}`);
    }
  }

  const results: BenchResult[] = [];
  for (const type of types) {
    const kernel = kernels.get(type)!;
    for (const name of names) {
      const n = iters[name];
      const append = (iters: number) => `iters=${iters} only=${name}`;
      const short: KernelRun[] = [];
      const long: KernelRun[] = [];
      let result: BenchResult | undefined;
      for (let rep = 0; rep < repeats && !result; rep++) {
        if (rep === 0) progress(`${type} ${name}: ${repeats} runs each of ${n} and ${2 * n} iterations…`);
        // alternate the two lengths, so that drift of the host affects both alike
        for (const [iters, list] of [[n, short], [2 * n, long]] as const) {
          const r = await runKernelOnce(type, kernel.bytes, append(iters), o);
          list.push(r);
          const p = benchLineOf(r, name);
          if ('status' in p) {
            result = emptyResult(name, type, p.status, p.reason);
            break;
          }
        }
      }
      if (!result) result = measure(type, name, n, short, long);
      results.push(result);
      progress(result.status === 'ok'
        ? `${type} ${name}: ${fmt(result.nsPerOp)} ns/op, ${fmt(result.instructionsPerOp, 1)} instructions/op`
        : `${type} ${name}: ${result.status} (${result.reason})`);
    }
  }

  for (const r of results) {
    const base = results.find((x) => x.type === 'native' && x.benchmark === r.benchmark && x.status === 'ok');
    if (base && r.status === 'ok') r.ratioToNative = r.nsPerOp / base.nsPerOp;
  }
  return {
    kernels: Object.fromEntries([...kernels].map(([t, k]) => [t, k.source])),
    types,
    benchmarks: names,
    iters,
    repeats,
    memory: o.memory,
    jit: o.jit,
    host: await hostInfo(),
    date: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    results,
  };
}

/** The per-operation numbers from the N and 2N runs. */
function measure(type: string, name: string, n: number, short: KernelRun[], long: KernelRun[]): BenchResult {
  const ps = benchLineOf(short[0], name) as BenchLine;
  const pl = benchLineOf(long[0], name) as BenchLine;
  const ops = pl.ops - ps.ops;
  if (ops <= 0) return emptyResult(name, type, 'error', `the ${2 * n}-iteration run did not do more operations (${pl.ops}) than the ${n}-iteration one (${ps.ops})`);
  const sorted = (rs: KernelRun[]) => rs.map((r) => r.ms).sort((a, b) => a - b);
  const [msShort, msShort2 = NaN] = sorted(short);
  const [msLong, msLong2 = NaN] = sorted(long);
  const s = short[0].stats;
  const l = long[0].stats;
  const per = (k: 'traps' | 'interrupts' | 'mmioExits' | 'sbiCalls' | 'instret' | 'tlbMisses' | 'pageWalks' | 'tlbFlushes' |
    'pvHypercalls' | 'pvHostExits' | 'pvPrivFaults' | 'hvExits' | 'walkRefs2d' | 'fvEmulated' | 'fvHiddenFaults' |
    'fvShadowSyncs' | 'fvPtWrites') => Number(l[k] - s[k]) / ops;
  const sample = (p: BenchLine, rs: KernelRun[], iters: number, ms: number): BenchSample =>
    ({ iters, ...p, ms, allMs: rs.map((r) => r.ms), jitCompileMs: rs.map((r) => r.stats.jit?.compileMs ?? 0) });
  return {
    benchmark: name,
    type,
    status: 'ok',
    ops,
    nsPerOp: ((msLong - msShort) * 1e6) / ops,
    nsPerOpError: ((msShort2 - msShort + msLong2 - msLong) * 1e6) / ops,
    instructionsPerOp: pl.instret / pl.ops,
    hostInstructionsPerOp: per('instret'),
    guestNsPerOp: (pl.time * 100) / pl.ops,
    trapsPerOp: per('traps') + per('interrupts'),
    exceptionsPerOp: per('traps'),
    interruptsPerOp: per('interrupts'),
    exitsPerOp: per('mmioExits') + per('pvHostExits') + per('hvExits'),
    hypercallsPerOp: per('sbiCalls') + per('pvHypercalls'),
    emulatedPerOp: per('pvPrivFaults') + per('fvEmulated'),
    walkRefs2dPerOp: per('walkRefs2d'),
    hiddenFaultsPerOp: per('fvHiddenFaults'),
    shadowSyncsPerOp: per('fvShadowSyncs') + per('fvPtWrites'),
    tlbMissesPerOp: per('tlbMisses'),
    pageWalksPerOp: per('pageWalks'),
    tlbFlushesPerOp: per('tlbFlushes'),
    exceptionsByCause: byCause(l.exceptionsByCause, s.exceptionsByCause, EXCEPTION_NAMES, ops),
    interruptsByCause: byCause(l.interruptsByCause, s.interruptsByCause, INTERRUPT_NAMES, ops),
    short: sample(ps, short, n, msShort),
    long: sample(pl, long, 2 * n, msLong),
  };
}

// ---- output: a text table and an HTML report

function fmt(x: number | undefined, digits?: number): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

const pct = (r: BenchResult) => (Number.isFinite(r.nsPerOpError) && r.nsPerOp > 0 ? `±${Math.round((100 * r.nsPerOpError) / r.nsPerOp)}%` : '');

const COLUMNS = ['benchmark', 'machine', 'N', 'ns/op', '±', 'insns/op', 'traps/op', 'exits/op', 'hypercalls/op', 'emulated/op', '2-D refs/op', 'hidden/op', 'syncs/op', 'vs native'] as const;
/** columns whose text is left-aligned */
const LEFT = 2;

function rowCells(report: BenchReport, r: BenchResult): string[] {
  const n = String(report.iters[r.benchmark] ?? '');
  if (r.status !== 'ok') return [r.benchmark, r.type, n, `${r.status}: ${r.reason}`];
  return [
    r.benchmark, r.type, n, fmt(r.nsPerOp), pct(r), fmt(r.instructionsPerOp, 1), fmt(r.trapsPerOp), fmt(r.exitsPerOp),
    fmt(r.hypercallsPerOp), fmt(r.emulatedPerOp), fmt(r.walkRefs2dPerOp), fmt(r.hiddenFaultsPerOp), fmt(r.shadowSyncsPerOp), r.ratioToNative === undefined ? '-' : `${r.ratioToNative.toFixed(2)}x`,
  ];
}

const HOW = [
  'ns/op: host time of machine.run() with 2N iterations minus with N, over the operations between them (fastest of each);',
  '  ±: the second-fastest runs minus the fastest, relative. insns/op: guest instructions per operation, kernel included',
  '  (the guest\'s instret around the measured part). traps: exceptions + interrupts the hart took; exits: exits to the',
  '  host\'s device models (MMIO stores, PV block notifies) and, under hw-assist, every VM exit to the VMM (SBI calls,',
  '  emulated MMIO); hypercalls: calls to the paravirt VMM, or SBI calls answered by the host or the hw-assist VMM;',
  '  emulated: privileged instructions emulated by the paravirt or full VMM (trapped, or called from translated code);',
  '  2-D refs: page-table references of two-stage (VS-stage over G-stage) walks; hidden: shadow page faults the full',
  '  VMM filled from the guest\'s tables; syncs: shadow syncs (full+trace: page-table writes applied; full: the',
  '  guest\'s SFENCE.VMAs). full = trap-and-emulate on lazy shadows, full+bt = binary translation, full+trace =',
  '  traced shadows. vs native: ns/op over native\'s.',
];

const kernelsText = (report: BenchReport) => Object.entries(report.kernels).map(([t, k]) => `${t} ${k}`).join(', ');

/** The report as a plain-text table (what `wasmvisor bench` prints). */
export function formatBenchTable(report: BenchReport): string {
  const rows = report.results.map((r) => rowCells(report, r));
  const full = rows.filter((r) => r.length === COLUMNS.length);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...(i <= LEFT ? rows : full).map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 && cells.length < COLUMNS.length ? c : i < LEFT ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ').trimEnd();
  const h = report.host;
  return [
    line(COLUMNS), ...rows.map(line), '', ...HOW,
    `${report.repeats} runs of each length; JIT ${report.jit ? 'on' : 'off'}; ${report.memory} RAM; kernels: ${kernelsText(report)}`,
    `${h.node ? `Node ${h.node}` : ''}${h.cpu ? `, ${h.cpu}${h.cpus ? ` x ${h.cpus}` : ''}` : ''}; measured in ${report.seconds.toFixed(1)} s`,
  ].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const PALETTE = ['#2f6fdf', '#e0772c', '#2ca05a', '#c43d52', '#8a5ad6', '#a0742c', '#1f9fb0'];

function timeLabel(ns: number): string {
  if (ns >= 1e6) return `${ns / 1e6} ms`;
  if (ns >= 1e3) return `${ns / 1e3} µs`;
  return `${ns} ns`;
}

/** A horizontal bar chart of ns/op: a group per benchmark, a bar per machine, log scale, whiskers for ±. */
function svgChart(report: BenchReport): string {
  const ok = report.results.filter((r) => r.status === 'ok' && r.nsPerOp > 0);
  const types = report.types;
  const benches = report.benchmarks;
  const labelW = 130, plotW = 540, valueW = 130, barH = 18, gap = 4, groupGap = 14, top = types.length > 1 ? 44 : 34, bottom = 34;
  const groupH = types.length * (barH + gap) - gap;
  const height = top + benches.length * (groupH + groupGap) - groupGap + bottom;
  const width = labelW + plotW + valueW;
  const svg = (body: string, h = height) =>
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img" aria-label="host nanoseconds per operation, per benchmark and machine">\n${body}\n</svg>`;
  if (ok.length === 0) return svg('<text x="10" y="30" class="t">no measurements to chart</text>', 60);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...ok.map((r) => r.nsPerOp)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ok.map((r) => r.nsPerOp + (r.nsPerOpError || 0))) * 1.0001)));
  const x = (v: number) => labelW + (Math.log10(Math.max(v, lo) / lo) / Math.log10(hi / lo)) * plotW;
  const parts: string[] = [`<text x="${labelW}" y="16" class="t">host nanoseconds per operation (log scale: shorter is faster)</text>`];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const gx = x(d).toFixed(1);
    parts.push(`<line x1="${gx}" x2="${gx}" y1="${top - 6}" y2="${height - bottom + 4}" class="g"/>`);
    parts.push(`<text x="${gx}" y="${height - bottom + 18}" class="a" text-anchor="middle">${timeLabel(Math.round(d))}</text>`);
    for (const m of [2, 5]) {
      if (d * m >= hi) continue;
      const mx = x(d * m).toFixed(1);
      parts.push(`<line x1="${mx}" x2="${mx}" y1="${top - 6}" y2="${height - bottom + 4}" class="g2"/>`);
    }
  }
  if (types.length > 1)
    types.forEach((t, ti) => {
      const lx = labelW + ti * 110;
      parts.push(`<rect x="${lx}" y="24" width="11" height="11" rx="2" fill="${PALETTE[ti % PALETTE.length]}"/><text x="${lx + 16}" y="34" class="a">${esc(t)}</text>`);
    });
  benches.forEach((b, bi) => {
    const gy = top + bi * (groupH + groupGap);
    parts.push(`<text x="${labelW - 8}" y="${(gy + groupH / 2 + 4).toFixed(1)}" text-anchor="end" class="l">${esc(b)}</text>`);
    types.forEach((t, ti) => {
      const r = report.results.find((z) => z.benchmark === b && z.type === t);
      const y = gy + ti * (barH + gap);
      if (!r || r.status !== 'ok' || !(r.nsPerOp > 0)) {
        const why = !r ? 'not run' : r.status === 'ok' ? 'no measurable difference (more iterations)' : `${r.status}: ${r.reason}`;
        parts.push(`<text x="${labelW + 6}" y="${y + barH - 5}" class="a">${esc(`${t}: ${why}`)}</text>`);
        return;
      }
      const w = Math.max(1, x(r.nsPerOp) - labelW);
      const color = PALETTE[ti % PALETTE.length];
      const title = `${t}, ${b}: ${fmt(r.nsPerOp)} ns/op ${pct(r)}; ${fmt(r.instructionsPerOp, 1)} guest instructions/op; ` +
        `${fmt(r.trapsPerOp)} traps, ${fmt(r.exitsPerOp)} exits, ${fmt(r.hypercallsPerOp)} hypercalls per op`;
      parts.push(`<g><title>${esc(title)}</title><rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="3" fill="${color}"/>`);
      let end = labelW + w;
      if (Number.isFinite(r.nsPerOpError) && r.nsPerOpError > 0) {
        end = x(r.nsPerOp + r.nsPerOpError);
        const cy = y + barH / 2;
        parts.push(`<line x1="${(labelW + w).toFixed(1)}" x2="${end.toFixed(1)}" y1="${cy}" y2="${cy}" class="e"/>` +
          `<line x1="${end.toFixed(1)}" x2="${end.toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" class="e"/>`);
      }
      parts.push(`<text x="${(end + 6).toFixed(1)}" y="${y + barH - 5}" class="v">${fmt(r.nsPerOp)} ns${r.ratioToNative !== undefined && t !== 'native' ? ` (${r.ratioToNative.toFixed(2)}x)` : ''}</text></g>`);
    });
  });
  return svg(parts.join('\n'));
}

/** The report as one self-contained HTML page: inline CSS, an inline SVG chart, the table and how it was measured. */
export function benchHtml(report: BenchReport): string {
  const head = COLUMNS.map((c, i) => `<th${i >= LEFT ? ' class="n"' : ''}>${esc(c)}</th>`).join('');
  const body = report.results.map((r) => {
    const c = rowCells(report, r);
    if (r.status !== 'ok')
      return `<tr class="bad"><td>${esc(c[0])}</td><td>${esc(c[1])}</td><td class="n">${esc(c[2])}</td><td colspan="${COLUMNS.length - 3}">${esc(c[3])}</td></tr>`;
    const causes = Object.entries({ ...r.exceptionsByCause, ...r.interruptsByCause }).map(([k, v]) => `${k}: ${fmt(v)}/op`).join(', ');
    const cells = c.slice(LEFT).map((v, i) => {
      const col = COLUMNS[i + LEFT];
      const title = col === 'traps/op' ? causes : col === 'insns/op' ? `${fmt(r.hostInstructionsPerOp, 1)} per op counted by the machine (everything between N and 2N)` : '';
      return `<td class="n"${title ? ` title="${esc(title)}"` : ''}>${esc(v)}</td>`;
    });
    return `<tr><td>${esc(c[0])}</td><td>${esc(c[1])}</td>${cells.join('')}</tr>`;
  }).join('\n');
  const desc = report.benchmarks.map((b) => `<li><b>${esc(b)}</b>: ${esc(BENCHMARKS[b as BenchmarkName]?.summary ?? '')}</li>`).join('\n');
  const h = report.host;
  const errors = report.results.filter((r) => r.status === 'error').length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wasmvisor bench: ${esc(report.types.join(', '))}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; max-width: 940px; margin: 2em auto; padding: 0 1em; }
  h1 { font-size: 1.55em; margin-bottom: 0.1em; }
  h2 { font-size: 1.15em; margin-top: 1.6em; }
  .sub { color: #5b6475; margin-top: 0; }
  .warn { color: #b0283c; font-weight: 600; }
  svg { max-width: 100%; height: auto; background: #fbfcfe; border: 1px solid #e3e7ef; border-radius: 8px; }
  svg .t { font: 600 13px system-ui, sans-serif; fill: #1d2330; }
  svg .l { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; fill: #1d2330; }
  svg .a { font: 11px system-ui, sans-serif; fill: #5b6475; }
  svg .v { font: 11px ui-monospace, SFMono-Regular, Menlo, monospace; fill: #1d2330; }
  svg .g { stroke: #cfd5e1; stroke-width: 1; }
  svg .g2 { stroke: #eceff5; stroke-width: 1; }
  svg .e { stroke: #1d2330; stroke-width: 1.2; }
  svg g:hover rect { opacity: 0.8; }
  table { border-collapse: collapse; margin: 1.2em 0; width: 100%; font-size: 14px; }
  th, td { padding: 4px 9px; border-bottom: 1px solid #e3e7ef; text-align: left; }
  th { background: #f1f4f9; font-weight: 600; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  td[title] { text-decoration: underline dotted #9aa3b5; cursor: help; }
  tr.bad td { color: #b0283c; }
  dt { font-weight: 600; margin-top: 0.5em; }
  dd { margin-left: 1.2em; }
  code { background: #f1f4f9; padding: 0 3px; border-radius: 3px; }
  .foot { color: #5b6475; font-size: 13px; }
</style>
</head>
<body>
<h1>wasmvisor nanobenchmarks</h1>
<p class="sub">The teaching kernel's operating-system operations on ${esc(report.types.join(', '))}, measured from the host · ${esc(report.date)}</p>
${errors ? `<p class="warn">${errors} benchmark run${errors > 1 ? 's' : ''} failed: see the table.</p>\n` : ''}${svgChart(report)}
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
<h2>The benchmarks</h2>
<ul>
${desc}
</ul>
<h2>The columns</h2>
<dl>
<dt>N</dt><dd>Iterations of the short run; the long run does 2N (context_switch counts 2 operations per iteration).</dd>
<dt>ns/op</dt><dd>Host nanoseconds per operation. Each benchmark runs alone in a fresh machine, once with N and once with 2N iterations; the difference of the two <code>machine.run()</code> times over the difference in operations cancels creating the machine, booting the kernel and powering off. The fastest of ${report.repeats} runs of each length counts.</dd>
<dt>±</dt><dd>The second-fastest runs minus the fastest ones, relative to ns/op: how much the number may move.</dd>
<dt>insns/op</dt><dd>Guest instructions per operation, the kernel's included: the guest reads <code>instret</code> around the measured part. Hover for the count the machine made between the N and 2N runs (it includes work outside the measured part, such as page_fault's unmapping).</dd>
<dt>traps/op</dt><dd>Exceptions and interrupts the hart took per operation (hover for the causes).</dd>
<dt>exits/op</dt><dd>Exits per operation: from the core to the host's device models (stores to virtio-mmio registers, native; PV block ring notifies, paravirt), and under hw-assist every VM exit of the guest to the VMM (its SBI calls, its device accesses emulated on guest-page faults).</dd>
<dt>hypercalls/op</dt><dd>Calls from the kernel to the layer below it per operation: to the paravirt VMM (paravirt), or to the firmware (SBI) answered by the host (native) or by the hw-assist VMM (hw-assist: each one a VM exit).</dd>
<dt>emulated/op</dt><dd>Privileged instructions per operation that a deprivileged kernel executed and its VMM emulated: under full each one traps, under full+bt the binary translator has rewritten it into a direct call of the VMM (so traps/op drops, emulated/op stays). A paravirtual kernel makes hypercalls instead, so its count is 0.</dd>
<dt>2-D refs/op</dt><dd>Page-table references of two-stage walks per operation (hw-assist): each TLB miss of the guest walks its own table (VS-stage), and every guest-physical address on the way, its table entries included, through the VMM's G-stage: up to 15 references for Sv39 over Sv39x4 where a bare Sv39 walk makes 3.</dd>
<dt>hidden/op</dt><dd>Hidden page faults per operation (full): the real hart's page faults on a shadow page table that the VMM resolved from the guest's own tables without the guest knowing (a missing entry, or the first write to a page whose D bit was clear).</dd>
<dt>syncs/op</dt><dd>Shadow syncs per operation (full): the guest's SFENCE.VMAs that made the VMM drop shadow entries (lazy shadows, full and full+bt), or the guest's page-table writes that trapped and were applied (traced shadows, full+trace).</dd>
<dt>vs native</dt><dd>ns/op over the native machine's ns/op for the same benchmark.</dd>
</dl>
<p class="foot">kernels: ${esc(kernelsText(report))}; ${esc(report.memory)} RAM; block compiler (JIT) ${report.jit ? 'on' : 'off'}; ${h.node ? `Node ${esc(h.node)}` : ''}${h.platform ? ` (${esc(h.platform)})` : ''}${h.cpu ? `, ${esc(h.cpu)}${h.cpus ? ` × ${h.cpus}` : ''}` : ''}; measured in ${report.seconds.toFixed(1)} s by <code>wasmvisor bench</code>.</p>
</body>
</html>
`;
}
