// The userspace VMM of the `kvm` machine (docs/kvm.md), in the spirit of kvmtool and
// Firecracker: it creates a VM through the KVM-shaped API (kvm.ts), maps its RAM as one
// memory slot, loads Linux, and runs the vCPU loop, handling every exit: KVM_EXIT_MMIO on its
// device bus (a 16550 UART, a PLIC whose S-mode context drives the vCPU's external interrupt
// through KVM_IRQ_LINE, a goldfish RTC, the sifive_test power-off register, virtio-mmio
// transports reusing src/devices/virtio), KVM_EXIT_RISCV_SBI for the SBI console calls,
// KVM_EXIT_SYSTEM_EVENT for SRST, KVM_EXIT_HLT by waiting for the timer or an interrupt.
import { parseCpu } from '../platform/cpu.js';
import type { MessagePort as NodeMessagePort } from 'node:worker_threads';
import { Kvm, type Vm, type Vcpu } from './kvm.js';
import type { KvmKernel } from './kernel.js';
import {
  KVM_EXIT_MMIO, KVM_EXIT_RISCV_SBI, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_HLT, KVM_EXIT_INTR, KVM_EXIT_INTERNAL_ERROR,
  KVM_SYSTEM_EVENT_SHUTDOWN, KVM_REG_RISCV_CORE_REG, KVM_REG_RISCV_TIMER_REG, exitName, type KvmExit,
} from './uapi.js';
import type { CoreStats } from '../core.js';
import { yieldToHost, EventWait } from '../host.js';
import { buildDeviceTree, VIRT, UART_CLOCK_HZ } from '../platform/devicetree.js';
import { isLinuxImage, parseLinuxImage, rejectCompressed } from '../loader/image.js';
import { LoadError, isElf, parseElf } from '../loader/elf.js';
import {
  VirtioMmio, BlockDevice, ConsoleDevice, RngDevice, NetDevice, MemoryBackend, OverlayBackend,
  type BlockBackend, type GuestMemory, type VirtioDevice,
} from '../devices/virtio/index.js';

const MiB = 1n << 20n;
const RAM = VIRT.dram.base;
const hex = (v: bigint | number) => `0x${v.toString(16)}`;
void UART_CLOCK_HZ;

// ---- the device models

/** A device on the VMM's MMIO bus. */
interface BusDevice {
  read(off: number, size: number): bigint;
  write(off: number, size: number, v: bigint): void;
}

/** ns16550a (QEMU virt 0x1000_0000, PLIC source 10), what Linux's 8250 driver needs (as assembly/devices/uart.ts). */
class Uart16550 implements BusDevice {
  private ier = 0; private lcr = 0; private mcr = 0; private scr = 0; private fcr = 0; private dll = 0; private dlm = 0;
  private thrIntPending = false;
  readonly rx: number[] = [];
  constructor(private readonly out: (b: number) => void, private readonly irq: (level: boolean) => void) {}
  level(): boolean {
    return ((this.ier & 1) !== 0 && this.rx.length > 0) || ((this.ier & 2) !== 0 && this.thrIntPending);
  }
  private update(): void {
    this.irq(this.level());
  }
  input(bytes: Uint8Array): void {
    for (const b of bytes) this.rx.push(b);
    this.update();
  }
  read(off: number): bigint {
    const dlab = (this.lcr & 0x80) !== 0;
    let v = 0;
    switch (off) {
      case 0: v = dlab ? this.dll : (this.rx.shift() ?? 0); break;
      case 1: v = dlab ? this.dlm : this.ier; break;
      case 2: {
        const fifo = this.fcr & 1 ? 0xc0 : 0;
        if ((this.ier & 1) && this.rx.length) v = 0x04 | fifo;
        else if ((this.ier & 2) && this.thrIntPending) { this.thrIntPending = false; v = 0x02 | fifo; }
        else v = 0x01 | fifo;
        break;
      }
      case 3: v = this.lcr; break;
      case 4: v = this.mcr; break;
      case 5: v = 0x60 | (this.rx.length ? 1 : 0); break;
      case 6: v = 0xb0; break;
      case 7: v = this.scr; break;
    }
    this.update();
    return BigInt(v);
  }
  write(off: number, _size: number, value: bigint): void {
    const v = Number(value & 0xffn);
    const dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0: if (dlab) this.dll = v; else { this.out(v); this.thrIntPending = true; } break;
      case 1:
        if (dlab) { this.dlm = v; break; }
        if ((v & 2) && !(this.ier & 2)) this.thrIntPending = true;
        this.ier = v & 0x0f;
        break;
      case 2: this.fcr = v; break;
      case 3: this.lcr = v; break;
      case 4: this.mcr = v; break;
      case 7: this.scr = v; break;
    }
    this.update();
  }
}

/**
 * SiFive PLIC (QEMU virt 0x0c00_0000, 95 sources; RISC-V PLIC spec 1.0.0), as
 * assembly/devices/plic.ts: context 0 is the hart's M-mode (no one listens: the guest has
 * none), context 1 its S-mode, whose output is the vCPU's external interrupt (KVM_IRQ_LINE).
 */
class Plic implements BusDevice {
  static readonly SOURCES = 96;
  private readonly priority = new Uint32Array(Plic.SOURCES);
  private readonly level = new Uint32Array(3);
  private readonly claimed = new Uint32Array(3);
  private readonly enable = new Uint32Array(6);
  private readonly threshold = new Uint32Array(2);
  private out = false;
  claims = 0;
  constructor(private readonly line: (level: boolean) => void) {}
  setLevel(src: number, high: boolean): void {
    if (src <= 0 || src >= Plic.SOURCES) return;
    const w = src >> 5, bit = 1 << (src & 31);
    const old = this.level[w];
    this.level[w] = high ? old | bit : old & ~bit;
    if (old !== this.level[w]) this.update();
  }
  private pendingWord(w: number): number {
    return (this.level[w] & ~this.claimed[w]) & (w === 0 ? 0xffff_fffe : 0xffff_ffff);
  }
  private best(ctx: number): number {
    let id = 0, prio = this.threshold[ctx];
    for (let w = 0; w < 3; w++) {
      let bits = (this.pendingWord(w) & this.enable[ctx * 3 + w]) >>> 0;
      while (bits) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const src = (w << 5) + b;
        if (this.priority[src] > prio) { prio = this.priority[src]; id = src; }
      }
    }
    return id;
  }
  private update(): void {
    const level = this.best(1) !== 0;
    if (level !== this.out) {
      this.out = level;
      this.line(level);
    }
  }
  read(off: number): bigint {
    if (off < 0x1000) return BigInt(off >> 2 < Plic.SOURCES ? this.priority[off >> 2] : 0);
    if (off < 0x2000) { const w = (off - 0x1000) >> 2; return BigInt(w < 3 ? this.pendingWord(w) >>> 0 : 0); }
    if (off < 0x20_0000) {
      const ctx = Math.floor((off - 0x2000) / 0x80), w = ((off - 0x2000) % 0x80) >> 2;
      return BigInt(ctx < 2 && w < 3 ? this.enable[ctx * 3 + w] : 0);
    }
    const ctx = Math.floor((off - 0x20_0000) / 0x1000), reg = (off - 0x20_0000) % 0x1000;
    if (ctx >= 2) return 0n;
    if (reg === 0) return BigInt(this.threshold[ctx]);
    if (reg === 4) {
      const id = this.best(ctx);
      if (id) { this.claimed[id >> 5] |= 1 << (id & 31); this.claims++; this.update(); }
      return BigInt(id);
    }
    return 0n;
  }
  write(off: number, _size: number, value: bigint): void {
    const v = Number(value & 0xffff_ffffn);
    if (off < 0x1000) {
      if (off >> 2 < Plic.SOURCES && off >= 4) this.priority[off >> 2] = v & 7;
    } else if (off < 0x2000) {
      // pending bits are read-only
    } else if (off < 0x20_0000) {
      const ctx = Math.floor((off - 0x2000) / 0x80), w = ((off - 0x2000) % 0x80) >> 2;
      if (ctx < 2 && w < 3) this.enable[ctx * 3 + w] = w === 0 ? v & ~1 : v;
    } else {
      const ctx = Math.floor((off - 0x20_0000) / 0x1000), reg = (off - 0x20_0000) % 0x1000;
      if (ctx >= 2) return;
      if (reg === 0) this.threshold[ctx] = v & 7;
      else if (reg === 4 && v < Plic.SOURCES && (this.enable[ctx * 3 + (v >> 5)] & (1 << (v & 31))) !== 0) this.claimed[v >> 5] &= ~(1 << (v & 31));
    }
    this.update();
  }
}

/** Goldfish RTC (QEMU virt 0x0010_1000): ns since the epoch; reading TIME_LOW latches TIME_HIGH. No alarm. */
class GoldfishRtc implements BusDevice {
  private high = 0n;
  constructor(private readonly now: () => bigint) {}
  read(off: number): bigint {
    if (off === 0) { const t = this.now(); this.high = t >> 32n; return t & 0xffff_ffffn; }
    if (off === 4) return this.high;
    return 0n;
  }
  write(): void {}
}

/** sifive_test (QEMU virt 0x0010_0000): 0x5555 power off, 0x3333 | code << 16 fail, 0x7777 reset. */
class SifiveTest implements BusDevice {
  constructor(private readonly event: (what: 'poweroff' | 'fail' | 'reset', status: number) => void) {}
  read(): bigint { return 0n; }
  write(off: number, _size: number, v: bigint): void {
    if (off !== 0) return;
    const code = Number(v & 0xffffn), status = Number((v >> 16n) & 0xffffn);
    if (code === 0x5555) this.event('poweroff', status);
    else if (code === 0x3333) this.event('fail', status || 1);
    else if (code === 0x7777) this.event('reset', 0);
  }
}

/** A virtio-mmio transport on the bus: loads read its register window, stores go to write(). */
class VirtioSlot implements BusDevice {
  constructor(readonly regs: DataView, readonly t: VirtioMmio) {}
  read(off: number, size: number): bigint {
    if (off + size > this.regs.byteLength) return 0n;
    switch (size) {
      case 1: return BigInt(this.regs.getUint8(off));
      case 2: return BigInt(this.regs.getUint16(off, true));
      case 4: return BigInt(this.regs.getUint32(off, true));
      default: return this.regs.getBigUint64(off, true);
    }
  }
  write(off: number, size: number, v: bigint): void {
    if (size === 8) {
      this.t.write(off, 4, Number(v & 0xffff_ffffn));
      this.t.write(off + 4, 4, Number(v >> 32n));
    } else this.t.write(off, size, Number(v & ((1n << BigInt(size * 8)) - 1n)));
  }
}

// ---- the VMM

export interface VmmDrive {
  /** a disk image file (Node) */
  file?: string;
  data?: Uint8Array;
  readOnly?: boolean;
  snapshot?: boolean;
}

export interface VmmOptions {
  /** guest RAM in bytes, a multiple of 2 MiB */
  memory: bigint;
  kernel: Uint8Array;
  initrd?: Uint8Array;
  append?: string;
  /** riscv,isa of the guest's hart (default: rv64 without h: no nested virtualization) */
  isa?: string;
  drives?: VmmDrive[];
  rng?: boolean;
  net?: boolean;
  virtioConsole?: boolean;
  idle?: 'sleep' | 'skip';
  jit?: boolean;
  maxInstructions?: bigint;
  rtcEpochMs?: number;
  onConsole?: (b: Uint8Array) => void;
}

export type VmmStopReason = 'poweroff' | 'reset' | 'fail' | 'limit' | 'idle' | 'stopped' | 'error';

export interface KvmDeviceStats { slot: number; address: string; device: string; notifies: number; interrupts: number; requests: number; errors: number }

export type VmmStats = CoreStats & {
  seconds: number;
  /** exits to userspace by kvm.h name */
  kvmExits: Record<string, number>;
  /** KVM_EXIT_MMIO by device */
  mmioByDevice: Record<string, number>;
  devices: KvmDeviceStats[];
};

export interface VmmResult {
  reason: VmmStopReason;
  status: number;
  message?: string;
  stats: VmmStats;
}

/** The guest's hart: rv64 without h (no nested virtualization). */
const ISA_NO_H = parseCpu('rv64,h=off').isa;

export class Vmm {
  private readonly bus: { base: bigint; size: bigint; name: string; dev: BusDevice }[] = [];
  private readonly uart: Uart16550;
  private readonly plic: Plic;
  private readonly transports: (VirtioMmio | undefined)[] = [];
  private readonly deviceNames: string[] = [];
  private virtioConsole?: ConsoleDevice;
  private readonly exits: Record<string, number> = {};
  private readonly mmioByDevice: Record<string, number> = {};
  private result?: { reason: VmmStopReason; status: number; message?: string };
  private request?: 'stop';
  private inputEnded = false;
  private readonly events = new EventWait();
  private seconds = 0;
  private readonly out: (b: Uint8Array) => void;
  private outBuf: number[] = [];

  private constructor(private readonly vm: Vm, private readonly vcpu: Vcpu, private readonly k: KvmKernel, private readonly opts: VmmOptions) {
    this.out = opts.onConsole ?? (() => {});
    this.plic = new Plic((level) => k.irqLine(level));
    this.uart = new Uart16550((b) => this.outBuf.push(b), (l) => this.plic.setLevel(VIRT.uart0.irq, l));
    const epochNs = BigInt(Math.round(opts.rtcEpochMs ?? Date.now())) * 1_000_000n;
    const timeReg = KVM_REG_RISCV_TIMER_REG('time');
    this.map(VIRT.uart0, this.uart);
    this.map(VIRT.plic, this.plic);
    this.map(VIRT.rtc, new GoldfishRtc(() => epochNs + k.getOneReg(timeReg) * 100n));
    this.map(VIRT.test, new SifiveTest((what, status) => this.finish(what, status)));
  }

  private map(r: { name: string; base: bigint; size: bigint }, dev: BusDevice): void {
    this.bus.push({ base: r.base, size: r.size, name: r.name, dev });
  }

  /** Create the VM (its worker-less inline kernel: this VMM is the VM's process), load the guest. */
  static async create(opts: VmmOptions): Promise<Vmm> {
    const memory = opts.memory;
    if (memory < 16n * MiB || memory % (2n * MiB) !== 0n) throw new LoadError(`kvm: guest memory must be a multiple of 2 MiB and at least 16 MiB, not ${memory} bytes`);
    const kvm = await Kvm.open({ transport: 'inline' });
    const vm = await kvm.createVm({ memory, jit: opts.jit });
    // one slot: guest RAM at 0x8000_0000 backed by all of userspace memory
    await vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: memory, userspaceAddr: 0n });
    const vcpu = await vm.createVcpu(0);
    const vmm = new Vmm(vm, vcpu, vm.kernel!, opts);
    vmm.attachVirtio();
    await vmm.load();
    return vmm;
  }

  private attachVirtio(): void {
    const k = this.k;
    const ramBase = k.core.constant('RAM_BASE');
    const mem: GuestMemory = {
      locate: (pa, len) => {
        if (len < 0) return -1;
        const u = k.translate(pa, len);
        return u === undefined ? -1 : ramBase + Number(u);
      },
      bytes: () => new Uint8Array(k.core.ex.memory.buffer),
      written: (pa, len) => {
        const u = k.translate(pa, len);
        if (u !== undefined) k.core.ex.invalidateCodeRange(k.core.ramBase + u, BigInt(len));
      },
    };
    const devices: [string, VirtioDevice][] = [];
    for (const [i, d] of (this.opts.drives ?? []).entries()) {
      let backend: BlockBackend;
      if (d.data) backend = new MemoryBackend(d.data, { readOnly: d.readOnly });
      else if (d.file) backend = this.openFile(d.file, !!(d.readOnly || d.snapshot));
      else throw new LoadError(`drive ${i}: give a file or data`);
      if (d.snapshot) backend = new OverlayBackend(backend);
      devices.push(['virtio-blk', new BlockDevice(backend, { readOnly: d.readOnly ?? backend.readOnly })]);
    }
    if (this.opts.net) devices.push(['virtio-net', new NetDevice({})]);
    if (this.opts.rng) devices.push(['virtio-rng', new RngDevice({})]);
    if (this.opts.virtioConsole) {
      this.virtioConsole = new ConsoleDevice({ onOutput: (b) => this.out(b) });
      devices.push(['virtio-console', this.virtioConsole]);
    }
    const slots = VIRT.virtio.count;
    if (devices.length > slots) throw new LoadError(`${devices.length} virtio devices, but the board has ${slots} virtio-mmio slots`);
    for (let slot = 0; slot < slots; slot++) {
      const base = VIRT.virtio.base + BigInt(slot) * VIRT.virtio.size;
      const regs = new DataView(new ArrayBuffer(Number(VIRT.virtio.size)));
      const entry = devices[slots - 1 - slot];
      const t = new VirtioMmio(regs, mem, (level) => this.plic.setLevel(VIRT.virtio.irq + slot, level), entry?.[1] ?? null);
      t.onActivity = () => this.wake();
      this.transports[slot] = t;
      this.deviceNames[slot] = entry?.[0] ?? '';
      this.map({ name: entry ? entry[0] : 'virtio_mmio', base, size: VIRT.virtio.size }, new VirtioSlot(regs, t));
    }
  }

  private fileOpener?: (path: string, readOnly: boolean) => BlockBackend;
  /** Set by the worker (Node's file backend is loaded lazily, it needs node:fs). */
  static openFile?: (path: string, readOnly: boolean) => BlockBackend;
  private openFile(path: string, readOnly: boolean): BlockBackend {
    const open = this.fileOpener ?? Vmm.openFile;
    if (!open) throw new LoadError(`drive ${path}: no file access here (give the image's bytes)`);
    return open(path, readOnly);
  }

  /** Kernel, initrd and device tree into guest RAM (through userspace memory); registers as the boot protocol wants. */
  private async load(): Promise<void> {
    const o = this.opts, memory = o.memory, ramEnd = RAM + memory;
    const kernel = o.kernel;
    if (!kernel?.length) throw new LoadError('kernel: empty image');
    rejectCompressed(kernel);
    const write = (gpa: bigint, b: Uint8Array) => this.k.writeUser(gpa - RAM, b);
    // an ELF (its segments at their physical addresses, entry from the header), a Linux Image
    // at its text_offset, or raw bytes 2 MiB into RAM
    let start: bigint, kEnd: bigint, entry: bigint;
    if (isElf(kernel)) {
      const elf = parseElf(kernel, 'kernel');
      start = ramEnd;
      kEnd = RAM;
      for (const s of elf.segments) {
        if (s.paddr < RAM || s.paddr + s.memsz > ramEnd)
          throw new LoadError(`kernel: segment at 0x${s.paddr.toString(16)} (+0x${s.memsz.toString(16)}) is outside guest RAM 0x${RAM.toString(16)}..0x${ramEnd.toString(16)}`);
        if (s.paddr < start) start = s.paddr;
        if (s.paddr + s.memsz > kEnd) kEnd = s.paddr + s.memsz;
      }
      for (const s of elf.segments) {
        write(s.paddr, s.data);
        const bss = Number(s.memsz) - s.data.length;
        if (bss > 0) write(s.paddr + BigInt(s.data.length), new Uint8Array(bss));
      }
      entry = elf.entry;
    } else {
      start = RAM + (isLinuxImage(kernel) ? parseLinuxImage(kernel).textOffset : 2n * MiB);
      kEnd = start + BigInt(kernel.length);
      entry = start;
    }
    const cfg = (initrd?: { start: bigint; end: bigint }) => buildDeviceTree({ memoryBytes: memory, isa: o.isa ?? ISA_NO_H, bootargs: o.append, initrd });
    let dtb = cfg(o.initrd ? { start: RAM, end: RAM } : undefined);
    const dtbStart = (ramEnd - BigInt(dtb.length)) / (2n * MiB) * (2n * MiB);
    let initrdStart = dtbStart;
    if (o.initrd) {
      initrdStart = (dtbStart - BigInt(o.initrd.length)) / 4096n * 4096n;
      dtb = cfg({ start: initrdStart, end: initrdStart + BigInt(o.initrd.length) });
    }
    if (initrdStart < kEnd) throw new LoadError(`kernel${o.initrd ? ' + initrd' : ''} + device tree do not fit in ${memory / MiB} MiB of guest RAM (give the machine more memory: -m)`);
    if (!isElf(kernel)) write(start, kernel);
    if (o.initrd) write(initrdStart, o.initrd);
    write(dtbStart, dtb);
    // the Linux boot protocol: a0 = hartid, a1 = the device tree, in S-mode (VS for the host)
    await this.vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('pc'), entry);
    await this.vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('a0'), 0n);
    await this.vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('a1'), dtbStart);
    await this.vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('mode'), 1n);
  }

  /** Type into the guest's console (the UART, and hvc0 with a virtio console). */
  sendConsole(b: Uint8Array): void {
    this.uart.input(b);
    this.virtioConsole?.input(b);
    this.wake();
  }
  endInput(): void {
    this.inputEnded = true;
    this.wake();
  }
  stop(): void {
    this.request = 'stop';
    this.wake();
  }
  private wake(): void {
    this.events.wake();
  }

  private finish(reason: VmmStopReason, status = 0, message?: string): void {
    this.result ??= { reason, status, message };
  }

  private flushConsole(): void {
    if (this.outBuf.length) {
      this.out(new Uint8Array(this.outBuf));
      this.outBuf = [];
    }
  }

  stats(): VmmStats {
    const s = this.k.stats() as VmmStats;
    s.seconds = this.seconds;
    s.kvmExits = { ...this.exits };
    s.mmioByDevice = { ...this.mmioByDevice };
    s.devices = [];
    this.transports.forEach((t, slot) => {
      if (!t || !this.deviceNames[slot]) return;
      s.devices.push({ slot, address: hex(VIRT.virtio.base + BigInt(slot) * VIRT.virtio.size), device: this.deviceNames[slot], ...t.stats });
    });
    return s;
  }

  private mmio(e: Extract<KvmExit, { exit_reason: 6 }>['mmio']): void {
    const d = this.bus.find((b) => e.phys_addr >= b.base && e.phys_addr - b.base < b.size);
    const name = d?.name ?? 'unassigned';
    this.mmioByDevice[name] = (this.mmioByDevice[name] ?? 0) + 1;
    const dv = new DataView(e.data.buffer, e.data.byteOffset, 8);
    if (!d) {
      // nothing there: reads as zero, writes are ignored (as QEMU's unassigned accesses)
      if (!e.is_write) dv.setBigUint64(0, 0n, true);
      return;
    }
    const off = Number(e.phys_addr - d.base);
    if (e.is_write) d.dev.write(off, e.len, dv.getBigUint64(0, true) & (e.len === 8 ? 0xffff_ffff_ffff_ffffn : (1n << BigInt(e.len * 8)) - 1n));
    else dv.setBigUint64(0, BigInt.asUintN(64, d.dev.read(off, e.len)), true);
  }

  /** The SBI calls KVM forwards to userspace: the legacy console and DBCN (SBI spec 5, 12). */
  private sbi(s: Extract<KvmExit, { exit_reason: 35 }>['riscv_sbi']): void {
    const eid = s.extension_id, fid = s.function_id;
    const ok = (v: bigint) => { s.ret[0] = 0n; s.ret[1] = v; };
    if (eid === 1n) { this.outBuf.push(Number(s.args[0] & 0xffn)); s.ret[0] = 0n; return; }
    if (eid === 2n) { const b = this.uart.rx.shift(); s.ret[0] = b === undefined ? BigInt.asUintN(64, -1n) : BigInt(b); return; }
    if (eid === 0x4442434en) {
      if (fid === 2n) { this.outBuf.push(Number(s.args[0] & 0xffn)); ok(0n); return; }
      if (fid === 0n || fid === 1n) {
        const n = Number(s.args[0]), gpa = s.args[1] | (s.args[2] << 32n);
        const u = n === 0 ? 0n : this.k.translate(gpa, n);
        if (u === undefined) { s.ret[0] = BigInt.asUintN(64, -3n); return; }
        if (fid === 0n) { for (const b of this.k.userMemory(u, n)) this.outBuf.push(b); ok(BigInt(n)); return; }
        const got = this.uart.rx.splice(0, n);
        this.k.writeUser(u, new Uint8Array(got));
        ok(BigInt(got.length));
        return;
      }
    }
    s.ret[0] = BigInt.asUintN(64, -2n); // SBI_ERR_NOT_SUPPORTED
  }

  /** The vCPU loop: run, handle the exit, until the guest powers off, fails, or stop(). */
  async run(): Promise<VmmResult> {
    const budget = 10_000_000n;
    let since = performance.now();
    const account = (executing: boolean) => {
      const now = performance.now();
      if (since >= 0) this.seconds += (now - since) / 1000;
      since = executing ? now : -1;
    };
    try {
      while (!this.result) {
        if (this.request) { this.finish('stopped'); break; }
        let b = budget;
        if (this.opts.maxInstructions !== undefined) {
          const left = this.opts.maxInstructions - this.k.stats().instret;
          if (left <= 0n) { this.finish('limit'); break; }
          if (left < b) b = left;
        }
        const exit = await this.vcpu.run({ budget: b });
        const name = exitName(exit);
        this.exits[name] = (this.exits[name] ?? 0) + 1;
        switch (exit.exit_reason) {
          case KVM_EXIT_MMIO: this.mmio(exit.mmio); break;
          case KVM_EXIT_RISCV_SBI: this.sbi(exit.riscv_sbi); break;
          case KVM_EXIT_SYSTEM_EVENT:
            if (exit.system_event.type === KVM_SYSTEM_EVENT_SHUTDOWN) this.finish('poweroff', exit.system_event.data[0] ? 1 : 0);
            else this.finish('reset');
            break;
          case KVM_EXIT_INTERNAL_ERROR: {
            const [cause, pc, tval, gpa] = exit.internal.data;
            this.finish('error', 1, `KVM_EXIT_INTERNAL_ERROR (suberror ${exit.internal.suberror}): the kernel could not handle the guest's trap (cause ${cause === undefined ? '?' : hex(cause)}, pc ${pc === undefined ? '?' : hex(pc)}, tval ${tval === undefined ? '?' : hex(tval)}, guest physical ${gpa === undefined ? '?' : hex(gpa)})`);
            break;
          }
          case KVM_EXIT_INTR:
            this.flushConsole();
            await yieldToHost();
            break;
          case KVM_EXIT_HLT: {
            this.flushConsole();
            const ticks = exit.hlt.timer_ticks ?? undefined;
            const io = this.transports.some((t) => t && t.pending() > 0);
            if (ticks === undefined && !io && this.inputEnded && !this.uart.rx.length) { this.finish('idle'); break; }
            if (this.opts.idle === 'skip' && ticks !== undefined && !io) {
              await this.vcpu.advanceTime(ticks);
              break;
            }
            account(false);
            const start = performance.now();
            const timedOut = await this.events.wait(ticks === undefined ? undefined : Number(ticks) / 10_000);
            if (ticks !== undefined) {
              const waited = BigInt(Math.floor((performance.now() - start) * 10_000));
              await this.vcpu.advanceTime(timedOut || waited > ticks ? ticks : waited);
            }
            account(true);
            break;
          }
        }
      }
    } catch (e) {
      this.finish('error', 1, `the VMM failed: ${(e as Error).message}`);
    } finally {
      account(false);
      this.flushConsole();
    }
    const r = this.result!;
    return { ...r, stats: this.stats() };
  }

  /** The VM (for tests and tools). */
  get vmFd(): Vm {
    return this.vm;
  }
}

// ---- a VM's worker running this VMM (src/kvm/machine.ts starts it)

export interface VmmWorkerConfig extends Omit<VmmOptions, 'onConsole'> {}

export type VmmWorkerMessage =
  | { type: 'console'; bytes: Uint8Array }
  | { type: 'ready' }
  | { type: 'result'; result: VmmResult }
  | { type: 'error'; message: string };

export async function runVmmInWorker(port: NodeMessagePort | { postMessage(m: unknown): void; on(ev: 'message', fn: (m: { op: string; args: unknown[] }) => void): void }, cfg: VmmWorkerConfig): Promise<void> {
  const post = (m: VmmWorkerMessage) => port.postMessage(m);
  try {
    if (!Vmm.openFile) {
      try {
        const { openFileBackend } = await import('../devices/virtio/block-file.js');
        Vmm.openFile = (path, readOnly) => openFileBackend(path, { readOnly });
      } catch { /* not in Node */ }
    }
    const vmm = await Vmm.create({ ...cfg, onConsole: (bytes) => post({ type: 'console', bytes }) });
    (port as { on(ev: 'message', fn: (m: { op: string; args: unknown[] }) => void): void }).on('message', (m) => {
      if (m.op === 'console') vmm.sendConsole(m.args[0] as Uint8Array);
      else if (m.op === 'endInput') vmm.endInput();
      else if (m.op === 'stop') vmm.stop();
    });
    post({ type: 'ready' });
    post({ type: 'result', result: await vmm.run() });
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}
