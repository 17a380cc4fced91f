// The `full` machine's VMM (docs/full.md): complete virtualization of an unmodified guest
// kernel on a hart with no virtualization help (no H extension), the way VMware's first
// products and the classic trap-and-emulate VMMs worked.
//
// The guest kernel's code runs in the real hart's U-mode. The VMM (host code, like the other
// VMMs here) keeps the guest's virtual hart: its privilege level (vpriv, S or U) and its
// S-mode CSRs (privileged spec chapter 4). Everything the guest may not do in U-mode traps
// and comes to fvTrap(), which emulates it (trap-and-emulate): CSR accesses, SRET,
// SFENCE.VMA, WFI and ECALL (the guest's SBI calls). With the binary-translation technique
// the sensitive instructions of guest-kernel code are rewritten as it is translated (decoded)
// into direct calls of the same emulation (fvCall), so they cost no trap.
//
// Memory: the real satp points at a shadow page table, built by the VMM from the guest's
// tables on demand (a "hidden" page fault fills one 4 KiB entry), mapping guest-virtual
// addresses straight to guest RAM. One shadow per guest address space (the guest's satp:
// mode, ASID, root) and view, since the real hart is always in U-mode:
//   VIEW_U    the guest's U-mode: only its U=1 pages
//   VIEW_S    the guest's S-mode with sstatus.SUM=0: only its U=0 pages
//   VIEW_SUM  S-mode with SUM=1: also U=1 pages, never executable (4.3.1)
// plus the MXR bit (executable pages readable). The guest's A and D bits are kept by the VMM:
// an entry is installed only on an access (A set), and is writable only once D is set, so the
// first write faults (hidden) and sets D. Guest superpages are split into 4 KiB entries.
//
// Keeping shadows in sync with the guest's tables, two policies (--shadow):
//   lazy   entries stay until the guest's SFENCE.VMA (4.2.1: a PTE change need not be seen
//          before it), which drops the entries it names
//   trace  the guest's page-table pages are write-protected in every shadow; each PTE write
//          traps, is emulated and applied (the shadow entries it feeds are dropped at once), so
//          SFENCE.VMA has nothing to do
// Shadow tables come from a pool in the VMM's RAM above the guest's (bounded: when it runs out,
// every shadow is dropped and rebuilt on demand); up to CONTEXTS shadows are cached across the
// guest's context switches. Entries only ever map the guest's own RAM: a guest PTE naming a
// device is emulated (MMIO) on each access, one naming anything else is an access fault.
import {
  getX, setX, csrRaw, csrRawSet, PRV_S, PRV_U, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP,
  MSTATUS_SUM, MSTATUS_MXR, MSTATUS_FS, MSTATUS_SD, FS_DIRTY, MIP_SSIP, MIP_STIP, MIP_SEIP,
  IRQ_S_SOFT, IRQ_S_TIMER, IRQ_S_EXT, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC,
  CAUSE_ILLEGAL_INSTRUCTION, CAUSE_USER_ECALL, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
} from '../hart/state';
import {
  CSR_MIE, CSR_SCOUNTEREN, CSR_SATP, CSR_MSTATUS,
  CSR_SSTATUS, CSR_SIE, CSR_STVEC, CSR_SENVCFG, CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL,
  CSR_SIP,
} from '../hart/opcodes.gen';
import { mipValue, tvecWritable, epcValue, SCOUNTEREN_WRITABLE, SENVCFG_WRITABLE } from '../hart/csr';
import { updateTimerIrqs } from '../hart/trap';
import { startWfi } from '../hart/execute';
import { invalidateCode } from '../hart/icache';
import { retire } from '../hart/counters';
import { transformedInsn, tinstSize, tinstLen, tinstStoreValue, tinstLoadResult } from '../hart/tinst';
import { deprivilege } from './deprivilege';
import { tlbFlushAll, tlbFlushPage } from '../mmu/tlb';
import { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_A, PTE_D, PTE_RESERVED, SATP_MODE_BARE, SATP_MODE_SV39, SATP_MODE_SV48, ramHost } from '../mmu/walk';
import { ramSize } from '../mmu/ram';
import { busRead, busWrite, busOk } from '../devices/bus';
import { sbiEnableHost, sbiFullGuestCall } from '../sbi';
import {
  statAdd, statSet, STAT_FV_TRAPS, STAT_FV_EMULATED, STAT_FV_SBI, STAT_FV_REFLECTED, STAT_FV_INJECTED,
  STAT_FV_HIDDEN, STAT_FV_SYNCS, STAT_FV_PT_WRITES, STAT_FV_MMIO, STAT_FV_SHADOW_PAGES, STAT_FV_SHADOW_RESETS,
  STAT_FV_BT_BLOCKS, STAT_FV_BT_REWRITTEN, STAT_FV_GUEST_FAULTS,
} from '../stats';
import { RAM_PHYS, PC_ADDR, SLOT_OP, SLOT_RAW, SLOT_LEN, SCRATCH_SLOT } from '../memmap';
import { OP_FV_CALL, OP_ILLEGAL_SLOT } from '../hart/decode';
import { decodeAt } from '../hart/fetch';
import * as O from '../hart/opcodes.gen';

export const FV_TRAP_AND_EMULATE: u32 = 0;
export const FV_BINARY_TRANSLATION: u32 = 1;
export const FV_SHADOW_LAZY: u32 = 0;
export const FV_SHADOW_TRACE: u32 = 1;

const PAGE: u64 = 4096;
const MEGA: u64 = 2 << 20;
/** The shadow-table pool: 16 MiB of the VMM's RAM. */
const POOL_PAGES: u32 = 4096;
const POOL_BYTES: u64 = <u64>POOL_PAGES << 12;
/** Per guest RAM frame, for the trace policy: info u64, then RMAP_SLOTS u32 (see track()). */
const FRAME_BYTES: u64 = 32;
const RMAP_SLOTS: u32 = 4;
/** Shadows cached (guest address space x view). */
const CONTEXTS: u32 = 32;
const NONE: u32 = 0xffff_ffff;
const INTERRUPT: u64 = <u64>1 << 63;

const VIEW_U: u32 = 0;
const VIEW_S: u32 = 1;
const VIEW_SUM: u32 = 2;
const VIEW_MXR: u32 = 4;

/** The VMM's RAM above the guest's: the shadow pool, then the per-frame records. */
export function fvVmmBytes(guestBytes: u64): u64 {
  const info = (guestBytes >> 12) * FRAME_BYTES;
  return POOL_BYTES + ((info + MEGA - 1) & ~(MEGA - 1));
}

export let fvActive: bool = false;
export let fvTechnique: u32 = FV_TRAP_AND_EMULATE;
/** Binary translation is on and the guest is in its S-mode: decoded code gets translated. */
export let fvTranslate: bool = false;
let policy: u32 = FV_SHADOW_LAZY;
let guestEnd: u64 = 0;
let poolBase: u64 = 0;
let infoBase: u64 = 0;

// ---- the guest's virtual hart (privileged spec 4.1): privilege and S-mode CSRs
let vpriv: u32 = PRV_S;
/** sstatus SIE, SPIE, SPP, SUM, MXR (FS is the real mstatus.FS: the FPU is the guest's). */
let vstatus: u64 = 0;
let vie: u64 = 0;
/** sip.SSIP (STIP and SEIP are the real ones: the S-timer and the PLIC's S context). */
let vssip: u64 = 0;
let vtvec: u64 = 0, vscratch: u64 = 0, vepc: u64 = 0, vcause: u64 = 0, vtval: u64 = 0;
let vsatp: u64 = 0, vcounteren: u64 = 0, venvcfg: u64 = 0;

const VSTATUS_MASK: u64 = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
const UXL_64: u64 = <u64>2 << 32;
const VIE_MASK: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
/** satp: 16 ASID bits (ASIDMAX), 44 PPN bits (4.1.11). */
const SATP_ASID_SHIFT: u64 = 44;
const SATP_ASID_MASK: u64 = 0xffff;
const SATP_PPN_MASK: u64 = (<u64>1 << 44) - 1;

// ---- the shadow-table pool
const freeList = new StaticArray<u32>(POOL_PAGES);
let freeCount: u32 = 0;
/** Per pool page: 1 if its entries come from one guest superpage (dropped as a whole). */
const pageSplit = new StaticArray<u8>(POOL_PAGES);

// ---- the cached shadows
const ctxSatp = new StaticArray<u64>(CONTEXTS);
const ctxView = new StaticArray<u32>(CONTEXTS);
const ctxRoot = new StaticArray<u32>(CONTEXTS);
const ctxStamp = new StaticArray<u64>(CONTEXTS);
let cur: u32 = NONE;
let stamp: u64 = 0;

const A0: u32 = 10, A1: u32 = 11;

@inline function rd(pa: u64): u64 {
  return load<u64>(ramHost(pa));
}
@inline function wr(pa: u64, v: u64): void {
  store<u64>(ramHost(pa), v);
}
@inline function inGuest(pa: u64): bool {
  return pa - RAM_PHYS < guestEnd - RAM_PHYS;
}
@inline function target(pte: u64): u64 {
  return ((pte >> 10) & 0xfff_ffff_ffff) << 12;
}
@inline function vpn(va: u64, level: u32): u64 {
  return (va >> (12 + 9 * <u64>level)) & 0x1ff;
}
@inline function pagePa(i: u32): u64 {
  return poolBase + (<u64>i << 12);
}
@inline function pageIndex(pa: u64): u32 {
  return <u32>((pa - poolBase) >> 12);
}

export function resetFv(): void {
  fvActive = false;
  fvTechnique = FV_TRAP_AND_EMULATE;
  fvTranslate = false;
  policy = FV_SHADOW_LAZY;
  guestEnd = poolBase = infoBase = 0;
  vpriv = PRV_S;
  vstatus = vie = vssip = vtvec = vscratch = vepc = vcause = vtval = vsatp = vcounteren = venvcfg = 0;
  for (let k: u32 = 0; k < CONTEXTS; k++) unchecked(ctxView[k] = NONE);
  cur = NONE;
  stamp = 0;
  freeCount = 0;
}

// ---- pool pages

function poolReset(): void {
  for (let i: u32 = 0; i < POOL_PAGES; i++) unchecked(freeList[i] = POOL_PAGES - 1 - i);
  freeCount = POOL_PAGES;
  statSet(STAT_FV_SHADOW_PAGES, 0);
}

function allocPage(): u32 {
  if (freeCount == 0) return NONE;
  const i = unchecked(freeList[--freeCount]);
  memory.fill(ramHost(pagePa(i)), 0, <usize>PAGE);
  unchecked(pageSplit[i] = 0);
  statSet(STAT_FV_SHADOW_PAGES, POOL_PAGES - freeCount);
  return i;
}

/** Free shadow page `i`, a table at `level`, and the tables below it (leaves are at level 0 only). */
function freeTree(i: u32, level: u32): void {
  if (level > 0) {
    const h = ramHost(pagePa(i));
    for (let o: u32 = 0; o < 4096; o += 8) {
      const e = load<u64>(h + o);
      if ((e & PTE_V) != 0) freeTree(pageIndex(target(e)), level - 1);
    }
  }
  unchecked(freeList[freeCount++] = i);
  statSet(STAT_FV_SHADOW_PAGES, POOL_PAGES - freeCount);
}

// ---- shadows (contexts)

/** Levels of the shadow for guest satp `satp`: Sv48 for Sv48, else Sv39 (Bare: guest RAM 1:1). */
@inline function levelsOf(satp: u64): u32 {
  return satp >> 60 == SATP_MODE_SV48 ? 4 : 3;
}

function viewNow(): u32 {
  const mxr = (vstatus & MSTATUS_MXR) != 0 ? VIEW_MXR : 0;
  if (vpriv == PRV_U) return VIEW_U | mxr;
  return ((vstatus & MSTATUS_SUM) != 0 ? VIEW_SUM : VIEW_S) | mxr;
}

function dropContext(k: u32): void {
  freeTree(unchecked(ctxRoot[k]), levelsOf(unchecked(ctxSatp[k])) - 1);
  unchecked(ctxView[k] = NONE);
  if (k == cur) cur = NONE;
}

/** Drop every shadow: the pool runs dry, or the guest fenced everything (lazy). */
function resetShadows(): void {
  for (let k: u32 = 0; k < CONTEXTS; k++) unchecked(ctxView[k] = NONE);
  cur = NONE;
  poolReset();
  if (infoBase != 0) memory.fill(ramHost(infoBase), 0, <usize>((guestEnd - RAM_PHYS) >> 12) * <usize>FRAME_BYTES);
  tlbFlushAll();
}

/** Load the shadow for where the guest is now (its satp and view), building an empty one if none is cached. */
function activate(): void {
  const view = viewNow();
  if (cur != NONE && unchecked(ctxSatp[cur]) == vsatp && unchecked(ctxView[cur]) == view) return;
  let found = NONE;
  let victim: u32 = 0;
  let oldest: u64 = 0xffff_ffff_ffff_ffff;
  for (let k: u32 = 0; k < CONTEXTS; k++) {
    const v = unchecked(ctxView[k]);
    if (v == NONE) {
      if (oldest != 0) { victim = k; oldest = 0; }
      continue;
    }
    if (v == view && unchecked(ctxSatp[k]) == vsatp) { found = k; break; }
    if (unchecked(ctxStamp[k]) < oldest) { victim = k; oldest = unchecked(ctxStamp[k]); }
  }
  if (found == NONE) {
    if (unchecked(ctxView[victim]) != NONE) dropContext(victim);
    let root = allocPage();
    if (root == NONE) {
      statAdd(STAT_FV_SHADOW_RESETS);
      resetShadows();
      victim = 0;
      root = allocPage();
    }
    unchecked(ctxSatp[victim] = vsatp);
    unchecked(ctxView[victim] = view);
    unchecked(ctxRoot[victim] = root);
    found = victim;
  }
  cur = found;
  unchecked(ctxStamp[cur] = ++stamp);
  const mode = levelsOf(vsatp) == 4 ? SATP_MODE_SV48 : SATP_MODE_SV39;
  csrRawSet(CSR_SATP, (mode << 60) | (pagePa(unchecked(ctxRoot[cur])) >> 12));
  tlbFlushAll();
}

/**
 * Drop what shadow k holds for `va` at `level` (0: its 4 KiB entry; above: the whole range
 * one guest PTE at that level maps). A table made from one guest superpage goes as a whole.
 * True if more than the 4 KiB page of `va` went.
 */
function zapIn(k: u32, va: u64, level: u32): bool {
  let t = unchecked(ctxRoot[k]);
  const levels = levelsOf(unchecked(ctxSatp[k]));
  if (level >= levels) {
    dropContext(k); // a guest table of a deeper mode than this shadow's: all of it
    return true;
  }
  for (let l = <i32>levels - 1; l > <i32>level; l--) {
    const e = pagePa(t) + (vpn(va, l) << 3);
    const pte = rd(e);
    if ((pte & PTE_V) == 0) return false;
    const child = pageIndex(target(pte));
    if (unchecked(pageSplit[child]) != 0) {
      freeTree(child, l - 1);
      wr(e, 0);
      return true;
    }
    t = child;
  }
  const e = pagePa(t) + (vpn(va, level) << 3);
  const pte = rd(e);
  if ((pte & PTE_V) == 0) return false;
  if (level > 0) freeTree(pageIndex(target(pte)), level - 1);
  wr(e, 0);
  return level > 0;
}

/** Drop the shadow entries for `va` at `level` in every shadow, and from the real TLB. */
function zap(va: u64, level: u32): void {
  let wide = level > 0;
  for (let k: u32 = 0; k < CONTEXTS; k++) {
    if (unchecked(ctxView[k]) != NONE && zapIn(k, va, level)) wide = true;
  }
  if (wide) tlbFlushAll();
  else tlbFlushPage(va);
}

/** Enter a 4 KiB shadow entry va -> pa in the current shadow; false if the pool is dry. */
function install(va: u64, pa: u64, flags: u64, guestLevel: u32): bool {
  let t = unchecked(ctxRoot[cur]);
  for (let l = levelsOf(vsatp) - 1; l > 0; l--) {
    const e = pagePa(t) + (vpn(va, l) << 3);
    const pte = rd(e);
    if ((pte & PTE_V) != 0) {
      t = pageIndex(target(pte));
      continue;
    }
    const n = allocPage();
    if (n == NONE) return false;
    // the table below a guest superpage's level holds pieces of that one superpage
    if (l == guestLevel) unchecked(pageSplit[n] = 1);
    wr(e, (pagePa(n) >> 12 << 10) | PTE_V);
    t = n;
  }
  const e = pagePa(t) + (vpn(va, 0) << 3);
  wr(e, (pa >> 12 << 10) | flags);
  if ((flags & PTE_W) != 0 && infoBase != 0) rmapAdd(pa, e);
  return true;
}

// ---- the trace policy: which guest frames are page tables, and where they are mapped writable
//
// Per guest RAM frame (FRAME_BYTES at infoBase): info u64 = the level it was walked at + 1 in
// bits 2:0 (0: not a page table), bit 3 = walked at more than one place, bits 63:12 = the
// virtual address its first entry maps; then RMAP_SLOTS u32 = shadow entries that map the
// frame writable (pool page << 9 | index, + 1; bit 31 of the last: more than fit).

const INFO_MULTI: u64 = 8;
/** bits 11:4: writes since the last walk through it */
const INFO_WRITES: u64 = 0xff0;
const FLOOD: u64 = 16;
const RMAP_OVERFLOW: u32 = 0x8000_0000;

@inline function infoAt(pa: u64): u64 {
  return infoBase + ((pa - RAM_PHYS) >> 12) * FRAME_BYTES;
}

function isPageTable(pa: u64): bool {
  return infoBase != 0 && (rd(infoAt(pa)) & 7) != 0;
}

function rmapAdd(pa: u64, entry: u64): void {
  const slots = ramHost(infoAt(pa)) + 8;
  const loc = <u32>((entry - poolBase) >> 3) + 1;
  for (let s: u32 = 0; s < RMAP_SLOTS; s++) {
    const v = load<u32>(slots + (s << 2));
    if ((v & ~RMAP_OVERFLOW) == loc) return;
    if (v == 0) { store<u32>(slots + (s << 2), loc); return; }
  }
  const last = slots + ((RMAP_SLOTS - 1) << 2);
  store<u32>(last, load<u32>(last) | RMAP_OVERFLOW);
}

/** Make every shadow entry that maps guest frame `pa` read-only: it became a page table. */
function writeProtect(pa: u64): void {
  const slots = ramHost(infoAt(pa)) + 8;
  const ppn = pa >> 12;
  let overflow = false;
  for (let s: u32 = 0; s < RMAP_SLOTS; s++) {
    const v = load<u32>(slots + (s << 2));
    if ((v & RMAP_OVERFLOW) != 0) overflow = true;
    const loc = v & ~RMAP_OVERFLOW;
    if (loc == 0) continue;
    const e = poolBase + (<u64>(loc - 1) << 3);
    const pte = rd(e);
    // the entry may have been dropped or reused since: only one still mapping this frame
    if ((pte & PTE_V) != 0 && (pte >> 10) == ppn) wr(e, pte & ~PTE_W);
    store<u32>(slots + (s << 2), 0);
  }
  if (overflow) {
    // more writable mappings than the slots hold: look through every leaf table
    for (let k: u32 = 0; k < CONTEXTS; k++) {
      if (unchecked(ctxView[k]) != NONE) protectIn(unchecked(ctxRoot[k]), levelsOf(unchecked(ctxSatp[k])) - 1, ppn);
    }
  }
  tlbFlushAll();
}

function protectIn(t: u32, level: u32, ppn: u64): void {
  const h = ramHost(pagePa(t));
  for (let o: u32 = 0; o < 4096; o += 8) {
    const e = load<u64>(h + o);
    if ((e & PTE_V) == 0) continue;
    if (level > 0) protectIn(pageIndex(target(e)), level - 1, ppn);
    else if ((e >> 10) == ppn) store<u64>(h + o, e & ~PTE_W);
  }
}

/**
 * A guest walk read the table at `table` (level `level`) for `va`: trace its writes. The range
 * it maps is kept without the VA's sign bits (a root maps both halves from 0), sext() restores them.
 */
function track(table: u64, level: u32, va: u64): void {
  const a = ramHost(infoAt(table));
  const info = load<u64>(a);
  const span: u64 = 12 + 9 * (<u64>level + 1);
  const base = (va >> span << span) & ((<u64>1 << vaBits()) - 1);
  if ((info & 7) == 0) {
    store<u64>(a, (base & ~<u64>0xfff) | (<u64>level + 1));
    writeProtect(table);
  } else if ((info & 7) != <u64>level + 1 || (info & ~<u64>0xfff) != (base & ~<u64>0xfff)) {
    store<u64>(a, (info & ~INFO_WRITES) | INFO_MULTI);
  } else if ((info & INFO_WRITES) != 0) {
    store<u64>(a, info & ~INFO_WRITES); // walked again: still a page table
  }
}

/** The guest's virtual-address width: 39 bits (Sv39), 48 (Sv48). */
function vaBits(): u64 {
  return 12 + 9 * <u64>levelsOf(vsatp);
}
/** A virtual address of that width, its top bit copied above it (4.3.1). */
function sext(va: u64): u64 {
  const shift = 64 - vaBits();
  return <u64>(<i64>(va << shift) >> shift);
}

// ---- the guest's page tables, walked as its hart would (4.3.2)

let gwPa: u64 = 0;
let gwPte: u64 = 0;
let gwLevel: u32 = 0;
let gwCause: u32 = 0;

function pageFaultOf(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_PAGE_FAULT : access == ACCESS_READ ? CAUSE_LOAD_PAGE_FAULT : CAUSE_STORE_PAGE_FAULT;
}
function accessFaultOf(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_ACCESS : access == ACCESS_READ ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;
}

/** Translate `va` for `access` in the guest's current mode; false with gwCause if the guest faults. */
function guestWalk(va: u64, access: u32): bool {
  const mode = vsatp >> 60;
  if (mode == SATP_MODE_BARE) {
    gwPa = va;
    gwPte = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | (vpriv == PRV_U ? PTE_U : 0);
    gwLevel = 0;
    return true;
  }
  const levels: u32 = mode == SATP_MODE_SV48 ? 4 : 3;
  gwCause = pageFaultOf(access);
  // bits above the VA width must copy its top bit (4.3.1, 4.4.1)
  const top = <i64>va >> (12 + 9 * <i64>levels - 1);
  if (top != 0 && top != -1) return false;
  let table = (vsatp & SATP_PPN_MASK) << 12;
  for (let level = <i32>levels - 1; level >= 0; level--) {
    const p = table + (vpn(va, level) << 3);
    if (!inGuest(p)) { gwCause = accessFaultOf(access); return false; }
    if (policy == FV_SHADOW_TRACE) track(table, level, va);
    let pte = rd(p);
    if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0) || (pte & PTE_RESERVED) != 0) return false;
    if ((pte & (PTE_R | PTE_X)) == 0) {
      if (level == 0 || (pte & (PTE_U | PTE_A | PTE_D)) != 0) return false;
      table = target(pte);
      continue;
    }
    // a leaf: permissions for the guest's privilege, SUM and MXR (4.3.1)
    if (vpriv == PRV_U) {
      if ((pte & PTE_U) == 0) return false;
    } else if ((pte & PTE_U) != 0 && (access == ACCESS_EXEC || (vstatus & MSTATUS_SUM) == 0)) {
      return false;
    }
    if (access == ACCESS_EXEC && (pte & PTE_X) == 0) return false;
    if (access == ACCESS_READ && (pte & PTE_R) == 0 && ((vstatus & MSTATUS_MXR) == 0 || (pte & PTE_X) == 0)) return false;
    if (access == ACCESS_WRITE && (pte & PTE_W) == 0) return false;
    const span = <u64>1 << (12 + 9 * <u64>level);
    const pa = target(pte);
    if ((pa & (span - 1)) != 0) return false; // a misaligned superpage
    // A and D as the hart keeps them: A on any access, D on a write
    const need = PTE_A | (access == ACCESS_WRITE ? PTE_D : 0);
    if ((pte & need) != need) {
      pte |= need;
      wr(p, pte);
      invalidateCode(p, 8);
    }
    gwPa = pa | (va & (span - 1));
    gwPte = pte;
    gwLevel = <u32>level;
    return true;
  }
  return false;
}

/** The shadow entry's bits for guest leaf `pte` in the current view (the real hart is in U-mode). */
function shadowFlags(pte: u64, pa: u64): u64 {
  let r = pte & PTE_R, w = pte & PTE_W, x = pte & PTE_X;
  if ((vstatus & MSTATUS_MXR) != 0 && x != 0) r = PTE_R;
  // the S views: a U=1 page is data only (and only with SUM, which the walk checked)
  if (vpriv == PRV_S && (pte & PTE_U) != 0) x = 0;
  // writable once the guest's D is set; never a page table under the trace policy
  if ((pte & PTE_D) == 0 || (policy == FV_SHADOW_TRACE && isPageTable(pa))) w = 0;
  return PTE_V | PTE_U | PTE_A | PTE_D | r | w | x;
}

// ---- traps

/** Every trap the hart takes while fvActive (hart/trap.ts): returns where the guest goes on. */
export function fvTrap(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  statAdd(STAT_FV_TRAPS);
  if (isInterrupt) return resume(pc);
  switch (cause) {
    case CAUSE_ILLEGAL_INSTRUCTION:
      if (vpriv == PRV_S) {
        // the emulated instruction retires, as it would have on the guest's hart (its instret)
        emulated = false;
        const next = emulate(pc, <u32>tval);
        if (emulated) retire();
        return next;
      }
      break;
    case CAUSE_USER_ECALL:
      // an ECALL of the guest kernel is its SBI call; one of its processes' is a system call
      if (vpriv == PRV_S) {
        retire();
        return sbiCall(pc);
      }
      break;
    case CAUSE_FETCH_PAGE_FAULT:
      return pageFault(pc, ACCESS_EXEC, tval);
    case CAUSE_LOAD_PAGE_FAULT:
      return pageFault(pc, ACCESS_READ, tval);
    case CAUSE_STORE_PAGE_FAULT:
      return pageFault(pc, ACCESS_WRITE, tval);
  }
  return reflect(pc, <u64>cause, tval);
}

/**
 * Binary translation: a sensitive instruction of guest-kernel code, rewritten into a call of
 * the VMM (hart/execute.ts, OP_FV_CALL). In the guest's U-mode it does what the hardware does.
 */
export function fvCall(pc: u64, insn: u32): u64 {
  if (vpriv != PRV_S) return reflect(pc, insn == ECALL ? CAUSE_USER_ECALL : CAUSE_ILLEGAL_INSTRUCTION, insn == ECALL ? 0 : <u64>insn);
  if (insn == ECALL) return sbiCall(pc);
  return emulate(pc, insn);
}

// ---- binary translation (VMware's technique): guest-kernel code is translated before it
// runs. wasmvisor's translation cache is its decoded-instruction cache (hart/icache.ts: one
// slot per instruction, dropped when the code is written), so translating a block means
// decoding it, from the instruction about to run to the next jump, branch or sensitive
// instruction, and rewriting each sensitive instruction as OP_FV_CALL: a direct call of
// fvCall() instead of a trap. The JIT compiles around them (they are not compilable).

/** Translate the block starting at decoded `slot` (for `pc`, in the fetch path's page). */
export function fvTranslateBlock(slot: u32, pc: u64): void {
  if (slot == SCRATCH_SLOT) { fvRewrite(slot); return; } // an instruction that crosses pages
  statAdd(STAT_FV_BT_BLOCKS);
  for (;;) {
    fvRewrite(slot);
    if (endsBlock(<u32>load<u16>(slot, SLOT_OP))) return;
    const len = <u64>load<u8>(slot, SLOT_LEN);
    pc += len;
    slot += <u32>len << 3; // a slot per halfword
    const off = <u32>pc & 0xfff;
    // the page ends, or the next instruction is translated already (another block's)
    if (off == 0 || off == 0xffe || load<u16>(slot, SLOT_OP) != 0) return;
    decodeAt(slot, pc);
  }
}

/** Rewrite the decoded instruction in `slot` if it is sensitive. */
export function fvRewrite(slot: u32): void {
  if (load<u8>(slot, SLOT_LEN) != 4 || !fvSensitive(load<u32>(slot, SLOT_RAW))) return;
  store<u16>(slot, OP_FV_CALL, SLOT_OP);
  statAdd(STAT_FV_BT_REWRITTEN);
}

function endsBlock(op: u32): bool {
  switch (op) {
    case O.OP_JAL: case O.OP_JALR: case O.OP_BEQ: case O.OP_BNE: case O.OP_BLT: case O.OP_BGE:
    case O.OP_BLTU: case O.OP_BGEU: case O.OP_EBREAK: case O.OP_MRET: case OP_FV_CALL: case OP_ILLEGAL_SLOT:
      return true;
  }
  return false;
}

const ECALL: u32 = 0x0000_0073;
const SRET: u32 = 0x1020_0073;
const WFI: u32 = 0x1050_0073;
const SFENCE_VMA_MASK: u32 = 0xfe00_7fff;
const SFENCE_VMA: u32 = 0x1200_0073;

/** Is `insn` one the guest kernel may execute but U-mode may not (so it traps, or is rewritten)? */
export function fvSensitive(insn: u32): bool {
  if ((insn & 0x7f) != 0x73) return false;
  const f3 = (insn >> 12) & 7;
  if (f3 != 0) return f3 != 4 && isGuestCsr(insn >> 20);
  return insn == ECALL || insn == SRET || insn == WFI || (insn & SFENCE_VMA_MASK) == SFENCE_VMA;
}

/** emulate() did the instruction (rather than reflect it as illegal). */
let emulated: bool = false;

/** A privileged instruction of the guest kernel: emulate it on the virtual hart. */
function emulate(pc: u64, insn: u32): u64 {
  if ((insn & 0x7f) == 0x73) {
    const f3 = (insn >> 12) & 7;
    if (f3 != 0 && f3 != 4) {
      if (isGuestCsr(insn >> 20)) return csrInsn(pc, insn);
    } else if (insn == SRET) {
      countEmulated();
      return sret();
    } else if (insn == WFI) {
      countEmulated();
      return wfi(pc);
    } else if ((insn & SFENCE_VMA_MASK) == SFENCE_VMA) {
      countEmulated();
      sfenceVma((insn >> 15) & 31, (insn >> 20) & 31);
      return resume(pc + 4);
    }
  }
  // anything else is illegal in S-mode too (MRET, M-mode CSRs, H instructions...)
  return reflect(pc, CAUSE_ILLEGAL_INSTRUCTION, <u64>insn);
}

function countEmulated(): void {
  statAdd(STAT_FV_EMULATED);
  emulated = true;
}

function isGuestCsr(num: u32): bool {
  switch (num) {
    case CSR_SSTATUS: case CSR_SIE: case CSR_STVEC: case CSR_SCOUNTEREN: case CSR_SENVCFG:
    case CSR_SSCRATCH: case CSR_SEPC: case CSR_SCAUSE: case CSR_STVAL: case CSR_SIP: case CSR_SATP:
      return true;
  }
  return false;
}

function vsip(): u64 {
  return (mipValue() & (MIP_STIP | MIP_SEIP)) | vssip;
}

function readCsr(num: u32): u64 {
  switch (num) {
    case CSR_SSTATUS: {
      const fs = csrRaw(CSR_MSTATUS) & MSTATUS_FS;
      return vstatus | fs | UXL_64 | (fs == FS_DIRTY ? MSTATUS_SD : 0);
    }
    case CSR_SIE: return vie;
    case CSR_STVEC: return vtvec;
    case CSR_SCOUNTEREN: return vcounteren;
    case CSR_SENVCFG: return venvcfg;
    case CSR_SSCRATCH: return vscratch;
    case CSR_SEPC: return vepc;
    case CSR_SCAUSE: return vcause;
    case CSR_STVAL: return vtval;
    case CSR_SIP: return vsip();
    default: return vsatp; // CSR_SATP
  }
}

function writeCsr(num: u32, v: u64): void {
  switch (num) {
    case CSR_SSTATUS: {
      const view = viewNow();
      vstatus = v & VSTATUS_MASK;
      csrRawSet(CSR_MSTATUS, (csrRaw(CSR_MSTATUS) & ~MSTATUS_FS) | (v & MSTATUS_FS));
      if (viewNow() != view) activate(); // SUM or MXR changed what the guest may reach
      break;
    }
    case CSR_SIE: vie = v & VIE_MASK; break;
    // the WARL rules of the hart's own registers (csr.ts)
    case CSR_STVEC: if (tvecWritable(v)) vtvec = v; break;
    case CSR_SCOUNTEREN: vcounteren = v & SCOUNTEREN_WRITABLE; break;
    case CSR_SENVCFG: venvcfg = v & SENVCFG_WRITABLE; break;
    case CSR_SSCRATCH: vscratch = v; break;
    case CSR_SEPC: vepc = epcValue(v); break;
    case CSR_SCAUSE: vcause = v; break;
    case CSR_STVAL: vtval = v; break;
    case CSR_SIP: vssip = v & MIP_SSIP; break;
    default: {
      // satp (4.1.11): Bare, Sv39 or Sv48, else the write is ignored
      const mode = v >> 60;
      if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48) break;
      vsatp = mode == SATP_MODE_BARE ? 0 : v & ((<u64>0xf << 60) | (SATP_ASID_MASK << SATP_ASID_SHIFT) | SATP_PPN_MASK);
      activate();
    }
  }
}

/** CSRRW/S/C and their immediate forms (Zicsr) on the guest's S-mode CSRs. */
function csrInsn(pc: u64, insn: u32): u64 {
  countEmulated();
  const f3 = (insn >> 12) & 7, rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31, num = insn >> 20;
  const operand: u64 = f3 >= 5 ? <u64>rs1 : getX(rs1);
  const op = f3 & 3; // 1 write, 2 set, 3 clear
  const old = readCsr(num);
  if (op == 1 || rs1 != 0) writeCsr(num, op == 1 ? operand : op == 2 ? old | operand : old & ~operand);
  if (rd != 0) setX(rd, old);
  return resume(pc + 4);
}

/** SRET (3.3.2): vpriv <- SPP, SIE <- SPIE, SPIE <- 1, SPP <- U. */
function sret(): u64 {
  vpriv = (vstatus & MSTATUS_SPP) != 0 ? PRV_S : PRV_U;
  vstatus = (vstatus & ~(MSTATUS_SIE | MSTATUS_SPP)) | ((vstatus & MSTATUS_SPIE) != 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
  privChanged();
  return resume(vepc);
}

/** WFI (3.3.3): wait until an interrupt the guest enabled in sie is pending, whatever SIE says. */
function wfi(pc: u64): u64 {
  if ((vsip() & vie) == 0) {
    csrRawSet(CSR_MIE, vie & (MIP_STIP | MIP_SEIP)); // what wakes the real hart; resume() narrows it again
    startWfi();
    return pc + 4;
  }
  return resume(pc + 4);
}

/** SFENCE.VMA (4.2.1), lazy: the shadow entries it names go; the next access rebuilds them. */
function sfenceVma(rs1: u32, rs2: u32): void {
  if (policy != FV_SHADOW_LAZY) return; // traced shadows are never stale
  statAdd(STAT_FV_SYNCS);
  if (rs1 != 0) {
    zap(getX(rs1), 0);
  } else if (rs2 != 0) {
    const asid = getX(rs2) & SATP_ASID_MASK;
    for (let k: u32 = 0; k < CONTEXTS; k++) {
      const s = unchecked(ctxSatp[k]);
      if (unchecked(ctxView[k]) != NONE && s >> 60 != SATP_MODE_BARE && ((s >> SATP_ASID_SHIFT) & SATP_ASID_MASK) == asid) dropContext(k);
    }
    tlbFlushAll();
  } else {
    resetShadows();
  }
  activate();
}

/** SBI remote fences (the guest's only hart is this one): as SFENCE.VMA of everything. */
export function fvRemoteFence(): void {
  sfenceVma(0, 0);
}

/** SBI IPIs to itself: sip.SSIP. */
export function fvSetSoftIrq(on: bool): void {
  vssip = on ? MIP_SSIP : 0;
}

function sbiCall(pc: u64): u64 {
  statAdd(STAT_FV_SBI);
  sbiFullGuestCall(guestEnd);
  updateTimerIrqs(); // set_timer may have lowered STIP
  return resume(pc + 4);
}

/** After vpriv changed: the shadow view, what the guest's processes may count, interrupts. */
function privChanged(): void {
  csrRawSet(CSR_SCOUNTEREN, vpriv == PRV_U ? vcounteren & 7 : 7);
  fvTranslate = fvTechnique == FV_BINARY_TRANSLATION && vpriv == PRV_S;
  activate();
}

/**
 * Go on at `pc`, unless a virtual interrupt is pending that the guest takes now (in U-mode, or
 * in S-mode with SIE: 3.1.6.1): then it is delivered first. The real mie lets through only the
 * interrupts the guest would take, so a pending one it masks does not trap again and again.
 */
function resume(pc: u64): u64 {
  const on = vpriv == PRV_U || (vstatus & MSTATUS_SIE) != 0;
  csrRawSet(CSR_MIE, on ? vie & (MIP_STIP | MIP_SEIP) : 0);
  const pending = vsip() & vie;
  if (!on || pending == 0) return pc;
  // priority (3.1.9): SEI, SSI, STI
  const cause = (pending & MIP_SEIP) != 0 ? IRQ_S_EXT : (pending & MIP_SSIP) != 0 ? IRQ_S_SOFT : IRQ_S_TIMER;
  statAdd(STAT_FV_INJECTED);
  return enterGuestTrap(pc, INTERRUPT | <u64>cause, 0);
}

/** Deliver an exception to the guest kernel (4.1.1: scause, sepc, stval, SPP, SPIE, SIE). */
function reflect(pc: u64, cause: u64, tval: u64): u64 {
  statAdd(STAT_FV_REFLECTED);
  return enterGuestTrap(pc, cause, tval);
}

function enterGuestTrap(pc: u64, cause: u64, tval: u64): u64 {
  vcause = cause;
  vepc = pc;
  vtval = tval;
  vstatus = (vstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) |
    (vpriv == PRV_S ? MSTATUS_SPP : 0) | ((vstatus & MSTATUS_SIE) != 0 ? MSTATUS_SPIE : 0);
  vpriv = PRV_S;
  privChanged();
  csrRawSet(CSR_MIE, 0); // SIE is 0 now
  const base = vtvec & ~<u64>3;
  // vectored mode (4.1.2): interrupts go to base + 4 * cause
  return (cause & INTERRUPT) != 0 && (vtvec & 3) == 1 ? base + ((cause & 0xff) << 2) : base;
}

/**
 * A page fault of the real hart: the shadow lacks the entry (a hidden fault, filled from the
 * guest's tables), the guest's own tables forbid the access (a true fault, reflected), the
 * page is a device's (emulated), or, under trace, a write to one of the guest's page tables.
 */
function pageFault(pc: u64, access: u32, va: u64): u64 {
  // the load or store, as a transformed instruction, while the fetch path still has its page
  // (the walk may flush it): emulating a device access or a page-table write needs it
  const insn = access == ACCESS_EXEC ? 0 : <u32>transformedInsn(pc, va);
  if (!guestWalk(va, access)) {
    statAdd(STAT_FV_GUEST_FAULTS);
    return reflect(pc, <u64>gwCause, va);
  }
  const pa = gwPa;
  if (!inGuest(pa)) {
    if (access == ACCESS_EXEC || pa - RAM_PHYS < ramSize) return reflect(pc, <u64>accessFaultOf(access), va);
    return mmio(pc, insn, access, va, pa);
  }
  if (access == ACCESS_WRITE && policy == FV_SHADOW_TRACE && isPageTable(pa)) return ptWrite(pc, insn, pa);
  statAdd(STAT_FV_HIDDEN);
  const flags = shadowFlags(gwPte, pa);
  if (!install(va, pa, flags, gwLevel)) {
    statAdd(STAT_FV_SHADOW_RESETS);
    resetShadows();
    activate();
    install(va, pa, flags, gwLevel);
  }
  tlbFlushPage(va);
  return pc;
}

/** A load or store of the guest to a device's page: done with the device models. */
function mmio(pc: u64, insn: u32, access: u32, va: u64, pa: u64): u64 {
  const opc = (insn & 0x7f) | 2;
  const load = opc == 0x03 || opc == 0x07;
  const store = opc == 0x23 || opc == 0x27;
  // an AMO, no instruction found, or an access that crosses into the device's page (the rs1
  // field of the transformed instruction): an access fault, as a device that cannot do it gives
  if ((access == ACCESS_READ ? !load : !store) || ((insn >> 15) & 31) != 0) return reflect(pc, <u64>accessFaultOf(access), va);
  if (load) {
    const v = busRead(pa, tinstSize(insn));
    if (!busOk) return reflect(pc, <u64>accessFaultOf(access), va);
    tinstLoadResult(insn, v);
  } else {
    busWrite(pa, tinstSize(insn), tinstStoreValue(insn));
    if (!busOk) return reflect(pc, <u64>accessFaultOf(access), va);
  }
  statAdd(STAT_FV_MMIO);
  return pc + tinstLen(insn);
}

/**
 * Trace: the guest writes one of its page tables (write-protected in every shadow). The store
 * is emulated, and the shadow entries made from the PTE it changed are dropped. A page that
 * keeps being written without being walked (FLOOD writes) has most likely stopped being a
 * page table: it is unprotected, as is one written by an instruction the VMM does not emulate.
 */
function ptWrite(pc: u64, insn: u32, pa: u64): u64 {
  const opc = (insn & 0x7f) | 2;
  let size: u32 = 0;
  let next: u64 = 0;
  // the rs1 field: how far into the access the fault is (nonzero: one that crosses into this page)
  const whole = ((insn >> 15) & 31) == 0;
  if (opc == 0x23 || opc == 0x27) {
    size = tinstSize(insn);
    if (whole && (pa & (<u64>size - 1)) == 0) {
      const v = tinstStoreValue(insn);
      const h = ramHost(pa);
      if (size == 8) store<u64>(h, v);
      else if (size == 4) store<u32>(h, <u32>v);
      else if (size == 2) store<u16>(h, <u16>v);
      else store<u8>(h, <u8>v);
      next = pc + tinstLen(insn);
    }
  } else if (opc == 0x2f && whole && insn != 0) {
    size = ((insn >> 12) & 7) == 3 ? 8 : 4;
    if (amo(insn, pa, size)) next = pc + 4;
  }
  if (next == 0) {
    unprotect(pa); // the guest's own store runs again, on a writable entry
    return pc;
  }
  statAdd(STAT_FV_PT_WRITES);
  invalidateCode(pa, size);
  // the PTE's index in its table, and the table's level and place, say what it maps
  const a = infoAt(pa);
  const info = rd(a);
  if ((info & INFO_MULTI) != 0) {
    resetShadows();
  } else {
    const level = <u32>(info & 7) - 1;
    zap(sext((info & ~<u64>0xfff) + (((pa & 0xfff) >> 3) << (12 + 9 * <u64>level))), level);
    if (((info & INFO_WRITES) >> 4) + 1 >= FLOOD) unprotect(pa);
    else wr(a, info + (1 << 4));
  }
  activate();
  return next;
}

/** Stop tracing frame `pa`: drop every shadow entry made from it, forget it was a table. */
function unprotect(pa: u64): void {
  const a = infoAt(pa);
  const info = rd(a);
  wr(a, 0);
  const level = <u32>(info & 7) - 1;
  // the entry linking it, one level up, goes with everything below it (a root: all of it)
  if ((info & INFO_MULTI) != 0 || level + 1 >= levelsOf(vsatp)) resetShadows();
  else zap(sext(info & ~<u64>0xfff), level + 1);
  activate();
}

/** An AMO (A extension) on a page-table entry at guest physical `pa`; false if it is not one. */
function amo(insn: u32, pa: u64, size: u32): bool {
  if ((pa & (<u64>size - 1)) != 0) return false;
  const f5 = insn >> 27, rd = (insn >> 7) & 31;
  const h = ramHost(pa);
  const src = getX((insn >> 20) & 31);
  const old: u64 = size == 8 ? load<u64>(h) : <u64><i64><i32>load<u32>(h);
  let v: u64;
  switch (f5) {
    case 0x01: v = src; break; // amoswap
    case 0x00: v = old + src; break; // amoadd
    case 0x04: v = old ^ src; break; // amoxor
    case 0x0c: v = old & src; break; // amoand
    case 0x08: v = old | src; break; // amoor
    default: return false; // min/max, LR/SC: not how page tables are updated
  }
  if (size == 8) store<u64>(h, v);
  else store<u32>(h, <u32>v);
  if (rd != 0) setX(rd, old);
  return true;
}

/**
 * Start an unmodified guest kernel at `entry` in its S-mode with paging off, a0 = 0 (hartid),
 * a1 = `dtb`, as SBI firmware leaves it. Guest RAM is [RAM_PHYS, RAM_PHYS + guestBytes); the
 * VMM keeps fvVmmBytes(guestBytes) above it. False if the sizes do not allow it.
 */
export function fvBoot(entry: u64, dtb: u64, guestBytes: u64, technique: u32, shadowPolicy: u32): bool {
  if (guestBytes == 0 || (guestBytes & (PAGE - 1)) != 0 || guestBytes + fvVmmBytes(guestBytes) > ramSize) return false;
  if (technique > FV_BINARY_TRANSLATION || shadowPolicy > FV_SHADOW_TRACE) return false;
  resetFv();
  sbiEnableHost();
  fvTechnique = technique;
  policy = shadowPolicy;
  guestEnd = RAM_PHYS + guestBytes;
  poolBase = guestEnd;
  infoBase = policy == FV_SHADOW_TRACE ? poolBase + POOL_BYTES : 0;
  resetShadows(); // an empty pool, no frame known to be a page table
  // every trap and interrupt comes to the VMM; the guest's timer is the host's S-timer (sbi.ts)
  deprivilege(guestEnd); // the shadow tables are in the VMM's RAM
  csrRawSet(CSR_MSTATUS, csrRaw(CSR_MSTATUS) & ~MSTATUS_FS); // the guest's FPU starts Off
  fvActive = true;
  vpriv = PRV_S;
  privChanged();
  resume(entry);
  setX(A0, 0);
  setX(A1, dtb);
  store<u64>(PC_ADDR, entry);
  return true;
}
