// Names and numbers of the Linux KVM API (include/uapi/linux/kvm.h, arch/riscv/include/uapi/
// asm/kvm.h), as the TypeScript API uses them. Exit structures keep kvm.h's field names.

export const KVM_API_VERSION = 12;

/** kvm_run.exit_reason values (the ones this KVM produces). */
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_RISCV_SBI = 35;

export const KVM_EXIT_NAMES: Record<number, string> = {
  [KVM_EXIT_UNKNOWN]: 'KVM_EXIT_UNKNOWN',
  [KVM_EXIT_HLT]: 'KVM_EXIT_HLT',
  [KVM_EXIT_MMIO]: 'KVM_EXIT_MMIO',
  [KVM_EXIT_INTR]: 'KVM_EXIT_INTR',
  [KVM_EXIT_INTERNAL_ERROR]: 'KVM_EXIT_INTERNAL_ERROR',
  [KVM_EXIT_SYSTEM_EVENT]: 'KVM_EXIT_SYSTEM_EVENT',
  [KVM_EXIT_RISCV_SBI]: 'KVM_EXIT_RISCV_SBI',
};

export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
export const KVM_SYSTEM_EVENT_RESET = 2;
export const KVM_INTERNAL_ERROR_EMULATION = 1;
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

/** kvm_userspace_memory_region.flags */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
export const KVM_MEM_READONLY = 2;

/** KVM_INTERRUPT's values on RISC-V (set / clear the guest's external interrupt). */
export const KVM_INTERRUPT_SET = -1;
export const KVM_INTERRUPT_UNSET = -2;

/** Capabilities (KVM_CHECK_EXTENSION) this KVM answers. */
export const KVM_CAP = {
  KVM_CAP_IRQCHIP: 0,
  KVM_CAP_USER_MEMORY: 3,
  KVM_CAP_SET_TSS_ADDR: 4,
  KVM_CAP_NR_VCPUS: 9,
  KVM_CAP_NR_MEMSLOTS: 10,
  KVM_CAP_SYNC_MMU: 16,
  KVM_CAP_DESTROY_MEMORY_REGION_WORKS: 21,
  KVM_CAP_JOIN_MEMORY_REGIONS_WORKS: 30,
  KVM_CAP_ONE_REG: 70,
  KVM_CAP_READONLY_MEM: 81,
  KVM_CAP_IMMEDIATE_EXIT: 136,
  KVM_CAP_MAX_VCPUS: 66,
  KVM_CAP_MAX_VCPU_ID: 128,
} as const;

// ---- ONE_REG ids for RISC-V (asm/kvm.h)
export const KVM_REG_RISCV = 0x8000_0000_0000_0000n;
export const KVM_REG_SIZE_U64 = 0x0030_0000_0000_0000n;
export const KVM_REG_RISCV_CONFIG = 1n << 24n;
export const KVM_REG_RISCV_CORE = 2n << 24n;
export const KVM_REG_RISCV_CSR = 3n << 24n;
export const KVM_REG_RISCV_TIMER = 4n << 24n;
export const KVM_REG_RISCV_FP_D = 6n << 24n;
export const KVM_REG_RISCV_CSR_GENERAL = 0n << 16n;

const reg = (type: bigint, index: number) => KVM_REG_RISCV | KVM_REG_SIZE_U64 | type | BigInt(index);

/** struct kvm_riscv_core: regs (pc, ra, sp, ... t6 as user_regs_struct), then mode. */
export const KVM_RISCV_CORE_REGS = ['pc', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6', 'mode'] as const;
/** struct kvm_riscv_csr (the guest's view: its S-mode CSRs). */
export const KVM_RISCV_CSR_REGS = ['sstatus', 'sie', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'satp', 'scounteren', 'senvcfg'] as const;
/** struct kvm_riscv_timer. */
export const KVM_RISCV_TIMER_REGS = ['frequency', 'time', 'compare', 'state'] as const;
/** struct kvm_riscv_config (the ones answered). */
export const KVM_RISCV_CONFIG_REGS = { isa: 0, mvendorid: 2, marchid: 3, mimpid: 4 } as const;

/** KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(name): 'pc', 'ra'... 'a0'..., 'mode'; or x1..x31 by number. */
export function KVM_REG_RISCV_CORE_REG(name: (typeof KVM_RISCV_CORE_REGS)[number] | number): bigint {
  const i = typeof name === 'number' ? name : KVM_RISCV_CORE_REGS.indexOf(name);
  if (i < 0 || i > 32) throw new RangeError(`no RISC-V core register ${name}`);
  return reg(KVM_REG_RISCV_CORE, i);
}
export function KVM_REG_RISCV_CSR_REG(name: (typeof KVM_RISCV_CSR_REGS)[number]): bigint {
  const i = KVM_RISCV_CSR_REGS.indexOf(name);
  if (i < 0) throw new RangeError(`no RISC-V KVM CSR register ${name}`);
  return reg(KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_GENERAL, i);
}
export function KVM_REG_RISCV_TIMER_REG(name: (typeof KVM_RISCV_TIMER_REGS)[number]): bigint {
  const i = KVM_RISCV_TIMER_REGS.indexOf(name);
  if (i < 0) throw new RangeError(`no RISC-V KVM timer register ${name}`);
  return reg(KVM_REG_RISCV_TIMER, i);
}
export function KVM_REG_RISCV_CONFIG_REG(name: keyof typeof KVM_RISCV_CONFIG_REGS): bigint {
  return reg(KVM_REG_RISCV_CONFIG, KVM_RISCV_CONFIG_REGS[name]);
}
export function KVM_REG_RISCV_FP_D_REG(i: number): bigint {
  if (!Number.isInteger(i) || i < 0 || i > 31) throw new RangeError(`no f register ${i}`);
  return reg(KVM_REG_RISCV_FP_D, i);
}

/** errno names (asm-generic/errno-base.h) by number. */
export const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 7: 'E2BIG', 9: 'EBADF', 12: 'ENOMEM', 14: 'EFAULT',
  16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 28: 'ENOSPC', 95: 'EOPNOTSUPP',
};
export const ERRNO_NUMBER = Object.fromEntries(Object.entries(ERRNO).map(([n, s]) => [s, Number(n)])) as Record<string, number>;

/** An ioctl's failure: the errno name KVM would have returned (EINVAL, EEXIST...) and why. */
export class KvmError extends Error {
  override name = 'KvmError';
  readonly errno: number;
  constructor(readonly code: string, readonly detail: string) {
    super(`${code}: ${detail}`);
    this.errno = ERRNO_NUMBER[code] ?? 0;
  }
}

// ---- the exits (struct kvm_run's union members, with kvm.h's field names)
export interface KvmExitMmio {
  exit_reason: typeof KVM_EXIT_MMIO;
  /** for a read, userspace writes the value here (little-endian) before the next run() */
  mmio: { phys_addr: bigint; data: Uint8Array; len: number; is_write: boolean };
}
export interface KvmExitRiscvSbi {
  exit_reason: typeof KVM_EXIT_RISCV_SBI;
  /** userspace writes ret[0] (error) and ret[1] (value) for the guest's a0/a1 before the next run() */
  riscv_sbi: { extension_id: bigint; function_id: bigint; args: bigint[]; ret: bigint[] };
}
export interface KvmExitSystemEvent {
  exit_reason: typeof KVM_EXIT_SYSTEM_EVENT;
  system_event: { type: number; ndata: number; data: bigint[] };
}
export interface KvmExitInternalError {
  exit_reason: typeof KVM_EXIT_INTERNAL_ERROR;
  /** data: the trap's cause (bit 63: interrupt), pc, tval, guest physical address */
  internal: { suberror: number; ndata: number; data: bigint[] };
}
export interface KvmExitHlt {
  exit_reason: typeof KVM_EXIT_HLT;
  /**
   * wasmvisor's addition: timebase ticks (10 MHz) until the guest's timer fires (null: none armed).
   * The vCPU does not block in the kernel: userspace waits, then vcpu.advanceTime() and run().
   */
  hlt: { timer_ticks: bigint | null };
}
export interface KvmExitIntr {
  /** run() ended without an exit: its instruction budget ran out, or immediate_exit was set */
  exit_reason: typeof KVM_EXIT_INTR;
}
export type KvmExit = KvmExitMmio | KvmExitRiscvSbi | KvmExitSystemEvent | KvmExitInternalError | KvmExitHlt | KvmExitIntr;

export const exitName = (e: { exit_reason: number }) => KVM_EXIT_NAMES[e.exit_reason] ?? `KVM_EXIT_${e.exit_reason}`;
