// A machine: the hart, RAM, the virt board's devices, firmware and a kernel, run in slices
// that yield to the host's event loop. createMachine() is the API the CLI, the browser
// worker and the tests use; each virtualization type is a preset of it.
import { Core, Exit, type CoreStats } from './core.js';
import { yieldToHost, EventWait } from './host.js';
import type { JitOptions } from './jit/index.js';
import { isElf, LoadError } from './loader/elf.js';
import { loadElf } from './machines/bare.js';
import { PvBlock } from './machines/paravirt.js';
import { isLinuxImage, parseLinuxImage, rejectCompressed } from './loader/image.js';
import { buildDeviceTree, VIRT } from './platform/devicetree.js';
import { parseCpu, CpuError, type CpuModel } from './platform/cpu.js';
import {
  VirtioMmio, BlockDevice, ConsoleDevice, RngDevice, NetDevice, MemoryBackend, OverlayBackend,
  type BlockBackend, type GuestMemory, type VirtioDevice,
} from './devices/virtio/index.js';

/** The virtualization types (README, issue list); each is a preset of this machine. */
export const MACHINE_TYPES = {
  native: { implemented: true, summary: 'the guest runs directly on the emulated hart (baseline)' },
  hypervisor: { implemented: false, summary: 'Type-1 VMM with a control domain and a vCPU scheduler' },
  paravirt: { implemented: true, summary: 'a modified guest kernel that makes hypercalls' },
  full: { implemented: true, summary: 'unmodified guest: trap-and-emulate, binary translation, shadow page tables' },
  'hw-assist': { implemented: true, summary: 'H extension, two-stage translation' },
  kvm: { implemented: true, summary: 'a /dev/kvm-shaped API, VMs as worker processes (src/kvm/)' },
  container: { implemented: false, summary: 'one shared kernel, namespaces and cgroup limits' },
} as const;
export type MachineType = keyof typeof MACHINE_TYPES;
/** The types that run today, for messages (quotedList). */
export const IMPLEMENTED_TYPES = (Object.keys(MACHINE_TYPES) as MachineType[]).filter((t) => MACHINE_TYPES[t].implemented);
/** Names for a message: 'a', 'b' and 'c'. */
export function quotedList(names: readonly string[]): string {
  const q = names.map((k) => `'${k}'`);
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q.at(-1)}`;
}
const implementedText = () => quotedList(IMPLEMENTED_TYPES);

/** A machine configuration that cannot work (bad size, unknown type, too little memory…). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Sizes as QEMU writes them: 512M, 1G, 64K; a bare number means MiB (as `-m 512`). */
export function parseSize(s: string | number | bigint, what = 'size'): bigint {
  if (typeof s !== 'string') {
    const n = BigInt(s);
    if (n <= 0n) throw new ConfigError(`${what} must be positive, not ${s}`);
    return n;
  }
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(s.trim());
  if (!m) throw new ConfigError(`bad ${what} '${s}' (examples: 512M, 1G)`);
  const mult = { '': 1n << 20n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n }[m[2].toUpperCase()]!;
  return BigInt(m[1]) * mult;
}

export interface DriveOptions {
  /** the disk image: bytes, or a backend (a file in Node, a URL in the browser…) */
  data?: Uint8Array | ArrayBuffer;
  backend?: BlockBackend;
  /** the guest cannot write (VIRTIO_BLK_F_RO) */
  readOnly?: boolean;
  /** guest writes go to a copy-on-write overlay in memory; the image is never modified */
  snapshot?: boolean;
}

export interface MachineOptions {
  type?: MachineType;
  /** guest RAM: '256M', '1G', or bytes (default 256M) */
  memory?: string | number | bigint;
  /**
   * The hart, as QEMU's -cpu: 'rv64' (default: RV64GC with the H extension), 'rv64,h=off'
   * (no hypervisor extension).
   */
  cpu?: string;
  /**
   * The full machine (docs/full.md): how the guest kernel's privileged instructions reach the
   * VMM, 'trap-and-emulate' (default: each one traps) or 'binary-translation' (its code is
   * rewritten to call the VMM).
   */
  technique?: FullTechnique;
  /**
   * The full machine: how shadow page tables follow the guest's, 'lazy' (default: at the
   * guest's SFENCE.VMA) or 'trace' (its page tables are write-protected, each write applied).
   */
  shadow?: ShadowPolicy;
  /** Linux Image, ELF64 or raw binary */
  kernel?: Uint8Array | ArrayBuffer;
  initrd?: Uint8Array | ArrayBuffer;
  /** kernel command line (/chosen bootargs) */
  append?: string;
  /**
   * Firmware: 'host' (default: the host answers SBI calls, the kernel starts in S-mode),
   * 'none' (the kernel runs from reset in M-mode), or a firmware image such as OpenSBI's
   * fw_dynamic.bin (loaded at the start of RAM; it starts the kernel).
   */
  bios?: 'host' | 'none' | Uint8Array | ArrayBuffer;
  drives?: DriveOptions[];
  /** a virtio-net device; frames the guest sends go to `send`, or loop back to it when absent */
  net?: boolean | { send?: (frame: Uint8Array) => void };
  /** a virtio-rng device (seeded: deterministic) */
  rng?: boolean | { seed: number };
  /** a virtio-console device (hvc0) besides the UART */
  virtioConsole?: boolean;
  /**
   * While the guest idles with a timer armed: 'sleep' waits for it in real time (default),
   * 'skip' jumps time forward (deterministic, like QEMU's -icount sleep=off).
   */
  idle?: 'sleep' | 'skip';
  /**
   * Compile hot guest code into Wasm (src/jit/): on by default; false runs the interpreter
   * only. Either way the guest sees the same machine (same instruction counts and timing).
   */
  jit?: boolean | JitOptions;
  /** stop after this many instructions */
  maxInstructions?: bigint;
  /** guest console output (the UART and the virtio console) */
  onConsole?: (bytes: Uint8Array) => void;
  /** wall-clock time the RTC shows at power-on, ms since the epoch (default: now) */
  rtcEpochMs?: number;
}

/**
 * Why run() returned. 'idle': the hart waits for an interrupt that nothing can raise any more
 * (no timer armed, no I/O in flight, console input ended with endInput()).
 */
export type StopReason = 'poweroff' | 'reset' | 'fail' | 'limit' | 'idle' | 'paused' | 'stopped' | 'error';

export interface MachineResult {
  reason: StopReason;
  /** the guest's exit status: the SBI reset reason or the sifive_test code (0 = success) */
  status: number;
  /** for reason 'error': what went wrong, in one line */
  message?: string;
  stats: MachineStats;
}

export interface DeviceStats {
  slot: number;
  address: string;
  device: string;
  notifies: number;
  interrupts: number;
  requests: number;
  errors: number;
}

export type MachineStats = CoreStats & { seconds: number; devices: DeviceStats[] };

/** Where things went in guest physical memory. */
export interface BootLayout {
  firmware?: { start: bigint; end: bigint; entry: bigint };
  kernel: { start: bigint; end: bigint; entry: bigint };
  initrd?: { start: bigint; end: bigint };
  dtb: { start: bigint; end: bigint };
  /** where the hart starts, and in which mode (U: a paravirtual kernel, deprivileged) */
  resetPc: bigint;
  resetMode: 'M' | 'S' | 'U' | 'VS';
}

const MiB = 1n << 20n;
const RAM = VIRT.dram.base;
const alignDown = (v: bigint, a: bigint) => v - (v % a);
const alignUp = (v: bigint, a: bigint) => alignDown(v + a - 1n, a);
const bytesOf = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));
const hex = (v: bigint) => `0x${v.toString(16)}`;
const mib = (v: bigint) => `${(Number(v) / 2 ** 20).toFixed(1)} MiB`;

/** OpenSBI's struct fw_dynamic_info (include/sbi/fw_dynamic.h), version 2. */
const FW_DYNAMIC_INFO_MAGIC = 0x4942534fn;
const FW_DYNAMIC_INFO_NEXT_MODE_S = 1n;

/** Exit-status names the CLI and API report for traps into a missing M-mode. */
const CAUSE_NAMES = [
  'instruction address misaligned', 'instruction access fault', 'illegal instruction', 'breakpoint',
  'load address misaligned', 'load access fault', 'store address misaligned', 'store access fault',
  'ecall from U-mode', 'ecall from S-mode', 'ecall from VS-mode', 'ecall from M-mode',
  'instruction page fault', 'load page fault', 'reserved', 'store page fault',
  'reserved', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved',
  // the H extension
  'instruction guest-page fault', 'load guest-page fault', 'virtual instruction', 'store guest-page fault',
];

/** A trap an exit reports: cause in the low 16 bits, bit 31 = interrupt (other flag bits ignored). */
const trapName = (v: number) => {
  const cause = v & 0xffff;
  return v & 0x8000_0000 ? `interrupt ${cause}` : (CAUSE_NAMES[cause] ?? `exception ${cause}`);
};

type Listener<T> = (v: T) => void;

/** The full machine's options (assembly/vmm/full.ts), in the order of their numbers there. */
export const FULL_TECHNIQUES = ['trap-and-emulate', 'binary-translation'] as const;
export type FullTechnique = (typeof FULL_TECHNIQUES)[number];
export const SHADOW_POLICIES = ['lazy', 'trace'] as const;
export type ShadowPolicy = (typeof SHADOW_POLICIES)[number];

export class Machine {
  readonly core: Core;
  readonly type: MachineType;
  readonly layout: BootLayout;
  private readonly transports: (VirtioMmio | undefined)[] = [];
  private readonly deviceNames: string[] = [];
  private readonly consoleListeners: Listener<Uint8Array>[] = [];
  private readonly input: Uint8Array[] = [];
  private readonly idle: 'sleep' | 'skip';
  private readonly maxInstructions?: bigint;
  private running = false;
  private request: 'pause' | 'stop' | undefined;
  private readonly events = new EventWait();
  private seconds = 0;
  /** performance.now() when the current stretch of execution began (undefined: not executing) */
  private runningSince: number | undefined;
  private finished?: MachineResult;
  private virtioConsole?: ConsoleDevice;
  private inputEnded = false;
  private readonly pvBlock?: PvBlock;

  /** @internal use createMachine() */
  constructor(core: Core, type: MachineType, layout: BootLayout, opts: MachineOptions, pvBlock?: PvBlock) {
    this.core = core;
    this.type = type;
    this.layout = layout;
    this.idle = opts.idle ?? 'sleep';
    this.maxInstructions = opts.maxInstructions;
    if (opts.onConsole) this.consoleListeners.push(opts.onConsole);
    core.ex.setIdleSkip(this.idle === 'skip' ? 1 : 0);
    core.setRtcEpoch(BigInt(Math.round(opts.rtcEpochMs ?? Date.now())) * 1_000_000n);
    // a paravirtual guest reaches no device registers: its disk is the VMM's PV block ring
    this.pvBlock = pvBlock;
    if (type !== 'paravirt') this.attachDevices(opts);
  }

  private attachDevices(opts: MachineOptions): void {
    const core = this.core;
    const mem: GuestMemory = {
      locate: (pa, len) => {
        const off = pa - RAM;
        if (pa < RAM || len < 0 || off + BigInt(len) > core.ramSize) return -1;
        return core.constant('RAM_BASE') + Number(off);
      },
      bytes: () => new Uint8Array(core.ex.memory.buffer),
      written: (pa, len) => core.ex.invalidateCodeRange(pa, BigInt(len)),
    };
    const devices: [string, VirtioDevice][] = [];
    for (const [i, d] of (opts.drives ?? []).entries()) {
      const backend = driveBackend(d, i);
      devices.push(['virtio-blk', new BlockDevice(backend, { readOnly: d.readOnly ?? backend.readOnly })]);
    }
    if (opts.net) {
      const send = typeof opts.net === 'object' ? opts.net.send : undefined;
      devices.push(['virtio-net', new NetDevice(send ? { send } : {})]);
    }
    if (opts.rng) devices.push(['virtio-rng', new RngDevice(typeof opts.rng === 'object' ? { seed: opts.rng.seed } : {})]);
    if (opts.virtioConsole) {
      this.virtioConsole = new ConsoleDevice({ onOutput: (b) => this.emitConsole(b) });
      devices.push(['virtio-console', this.virtioConsole]);
    }
    const slots = VIRT.virtio.count;
    if (devices.length > slots) throw new ConfigError(`${devices.length} virtio devices, but the board has ${slots} virtio-mmio slots`);
    // as on QEMU's virt board, the first device takes the highest slot
    for (let slot = 0; slot < slots; slot++) {
      const pa = VIRT.virtio.base + BigInt(slot) * VIRT.virtio.size;
      const regs = core.mapHostWindow(slot, pa, Number(VIRT.virtio.size));
      const entry = devices[slots - 1 - slot];
      const irq = VIRT.virtio.irq + slot;
      const t = new VirtioMmio(regs, mem, (level) => core.setIrq(irq, level), entry?.[1] ?? null);
      t.onActivity = () => this.wake();
      this.transports[slot] = t;
      this.deviceNames[slot] = entry?.[0] ?? '';
    }
  }

  /** Listen to the guest's console output. */
  onConsole(fn: Listener<Uint8Array>): () => void {
    this.consoleListeners.push(fn);
    return () => this.consoleListeners.splice(this.consoleListeners.indexOf(fn) >>> 0, 1);
  }

  private emitConsole(b: Uint8Array): void {
    for (const fn of this.consoleListeners) fn(b);
  }

  /** Type into the guest's console (the UART, and hvc0 when there is a virtio console). */
  sendConsole(data: Uint8Array | string): void {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.input.push(b);
    this.virtioConsole?.input(b);
    this.wake();
  }

  private feedInput(): void {
    while (this.input.length) {
      const b = this.input[0];
      const n = this.core.sendConsole(b);
      if (n < b.length) {
        this.input[0] = b.subarray(n);
        break;
      }
      this.input.shift();
    }
  }

  /** No more console input will come (stdin closed): a guest waiting only for it is idle for good. */
  endInput(): void {
    this.inputEnded = true;
    this.wake();
  }

  /** Ask run() to return after the current slice with reason 'paused'; run() again resumes. */
  pause(): void {
    if (this.running) this.request ??= 'pause';
    this.wake();
  }

  /** End the machine: run() returns with reason 'stopped' and cannot be resumed. */
  stop(): void {
    this.request = 'stop';
    this.wake();
  }

  private wake(): void {
    this.events.wake();
  }

  /** Count the time executed since the last call (or since execution resumed). */
  private account(executing: boolean): void {
    const now = performance.now();
    if (this.runningSince !== undefined) this.seconds += (now - this.runningSince) / 1000;
    this.runningSince = executing ? now : undefined;
  }

  stats(): MachineStats {
    const s = this.core.stats() as MachineStats;
    // seconds spent executing (not waiting in WFI), up to now
    s.seconds = this.seconds + (this.runningSince !== undefined ? (performance.now() - this.runningSince) / 1000 : 0);
    s.devices = [];
    this.transports.forEach((t, slot) => {
      if (!t || !this.deviceNames[slot]) return;
      const address = hex(VIRT.virtio.base + BigInt(slot) * VIRT.virtio.size);
      s.devices.push({ slot, address, device: this.deviceNames[slot], ...t.stats });
    });
    if (this.pvBlock) s.devices.push({ slot: 0, address: 'pv-ring', device: 'pv-blk', interrupts: 0, ...this.pvBlock.stats });
    return s;
  }

  private applyMmioWrites(): void {
    for (const w of this.core.takeMmioWrites()) {
      const t = this.transports[w.slot];
      if (!t) continue;
      const off = Number(w.pa - (VIRT.virtio.base + BigInt(w.slot) * VIRT.virtio.size));
      if (w.size === 8) {
        // a 64-bit store is two 32-bit register writes (virtio 4.2.2: registers are 32-bit)
        t.write(off, 4, Number(w.value & 0xffff_ffffn));
        t.write(off + 4, 4, Number(w.value >> 32n));
      } else {
        t.write(off, w.size, Number(w.value & ((1n << BigInt(w.size * 8)) - 1n)));
      }
    }
  }

  private finish(reason: StopReason, status = 0, message?: string): MachineResult {
    return { reason, status, message, stats: this.stats() };
  }

  /**
   * Run until the guest powers off or resets, fails, reaches maxInstructions, or pause() or
   * stop() is called. Executes in slices and yields to the event loop between them.
   */
  async run(): Promise<MachineResult> {
    if (this.finished) return this.finished;
    if (this.running) throw new Error('run() is already in progress');
    this.running = true;
    const core = this.core;
    // Short slices first: V8 swaps optimized code into run() only between calls.
    const maxSlice = 10_000_000n;
    let slice = 50_000n;
    this.account(true);
    let result: MachineResult | undefined;
    try {
      while (!result) {
        if (this.request) {
          const r = this.request;
          this.request = undefined;
          result = this.finish(r === 'pause' ? 'paused' : 'stopped');
          break;
        }
        let budget = slice;
        if (slice < maxSlice) slice *= 2n;
        if (this.maxInstructions !== undefined) {
          const left = this.maxInstructions - core.stats().instret;
          if (left <= 0n) { result = this.finish('limit'); break; }
          if (left < budget) budget = left;
        }
        this.feedInput();
        const exit = core.run(budget);
        this.applyMmioWrites();
        const out = core.drainConsole();
        if (out.length) this.emitConsole(out);
        switch (exit) {
          case Exit.Budget:
            await yieldToHost();
            break;
          case Exit.Mmio: case Exit.Console:
            break;
          case Exit.PvBlock:
            await this.pvBlock?.serve();
            break;
          case Exit.PvCrash: {
            const v = core.exitValue;
            const what = trapName(v);
            result = this.finish('error', 1, v & 0x4000_0000
              ? `the paravirtual guest faulted at its own trap vector (${what}, pc ${hex(core.pc)}): a double fault, it cannot go on`
              : `the paravirtual guest took a trap (${what}, pc ${hex(core.pc)}) before it registered a trap vector and a shared page with the VMM (is the kernel a paravirtual build?)`);
            break;
          }
          case Exit.Poweroff:
            result = this.finish('poweroff', core.exitValue);
            break;
          case Exit.Fail:
            result = this.finish('fail', core.exitValue || 1);
            break;
          case Exit.Reset:
            result = this.finish('reset');
            break;
          case Exit.HvCrash:
            result = this.finish('error', 1,
              `the hw-assist VMM got a trap it cannot give its guest (${trapName(core.exitValue)}, pc ${hex(core.pc)}, ${core.virt ? 'V=1' : 'V=0'} ${'USHM'[core.priv]}-mode)`);
            break;
          case Exit.MTrap: {
            const what = trapName(core.exitValue);
            result = this.finish('error', 1,
              `the guest took a trap (${what}, mepc ${hex(core.csr(0x341))}, mtval ${hex(core.csr(0x343))}) into M-mode, where no firmware runs (bios 'host')`);
            break;
          }
          case Exit.Wfi: {
            // the hart waits for an interrupt: for the timer (value 1) or for the host;
            // a pause() or stop() made during this slice (say, from onConsole) comes first
            if (this.request) break;
            this.account(false);
            const ticks = core.exitValue === 1 ? core.ticksToNextTimer() : undefined;
            const ioPending = this.transports.some((t) => t && t.pending() > 0);
            if (ticks === undefined && !ioPending && this.inputEnded && this.input.length === 0) {
              result = this.finish('idle');
              break;
            }
            const start = performance.now();
            const timedOut = await this.events.wait(ticks === undefined ? undefined : Number(ticks) / 10_000);
            if (ticks !== undefined) {
              const waited = BigInt(Math.floor((performance.now() - start) * 10_000));
              core.advanceTime(timedOut || waited > ticks ? ticks : waited);
            }
            this.account(true);
            break;
          }
          default:
            result = this.finish('error', 1, `the core returned an unknown exit code ${exit}`);
        }
      }
    } finally {
      this.running = false;
      this.account(false);
    }
    if (result.reason !== 'paused') this.finished = result;
    return result;
  }
}

/** Lay out firmware, kernel, initrd and device tree in RAM and load them. */
function boot(core: Core, opts: MachineOptions, memory: bigint, cpu: CpuModel, type: MachineType): BootLayout {
  const hwAssist = type === 'hw-assist';
  const ramEnd = RAM + memory;
  const bios = opts.bios ?? 'host';
  if (!opts.kernel && typeof bios === 'string') throw new ConfigError('no kernel given (and no firmware to run)');
  const kernel = opts.kernel ? bytesOf(opts.kernel) : undefined;
  const initrd = opts.initrd ? bytesOf(opts.initrd) : undefined;
  if (kernel && kernel.length === 0) throw new LoadError('kernel: empty image');
  if (kernel) rejectCompressed(kernel);

  const need = (what: string, end: bigint) => {
    if (end > ramEnd)
      throw new ConfigError(`${what} does not fit: it needs at least ${mib(alignUp(end - RAM, MiB))} of RAM, the machine has ${mib(memory)} (give the machine more memory: -m)`);
  };
  const loadRaw = (bytes: Uint8Array, at: bigint, size: bigint, name: string) => {
    need(name, at + size);
    core.writeRam(at, bytes);
    return { start: at, end: at + size, entry: at };
  };

  // firmware first (at the start of RAM), then the kernel where the firmware expects it
  let firmware: BootLayout['firmware'];
  if (typeof bios !== 'string') {
    const fw = bytesOf(bios);
    if (fw.length === 0) throw new LoadError('bios: empty image');
    firmware = isElf(fw) ? loadElf(core, fw, 'bios') : loadRaw(fw, RAM, BigInt(fw.length), 'bios');
  }
  let k: BootLayout['kernel'];
  if (!kernel) {
    k = { start: firmware!.end, end: firmware!.end, entry: firmware!.end };
  } else if (isElf(kernel)) {
    k = loadElf(core, kernel, 'kernel');
  } else if (isLinuxImage(kernel)) {
    const img = parseLinuxImage(kernel, 'kernel');
    // at text_offset from the start of RAM, where firmware (ours or OpenSBI) expects it
    k = loadRaw(kernel, RAM + img.textOffset, img.imageSize, 'kernel');
  } else {
    k = loadRaw(kernel, bios === 'none' ? RAM : RAM + 2n * MiB, BigInt(kernel.length), 'kernel');
  }
  if (firmware && k.start < firmware.end)
    throw new LoadError(`kernel: it overlaps the firmware (${hex(firmware.start)}..${hex(firmware.end)})`);

  // the device tree at the top of RAM, 2 MiB aligned (as QEMU places it), initrd below it
  const dtConfig = (initrdRange?: { start: bigint; end: bigint }) =>
    buildDeviceTree({ memoryBytes: memory, isa: cpu.isa, bootargs: opts.append, initrd: initrdRange });
  // first pass for the size: the initrd properties have a fixed size whatever their values
  let dtb = dtConfig(initrd ? { start: RAM, end: RAM } : undefined);
  const dtbStart = alignDown(ramEnd - BigInt(dtb.length), 2n * MiB);
  const initrdStart = initrd ? alignDown(dtbStart - BigInt(initrd.length), 4096n) : dtbStart;
  // fw_dynamic_info for OpenSBI sits in the page below
  const infoAddr = initrdStart - 4096n;
  if (infoAddr < alignUp(k.end, 4096n)) {
    const total = alignUp(k.end - RAM, 4096n) + 4096n + BigInt(initrd?.length ?? 0) + BigInt(dtb.length) + 2n * MiB;
    throw new ConfigError(`kernel${initrd ? ' + initrd' : ''} + device tree need at least ${mib(alignUp(total, MiB))} of RAM, the machine has ${mib(memory)} (give the machine more memory: -m)`);
  }
  let initrdRange: BootLayout['initrd'];
  if (initrd) {
    initrdRange = { start: initrdStart, end: initrdStart + BigInt(initrd.length) };
    dtb = dtConfig(initrdRange);
    core.writeRam(initrdStart, initrd);
  }
  core.writeRam(dtbStart, dtb);
  const layout: BootLayout = {
    firmware,
    kernel: k,
    initrd: initrdRange,
    dtb: { start: dtbStart, end: dtbStart + BigInt(dtb.length) },
    resetPc: firmware ? firmware.entry : k.entry,
    resetMode: hwAssist ? 'VS' : type === 'full' ? 'U' : bios === 'host' ? 'S' : 'M',
  };
  if (hwAssist) {
    // the guest in VS-mode; its RAM is the first `memory` bytes, mapped by the G-stage
    core.bootHwAssist(k.entry, dtbStart, memory);
  } else if (type === 'full') {
    // the guest kernel deprivileged in U-mode, its RAM the first `memory` bytes, on shadow tables
    core.bootFull(k.entry, dtbStart, memory, FULL_TECHNIQUES.indexOf(opts.technique ?? 'trap-and-emulate'),
      SHADOW_POLICIES.indexOf(opts.shadow ?? 'lazy'));
  } else if (bios === 'host') {
    core.bootSupervisor(k.entry, dtbStart);
  } else {
    // QEMU's reset vector: a0 = mhartid, a1 = the device tree, a2 = fw_dynamic_info
    core.reset(layout.resetPc);
    core.setX(10, 0n);
    core.setX(11, dtbStart);
    if (firmware) {
      const info = new DataView(new ArrayBuffer(48));
      [FW_DYNAMIC_INFO_MAGIC, 2n, k.entry, FW_DYNAMIC_INFO_NEXT_MODE_S, 0n, 0xffff_ffff_ffff_ffffn]
        .forEach((v, i) => info.setBigUint64(i * 8, v, true));
      core.writeRam(infoAddr, new Uint8Array(info.buffer));
      core.setX(12, infoAddr);
    }
  }
  return layout;
}

/** Drive `i`'s backend: given, or its bytes in memory; behind a copy-on-write overlay with snapshot. */
function driveBackend(d: DriveOptions, i: number): BlockBackend {
  let backend: BlockBackend;
  if (d.backend) backend = d.backend;
  else if (d.data) backend = new MemoryBackend(bytesOf(d.data), { readOnly: d.readOnly });
  else throw new ConfigError(`drive ${i}: give data or a backend`);
  return d.snapshot ? new OverlayBackend(backend) : backend;
}

/** RAM the paravirt VMM keeps for itself above the guest's (its boot page table). */
const PV_VMM_BYTES = 2n * MiB;
/** RAM the hw-assist VMM keeps above the guest's (its G-stage tables): assembly/vmm/hwassist.ts. */
const HV_VMM_BYTES = 2n * MiB;

/** A disk for the paravirt machine's PV block ring (it has no virtio devices). */
function pvDrive(core: Core, opts: MachineOptions): PvBlock | undefined {
  const drives = opts.drives ?? [];
  if (drives.length > 1) throw new ConfigError(`paravirt: the PV block ring serves one disk, not ${drives.length}`);
  if (opts.net || opts.rng || opts.virtioConsole)
    throw new ConfigError('paravirt: a paravirtual guest has no virtio devices (net, rng, virtio console); its disk is the PV block ring');
  const d = drives[0];
  if (!d) return undefined;
  const backend = driveBackend(d, 0);
  return new PvBlock(core, backend, d.readOnly ?? backend.readOnly);
}

/**
 * The paravirt machine's boot (docs/paravirt.md): a paravirtual kernel (ELF) in guest RAM,
 * the device tree at the top of guest RAM, and the VMM's own RAM above it; the kernel starts
 * deprivileged, in the hart's U-mode, on the VMM's boot page table.
 */
function bootParavirt(core: Core, opts: MachineOptions, memory: bigint, cpu: CpuModel, blk?: PvBlock): BootLayout {
  if (opts.bios !== undefined && opts.bios !== 'host')
    throw new ConfigError('paravirt: the VMM is the firmware; no bios can be given');
  if (opts.initrd) throw new ConfigError('paravirt: no initrd (the paravirtual kernel has its programs linked in)');
  if (!opts.kernel) throw new ConfigError('paravirt: no kernel given (a paravirtual build, such as guests/kernel/prebuilt/kernel-pv.elf)');
  const kernel = bytesOf(opts.kernel);
  if (!isElf(kernel)) throw new LoadError('kernel: the paravirt machine boots ELF kernels only (a paravirtual build)');
  const k = loadElf(core, kernel, 'kernel');
  const guestEnd = RAM + memory;
  if (k.end > guestEnd) throw new ConfigError(`kernel does not fit in the guest's ${mib(memory)} of RAM (give the machine more memory: -m)`);
  const dtb = buildDeviceTree({ memoryBytes: memory, isa: cpu.isa, bootargs: opts.append });
  const dtbStart = alignDown(guestEnd - BigInt(dtb.length), 2n * MiB);
  if (dtbStart < alignUp(k.end, 4096n)) throw new ConfigError(`kernel + device tree need more than the guest's ${mib(memory)} of RAM (give the machine more memory: -m)`);
  core.writeRam(dtbStart, dtb);
  core.bootParavirt(k.entry, dtbStart, memory, blk?.sectors ?? 0n);
  return { kernel: k, dtb: { start: dtbStart, end: dtbStart + BigInt(dtb.length) }, resetPc: k.entry, resetMode: 'U' };
}

/** Build a machine: check the configuration, load everything, ready to run(). */
export async function createMachine(opts: MachineOptions = {}): Promise<Machine> {
  const type = opts.type ?? 'native';
  const info = (MACHINE_TYPES as Record<string, { implemented: boolean }>)[type];
  if (!info) throw new ConfigError(`unknown machine type '${type}' (one of: ${Object.keys(MACHINE_TYPES).join(', ')})`);
  if (type === 'kvm') throw new ConfigError("machine type 'kvm' runs each VM in its own worker: use new KvmMachine(...) (src/kvm/machine.ts), or `wasmvisor run --type kvm`");
  if (!info.implemented) throw new ConfigError(`machine type '${type}' is not implemented yet; ${implementedText()} run today`);
  const memory = parseSize(opts.memory ?? '256M', 'memory size');
  if (memory % 4096n !== 0n) throw new ConfigError(`memory size ${memory} is not a multiple of 4 KiB`);
  if (memory < 4n * MiB) throw new ConfigError(`memory size ${mib(memory)} is too small (at least 4 MiB)`);
  if (opts.idle && opts.idle !== 'sleep' && opts.idle !== 'skip') throw new ConfigError(`idle must be 'sleep' or 'skip', not '${opts.idle}'`);
  if (type === 'paravirt' && (memory % (2n * MiB) !== 0n || memory > 1n << 30n))
    throw new ConfigError(`paravirt: guest memory must be a multiple of 2 MiB and at most 1 GiB, not ${mib(memory)}`);
  if (type === 'hw-assist' && memory % (2n * MiB) !== 0n)
    throw new ConfigError(`hw-assist: guest memory must be a multiple of 2 MiB (the G-stage maps 2 MiB pages), not ${mib(memory)}`);
  if (opts.technique !== undefined || opts.shadow !== undefined) {
    if (type !== 'full') throw new ConfigError(`${opts.technique !== undefined ? 'technique' : 'shadow'} applies to the full machine only, not to '${type}'`);
    if (opts.technique !== undefined && !FULL_TECHNIQUES.includes(opts.technique))
      throw new ConfigError(`full: technique must be ${quotedList(FULL_TECHNIQUES).replace(/ and /, ' or ')}, not '${opts.technique}'`);
    if (opts.shadow !== undefined && !SHADOW_POLICIES.includes(opts.shadow))
      throw new ConfigError(`full: shadow must be ${quotedList(SHADOW_POLICIES).replace(/ and /, ' or ')}, not '${opts.shadow}'`);
  }
  let cpu: CpuModel;
  try {
    // the full machine's point is a hart with no virtualization help: no H extension
    cpu = parseCpu(opts.cpu ?? (type === 'full' ? 'rv64,h=off' : undefined));
  } catch (e) {
    if (e instanceof CpuError) throw new ConfigError(e.message);
    throw e;
  }
  if (type === 'hw-assist' && !cpu.h)
    throw new ConfigError(`hw-assist requires hardware support: this hart's ISA lacks the H extension (-cpu ${opts.cpu})`);
  if (type === 'full' && cpu.h)
    throw new ConfigError(`full: the hart must lack the H extension (full virtualization uses no hardware help): -cpu ${opts.cpu} has it, use h=off`);
  if (type === 'full' && opts.bios !== undefined && opts.bios !== 'host')
    throw new ConfigError('full: the VMM is the firmware (it answers the guest\'s SBI calls); no bios can be given');
  const vmmBytes = type === 'paravirt' ? PV_VMM_BYTES : type === 'hw-assist' ? HV_VMM_BYTES : 0n;
  // the full VMM's RAM depends on the guest's (its per-frame records): the core says how much
  const core = await Core.create(type === 'full' ? (c) => memory + c.ex.fvVmmBytes(memory) : memory + vmmBytes);
  core.setHypervisorExtension(cpu.h);
  core.reset(RAM); // the hart model takes effect at reset
  if (opts.jit !== false) {
    try {
      core.enableJit(typeof opts.jit === 'object' ? opts.jit : {});
    } catch (e) {
      throw new ConfigError(`jit: ${(e as Error).message}`);
    }
  }
  if (type === 'paravirt') {
    const blk = pvDrive(core, opts);
    return new Machine(core, type, bootParavirt(core, opts, memory, cpu, blk), opts, blk);
  }
  if (type === 'hw-assist' && opts.bios !== undefined && opts.bios !== 'host')
    throw new ConfigError('hw-assist: the VMM is the firmware (it answers the guest\'s SBI calls); no bios can be given');
  const layout = boot(core, opts, memory, cpu, type);
  return new Machine(core, type, layout, opts);
}
