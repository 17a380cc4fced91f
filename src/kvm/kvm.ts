// A TypeScript API shaped like Linux's KVM API (docs/kvm.md): Kvm.open() is opening /dev/kvm,
// createVm() KVM_CREATE_VM, vm.createVcpu() KVM_CREATE_VCPU, vcpu.run() KVM_RUN returning the
// exit as kvm_run describes it, and so on. Each VM is its own "host process": by default a
// worker thread (a Web Worker in the browser would do the same) owning one core whose hart has
// the H extension; the calls are messages to it. `transport: 'inline'` keeps the core in the
// calling thread instead (what the userspace VMM inside a VM's worker uses: src/kvm/vmm.ts).
import {
  KvmError, KVM_API_VERSION, KVM_CAP, KVM_EXIT_MMIO, KVM_EXIT_RISCV_SBI, KVM_INTERRUPT_SET, KVM_INTERRUPT_UNSET,
  type KvmExit,
} from './uapi.js';
import { KvmKernel, hostNow, hostThreadId, type MemoryRegion, type RunOptions, type VmOptions, type ExitResponse, type RunTiming } from './kernel.js';
import type { CoreStats } from '../core.js';

export * from './uapi.js';
export type { MemoryRegion, RunOptions, VmOptions, RunTiming } from './kernel.js';

export interface KvmOptions {
  /** 'worker' (default): each VM in its own worker thread; 'inline': in this thread */
  transport?: 'worker' | 'inline';
}

/** How a Vm reaches its kernel: every call is asynchronous, as a message to a worker is. */
interface Channel {
  call<T>(op: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
  readonly kernel?: KvmKernel;
}

class InlineChannel implements Channel {
  constructor(readonly kernel: KvmKernel) {}
  async call<T>(op: string, ...args: unknown[]): Promise<T> {
    const k = this.kernel as unknown as Record<string, (...a: unknown[]) => T>;
    return k[op](...args);
  }
  async close(): Promise<void> {}
}

interface Reply { id: number; ok: boolean; value?: unknown; code?: string; message?: string }

/** The worker script (dist/kvm-worker.js), next to this bundle or built from the sources' tree. */
export async function kvmWorkerUrl(): Promise<URL> {
  const here = new URL('./kvm-worker.js', import.meta.url);
  if (here.protocol !== 'file:') return here;
  const { existsSync } = await import('node:fs');
  if (existsSync(here)) return here;
  const built = new URL('../../dist/kvm-worker.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`the KVM worker script is missing (${here.pathname}): run "npm run build:lib" first`);
}

/** A minimal port: Node's Worker or a Web Worker. */
interface Port {
  postMessage(m: unknown): void;
  terminate(): unknown;
  onMessage(fn: (m: unknown) => void): void;
  onError(fn: (e: Error) => void): void;
}

export async function spawnWorker(): Promise<Port> {
  const url = await kvmWorkerUrl();
  if (url.protocol === 'file:' && typeof process !== 'undefined' && process.versions?.node) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url);
    return {
      postMessage: (m) => w.postMessage(m),
      terminate: () => w.terminate(),
      onMessage: (fn) => w.on('message', fn),
      onError: (fn) => {
        w.on('error', fn);
        w.on('exit', (code) => fn(new Error(`the VM's worker exited (code ${code})`)));
      },
    };
  }
  const w = new Worker(url, { type: 'module' });
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => w.terminate(),
    onMessage: (fn) => w.addEventListener('message', (e) => fn((e as MessageEvent).data)),
    onError: (fn) => w.addEventListener('error', (e) => fn(new Error((e as ErrorEvent).message))),
  };
}

class WorkerChannel implements Channel {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead?: Error;
  private closed = false;

  constructor(private readonly port: Port) {
    port.onMessage((m) => {
      const r = m as Reply;
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else w.reject(r.code ? new KvmError(r.code, r.message ?? '') : new Error(r.message));
    });
    port.onError((e) => {
      if (this.closed) return;
      this.dead = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new KvmError('EBADF', `${op}: the VM is closed`));
    if (this.dead) return Promise.reject(new KvmError('EIO', `${op}: the VM's worker died: ${this.dead.message}`));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ id, op, args });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.port.terminate();
  }
}

/** /dev/kvm. */
export class Kvm {
  private constructor(private readonly opts: KvmOptions) {}

  /** open("/dev/kvm"): fails with ENODEV where no worker threads exist. */
  static async open(opts: KvmOptions = {}): Promise<Kvm> {
    if (opts.transport !== undefined && opts.transport !== 'worker' && opts.transport !== 'inline')
      throw new KvmError('EINVAL', `transport must be 'worker' or 'inline', not '${opts.transport}'`);
    return new Kvm(opts);
  }

  /** KVM_GET_API_VERSION */
  getApiVersion(): number {
    return KVM_API_VERSION;
  }

  /** KVM_CHECK_EXTENSION: 0 when unsupported, else a positive value (a count for NR_*). */
  checkExtension(cap: number): number {
    switch (cap) {
      case KVM_CAP.KVM_CAP_USER_MEMORY: case KVM_CAP.KVM_CAP_ONE_REG: case KVM_CAP.KVM_CAP_READONLY_MEM:
      case KVM_CAP.KVM_CAP_IMMEDIATE_EXIT: case KVM_CAP.KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
      case KVM_CAP.KVM_CAP_JOIN_MEMORY_REGIONS_WORKS: case KVM_CAP.KVM_CAP_SYNC_MMU:
        return 1;
      case KVM_CAP.KVM_CAP_NR_VCPUS: case KVM_CAP.KVM_CAP_MAX_VCPUS: return 1;
      case KVM_CAP.KVM_CAP_MAX_VCPU_ID: return 1;
      case KVM_CAP.KVM_CAP_NR_MEMSLOTS: return 32;
      default: return 0; // no in-kernel irqchip: the interrupt controller is userspace's
    }
  }

  /** KVM_GET_VCPU_MMAP_SIZE: the kvm_run structure's size. */
  getVcpuMmapSize(): number {
    return 4096;
  }

  /** KVM_CREATE_VM: a new VM with `memory` bytes of userspace memory for its slots. */
  async createVm(opts: VmOptions = {}): Promise<Vm> {
    let ch: Channel;
    let hostThread: number | undefined;
    if (this.opts.transport === 'inline') {
      ch = new InlineChannel(await KvmKernel.createVm(opts));
      hostThread = await hostThreadId();
    } else {
      const wc = new WorkerChannel(await spawnWorker());
      try {
        ({ hostThread } = await wc.call<{ hostThread?: number }>('createVm', { memory: opts.memory === undefined ? undefined : BigInt(opts.memory), jit: opts.jit }));
      } catch (e) {
        await wc.close();
        throw e;
      }
      ch = wc;
    }
    return new Vm(ch, hostThread);
  }
}

/** A VM file descriptor. */
export class Vm {
  private vcpu?: Vcpu;
  /**
   * wasmvisor's addition: the host thread that runs this VM's kernel and vCPU (its "process"),
   * as the VM reported it: Node's worker_threads `threadId` (0 is the main thread, so an
   * inline VM in the main thread reports 0); undefined where threads have no id (a browser).
   */
  readonly hostThread: number | undefined;
  /** @internal */
  constructor(private readonly ch: Channel, hostThread?: number) {
    this.hostThread = hostThread;
  }

  /** The in-thread kernel (transport 'inline' only): direct access for a userspace VMM in the same thread. */
  get kernel(): KvmKernel | undefined {
    return this.ch.kernel;
  }

  /** KVM_SET_USER_MEMORY_REGION (memorySize 0 deletes the slot). */
  setUserMemoryRegion(r: MemoryRegion): Promise<void> {
    return this.ch.call('setUserMemoryRegion', r);
  }

  /** KVM_CREATE_VCPU */
  async createVcpu(id: number): Promise<Vcpu> {
    await this.ch.call('createVcpu', id);
    this.vcpu = new Vcpu(this.ch);
    return this.vcpu;
  }

  /** KVM_IRQ_LINE: the guest's external interrupt (hvip.VSEIP), driven by userspace's PLIC. */
  irqLine(irq: number, level: boolean | number): Promise<void> {
    if (irq !== 0) return Promise.reject(new KvmError('EINVAL', `KVM_IRQ_LINE ${irq}: the only line is 0, the guest's external interrupt (there is no in-kernel irqchip)`));
    return this.ch.call('irqLine', !!level);
  }

  /** KVM_GET_DIRTY_LOG: a bit per 4 KiB page of the slot (bit i of byte j: page 8j+i), pages written since the last call. */
  getDirtyLog(slot: number): Promise<Uint8Array> {
    return this.ch.call('getDirtyLog', slot);
  }

  /** Read userspace memory (the VMM's mapping the slots point into). */
  readMemory(userspaceAddr: bigint, len: number): Promise<Uint8Array> {
    return this.ch.call('readUser', BigInt(userspaceAddr), len);
  }

  /** Write userspace memory (loading a guest, answering DMA). */
  writeMemory(userspaceAddr: bigint, data: Uint8Array): Promise<void> {
    return this.ch.call('writeUser', BigInt(userspaceAddr), data);
  }

  /** The kernel's counters (the core's: instructions, exits handled in the kernel, ...). */
  stats(): Promise<CoreStats> {
    return this.ch.call('stats');
  }

  /** close(vmfd): ends the VM's worker. */
  close(): Promise<void> {
    return this.ch.close();
  }
}

/** A vCPU file descriptor. */
export class Vcpu {
  private last?: KvmExit;
  /**
   * wasmvisor's addition: when the last KVM_RUN ran, measured by the thread that ran it
   * (`start`, `end`: epoch milliseconds, performance.timeOrigin + performance.now() there).
   */
  lastRun?: RunTiming;
  /** @internal */
  constructor(private readonly ch: Channel) {}

  /**
   * KVM_RUN: completes the last exit with what userspace wrote into it (an MMIO read's
   * mmio.data, an SBI call's riscv_sbi.ret), runs the guest, resolves with the next exit.
   */
  async run(opts: RunOptions = {}): Promise<KvmExit> {
    const response: ExitResponse = {};
    const l = this.last;
    if (l?.exit_reason === KVM_EXIT_MMIO && !l.mmio.is_write) response.mmioData = l.mmio.data;
    if (l?.exit_reason === KVM_EXIT_RISCV_SBI) response.sbiRet = [l.riscv_sbi.ret[0] ?? 0n, l.riscv_sbi.ret[1] ?? 0n];
    if (this.ch.kernel) {
      this.ch.kernel.respond(response);
      const start = hostNow();
      this.last = this.ch.kernel.run(opts);
      this.lastRun = { start, end: hostNow() };
    } else {
      const r = await this.ch.call<{ exit: KvmExit; timing: RunTiming }>('runVcpu', response, opts);
      this.last = r.exit;
      this.lastRun = r.timing;
    }
    return this.last;
  }

  /** KVM_GET_ONE_REG (ids: KVM_REG_RISCV_CORE_REG('pc'), KVM_REG_RISCV_CSR_REG('satp'), ...). */
  getOneReg(id: bigint): Promise<bigint> {
    return this.ch.call('getOneReg', id);
  }

  /** KVM_SET_ONE_REG */
  setOneReg(id: bigint, value: bigint | number): Promise<void> {
    return this.ch.call('setOneReg', id, BigInt(value));
  }

  /** KVM_INTERRUPT with KVM_INTERRUPT_SET / KVM_INTERRUPT_UNSET (RISC-V: the external interrupt). */
  interrupt(irq: number): Promise<void> {
    if (irq !== KVM_INTERRUPT_SET && irq !== KVM_INTERRUPT_UNSET) return Promise.reject(new KvmError('EINVAL', `KVM_INTERRUPT ${irq}: KVM_INTERRUPT_SET (-1) or KVM_INTERRUPT_UNSET (-2)`));
    return this.ch.call('irqLine', irq === KVM_INTERRUPT_SET);
  }

  /** wasmvisor's addition: the halted vCPU slept `ticks` of the 10 MHz timebase (after KVM_EXIT_HLT). */
  advanceTime(ticks: bigint): Promise<void> {
    return this.ch.call('advanceTime', ticks);
  }
}
