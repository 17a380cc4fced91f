// The `paravirt` machine's VMM (docs/paravirt.md): it runs a paravirtual guest kernel
// deprivileged, in the hart's U-mode, and answers its hypercalls.
//
// The VMM is the most privileged software of this machine, written here in AssemblyScript
// rather than in RISC-V code (as the host's SBI is, sbi.ts): every trap the hart takes while
// pvActive comes to pvTrap() instead of an M-mode handler. The guest runs in one of two
// virtual modes, both real U-mode:
//   kernel (vmode VK)  on the guest's kernel page table (kernelRoot)
//   user   (vmode VU)  on the current process's page table (userRoot)
// The two tables are separate, so user code never sees the kernel's mappings, and every
// switch between them is a satp write and a TLB flush (the classic PV cost).
//
// Page tables live in a pool of guest frames the guest registers once (PV_MMU_INIT). The
// guest may map the pool read-only, never writable, so the only way to change a PTE is a
// validated PV_MMU_UPDATE request, in the spirit of Xen's mmu_update: every frame a PTE maps
// must be the guest's own RAM, every table it links must be a pool frame, and each pool
// frame has one type (the level it is a table at) while anything references it, so an entry
// validated as a 4 KiB leaf is never walked as a 1 GiB one.
import {
  getX, setX, csrRaw, csrRawSet, MIP_STIP, IRQ_S_TIMER,
  CAUSE_USER_ECALL, CAUSE_ILLEGAL_INSTRUCTION,
} from '../hart/state';
import {
  CSR_MIE, CSR_SCOUNTEREN, CSR_SATP,
} from '../hart/opcodes.gen';
import { requestStop } from '../hart/counters';
import { invalidateCode } from '../hart/icache';
import { deprivilege } from './deprivilege';
import { tlbFlushAll, tlbFlushPage } from '../mmu/tlb';
import { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PTE_RESERVED, SATP_MODE_SV39, isRam, ramHost } from '../mmu/walk';
import { ramSize } from '../mmu/ram';
import { sbiEnableHost, sbiSetTimecmp, consoleWrite } from '../sbi';
import { requestExit } from '../exit';
import { statAdd, STAT_PV_HYPERCALLS, STAT_PV_REFLECTED, STAT_PV_PRIV_FAULTS, STAT_PV_REFUSED, STAT_PV_MMU_OPS, STAT_PV_HOST_EXITS } from '../stats';
import { RAM_PHYS, PC_ADDR, EXIT_POWEROFF, EXIT_PV_BLOCK, EXIT_PV_CRASH } from '../memmap';

/** The hypercall extension: SBI's firmware-specific EID space (0x0A000000) | our SBI impl id. */
export const PV_EID: u64 = 0x0a00_7776;
export const PV_ABI_VERSION: u64 = 1;

// Function ids (a6). One table: docs/paravirt.md describes each.
export const PV_VERSION: u32 = 0;
export const PV_SET_SHARED: u32 = 1;
export const PV_SET_TRAP_VECTOR: u32 = 2;
export const PV_CONSOLE_WRITE: u32 = 3;
export const PV_SHUTDOWN: u32 = 4;
export const PV_SET_TIMER: u32 = 5;
export const PV_MMU_INIT: u32 = 6;
export const PV_MMU_UPDATE: u32 = 7;
export const PV_SET_ROOT: u32 = 8;
export const PV_RETURN_TO_USER: u32 = 9;
export const PV_BLK_INFO: u32 = 10;
export const PV_BLK_SETUP: u32 = 11;
export const PV_BLK_NOTIFY: u32 = 12;
export const PV_NOP: u32 = 13;

// PV_MMU_UPDATE request ops (the low 3 bits of a request's first word)
export const MMU_PTE: u32 = 0;
export const MMU_PIN: u32 = 1;
export const MMU_UNPIN: u32 = 2;
export const MMU_CLEAR: u32 = 3;
export const MMU_FLUSH_PAGE: u32 = 4;
export const MMU_FLUSH_ALL: u32 = 5;

// SBI error codes (SBI 3.2)
const OK: i64 = 0;
const ERR_FAILED: i64 = -1;
const ERR_NOT_SUPPORTED: i64 = -2;
const ERR_INVALID_PARAM: i64 = -3;
const ERR_DENIED: i64 = -4;
const ERR_INVALID_ADDRESS: i64 = -5;
const ERR_ALREADY_AVAILABLE: i64 = -6;

// The shared page (struct pv_shared in the guest): u64 fields at these offsets.
export const SH_SCAUSE: u32 = 0;
export const SH_STVAL: u32 = 8;
export const SH_SEPC: u32 = 16;
/** the guest kernel's a0 when it trapped in kernel mode (a0 is 0 at the vector then) */
export const SH_A0: u32 = 24;
/** bit 1 (as sstatus.SIE): the kernel takes interrupts; read by the VMM before injecting */
export const SH_IRQ_ENABLE: u32 = 32;
/** pending virtual interrupts (as sip: bit 5 = the timer), written by the VMM */
export const SH_PENDING: u32 = 40;

/** Registers a trap saves and PV_RETURN_TO_USER loads: x[0..31] (x0 unused), then pc. */
const FRAME_BYTES: u64 = 33 * 8;
const FRAME_PC: u64 = 32 * 8;

const VU: u32 = 0;
const VK: u32 = 1;
const INTERRUPT: u64 = <u64>1 << 63;
const A0: u32 = 10, A1: u32 = 11, A6: u32 = 16, A7: u32 = 17;
const PAGE: u64 = 4096;
const MEGA: u64 = 2 << 20;
/** The largest page-table pool (frames): 4 MiB. */
const POOL_MAX: u32 = 1024;
/** Requests one PV_MMU_UPDATE may carry. */
const MMU_BATCH_MAX: u64 = 512;
/** Sv39 (4.4): a table at level L maps 4 KiB << 9L per entry; L = 2 is the root. */
const LEVELS: u32 = 3;

export let pvActive: bool = false;
let guestBase: u64 = 0, guestEnd: u64 = 0;
let bootRoot: u64 = 0, bootL1: u64 = 0;
let poolBase: u64 = 0, poolEnd: u64 = 0;
let shared: u64 = 0;
let vector: u64 = 0;
let vmode: u32 = VK;
let frame: u64 = 0;
let kernelRoot: u64 = 0, userRoot: u64 = 0;
let pending: u64 = 0;
let blkRing: u64 = 0;
let blkSectors: u64 = 0;

/** Per pool frame: its level + 1 (0: not a table now), and how many references it has. */
const frameType = new StaticArray<u8>(POOL_MAX);
const frameRefs = new StaticArray<u16>(POOL_MAX);
const framePinned = new StaticArray<bool>(POOL_MAX);

export function resetPv(): void {
  pvActive = false;
  guestBase = guestEnd = bootRoot = bootL1 = poolBase = poolEnd = shared = vector = 0;
  vmode = VK;
  frame = kernelRoot = userRoot = pending = blkRing = blkSectors = 0;
  for (let i: u32 = 0; i < POOL_MAX; i++) {
    unchecked(frameType[i] = 0);
    unchecked(frameRefs[i] = 0);
    unchecked(framePinned[i] = false);
  }
}

// ---- guest memory (physical addresses the checks below have validated)
@inline function rd(pa: u64): u64 {
  return load<u64>(ramHost(pa));
}
@inline function wr(pa: u64, v: u64): void {
  store<u64>(ramHost(pa), v);
}
function inGuest(pa: u64, len: u64): bool {
  return pa >= guestBase && pa <= guestEnd && len <= guestEnd - pa;
}
function overlapsPool(pa: u64, len: u64): bool {
  return poolEnd != 0 && pa < poolEnd && pa + len > poolBase;
}
/** The guest's PV block ring (PV_BLK_SETUP), for the host that serves it; 0: none. */
export function pvBlockRing(): u64 {
  return blkRing;
}

/** Guest RAM the guest may have the VMM write into (never the page-table pool). */
export function pvBufferOk(pa: u64, len: u64): bool {
  return pvActive && inGuest(pa, len) && !overlapsPool(pa, len);
}

/** A page the guest shares with the VMM (shared page, block ring): aligned, its own, not the pool. */
function sharedPageOk(pa: u64): bool {
  return (pa & (PAGE - 1)) == 0 && pvBufferOk(pa, PAGE);
}

/** The VMM wrote guest RAM [pa, pa+len): decoded instructions there are stale (icache.ts). */
function written(pa: u64, len: u64): void {
  while (len != 0) {
    const n = min(len, PAGE - (pa & (PAGE - 1)));
    invalidateCode(pa, <u32>n);
    pa += n;
    len -= n;
  }
}

// ---- the page-table pool: frame types and references (see the header)
@inline function poolIndex(f: u64): u32 {
  return <u32>((f - poolBase) >> 12);
}
function inPool(f: u64): bool {
  return (f & 0xfff) == 0 && f >= poolBase && f < poolEnd;
}
function isTable(pte: u64): bool {
  return (pte & PTE_V) != 0 && (pte & (PTE_R | PTE_W | PTE_X)) == 0;
}
@inline function target(pte: u64): u64 {
  return ((pte >> 10) & 0xfff_ffff_ffff) << 12;
}

function allZero(f: u64): bool {
  const h = ramHost(f);
  for (let o: u32 = 0; o < 4096; o += 8) if (load<u64>(h + o) != 0) return false;
  return true;
}

/** Take a reference to pool frame f as a table at `level`. */
function ref(f: u64, level: u32): i64 {
  if (!inPool(f)) return ERR_DENIED;
  const i = poolIndex(f);
  const refs = unchecked(frameRefs[i]);
  if (refs == 0) {
    // a new table: it must be empty, so no entry of it was validated for another level
    if (!allZero(f)) return ERR_INVALID_PARAM;
    unchecked(frameType[i] = <u8>(level + 1));
  } else if (<u32>unchecked(frameType[i]) != level + 1) {
    return ERR_INVALID_PARAM; // already a table at another level
  } else if (refs == 0xffff) {
    return ERR_FAILED;
  }
  unchecked(frameRefs[i] = refs + 1);
  return OK;
}

/** Drop a reference; a table nothing references any more releases the tables it links. */
function unref(f: u64): void {
  const i = poolIndex(f);
  const refs = unchecked(frameRefs[i]) - 1;
  unchecked(frameRefs[i] = refs);
  if (refs != 0) return;
  if (unchecked(frameType[i]) > 1) {
    for (let o: u64 = 0; o < PAGE; o += 8) {
      const e = rd(f + o);
      if (isTable(e)) unref(target(e));
    }
  }
  unchecked(frameType[i] = 0);
}

/** May `pte` stand in a table at `level`? (A table link is also checked by ref().) */
function checkEntry(pte: u64, level: u32): i64 {
  if ((pte & PTE_V) == 0) return OK; // the walker never reads the rest
  if ((pte & PTE_RESERVED) != 0) return ERR_INVALID_PARAM;
  if (isTable(pte)) {
    // 4.3.1: D, A and U are reserved in non-leaf PTEs; a level-0 PTE must be a leaf
    if (level == 0 || (pte & (PTE_U | PTE_G | PTE_A | PTE_D)) != 0) return ERR_INVALID_PARAM;
    return inPool(target(pte)) ? OK : ERR_DENIED;
  }
  if ((pte & PTE_W) != 0 && (pte & PTE_R) == 0) return ERR_INVALID_PARAM; // reserved (table 4.5)
  // global mappings would outlive the switch between the kernel's and a process's table
  if ((pte & PTE_G) != 0) return ERR_INVALID_PARAM;
  const size = PAGE << (9 * <u64>level);
  const pa = target(pte);
  if ((pa & (size - 1)) != 0) return ERR_INVALID_PARAM; // a misaligned superpage (4.3.2 step 6)
  if (!inGuest(pa, size)) return ERR_DENIED; // not this guest's memory
  if ((pte & PTE_W) != 0 && overlapsPool(pa, size)) return ERR_DENIED; // page tables stay read-only
  return OK;
}

function setPte(p: u64, pte: u64): i64 {
  const f = p & ~(PAGE - 1);
  if (!inPool(f)) return ERR_DENIED;
  const i = poolIndex(f);
  if (unchecked(frameRefs[i]) == 0) return ERR_INVALID_PARAM; // not a table in use
  const level = <u32>unchecked(frameType[i]) - 1;
  let err = checkEntry(pte, level);
  if (err == OK && isTable(pte)) err = ref(target(pte), level - 1);
  if (err != OK) return err;
  const old = rd(p);
  wr(p, pte);
  written(p, 8);
  if (isTable(old)) unref(target(old));
  return OK;
}

function mmuOp(op: u32, p: u64, val: u64): i64 {
  switch (op) {
    case MMU_PTE:
      return setPte(p, val);
    case MMU_PIN: {
      if (!inPool(p)) return ERR_DENIED;
      const i = poolIndex(p);
      if (unchecked(framePinned[i])) return ERR_INVALID_PARAM;
      const err = ref(p, LEVELS - 1);
      if (err == OK) unchecked(framePinned[i] = true);
      return err;
    }
    case MMU_UNPIN: {
      if (!inPool(p)) return ERR_DENIED;
      const i = poolIndex(p);
      if (!unchecked(framePinned[i])) return ERR_INVALID_PARAM;
      unchecked(framePinned[i] = false);
      unref(p);
      return OK;
    }
    case MMU_CLEAR: {
      if (!inPool(p)) return ERR_DENIED;
      if (unchecked(frameRefs[poolIndex(p)]) != 0) return ERR_INVALID_PARAM; // a table in use
      memory.fill(ramHost(p), 0, <usize>PAGE);
      written(p, PAGE);
      return OK;
    }
    case MMU_FLUSH_PAGE: tlbFlushPage(val); return OK;
    case MMU_FLUSH_ALL: tlbFlushAll(); return OK;
    default: return ERR_INVALID_PARAM;
  }
}

/** PV_MMU_UPDATE: apply `count` 16-byte requests at guest physical `reqs`, in order. */
function mmuUpdate(reqs: u64, count: u64): i64 {
  if (poolEnd == 0) return ERR_INVALID_PARAM; // PV_MMU_INIT first
  if (count > MMU_BATCH_MAX || (reqs & 7) != 0 || !inGuest(reqs, count << 4)) return ERR_INVALID_ADDRESS;
  for (let k: u64 = 0; k < count; k++) {
    const head = rd(reqs + (k << 4));
    const err = mmuOp(<u32>head & 7, head & ~<u64>7, rd(reqs + (k << 4) + 8));
    if (err != OK) {
      setX(A1, k); // the requests before k took effect
      return err;
    }
    statAdd(STAT_PV_MMU_OPS);
  }
  setX(A1, count);
  return OK;
}

function isRoot(f: u64): bool {
  return inPool(f) && unchecked(framePinned[poolIndex(f)]);
}

function loadRoot(root: u64): void {
  csrRawSet(CSR_SATP, (SATP_MODE_SV39 << 60) | (root >> 12));
  tlbFlushAll();
}

/** PV_SET_ROOT: which 0 = the kernel's table, 1 = the process's (0: none). */
function setRoot(which: u64, root: u64): i64 {
  if (which > 1) return ERR_INVALID_PARAM;
  if (which == 1 && root == 0) {
    if (userRoot != 0) unref(userRoot);
    userRoot = 0;
    return OK;
  }
  if (!isRoot(root)) return ERR_INVALID_PARAM; // pin it first
  const err = ref(root, LEVELS - 1); // the VMM's own reference while it may load the table
  if (err != OK) return err;
  if (which == 0) {
    if (kernelRoot != 0) unref(kernelRoot);
    kernelRoot = root;
    if (vmode == VK) loadRoot(root);
  } else {
    if (userRoot != 0) unref(userRoot);
    userRoot = root;
  }
  return OK;
}

function mmuInit(base: u64, size: u64): i64 {
  if (poolEnd != 0) return ERR_ALREADY_AVAILABLE;
  if ((base & (MEGA - 1)) != 0 || size == 0 || (size & (MEGA - 1)) != 0 || size > <u64>POOL_MAX << 12) return ERR_INVALID_PARAM;
  if (!inGuest(base, size)) return ERR_DENIED;
  if ((shared != 0 && shared >= base && shared < base + size) || (blkRing != 0 && blkRing >= base && blkRing < base + size)) return ERR_INVALID_PARAM;
  poolBase = base;
  poolEnd = base + size;
  // the boot page table maps all guest RAM writable: the pool's 2 MiB pages become read-only
  for (let pa = base; pa < poolEnd; pa += MEGA) {
    const e = bootL1 + ((pa - guestBase) >> 21 << 3);
    wr(e, rd(e) & ~PTE_W);
  }
  tlbFlushAll();
  return OK;
}

/** PV_RETURN_TO_USER: load the registers of the frame at `f` and enter the process. */
function returnToUser(pc: u64, f: u64): u64 {
  let err: i64 = OK;
  if (kernelRoot == 0 || userRoot == 0) err = ERR_INVALID_PARAM;
  else if ((f & 7) != 0 || !pvBufferOk(f, FRAME_BYTES)) err = ERR_INVALID_ADDRESS;
  if (err != OK) {
    setX(A0, <u64>err);
    return pc + 4;
  }
  frame = f;
  vmode = VU;
  if ((pending & MIP_STIP) != 0) {
    // the timer is pending: taken at once, as sret into U-mode would (3.1.6.1)
    return reflect(rd(f + FRAME_PC), INTERRUPT | IRQ_S_TIMER, 0, false);
  }
  const h = ramHost(f);
  for (let r: u32 = 1; r < 32; r++) setX(r, load<u64>(h + (r << 3)));
  loadRoot(userRoot);
  return rd(f + FRAME_PC);
}

/**
 * Deliver a trap to the guest kernel's vector. From a process: its registers go to the
 * frame, a0 = the frame, the kernel's table is loaded. From the kernel: a0 goes to the
 * shared page and a0 = 0. `save`: the registers are the process's (not yet in the frame).
 */
function reflect(pc: u64, cause: u64, tval: u64, save: bool = true): u64 {
  // nowhere to deliver it, or the kernel faulted on its own vector (a double fault, which
  // would only fault again): the guest cannot go on
  const doubleFault = vmode == VK && pc == vector && (cause & INTERRUPT) == 0;
  if (vector == 0 || shared == 0 || (vmode == VU && kernelRoot == 0) || doubleFault) {
    requestExit(EXIT_PV_CRASH, <u32>(cause & 0xff) | ((cause & INTERRUPT) != 0 ? 0x8000_0000 : 0) | (doubleFault ? 0x4000_0000 : 0));
    return pc;
  }
  statAdd(STAT_PV_REFLECTED);
  wr(shared + SH_SCAUSE, cause);
  wr(shared + SH_STVAL, tval);
  wr(shared + SH_SEPC, pc);
  if (vmode == VU) {
    if (save) {
      const h = ramHost(frame);
      for (let r: u32 = 1; r < 32; r++) store<u64>(h + (r << 3), getX(r));
      store<u64>(h + <u32>FRAME_PC, pc);
      written(frame, FRAME_BYTES);
    }
    setX(A0, frame);
    vmode = VK;
    loadRoot(kernelRoot);
  } else {
    wr(shared + SH_A0, getX(A0));
    setX(A0, 0);
  }
  written(shared, SH_A0 + 8);
  return vector;
}

/** Pending virtual interrupts change: the guest reads them in the shared page. */
function setPending(bits: u64): void {
  pending = bits;
  if (shared == 0) return;
  wr(shared + SH_PENDING, bits);
  written(shared + SH_PENDING, 8);
}

/** Is a virtual interrupt pending that the guest, where it is, takes now? */
function deliverable(): bool {
  if ((pending & MIP_STIP) == 0) return false;
  return vmode == VU || (shared != 0 && (rd(shared + SH_IRQ_ENABLE) & 2) != 0);
}

function hypercall(pc: u64): u64 {
  statAdd(STAT_PV_HYPERCALLS);
  const next = pc + 4;
  if (getX(A7) != PV_EID) {
    setX(A0, <u64>ERR_NOT_SUPPORTED);
    return next;
  }
  const a0 = getX(A0), a1 = getX(A1);
  let err: i64 = OK;
  switch (<u32>getX(A6)) {
    case PV_VERSION: setX(A1, PV_ABI_VERSION); break;
    case PV_NOP: break;
    case PV_SET_SHARED:
      if (shared != 0) err = ERR_ALREADY_AVAILABLE;
      else if (!sharedPageOk(a0)) err = ERR_INVALID_ADDRESS;
      else shared = a0;
      break;
    case PV_SET_TRAP_VECTOR:
      if ((a0 & 3) != 0) err = ERR_INVALID_PARAM;
      else vector = a0;
      break;
    case PV_CONSOLE_WRITE:
      if (!inGuest(a1, a0)) err = ERR_INVALID_ADDRESS;
      else setX(A1, consoleWrite(a1, a0));
      break;
    case PV_SHUTDOWN:
      requestExit(EXIT_POWEROFF, a0 == 0 ? 0 : 1);
      break;
    case PV_SET_TIMER:
      setPending(pending & ~MIP_STIP); // as SBI 6.1: programming the timer clears it
      sbiSetTimecmp(a0);
      break;
    case PV_MMU_INIT: err = mmuInit(a0, a1); break;
    case PV_MMU_UPDATE: err = mmuUpdate(a0, a1); break;
    case PV_SET_ROOT: err = setRoot(a0, a1); break;
    case PV_RETURN_TO_USER: return returnToUser(pc, a0);
    case PV_BLK_INFO:
      if (blkSectors == 0) err = ERR_NOT_SUPPORTED;
      else setX(A1, blkSectors);
      break;
    case PV_BLK_SETUP:
      if (blkSectors == 0) err = ERR_NOT_SUPPORTED;
      else if (!sharedPageOk(a0)) err = ERR_INVALID_ADDRESS;
      else { blkRing = a0; setX(A1, blkSectors); }
      break;
    case PV_BLK_NOTIFY:
      // the host's block backend serves the ring, sets a0/a1, and the guest goes on
      if (blkRing == 0) err = ERR_INVALID_PARAM;
      else { statAdd(STAT_PV_HOST_EXITS); requestExit(EXIT_PV_BLOCK, 0); }
      break;
    default: err = ERR_NOT_SUPPORTED;
  }
  // refused: an argument failed validation (a missing device is not a refusal)
  if (err != OK && err != ERR_NOT_SUPPORTED) statAdd(STAT_PV_REFUSED);
  setX(A0, <u64>err);
  if (deliverable()) return reflect(next, INTERRUPT | IRQ_S_TIMER, 0);
  return next;
}

/** Every trap the hart takes while pvActive (hart/trap.ts): returns where the guest goes on. */
export function pvTrap(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  if (isInterrupt) {
    if (cause == IRQ_S_TIMER) {
      // the guest's deadline passed: the real timer goes quiet until it is programmed again
      setPending(pending | MIP_STIP);
      sbiSetTimecmp(0xffff_ffff_ffff_ffff);
      requestStop();
    }
    return deliverable() ? reflect(pc, INTERRUPT | <u64>cause, 0) : pc;
  }
  if (cause == CAUSE_USER_ECALL && vmode == VK) return hypercall(pc);
  // a privileged instruction in the guest kernel: the trap-and-emulate event PV avoids
  if (cause == CAUSE_ILLEGAL_INSTRUCTION && vmode == VK) statAdd(STAT_PV_PRIV_FAULTS);
  return reflect(pc, <u64>cause, tval);
}

/**
 * Start a paravirtual guest: guest RAM is [RAM_PHYS, RAM_PHYS + guestBytes); the rest of the
 * hart's RAM is the VMM's (the boot page table lives there). The kernel starts in virtual
 * kernel mode at `entry` with a0 = 0 (hartid), a1 = `dtb`, paging on: the boot table maps
 * guest RAM 1:1 in 2 MiB pages (user-accessible, as all guest kernel mappings must be).
 * Returns false if the sizes do not allow it.
 */
export function pvBoot(entry: u64, dtb: u64, guestBytes: u64, diskSectors: u64): bool {
  if (guestBytes == 0 || (guestBytes & (MEGA - 1)) != 0 || guestBytes > (<u64>1 << 30) || guestBytes + 2 * PAGE > ramSize) return false;
  resetPv();
  sbiEnableHost();
  guestBase = RAM_PHYS;
  guestEnd = RAM_PHYS + guestBytes;
  blkSectors = diskSectors;
  bootRoot = guestEnd;
  bootL1 = guestEnd + PAGE;
  memory.fill(ramHost(bootRoot), 0, <usize>(2 * PAGE));
  wr(bootRoot + ((RAM_PHYS >> 30) << 3), (bootL1 >> 12 << 10) | PTE_V);
  for (let pa = guestBase; pa < guestEnd; pa += MEGA) {
    wr(bootL1 + ((pa - guestBase) >> 21 << 3), (pa >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  }
  // every trap and interrupt comes to the VMM; the guest's timer is the S-timer (sbi.ts)
  csrRawSet(CSR_MIE, MIP_STIP);
  csrRawSet(CSR_SCOUNTEREN, 7); // cycle, time, instret readable in U-mode (4.1.5)
  deprivilege(guestEnd); // the boot table is in the VMM's RAM
  loadRoot(bootRoot);
  setX(A0, 0);
  setX(A1, dtb);
  store<u64>(PC_ADDR, entry);
  vmode = VK;
  pvActive = true;
  return true;
}
