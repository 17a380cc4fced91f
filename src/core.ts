// The Wasm core seen from TypeScript: instantiation, the linear-memory regions (whose
// offsets come from the core's own exported globals: one source of truth), and run().
import { Jit, type JitOptions, type JitStats } from './jit/index.js';

export interface CoreExports {
  memory: WebAssembly.Memory;
  setup(ramBytes: bigint): number;
  reset(pc: bigint): void;
  run(budget: bigint): number;
  flushStats(): void;
  invalidateCodeRange(pa: bigint, len: bigint): void;
  readCsr(num: number): bigint;
  exitValue(): number;
  setTimebaseDivider(n: bigint): void;
  mtime(): bigint;
  getMisa(): bigint;
  decodeOp(insn: number): number;
  setIrq(src: number, high: number): void;
  mapHostWindow(slot: number, pa: bigint, size: bigint): number;
  bootSupervisor(entry: bigint, dtb: bigint): void;
  bootParavirt(entry: bigint, dtb: bigint, guestBytes: bigint, diskSectors: bigint): number;
  pvBufferOk(pa: bigint, len: bigint): number;
  pvBlockRing(): bigint;
  bootHwAssist(entry: bigint, dtb: bigint, guestBytes: bigint): number;
  bootFull(entry: bigint, dtb: bigint, guestBytes: bigint, technique: number, shadow: number): number;
  fvVmmBytes(guestBytes: bigint): bigint;
  setRtcEpoch(ns: bigint): void;
  ticksToNextTimer(): bigint;
  advanceTime(ticks: bigint): void;
  setIdleSkip(on: number): void;
  setHypervisorExtension(on: number): void;
  [name: string]: unknown;
}

/** Why run() returned (assembly/memmap.ts EXIT_*). */
export enum Exit {
  Budget = 0,
  Poweroff = 1,
  Reset = 2,
  Fail = 3,
  Console = 4,
  Wfi = 5,
  HostCall = 6,
  /** Stores to host-device windows are queued (Core.takeMmioWrites). */
  Mmio = 7,
  /** With the host's SBI as firmware a trap reached M-mode (exitValue: mcause, bit 31 = interrupt). */
  MTrap = 8,
  /** A paravirtual guest notified its block ring (PV_BLK_NOTIFY): serve it, set a0/a1. */
  PvBlock = 10,
  /** A paravirtual guest took a trap it cannot take (exitValue: cause, bit 31 = interrupt, bit 30 = at its trap vector). */
  PvCrash = 11,
  /** The hw-assist VMM got a trap it cannot give its guest (exitValue: cause, bit 31 = interrupt). */
  HvCrash = 12,
}

/** A guest store to a host-device register window (KVM_EXIT_MMIO-like, posted). */
export interface MmioWrite {
  slot: number;
  pa: bigint;
  size: number;
  value: bigint;
}

export const STAT_NAMES = [
  'instret', 'traps', 'interrupts', 'tlbHits', 'tlbMisses', 'pageWalks', 'walkRefs',
  'icacheMisses', 'icacheFlushes', 'mmioReads', 'mmioWrites', 'tlbFlushes', 'wfi',
  'sbiCalls', 'mmioExits', 'plicClaims', 'jitPagesDropped', 'jitRetired', 'jitCalls',
  // the paravirt VMM (assembly/vmm/paravirt.ts)
  'pvHypercalls', 'pvReflected', 'pvPrivFaults', 'pvRefused', 'pvMmuOps', 'pvHostExits',
  // the H extension: two-stage (2-D) walks and their PTE references
  'walks2d', 'walkRefs2d',
  // the hw-assist VMM (assembly/vmm/hwassist.ts): exits, SBI calls, emulated MMIO accesses,
  // interrupts injected through hvip, exceptions reflected into the guest
  'hvExits', 'hvSbiCalls', 'hvMmio', 'hvInjected', 'hvReflected',
] as const;
/** The full-virtualization VMM's counters (assembly/stats.ts from STAT_FV_BASE, assembly/vmm/full.ts). */
export const FV_STAT_NAMES = [
  'fvTraps', 'fvEmulated', 'fvSbiCalls', 'fvReflected', 'fvInjected', 'fvHiddenFaults', 'fvShadowSyncs',
  'fvPtWrites', 'fvMmio', 'fvShadowPages', 'fvShadowResets', 'fvBtBlocks', 'fvBtRewritten', 'fvGuestFaults',
] as const;
export type CoreStats = Record<(typeof STAT_NAMES)[number] | (typeof FV_STAT_NAMES)[number], bigint> & {
  exceptionsByCause: bigint[];
  interruptsByCause: bigint[];
  /** the block compiler's counters, when it is on */
  jit?: JitStats;
};

export class GuestMemoryError extends RangeError {}

/** An instruction as the hart decoded it: op id (index in the table + 1; 0 = illegal). */
export interface HartDecoded {
  op: number;
  rd: number;
  rs1: number;
  rs2: number;
  rs3: number;
  len: number;
  rm: number;
  imm: number;
}

let cachedModule: Promise<WebAssembly.Module> | undefined;

async function coreBytes(): Promise<Uint8Array> {
  const url = new URL('../build/core.wasm', import.meta.url);
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(url));
    } catch (e) {
      throw new Error(`cannot read the core at ${url.pathname}: run "npm run build" first (${(e as Error).message})`);
    }
  }
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch the core at ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function compile(): Promise<WebAssembly.Module> {
  cachedModule ??= coreBytes().then((b) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>));
  return cachedModule;
}

/** One hart with its RAM: a fresh Wasm instance. */
export class Core {
  readonly ex: CoreExports;
  private g: Record<string, number> = {};
  private ramBytes = 0n;
  private jitHost?: Jit;

  private constructor(instance: WebAssembly.Instance) {
    this.ex = instance.exports as unknown as CoreExports;
    for (const [k, v] of Object.entries(instance.exports))
      if (v instanceof WebAssembly.Global) this.g[k] = Number(v.value);
  }

  /** `ramBytes`: the size, or a function of the core that gives it (say, from an export of it). */
  static async create(ramBytes: number | bigint | ((core: Core) => bigint)): Promise<Core> {
    const module = await compile();
    const instance = await WebAssembly.instantiate(module, {
      env: {
        abort(msg: number, file: number, line: number, col: number) {
          throw new Error(`wasmvisor core aborted at ${line}:${col}`);
        },
      },
    });
    const core = new Core(instance);
    core.setup(typeof ramBytes === 'function' ? ramBytes(core) : BigInt(ramBytes));
    return core;
  }

  /** A constant of the core's memory map or ABI (assembly/memmap.ts, assembly/stats.ts). */
  constant(name: string): number {
    const v = this.g[name];
    if (v === undefined) throw new Error(`the core exports no constant ${name}`);
    return v;
  }

  private setup(ramBytes: bigint): void {
    const r = this.ex.setup(ramBytes);
    if (r === -1) throw new RangeError(`RAM size ${ramBytes} must be a non-zero multiple of 4 KiB and at most ${this.constant('RAM_MAX')} bytes`);
    if (r === -2) throw new RangeError(`cannot allocate ${ramBytes} bytes of guest RAM`);
    this.ramBytes = ramBytes;
  }

  get ramSize(): bigint {
    return this.ramBytes;
  }
  get ramBase(): bigint {
    return BigInt(this.constant('RAM_PHYS'));
  }

  private get buffer(): ArrayBuffer {
    return this.ex.memory.buffer;
  }
  private u64(addr: number): BigUint64Array {
    return new BigUint64Array(this.buffer, addr, 1);
  }

  /** A view of guest physical memory [pa, pa+len), which must lie in RAM. */
  ram(pa: bigint, len: number): Uint8Array {
    const off = pa - this.ramBase;
    if (pa < this.ramBase || off + BigInt(len) > this.ramBytes)
      throw new GuestMemoryError(`guest physical range 0x${pa.toString(16)}+${len} is outside RAM (0x${this.ramBase.toString(16)}..0x${(this.ramBase + this.ramBytes).toString(16)})`);
    return new Uint8Array(this.buffer, this.constant('RAM_BASE') + Number(off), len);
  }

  /** Copy bytes into guest RAM (and drop any decoded code there). */
  writeRam(pa: bigint, data: Uint8Array): void {
    this.ram(pa, data.length).set(data);
    this.ex.invalidateCodeRange(pa, BigInt(data.length));
  }

  reset(pc: bigint): void {
    this.ex.reset(pc);
  }

  /** Give the hart the H extension (-cpu rv64,h=on, the default) or not; applies at the next reset(). */
  setHypervisorExtension(on: boolean): void {
    this.ex.setHypervisorExtension(on ? 1 : 0);
  }

  run(budget: number | bigint): Exit {
    let left = BigInt(budget);
    for (;;) {
      const exit = this.ex.run(left) as number;
      this.jitHost?.poll();
      if (exit !== this.constant('EXIT_JIT')) return exit as Exit;
      // hot code was queued: compiled now, and the slice goes on
      left -= (this.ex.runSteps as WebAssembly.Global).value as bigint;
      if (left <= 0n) return Exit.Budget;
    }
  }

  /** Compile hot blocks into Wasm (src/jit/) from now on; returns the compiler (its stats). */
  enableJit(opts: JitOptions = {}): Jit {
    this.jitHost ??= new Jit(this.ex, (n) => this.constant(n), opts);
    return this.jitHost;
  }

  /** The block compiler, if enableJit() was called. */
  get jit(): Jit | undefined {
    return this.jitHost;
  }

  get pc(): bigint {
    return this.u64(this.constant('PC_ADDR'))[0];
  }
  set pc(v: bigint) {
    this.u64(this.constant('PC_ADDR'))[0] = v;
  }
  get priv(): number {
    return new Uint32Array(this.buffer, this.constant('PRIV_ADDR'), 1)[0];
  }
  /** The H extension's virtualization mode V (with priv: VS = V and S, VU = V and U). */
  get virt(): boolean {
    return new Uint32Array(this.buffer, this.constant('VIRT_ADDR'), 1)[0] !== 0;
  }
  x(i: number): bigint {
    return this.u64(this.constant('X_BASE') + i * 8)[0];
  }
  setX(i: number, v: bigint): void {
    if (i !== 0) this.u64(this.constant('X_BASE') + i * 8)[0] = BigInt.asUintN(64, v);
  }
  f(i: number): bigint {
    return this.u64(this.constant('F_BASE') + i * 8)[0];
  }
  csr(num: number): bigint {
    return this.ex.readCsr(num);
  }
  /** Raw bits of the last instruction the last run() executed (0 if it faulted on fetch). */
  get lastInsn(): number {
    return new Uint32Array(this.buffer, this.constant('LAST_INSN_ADDR'), 1)[0];
  }
  get exitValue(): number {
    return this.ex.exitValue();
  }

  stats(): CoreStats {
    this.ex.flushStats();
    const a = new BigUint64Array(this.buffer, this.constant('STATS_BASE'), this.constant('STAT_COUNT'));
    const s = {} as CoreStats;
    STAT_NAMES.forEach((n, i) => (s[n] = a[i]));
    const fv = this.constant('STAT_FV_BASE');
    FV_STAT_NAMES.forEach((n, i) => (s[n] = a[fv + i]));
    const exc = this.constant('STAT_EXC_BASE');
    const irq = this.constant('STAT_IRQ_BASE');
    s.exceptionsByCause = Array.from(a.subarray(exc, exc + 32));
    s.interruptsByCause = Array.from(a.subarray(irq, irq + 32));
    if (this.jitHost) s.jit = { ...this.jitHost.stats };
    return s;
  }

  /** The hart's own decoding of instruction bits (for tests and tools). */
  decode(insn: number): HartDecoded {
    const op = this.ex.decodeOp(insn >>> 0);
    const slot = this.constant('SCRATCH_SLOT');
    const b = new DataView(this.buffer, slot, this.constant('SLOT_RAW') + 4);
    return {
      op,
      rd: b.getUint8(this.constant('SLOT_RD')),
      rs1: b.getUint8(this.constant('SLOT_RS1')),
      rs2: b.getUint8(this.constant('SLOT_RS2')),
      rs3: b.getUint8(this.constant('SLOT_RS3')),
      len: b.getUint8(this.constant('SLOT_LEN')),
      rm: b.getUint8(this.constant('SLOT_RM')),
      imm: b.getInt32(this.constant('SLOT_IMM'), true),
    };
  }

  /** Drive PLIC interrupt line `src` (1..95). */
  setIrq(src: number, high: boolean): void {
    this.ex.setIrq(src, high ? 1 : 0);
  }

  /** Map host-device window `slot` at guest physical [pa, pa+size); returns its register view. */
  mapHostWindow(slot: number, pa: bigint, size: number): DataView {
    if (!this.ex.mapHostWindow(slot, pa, BigInt(size))) throw new RangeError(`bad host window ${slot} (${size} bytes)`);
    return this.hostWindow(slot);
  }

  /** The register window of host device `slot` (re-fetch after memory growth). */
  hostWindow(slot: number): DataView {
    const w = this.constant('HOSTDEV_WINDOW');
    return new DataView(this.buffer, this.constant('HOSTDEV_BASE') + slot * w, w);
  }

  /** The guest's stores to host windows since the last call, in order. */
  takeMmioWrites(): MmioWrite[] {
    const q = this.constant('MMIO_QUEUE');
    const v = new DataView(this.buffer, q);
    const n = v.getUint32(0, true);
    const size = this.constant('MMIO_ENTRY_SIZE');
    const out: MmioWrite[] = [];
    for (let i = 0; i < n; i++) {
      const e = 8 + i * size;
      out.push({
        pa: v.getBigUint64(e, true),
        value: v.getBigUint64(e + 8, true),
        size: v.getUint32(e + 16, true),
        slot: v.getUint32(e + 20, true),
      });
    }
    v.setUint32(0, 0, true);
    return out;
  }

  /** Start in S-mode at `entry` (a0 = hartid 0, a1 = dtb) with the host as SBI firmware. */
  bootSupervisor(entry: bigint, dtb: bigint): void {
    this.ex.bootSupervisor(entry, dtb);
  }

  /**
   * Start a paravirtual guest kernel under the paravirt VMM: guest RAM is the first
   * `guestBytes` of RAM, the rest the VMM's; a PV block device of `diskSectors` (0: none).
   */
  bootParavirt(entry: bigint, dtb: bigint, guestBytes: bigint, diskSectors: bigint): void {
    if (!this.ex.bootParavirt(entry, dtb, guestBytes, diskSectors))
      throw new RangeError(`paravirt: guest RAM of ${guestBytes} bytes must be a multiple of 2 MiB, at most 1 GiB, and leave the VMM 8 KiB of the core's ${this.ramBytes}`);
  }

  /**
   * Start an unmodified guest kernel in VS-mode under the hw-assist VMM: guest RAM is the first
   * `guestBytes` of RAM (a multiple of 2 MiB), the VMM keeps HV_VMM_BYTES above it.
   */
  bootHwAssist(entry: bigint, dtb: bigint, guestBytes: bigint): void {
    if (!this.ex.bootHwAssist(entry, dtb, guestBytes))
      throw new RangeError(`hw-assist: guest RAM of ${guestBytes} bytes must be a multiple of 2 MiB and leave the VMM ${this.constant('HV_VMM_BYTES')} bytes of the core's ${this.ramBytes}, on a hart with the H extension`);
  }

  /**
   * Start an unmodified guest kernel under the full-virtualization VMM: deprivileged in U-mode,
   * on shadow page tables; guest RAM is the first `guestBytes` of RAM, the VMM keeps
   * fvVmmBytes(guestBytes) above it. technique: 0 trap-and-emulate, 1 binary translation;
   * shadow: 0 lazy, 1 trace.
   */
  bootFull(entry: bigint, dtb: bigint, guestBytes: bigint, technique: number, shadow: number): void {
    if (!this.ex.bootFull(entry, dtb, guestBytes, technique, shadow))
      throw new RangeError(`full: guest RAM of ${guestBytes} bytes must be a multiple of 4 KiB and leave the VMM ${this.ex.fvVmmBytes(guestBytes)} bytes of the core's ${this.ramBytes}`);
  }

  /** May the VMM write guest RAM [pa, pa+len) for the guest (not its page tables)? */
  pvBufferOk(pa: bigint, len: number): boolean {
    return this.ex.pvBufferOk(pa, BigInt(len)) !== 0;
  }

  setRtcEpoch(ns: bigint): void {
    this.ex.setRtcEpoch(ns);
  }

  /** Timebase ticks (10 MHz) until the next armed timer, or undefined if none is armed. */
  ticksToNextTimer(): bigint | undefined {
    // (the Wasm export's i64 arrives signed: all ones is -1n)
    const t = BigInt.asUintN(64, this.ex.ticksToNextTimer());
    return t === 0xffff_ffff_ffff_ffffn ? undefined : t;
  }

  advanceTime(ticks: bigint): void {
    this.ex.advanceTime(ticks);
  }

  /** Bytes the guest wrote to the UART since the last call. */
  drainConsole(): Uint8Array {
    const ring = this.constant('UART_TX_RING');
    const size = this.constant('RING_SIZE');
    const hdr = new Uint32Array(this.buffer, ring, 2);
    const head = hdr[0];
    let tail = hdr[1];
    const out = new Uint8Array((head - tail) >>> 0);
    const data = new Uint8Array(this.buffer, ring + 8, size);
    for (let i = 0; i < out.length; i++, tail = (tail + 1) >>> 0) out[i] = data[tail % size];
    hdr[1] = tail;
    return out;
  }

  /** Queue bytes for the guest to read from the UART; returns how many fit. */
  sendConsole(bytes: Uint8Array): number {
    const ring = this.constant('UART_RX_RING');
    const size = this.constant('RING_SIZE');
    const hdr = new Uint32Array(this.buffer, ring, 2);
    const data = new Uint8Array(this.buffer, ring + 8, size);
    let n = 0;
    for (const b of bytes) {
      if (((hdr[0] - hdr[1]) >>> 0) >= size) break;
      data[hdr[0] % size] = b;
      hdr[0] = (hdr[0] + 1) >>> 0;
      n++;
    }
    return n;
  }
}
