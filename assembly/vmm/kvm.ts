// The in-kernel half of the `kvm` machine (docs/kvm.md): what Linux's arch/riscv/kvm does for
// one vCPU, as host code acting in HS-mode, with everything else left to a userspace VMM in
// TypeScript (src/kvm/) that reads the exits from the kvm_run structure at KVM_RUN.
//
//   - memory slots (KVM_SET_USER_MEMORY_REGION): the G-stage (Sv39x4) maps each slot's guest
//     physical range onto "userspace memory", the first kvmUserBytes of the core's RAM; 2 MiB
//     leaves where the slot allows, else 4 KiB ones (always 4 KiB with dirty logging, as KVM
//     splits huge pages); the tables live in the kernel's RAM above the userspace memory.
//     Dirty logging reads and clears the 4 KiB leaves' D bits (the walker sets them).
//   - exits to userspace (kvm.h): KVM_EXIT_MMIO for loads/stores outside the slots (or stores to
//     a read-only slot), KVM_EXIT_RISCV_SBI for the console calls, KVM_EXIT_SYSTEM_EVENT for
//     SRST, KVM_EXIT_HLT for WFI (hstatus.VTW) with nothing pending, KVM_EXIT_INTERNAL_ERROR
//     for what the kernel cannot handle. The next run first completes the exit (kvmEnter: the
//     MMIO load's data into rd, the SBI return values into a0/a1, pc past the instruction), as
//     kvm_riscv_vcpu_mmio_return and kvm_riscv_vcpu_sbi_return do.
//   - in-kernel SBI: BASE, TIME (vstimecmp), IPI (hvip.VSSIP), RFENCE, HSM (sbi.ts, guest mode).
//   - interrupts: the guest's timer is vstimecmp (Sstc for VS-mode); its external interrupt is
//     hvip.VSEIP, driven by userspace's interrupt controller through kvmIrqLine.
import { enterGuest, hvSetExternal } from './hwassist';
import { tinstKind, tinstSize, tinstLen, tinstStoreValue, tinstLoadResult, TINST_LOAD, TINST_STORE } from '../hart/tinst';
import {
  getX, setX, getF, setF, csrRaw, csrRawSet, setPriv, priv, trapTinst, trapTval2, PRV_S, PRV_U, HSTATUS_VTW,
  CAUSE_VS_ECALL, CAUSE_FETCH_GUEST_PAGE_FAULT, CAUSE_LOAD_GUEST_PAGE_FAULT, CAUSE_STORE_GUEST_PAGE_FAULT,
  CAUSE_VIRTUAL_INSTRUCTION, CAUSE_ILLEGAL_INSTRUCTION,
} from '../hart/state';
import * as C from '../hart/opcodes.gen';
import { hExt, csrPeek, csrPoke, misa } from '../hart/csr';
import { enterVS, updateTimerIrqs, wfiWake } from '../hart/trap';
import { requestStop } from '../hart/counters';
import { updateViews, tlbFlushAll } from '../mmu/tlb';
import { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_A, PTE_D, ramHost } from '../mmu/walk';
import { ramSize } from '../mmu/ram';
import { mtime } from '../devices/clint';
import { sbiGuestCall } from '../sbi';
import { requestExit } from '../exit';
import { statAdd, STAT_HV_EXITS, STAT_HV_SBI, STAT_HV_MMIO, STAT_HV_REFLECTED } from '../stats';
import { RAM_PHYS, PC_ADDR, KVM_RUN, EXIT_KVM } from '../memmap';

// ---- kvm.h (include/uapi/linux/kvm.h): exit reasons and their structures in kvm_run
export const KVM_EXIT_UNKNOWN: u32 = 0;
export const KVM_EXIT_HLT: u32 = 5;
export const KVM_EXIT_MMIO: u32 = 6;
export const KVM_EXIT_INTR: u32 = 10;
export const KVM_EXIT_INTERNAL_ERROR: u32 = 17;
export const KVM_EXIT_SYSTEM_EVENT: u32 = 24;
export const KVM_EXIT_RISCV_SBI: u32 = 35;
export const KVM_SYSTEM_EVENT_SHUTDOWN: u32 = 1;
export const KVM_SYSTEM_EVENT_RESET: u32 = 2;
export const KVM_INTERNAL_ERROR_EMULATION: u32 = 1;
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: u32 = 4;
/** struct kvm_run: immediate_exit (u8), exit_reason (u32), then the union at 32. */
export const KVM_RUN_IMMEDIATE_EXIT: u32 = 1;
export const KVM_RUN_EXIT_REASON: u32 = 8;
export const KVM_RUN_UNION: u32 = 32;
/** The structure's size the host maps (KVM_GET_VCPU_MMAP_SIZE would say a page). */
export const KVM_RUN_SIZE: u32 = 0x1000;
// mmio: phys_addr u64, data[8], len u32, is_write u8
const MMIO_PHYS_ADDR: u32 = KVM_RUN_UNION, MMIO_DATA: u32 = KVM_RUN_UNION + 8, MMIO_LEN: u32 = KVM_RUN_UNION + 16, MMIO_IS_WRITE: u32 = KVM_RUN_UNION + 20;
// riscv_sbi: extension_id, function_id, args[6], ret[2] (u64 each)
const SBI_EXT: u32 = KVM_RUN_UNION, SBI_FID: u32 = KVM_RUN_UNION + 8, SBI_ARGS: u32 = KVM_RUN_UNION + 16, SBI_RET: u32 = KVM_RUN_UNION + 64;
// system_event / internal: type or suberror u32, ndata u32, data[16] u64
const EV_TYPE: u32 = KVM_RUN_UNION, EV_NDATA: u32 = KVM_RUN_UNION + 4, EV_DATA: u32 = KVM_RUN_UNION + 8;

// errno values the calls return negated (asm-generic/errno-base.h)
const ENOENT: i32 = 2, ENOMEM: i32 = 12, EFAULT: i32 = 14, EBUSY: i32 = 16, EEXIST: i32 = 17, EINVAL: i32 = 22;

/** KVM_USER_MEM_SLOTS. */
export const KVM_MEM_SLOTS: u32 = 32;
export const KVM_MEM_LOG_DIRTY_PAGES: u32 = 1;
export const KVM_MEM_READONLY: u32 = 2;
/** Sv39x4: guest physical addresses have 41 bits. */
export const KVM_GPA_BITS: u64 = 41;

const PAGE: u64 = 4096;
const MEGA2: u64 = 2 << 20;
const INSN_WFI: u64 = 0x1050_0073;
const A0: u32 = 10, A1: u32 = 11, A6: u32 = 16, A7: u32 = 17;

export let kvmActive: bool = false;
/** Userspace memory: RAM [RAM_PHYS, RAM_PHYS + kvmUserBytes); the kernel's RAM is above it. */
export let kvmUserBytes: u64 = 0;
let root: u64 = 0;
let tablesNext: u64 = 0;
let tablesEnd: u64 = 0;

// memory slots (struct kvm_userspace_memory_region); size 0 = unused
const slotGpa = new StaticArray<u64>(KVM_MEM_SLOTS);
const slotSize = new StaticArray<u64>(KVM_MEM_SLOTS);
const slotUaddr = new StaticArray<u64>(KVM_MEM_SLOTS);
const slotFlags = new StaticArray<u32>(KVM_MEM_SLOTS);

// the exit waiting for its completion at the next run
const PENDING_NONE: u32 = 0, PENDING_LOAD: u32 = 1, PENDING_STORE: u32 = 2, PENDING_SBI: u32 = 3;
let pending: u32 = PENDING_NONE;
let pendingInsn: u32 = 0;
let pendingLen: u64 = 0;

export function resetKvm(): void {
  kvmActive = false;
  kvmUserBytes = 0;
  root = 0;
  pending = PENDING_NONE;
  for (let i: u32 = 0; i < KVM_MEM_SLOTS; i++) slotSize[i] = 0;
}

@inline function wr(pa: u64, v: u64): void {
  store<u64>(ramHost(pa), v);
}
@inline function rd64(pa: u64): u64 {
  return load<u64>(ramHost(pa));
}

/**
 * KVM_CREATE_VM + KVM_CREATE_VCPU: userspace memory is the first `userBytes` of RAM (a multiple
 * of 2 MiB), the rest the kernel's (the G-stage's tables: at least 64 KiB). The vCPU starts in
 * VS-mode at pc 0 with an empty G-stage; userspace sets its registers (KVM_SET_ONE_REG). 0 or -errno.
 */
export function kvmCreate(userBytes: u64): i32 {
  if (!hExt) return -ENOENT;
  if (userBytes == 0 || (userBytes & (MEGA2 - 1)) != 0 || userBytes + (64 << 10) > ramSize) return -EINVAL;
  resetKvm();
  kvmUserBytes = userBytes;
  root = RAM_PHYS + userBytes; // 2 MiB aligned, so 16 KiB aligned
  tablesNext = root + 4 * PAGE;
  tablesEnd = RAM_PHYS + ramSize;
  memory.fill(ramHost(root), 0, <usize>(4 * PAGE));
  enterGuest(root);
  // WFI in VS-mode exits (virtual instruction): KVM_EXIT_HLT when nothing is pending
  csrRawSet(C.CSR_HSTATUS, csrRaw(C.CSR_HSTATUS) | HSTATUS_VTW);
  store<u64>(PC_ADDR, 0);
  memory.fill(KVM_RUN, 0, KVM_RUN_SIZE);
  kvmActive = true;
  return 0;
}

// ---- the G-stage

/** A zeroed table page from the kernel's RAM, or 0 when it is used up. */
function allocTable(): u64 {
  if (tablesNext + PAGE > tablesEnd) return 0;
  const t = tablesNext;
  tablesNext += PAGE;
  memory.fill(ramHost(t), 0, <usize>PAGE);
  return t;
}

/** The PTE slot for `gpa` at `level` (2: root, 1: 2 MiB, 0: 4 KiB), creating tables; 0 if out of memory. */
function pteSlot(gpa: u64, level: u32, create: bool): u64 {
  let table = root;
  for (let l: u32 = 2; l > level; l--) {
    const idx = l == 2 ? (gpa >> 30) & 0x7ff : (gpa >> (12 + 9 * <u64>l)) & 0x1ff;
    const slot = table + (idx << 3);
    const pte = rd64(slot);
    if ((pte & PTE_V) == 0) {
      if (!create) return 0;
      const t = allocTable();
      if (t == 0) return 0;
      wr(slot, (t >> 12 << 10) | PTE_V);
      table = t;
    } else if ((pte & (PTE_R | PTE_W | PTE_X)) != 0) {
      return 0; // a leaf above: no table here (cannot happen with disjoint slots)
    } else {
      table = (pte >> 10) << 12;
    }
  }
  const idx = level == 2 ? (gpa >> 30) & 0x7ff : (gpa >> (12 + 9 * <u64>level)) & 0x1ff;
  return table + (idx << 3);
}

/** Map slot `s` in the G-stage; false if the kernel ran out of table memory. */
function mapSlot(s: u32): bool {
  const gpa = slotGpa[s], size = slotSize[s], hpa = RAM_PHYS + slotUaddr[s], flags = slotFlags[s];
  const perm = PTE_V | PTE_R | PTE_X | PTE_U | PTE_A | ((flags & KVM_MEM_READONLY) != 0 ? 0 : PTE_W);
  const huge = (flags & KVM_MEM_LOG_DIRTY_PAGES) == 0 && ((gpa ^ hpa) & (MEGA2 - 1)) == 0;
  let off: u64 = 0;
  while (off < size) {
    const g = gpa + off, h = hpa + off;
    // D starts clear: the walker sets it on the first write (dirty logging reads it)
    if (huge && (g & (MEGA2 - 1)) == 0 && size - off >= MEGA2) {
      const p = pteSlot(g, 1, true);
      if (p == 0) return false;
      wr(p, (h >> 12 << 10) | perm);
      off += MEGA2;
    } else {
      const p = pteSlot(g, 0, true);
      if (p == 0) return false;
      wr(p, (h >> 12 << 10) | perm);
      off += PAGE;
    }
  }
  return true;
}

/** The leaf PTE's address mapping `gpa` (0: none), and its level in leafLevel. */
let leafLevel: u32 = 0;
function leafOf(gpa: u64): u64 {
  let table = root;
  for (let l: i32 = 2; l >= 0; l--) {
    const idx = l == 2 ? (gpa >> 30) & 0x7ff : (gpa >> (12 + 9 * <u64>l)) & 0x1ff;
    const slot = table + (idx << 3);
    const pte = rd64(slot);
    if ((pte & PTE_V) == 0) return 0;
    if ((pte & (PTE_R | PTE_W | PTE_X)) != 0) {
      leafLevel = <u32>l;
      return slot;
    }
    table = (pte >> 10) << 12;
  }
  return 0;
}

function unmapSlot(s: u32): void {
  const gpa = slotGpa[s], size = slotSize[s];
  let off: u64 = 0;
  while (off < size) {
    const p = leafOf(gpa + off);
    if (p == 0) { off += PAGE; continue; }
    wr(p, 0);
    off += leafLevel == 1 ? MEGA2 : PAGE;
  }
}

/**
 * KVM_SET_USER_MEMORY_REGION: guest physical [gpa, gpa+size) backed by userspace memory from
 * `uaddr`. Size 0 deletes the slot; an existing slot may be moved or change flags, not size.
 * 0 or -errno: EINVAL (bad slot, flags, alignment, beyond the guest physical space, a size
 * change), EFAULT (not inside userspace memory), EEXIST (overlaps another slot), ENOMEM.
 */
export function kvmSetUserMemoryRegion(slot: u32, flags: u32, gpa: u64, size: u64, uaddr: u64): i32 {
  if (!kvmActive) return -EINVAL;
  if (slot >= KVM_MEM_SLOTS || (flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) != 0) return -EINVAL;
  if (((gpa | size | uaddr) & (PAGE - 1)) != 0) return -EINVAL;
  const old = slotSize[slot];
  if (size == 0) {
    if (old == 0) return -EINVAL;
    unmapSlot(slot);
    slotSize[slot] = 0;
    tlbFlushAll();
    return 0;
  }
  if (old != 0 && old != size) return -EINVAL;
  if (gpa + size < gpa || (gpa + size) > (<u64>1 << KVM_GPA_BITS)) return -EINVAL;
  if (uaddr + size < uaddr || uaddr + size > kvmUserBytes) return -EFAULT;
  for (let i: u32 = 0; i < KVM_MEM_SLOTS; i++) {
    if (i == slot || slotSize[i] == 0) continue;
    if (gpa < slotGpa[i] + slotSize[i] && slotGpa[i] < gpa + size) return -EEXIST;
  }
  if (old != 0) unmapSlot(slot);
  slotGpa[slot] = gpa;
  slotSize[slot] = size;
  slotUaddr[slot] = uaddr;
  slotFlags[slot] = flags;
  const ok = mapSlot(slot);
  tlbFlushAll();
  if (!ok) {
    unmapSlot(slot);
    slotSize[slot] = 0;
    return -ENOMEM;
  }
  return 0;
}

/**
 * KVM_GET_DIRTY_LOG, 64 pages at a time: bit i of word `word` of slot `slot`'s bitmap is page
 * 64*word+i, written since the last call (the leaf's D bit, which is then cleared and the
 * guest's translations flushed). Slots without KVM_MEM_LOG_DIRTY_PAGES: kvmError = EINVAL.
 */
export let kvmError: i32 = 0;
export function kvmDirtyWord(slot: u32, word: u32): u64 {
  kvmError = 0;
  if (slot >= KVM_MEM_SLOTS || slotSize[slot] == 0 || (slotFlags[slot] & KVM_MEM_LOG_DIRTY_PAGES) == 0) {
    kvmError = -ENOENT;
    return 0;
  }
  const pages = slotSize[slot] >> 12;
  let bits: u64 = 0;
  for (let i: u64 = 0; i < 64; i++) {
    const page = (<u64>word << 6) + i;
    if (page >= pages) break;
    const p = leafOf(slotGpa[slot] + (page << 12));
    if (p == 0) continue;
    const pte = rd64(p);
    if ((pte & PTE_D) != 0) {
      wr(p, pte & ~PTE_D);
      bits |= <u64>1 << i;
    }
  }
  // cached write translations would let the guest write without setting D again
  if (bits != 0) tlbFlushAll();
  return bits;
}

/** The slot mapping guest physical `gpa`, or -1. */
function slotOf(gpa: u64): i32 {
  for (let i: u32 = 0; i < KVM_MEM_SLOTS; i++)
    if (slotSize[i] != 0 && gpa - slotGpa[i] < slotSize[i]) return <i32>i;
  return -1;
}

// ---- interrupts

/** KVM_IRQ_LINE / KVM_INTERRUPT: the guest's external interrupt (hvip.VSEIP) at `level`. */
export function kvmIrqLine(level: bool): void {
  hvSetExternal(level);
}

// ---- exits

@inline function runU32(off: u32, v: u32): void { store<u32>(KVM_RUN + off, v); }
@inline function runU64(off: u32, v: u64): void { store<u64>(KVM_RUN + off, v); }

function exitTo(reason: u32): void {
  runU32(KVM_RUN_EXIT_REASON, reason);
  requestExit(EXIT_KVM, reason);
}

function internalError(suberror: u32, pc: u64, cause: u64, tval: u64, gpa: u64): void {
  runU32(EV_TYPE, suberror);
  runU32(EV_NDATA, 4);
  runU64(EV_DATA, cause);
  runU64(EV_DATA + 8, pc);
  runU64(EV_DATA + 16, tval);
  runU64(EV_DATA + 24, gpa);
  exitTo(KVM_EXIT_INTERNAL_ERROR);
}

/**
 * KVM_RUN's first half: complete the last exit with what userspace left in kvm_run (an MMIO
 * load's data, an SBI call's ret[0..1]) and step past its instruction.
 */
export function kvmEnter(): void {
  if (pending == PENDING_NONE) return;
  let pc = load<u64>(PC_ADDR);
  if (pending == PENDING_LOAD) {
    tinstLoadResult(pendingInsn, load<u64>(KVM_RUN + MMIO_DATA));
    pc += pendingLen;
  } else if (pending == PENDING_STORE) {
    pc += pendingLen;
  } else if (pending == PENDING_SBI) {
    setX(A0, load<u64>(KVM_RUN + SBI_RET));
    setX(A1, load<u64>(KVM_RUN + SBI_RET + 8));
    pc += 4;
  }
  store<u64>(PC_ADDR, pc);
  pending = PENDING_NONE;
}

// SBI extensions userspace answers (KVM forwards them: kvm_sbi_ext_forward / DBCN)
const EXT_LEGACY_PUTCHAR: u64 = 1, EXT_LEGACY_GETCHAR: u64 = 2, EXT_LEGACY_SHUTDOWN: u64 = 8;
const EXT_SRST: u64 = 0x5352_5354, EXT_DBCN: u64 = 0x4442_434e;

function sbi(pc: u64): u64 {
  statAdd(STAT_HV_SBI);
  const eid = getX(A7), fid = getX(A6);
  if (eid == EXT_SRST && fid == 0 && getX(A0) <= 2 && getX(A1) <= 0xffff_ffff || eid == EXT_LEGACY_SHUTDOWN) {
    // kvm_riscv_vcpu_sbi_system_reset: the reason in data[0]; the call does not return
    const type = eid == EXT_LEGACY_SHUTDOWN || getX(A0) == 0 ? KVM_SYSTEM_EVENT_SHUTDOWN : KVM_SYSTEM_EVENT_RESET;
    runU32(EV_TYPE, type);
    runU32(EV_NDATA, 1);
    runU64(EV_DATA, eid == EXT_LEGACY_SHUTDOWN ? 0 : getX(A1));
    exitTo(KVM_EXIT_SYSTEM_EVENT);
    return pc;
  }
  if (eid == EXT_LEGACY_PUTCHAR || eid == EXT_LEGACY_GETCHAR || eid == EXT_DBCN) {
    runU64(SBI_EXT, eid);
    runU64(SBI_FID, fid);
    for (let i: u32 = 0; i < 6; i++) runU64(SBI_ARGS + (i << 3), getX(A0 + i));
    // userspace writes ret; by default the call is not supported
    runU64(SBI_RET, <u64>-2);
    runU64(SBI_RET + 8, 0);
    pending = PENDING_SBI;
    exitTo(KVM_EXIT_RISCV_SBI);
    return pc;
  }
  // answered in the kernel: BASE, TIME, IPI, RFENCE, HSM (buffers bounded to userspace memory)
  sbiGuestCall(RAM_PHYS + kvmUserBytes);
  return pc + 4;
}

/** A load or store the G-stage refused: KVM_EXIT_MMIO from the transformed instruction. */
function mmio(pc: u64, cause: u32, tval: u64, gpa: u64): u64 {
  const insn = <u32>trapTinst;
  const size = tinstSize(insn);
  const kind = tinstKind(insn, cause);
  const load_ = kind == TINST_LOAD;
  const store_ = kind == TINST_STORE;
  const s = slotOf(gpa);
  // inside a slot only a store to a read-only one is MMIO; a pseudo-instruction (the VS-stage
  // walk's PTE access) or an AMO cannot be emulated
  if ((!load_ && !store_) || (s >= 0 && !(store_ && (slotFlags[s] & KVM_MEM_READONLY) != 0))) {
    internalError(KVM_INTERNAL_ERROR_EMULATION, pc, cause, tval, gpa);
    return pc;
  }
  statAdd(STAT_HV_MMIO);
  runU64(MMIO_PHYS_ADDR, gpa);
  runU32(MMIO_LEN, size);
  store<u8>(KVM_RUN + MMIO_IS_WRITE, store_ ? 1 : 0);
  if (store_) {
    runU64(MMIO_DATA, tinstStoreValue(insn));
    pending = PENDING_STORE;
  } else {
    runU64(MMIO_DATA, 0);
    pending = PENDING_LOAD;
  }
  pendingInsn = insn;
  pendingLen = tinstLen(insn);
  exitTo(KVM_EXIT_MMIO);
  return pc;
}

/** A trap of the guest that enters HS-mode (hart/trap.ts): handle it or exit to userspace. */
export function kvmTrap(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  statAdd(STAT_HV_EXITS);
  if (isInterrupt) {
    internalError(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, pc, <u64>cause | (<u64>1 << 63), tval, 0);
    return pc;
  }
  switch (cause) {
    case CAUSE_VS_ECALL:
      return sbi(pc);
    case CAUSE_LOAD_GUEST_PAGE_FAULT: case CAUSE_STORE_GUEST_PAGE_FAULT:
      return mmio(pc, cause, tval, (trapTval2 << 2) | (tval & 3));
    case CAUSE_FETCH_GUEST_PAGE_FAULT:
      internalError(KVM_INTERNAL_ERROR_EMULATION, pc, cause, tval, (trapTval2 << 2) | (tval & 3));
      return pc;
    case CAUSE_VIRTUAL_INSTRUCTION:
      if (tval == INSN_WFI) {
        // kvm_riscv_vcpu_wfi: go on if an interrupt is pending, else the vCPU halts
        updateTimerIrqs();
        if (!wfiWake()) exitTo(KVM_EXIT_HLT);
        return pc + 4;
      }
      // a CSR or instruction only HS-mode has: illegal for the guest, as KVM redirects it
      statAdd(STAT_HV_REFLECTED);
      return enterVS(pc, CAUSE_ILLEGAL_INSTRUCTION, tval, false);
  }
  internalError(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, pc, cause, tval, 0);
  return pc;
}

/** A trap that reached M-mode, or HS-mode from V=0: nothing handles it. */
export function kvmCrash(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  internalError(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, pc, <u64>cause | (isInterrupt ? <u64>1 << 63 : 0), tval, 0);
  return pc;
}

// ---- KVM_GET_ONE_REG / KVM_SET_ONE_REG (arch/riscv/include/uapi/asm/kvm.h)

const KVM_REG_RISCV: u64 = 0x8000_0000_0000_0000;
const KVM_REG_SIZE_U64: u64 = 0x0030_0000_0000_0000;
const KVM_REG_SIZE_MASK: u64 = 0x00f0_0000_0000_0000;
const TYPE_CONFIG: u32 = 1, TYPE_CORE: u32 = 2, TYPE_CSR: u32 = 3, TYPE_TIMER: u32 = 4, TYPE_FP_D: u32 = 6;
const TIMEBASE_HZ: u64 = 10_000_000;
/** struct kvm_riscv_csr, in order: the guest's S CSRs, which are VS CSRs (or shared) to the host. */
const CSR_MAP: StaticArray<u32> = [
  C.CSR_VSSTATUS, C.CSR_VSIE, C.CSR_VSTVEC, C.CSR_VSSCRATCH, C.CSR_VSEPC, C.CSR_VSCAUSE,
  C.CSR_VSTVAL, C.CSR_VSIP, C.CSR_VSATP, C.CSR_SCOUNTEREN, C.CSR_SENVCFG,
];

/** Decode `id`: its type, or 0 with kvmError set (EINVAL: not a 64-bit RISC-V register id). */
function regType(id: u64): u32 {
  if ((id & 0xff00_0000_0000_0000) != KVM_REG_RISCV || (id & KVM_REG_SIZE_MASK) != KVM_REG_SIZE_U64) {
    kvmError = -EINVAL;
    return 0;
  }
  return <u32>(id >> 24) & 0xff;
}

export function kvmGetOneReg(id: u64): u64 {
  kvmError = 0;
  const type = regType(id);
  const idx = <u32>(id & 0xffff);
  const sub = <u32>(id >> 16) & 0xff;
  switch (type) {
    case 0: return 0;
    case TYPE_CONFIG:
      if (idx == 0) return misa & 0x3ff_ffff; // isa: single-letter extensions
      if (idx >= 2 && idx <= 4) return csrPeek(idx == 2 ? C.CSR_MVENDORID : idx == 3 ? C.CSR_MARCHID : C.CSR_MIMPID);
      break;
    case TYPE_CORE:
      if (idx == 0) return load<u64>(PC_ADDR);
      if (idx < 32) return getX(idx);
      if (idx == 32) return priv == PRV_S ? 1 : 0; // KVM_RISCV_MODE_S / _U
      break;
    case TYPE_CSR:
      if (sub == 0 && idx < <u32>CSR_MAP.length) return csrPeek(CSR_MAP[idx]);
      break;
    case TYPE_TIMER:
      if (idx == 0) return TIMEBASE_HZ;
      if (idx == 1) return mtime() + csrRaw(C.CSR_HTIMEDELTA);
      if (idx == 2) return csrRaw(C.CSR_VSTIMECMP);
      if (idx == 3) return csrRaw(C.CSR_VSTIMECMP) != 0xffff_ffff_ffff_ffff ? 1 : 0;
      break;
    case TYPE_FP_D:
      if (idx < 32) return getF(idx);
      break;
  }
  if (kvmError == 0) kvmError = -ENOENT;
  return 0;
}

export function kvmSetOneReg(id: u64, v: u64): i32 {
  kvmError = 0;
  const type = regType(id);
  if (kvmError != 0) return kvmError;
  const idx = <u32>(id & 0xffff);
  const sub = <u32>(id >> 16) & 0xff;
  switch (type) {
    case TYPE_CONFIG:
      // read-only here (one hart model per VM): setting the value it has is allowed
      if (idx == 0 || (idx >= 2 && idx <= 4)) return kvmGetOneReg(id) == v ? 0 : -EBUSY;
      break;
    case TYPE_CORE:
      if (idx == 0) { store<u64>(PC_ADDR, v); pending = PENDING_NONE; return 0; }
      if (idx < 32) { setX(idx, v); return 0; }
      if (idx == 32) {
        if (v > 1) return -EINVAL;
        setPriv(v == 1 ? PRV_S : PRV_U);
        updateViews();
        return 0;
      }
      break;
    case TYPE_CSR:
      if (sub == 0 && idx < <u32>CSR_MAP.length) {
        csrPoke(CSR_MAP[idx], v);
        tlbFlushAll();
        updateViews();
        requestStop();
        return 0;
      }
      break;
    case TYPE_TIMER:
      if (idx == 0) return v == TIMEBASE_HZ ? 0 : -EINVAL;
      if (idx == 1) { csrRawSet(C.CSR_HTIMEDELTA, v - mtime()); return 0; }
      if (idx == 2) { csrRawSet(C.CSR_VSTIMECMP, v); requestStop(); return 0; }
      if (idx == 3) return v <= 1 ? 0 : -EINVAL;
      break;
    case TYPE_FP_D:
      if (idx < 32) { setF(idx, v); return 0; }
      break;
  }
  return -ENOENT;
}
