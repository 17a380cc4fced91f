// The kernel side of one VM, in the thread that owns its Core: the "ioctls" of /dev/kvm's VM
// and vCPU file descriptors, over the core's in-kernel KVM (assembly/vmm/kvm.ts). The public
// classes (kvm.ts) call it directly (inline) or through a worker's messages (worker.ts).
import { Core, Exit, type CoreStats } from '../core.js';
import {
  KvmError, ERRNO, KVM_EXIT_MMIO, KVM_EXIT_RISCV_SBI, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_HLT,
  KVM_EXIT_INTR, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, type KvmExit,
} from './uapi.js';

const MiB = 1n << 20n;

export interface MemoryRegion {
  slot: number;
  flags?: number;
  guestPhysAddr: bigint;
  memorySize: bigint;
  /** offset in the VM's userspace memory (vm.userMemory) */
  userspaceAddr: bigint;
}

/** What userspace answers to the last exit, sent with the next run. */
export interface ExitResponse {
  mmioData?: Uint8Array;
  sbiRet?: [bigint, bigint];
}

export interface RunOptions {
  /** instructions to run at most before KVM_EXIT_INTR (default 20 million) */
  budget?: bigint;
  /** kvm_run.immediate_exit: complete the last exit, then return KVM_EXIT_INTR at once */
  immediateExit?: boolean;
}

export interface VmOptions {
  /** bytes of userspace memory (the VM process's memory that slots map), a multiple of 2 MiB (default 64 MiB) */
  memory?: bigint | number;
  /** compile hot guest code to Wasm (default true) */
  jit?: boolean;
}

const errno = (r: number, what: string) => {
  if (r >= 0) return;
  const code = ERRNO[-r] ?? `E${-r}`;
  throw new KvmError(code, what);
};

/** Now as epoch milliseconds from this thread's high-resolution clock (comparable across threads). */
export function hostNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The thread this code runs in: Node's worker_threads threadId (0: the main thread); undefined elsewhere (a browser). */
export async function hostThreadId(): Promise<number | undefined> {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const { threadId } = await import('node:worker_threads');
  return threadId;
}

/** When a KVM_RUN ran, by the clock of the thread that ran it (hostNow()). */
export interface RunTiming {
  start: number;
  end: number;
}

/** Bytes the in-kernel part keeps above userspace memory for G-stage tables. */
export function kernelBytes(user: bigint): bigint {
  // 4 KiB leaves everywhere: 8 bytes per page, plus upper levels and the root; a 2 MiB margin
  return ((user / 512n + 2n * MiB + MiB - 1n) / MiB) * MiB;
}

export class KvmKernel {
  readonly core: Core;
  readonly userBytes: bigint;
  private vcpuCreated = false;
  private run_: number;
  private response: ExitResponse = {};
  private readonly slots = new Map<number, { gpa: bigint; size: bigint; uaddr: bigint; flags: number }>();

  private constructor(core: Core, userBytes: bigint) {
    this.core = core;
    this.userBytes = userBytes;
    this.run_ = core.constant('KVM_RUN');
  }

  /** KVM_CREATE_VM with `memory` bytes of userspace memory. */
  static async createVm(opts: VmOptions = {}): Promise<KvmKernel> {
    const user = BigInt(opts.memory ?? 64n * MiB);
    if (user <= 0n || user % (2n * MiB) !== 0n) throw new KvmError('EINVAL', `userspace memory of ${user} bytes: it must be a positive multiple of 2 MiB`);
    const core = await Core.create(user + kernelBytes(user));
    core.setHypervisorExtension(true);
    core.reset(core.ramBase);
    if (opts.jit !== false) core.enableJit({});
    core.ex.setIdleSkip(0);
    errno((core.ex.kvmCreate as (b: bigint) => number)(user), 'KVM_CREATE_VM');
    return new KvmKernel(core, user);
  }

  private get ex(): Record<string, (...a: never[]) => unknown> {
    return this.core.ex as unknown as Record<string, (...a: never[]) => unknown>;
  }
  private kvmError(): number {
    return (this.core.ex.kvmError as WebAssembly.Global).value as number;
  }

  setUserMemoryRegion(r: MemoryRegion): void {
    const what = `KVM_SET_USER_MEMORY_REGION slot ${r.slot} (guest 0x${BigInt(r.guestPhysAddr).toString(16)}+0x${BigInt(r.memorySize).toString(16)} at userspace 0x${BigInt(r.userspaceAddr ?? 0n).toString(16)})`;
    if (!Number.isInteger(r.slot) || r.slot < 0) throw new KvmError('EINVAL', `${what}: bad slot`);
    const gpa = BigInt(r.guestPhysAddr), size = BigInt(r.memorySize), uaddr = BigInt(r.userspaceAddr ?? 0n);
    if (gpa < 0n || size < 0n || uaddr < 0n || gpa >= 1n << 64n || size >= 1n << 64n || uaddr >= 1n << 64n)
      throw new KvmError('EINVAL', `${what}: out of range`);
    const fn = this.core.ex.kvmSetUserMemoryRegion as (s: number, f: number, g: bigint, z: bigint, u: bigint) => number;
    const r0 = fn(r.slot, r.flags ?? 0, gpa, size, uaddr);
    const reasons: Record<number, string> = {
      [-22]: 'slot >= 32, unknown flags, addresses or size not 4 KiB aligned, beyond the 41-bit guest physical space, or a size change of an existing slot',
      [-14]: `the userspace range is outside the VM's ${this.userBytes} bytes of userspace memory`,
      [-17]: 'it overlaps another slot',
      [-12]: 'the kernel ran out of G-stage table memory',
    };
    if (r0 < 0) errno(r0, `${what}: ${reasons[r0] ?? 'refused'}`);
    if (size === 0n) this.slots.delete(r.slot);
    else this.slots.set(r.slot, { gpa, size, uaddr, flags: r.flags ?? 0 });
  }

  /** KVM_GET_DIRTY_LOG: a bit per 4 KiB page of the slot, written since the last call. */
  getDirtyLog(slot: number): Uint8Array {
    const s = this.slots.get(slot);
    if (!s) throw new KvmError('ENOENT', `KVM_GET_DIRTY_LOG: no slot ${slot}`);
    if (!(s.flags & 1)) throw new KvmError('ENOENT', `KVM_GET_DIRTY_LOG: slot ${slot} was not created with KVM_MEM_LOG_DIRTY_PAGES`);
    const pages = Number(s.size / 4096n);
    const words = Math.ceil(pages / 64);
    const out = new BigUint64Array(words);
    const fn = this.core.ex.kvmDirtyWord as (s: number, w: number) => bigint;
    for (let w = 0; w < words; w++) out[w] = BigInt.asUintN(64, fn(slot, w));
    return new Uint8Array(out.buffer, 0, Math.ceil(pages / 8));
  }

  createVcpu(id: number): void {
    if (id !== 0) throw new KvmError('EINVAL', `KVM_CREATE_VCPU ${id}: this VM has one vCPU, id 0 (KVM_CAP_MAX_VCPUS = 1)`);
    if (this.vcpuCreated) throw new KvmError('EEXIST', 'KVM_CREATE_VCPU 0: it exists already');
    this.vcpuCreated = true;
  }

  private needVcpu(what: string): void {
    if (!this.vcpuCreated) throw new KvmError('EBADF', `${what}: no vCPU (createVcpu(0) first)`);
  }

  getOneReg(id: bigint): bigint {
    this.needVcpu('KVM_GET_ONE_REG');
    const v = (this.core.ex.kvmGetOneReg as (id: bigint) => bigint)(BigInt.asUintN(64, id));
    errno(this.kvmError(), `KVM_GET_ONE_REG 0x${id.toString(16)}: no such register`);
    return BigInt.asUintN(64, v);
  }

  setOneReg(id: bigint, value: bigint): void {
    this.needVcpu('KVM_SET_ONE_REG');
    const r = (this.core.ex.kvmSetOneReg as (id: bigint, v: bigint) => number)(BigInt.asUintN(64, id), BigInt.asUintN(64, value));
    errno(r, `KVM_SET_ONE_REG 0x${id.toString(16)}: ${r === -2 ? 'no such register' : r === -16 ? 'read-only register' : 'bad value'}`);
  }

  /** KVM_IRQ_LINE / KVM_INTERRUPT: the guest's external interrupt line. */
  irqLine(level: boolean): void {
    (this.core.ex.kvmIrqLine as (l: number) => void)(level ? 1 : 0);
  }

  /** Userspace memory [uaddr, uaddr+len), the VMM's own (as its mmap). */
  userMemory(uaddr: bigint = 0n, len?: number): Uint8Array {
    const n = len ?? Number(this.userBytes - uaddr);
    if (uaddr < 0n || n < 0 || uaddr + BigInt(n) > this.userBytes)
      throw new KvmError('EFAULT', `userspace range 0x${uaddr.toString(16)}+${n} is outside the VM's ${this.userBytes} bytes`);
    return this.core.ram(this.core.ramBase + uaddr, n);
  }

  readUser(uaddr: bigint, len: number): Uint8Array {
    return this.userMemory(uaddr, len).slice();
  }

  writeUser(uaddr: bigint, data: Uint8Array): void {
    this.userMemory(uaddr, data.length).set(data);
    this.core.ex.invalidateCodeRange(this.core.ramBase + uaddr, BigInt(data.length));
  }

  /** The userspace address backing guest physical [gpa, gpa+len), or undefined (not in one slot). */
  translate(gpa: bigint, len: number): bigint | undefined {
    for (const s of this.slots.values())
      if (gpa >= s.gpa && gpa + BigInt(len) <= s.gpa + s.size) return s.uaddr + (gpa - s.gpa);
    return undefined;
  }

  /** Remember userspace's answer to the last exit (the next run completes it). */
  respond(r: ExitResponse): void {
    this.response = r;
  }

  /** KVM_RUN. */
  run(opts: RunOptions = {}): KvmExit {
    this.needVcpu('KVM_RUN');
    const core = this.core;
    const mem = new DataView(core.ex.memory.buffer, this.run_, 0x1000);
    // userspace's answer into kvm_run (mmio.data at 40, riscv_sbi.ret at 96)
    if (this.response.mmioData) new Uint8Array(core.ex.memory.buffer, this.run_ + 40, 8).set(this.response.mmioData.subarray(0, 8));
    if (this.response.sbiRet) {
      mem.setBigUint64(96, BigInt.asUintN(64, this.response.sbiRet[0]), true);
      mem.setBigUint64(104, BigInt.asUintN(64, this.response.sbiRet[1]), true);
    }
    this.response = {};
    (core.ex.kvmEnter as () => void)();
    if (opts.immediateExit) return { exit_reason: KVM_EXIT_INTR };
    const exit = core.run(opts.budget ?? 20_000_000n);
    const m = new DataView(core.ex.memory.buffer, this.run_, 0x1000);
    const u64 = (o: number) => m.getBigUint64(o, true);
    if (exit === Exit.Budget) return { exit_reason: KVM_EXIT_INTR };
    if (exit !== core.constant('EXIT_KVM'))
      return { exit_reason: KVM_EXIT_INTERNAL_ERROR, internal: { suberror: KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, ndata: 2, data: [BigInt(exit), core.pc] } };
    const reason = m.getUint32(8, true);
    switch (reason) {
      case KVM_EXIT_MMIO:
        return {
          exit_reason: KVM_EXIT_MMIO,
          mmio: { phys_addr: u64(32), data: new Uint8Array(core.ex.memory.buffer.slice(this.run_ + 40, this.run_ + 48)), len: m.getUint32(48, true), is_write: m.getUint8(52) !== 0 },
        };
      case KVM_EXIT_RISCV_SBI:
        return {
          exit_reason: KVM_EXIT_RISCV_SBI,
          riscv_sbi: { extension_id: u64(32), function_id: u64(40), args: [0, 1, 2, 3, 4, 5].map((i) => u64(48 + i * 8)), ret: [u64(96), u64(104)] },
        };
      case KVM_EXIT_SYSTEM_EVENT: case KVM_EXIT_INTERNAL_ERROR: {
        const ndata = m.getUint32(36, true);
        const body = { type: m.getUint32(32, true), ndata, data: Array.from({ length: ndata }, (_, i) => u64(40 + i * 8)) };
        return reason === KVM_EXIT_SYSTEM_EVENT
          ? { exit_reason: KVM_EXIT_SYSTEM_EVENT, system_event: body }
          : { exit_reason: KVM_EXIT_INTERNAL_ERROR, internal: { suberror: body.type, ndata, data: body.data } };
      }
      case KVM_EXIT_HLT:
        return { exit_reason: KVM_EXIT_HLT, hlt: { timer_ticks: core.ticksToNextTimer() ?? null } };
    }
    return { exit_reason: KVM_EXIT_INTERNAL_ERROR, internal: { suberror: KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, ndata: 1, data: [BigInt(reason)] } };
  }

  /** Let `ticks` of guest time pass (the vCPU was halted that long). */
  advanceTime(ticks: bigint): void {
    if (ticks > 0n) this.core.advanceTime(ticks);
  }

  ticksToNextTimer(): bigint | null {
    return this.core.ticksToNextTimer() ?? null;
  }

  stats(): CoreStats {
    return this.core.stats();
  }
}
