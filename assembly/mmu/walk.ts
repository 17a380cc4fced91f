// Virtual-to-physical translation (privileged spec 4.3.2 and 4.4/4.5: Sv39, Sv48).
// One walk function parameterized by the stage's root, level count and root widening; the
// H extension's G-stage (Sv39x4/Sv48x4) adds a second call of it for each PTE address and
// for the result.
//
// A and D bits are updated by the walk itself, as QEMU does (the Svadu behaviour), so the
// differential tests agree with it.
import {
  csrRaw, raise, raiseGuest, PRV_M, PRV_S, PRV_U, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC,
  MSTATUS_MXR, MSTATUS_SUM, CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
  CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT,
  CAUSE_FETCH_GUEST_PAGE_FAULT, CAUSE_LOAD_GUEST_PAGE_FAULT, CAUSE_STORE_GUEST_PAGE_FAULT,
} from '../hart/state';
import { CSR_MSTATUS, CSR_SATP, CSR_VSATP, CSR_HGATP, CSR_VSSTATUS } from '../hart/opcodes.gen';
import { pmpCheck } from './pmp';
import { RAM_BASE, RAM_PHYS } from '../memmap';
import { ramSize } from './ram';
import { tlbNoteSuperpage } from './tlb';

// PTE fields (4.3.1)
export const PTE_V: u64 = 1 << 0;
export const PTE_R: u64 = 1 << 1;
export const PTE_W: u64 = 1 << 2;
export const PTE_X: u64 = 1 << 3;
export const PTE_U: u64 = 1 << 4;
export const PTE_G: u64 = 1 << 5;
export const PTE_A: u64 = 1 << 6;
export const PTE_D: u64 = 1 << 7;
/** Bits 63:54: reserved, Svpbmt's PBMT and Svnapot's N, none of which this hart has. */
export const PTE_RESERVED: u64 = <u64>0x3ff << 54;
const PTE_PPN_MASK: u64 = 0x3f_ffff_ffff_ffff >> 10 << 10; // bits 53:10

// satp.MODE (4.1.11)
export const SATP_MODE_BARE: u64 = 0;
export const SATP_MODE_SV39: u64 = 8;
export const SATP_MODE_SV48: u64 = 9;

export let pageWalks: u64 = 0;
export let walkRefs: u64 = 0;
/** Translations with V=1 (H extension: VS-stage over G-stage) and their PTE references. */
export let walks2d: u64 = 0;
export let walkRefs2d: u64 = 0;

export function accessFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_ACCESS : access == ACCESS_READ ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;
}

export function pageFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_PAGE_FAULT : access == ACCESS_READ ? CAUSE_LOAD_PAGE_FAULT : CAUSE_STORE_PAGE_FAULT;
}

function guestPageFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_GUEST_PAGE_FAULT : access == ACCESS_READ ? CAUSE_LOAD_GUEST_PAGE_FAULT : CAUSE_STORE_GUEST_PAGE_FAULT;
}

@inline export function isRam(pa: u64): bool {
  return pa - RAM_PHYS < ramSize;
}

@inline export function ramHost(pa: u64): u32 {
  return <u32>(pa - RAM_PHYS) + RAM_BASE;
}

// The stages one walk() call does (H chapter, "Two-Stage Address Translation")
/** satp's translation (V=0): the only stage. */
const STAGE_S: u32 = 0;
/** vsatp's translation (V=1): its PTE addresses are guest physical, each one G-stage translated. */
const STAGE_VS: u32 = 1;
/** hgatp's translation (V=1): guest physical to physical, every access as if from U-mode. */
const STAGE_G: u32 = 2;

// Why the last walk() failed
const WALK_OK: u32 = 0;
const WALK_PAGE_FAULT: u32 = 1;
const WALK_ACCESS_FAULT: u32 = 2;
/** The G-stage refused an implicit access of the VS-stage walk (a PTE read or A/D update). */
const WALK_GUEST_PTE_FAULT: u32 = 3;
let walkFault: u32 = WALK_OK;
/** For WALK_GUEST_PTE_FAULT: the PTE's guest physical address, and whether it was the A/D write. */
let walkFaultGpa: u64 = 0;
let walkFaultWrite: bool = false;

/**
 * HLVX.HU/WU (H chapter): the load needs execute permission, not read permission, in both
 * stages (set around the access by hart/execute.ts).
 */
export let readNeedsExec: bool = false;
export function setReadNeedsExec(on: bool): void {
  readNeedsExec = on;
}

// htinst/mtinst pseudo-instructions for a guest-page fault on an implicit access of the
// VS-stage walk (H chapter, "Transformed Instruction or Pseudoinstruction for mtinst or htinst")
const PSEUDO_PTE_READ: u64 = 0x3000;
const PSEUDO_PTE_WRITE: u64 = 0x3020;

/**
 * Translate `va` for an access at effective privilege `p`, with V = `v` (two stages).
 * Returns the physical address, or raises the page, guest-page or access fault and returns
 * 0 (check trapPending). `tinst`: what htinst/mtinst gets on a guest-page fault of the
 * access itself (the transformed instruction, or 0).
 */
export function translate(va: u64, access: u32, p: u32, v: bool, tinst: u64 = 0): u64 {
  if (p == PRV_M) return va;
  if (v) return translateVirt(va, access, p, tinst);
  const satp = csrRaw(CSR_SATP);
  const mode = satp >> 60;
  if (mode == SATP_MODE_BARE) return va;
  pageWalks++;
  const mxr = (csrRaw(CSR_MSTATUS) & MSTATUS_MXR) != 0;
  const sum = (csrRaw(CSR_MSTATUS) & MSTATUS_SUM) != 0;
  const pa = walk(va, access, p, (satp & 0xfff_ffff_ffff) << 12, mode == SATP_MODE_SV48 ? 4 : 3, 0, STAGE_S, mxr, sum);
  if (walkFault != WALK_OK) raise(walkFault == WALK_PAGE_FAULT ? pageFaultCause(access) : accessFaultCause(access), va);
  return pa;
}

/** V=1: the VS-stage (vsatp) then the G-stage (hgatp). */
function translateVirt(va: u64, access: u32, p: u32, tinst: u64): u64 {
  const vsatp = csrRaw(CSR_VSATP);
  const hgatp = csrRaw(CSR_HGATP);
  const vsMode = vsatp >> 60;
  if (vsMode == SATP_MODE_BARE && hgatp >> 60 == SATP_MODE_BARE) return va;
  const refs0 = walkRefs;
  pageWalks++;
  walks2d++;
  const ms = csrRaw(CSR_MSTATUS);
  const vs = csrRaw(CSR_VSSTATUS);
  let gpa = va;
  if (vsMode != SATP_MODE_BARE) {
    // VS-stage: vsstatus.MXR or mstatus.MXR, vsstatus.SUM
    const mxr = ((ms | vs) & MSTATUS_MXR) != 0;
    gpa = walk(va, access, p, (vsatp & 0xfff_ffff_ffff) << 12, vsMode == SATP_MODE_SV48 ? 4 : 3, 0, STAGE_VS,
      mxr, (vs & MSTATUS_SUM) != 0);
    if (walkFault != WALK_OK) {
      walkRefs2d += walkRefs - refs0;
      if (walkFault == WALK_PAGE_FAULT) raise(pageFaultCause(access), va);
      else if (walkFault == WALK_ACCESS_FAULT) raise(accessFaultCause(access), va);
      // reported as the original access's guest-page fault, with a pseudo-instruction
      else raiseGuest(guestPageFaultCause(access), va, walkFaultGpa, walkFaultWrite ? PSEUDO_PTE_WRITE : PSEUDO_PTE_READ);
      return 0;
    }
  }
  const pa = gStage(gpa, access, (ms & MSTATUS_MXR) != 0);
  walkRefs2d += walkRefs - refs0;
  if (walkFault == WALK_PAGE_FAULT) raiseGuest(guestPageFaultCause(access), va, gpa, tinst);
  else if (walkFault == WALK_ACCESS_FAULT) raise(accessFaultCause(access), va);
  return pa;
}

/** G-stage translation of a guest physical address (hgatp: Bare, Sv39x4, Sv48x4). */
function gStage(gpa: u64, access: u32, mxr: bool): u64 {
  const hgatp = csrRaw(CSR_HGATP);
  const mode = hgatp >> 60;
  walkFault = WALK_OK;
  if (mode == SATP_MODE_BARE) return gpa;
  // the root table is 16 KiB: 2 more index bits; bits above the GPA width must be zero
  const levels: i32 = mode == SATP_MODE_SV48 ? 4 : 3;
  if (gpa >> (12 + 9 * <u64>levels + 2) != 0) {
    walkFault = WALK_PAGE_FAULT;
    return 0;
  }
  return walk(gpa, access, PRV_U, (hgatp & 0xfff_ffff_ffff) << 12, levels, 2, STAGE_G, mxr, false);
}

/**
 * One translation stage: walk the tree at `root` with `levels` levels of 9 bits. `extraBits`
 * widens the root level (0 for Sv39/Sv48; 2 for the G-stage's Sv39x4/Sv48x4, whose root table
 * is 16 KiB). Sets walkFault and returns 0 on a fault.
 */
function walk(va: u64, access: u32, p: u32, root: u64, levels: i32, extraBits: u64, stage: u32, mxr: bool, sum: bool): u64 {
  walkFault = WALK_OK;
  if (stage != STAGE_G) {
    // bits 63..vaBits must all equal bit vaBits-1 (4.3.2: otherwise a page fault)
    const vaBits: u64 = 12 + 9 * <u64>levels;
    const high = <i64>va >> (vaBits - 1);
    if (high != 0 && high != -1) {
      walkFault = WALK_PAGE_FAULT;
      return 0;
    }
  }
  const exec = access == ACCESS_EXEC || (access == ACCESS_READ && readNeedsExec);
  let a: u64 = root;
  for (let i: i32 = levels - 1; i >= 0; i--) {
    const idxMask: u64 = i == levels - 1 ? (<u64>0x200 << extraBits) - 1 : 0x1ff;
    const pteAddr = a + (((va >> (12 + 9 * <u64>i)) & idxMask) << 3);
    // the VS-stage's tables are in guest physical memory: the G-stage translates each read
    let ptePa = pteAddr;
    if (stage == STAGE_VS) {
      // an implicit load: HLVX's execute-instead-of-read check is for the final access only
      // (H chapter, "Two-Stage Address Translation": VS-stage table accesses are checked as loads)
      const hlvx = readNeedsExec;
      readNeedsExec = false;
      ptePa = gStage(pteAddr, ACCESS_READ, false);
      readNeedsExec = hlvx;
      if (walkFault != WALK_OK) return ptFault(pteAddr, false);
    }
    walkRefs++;
    if (!isRam(ptePa) || !pmpCheck(ptePa, 8, ACCESS_READ, PRV_S)) {
      walkFault = WALK_ACCESS_FAULT;
      return 0;
    }
    const host = ramHost(ptePa);
    let pte = load<u64>(host);
    if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0) || (pte & PTE_RESERVED) != 0) break;
    const ppn = (pte & PTE_PPN_MASK) >> 10;
    if ((pte & (PTE_R | PTE_X)) == 0) {
      // pointer to the next level; at the last level this is a fault
      if ((pte & (PTE_A | PTE_D | PTE_U)) != 0) break; // 4.3.1: reserved for non-leaf PTEs
      a = ppn << 12;
      continue;
    }
    // leaf: permission checks (4.3.1, 4.1.1 SUM/MXR; HLVX needs X instead of R)
    if (exec) {
      if ((pte & PTE_X) == 0) break;
    } else if (access == ACCESS_READ) {
      if ((pte & PTE_R) == 0 && !(mxr && (pte & PTE_X) != 0)) break;
    } else if ((pte & PTE_W) == 0) break;
    if (p == PRV_U) {
      if ((pte & PTE_U) == 0) break;
    } else if ((pte & PTE_U) != 0) {
      // S-mode never executes U pages, and reads/writes them only with SUM=1
      if (access == ACCESS_EXEC || !sum) break;
    }
    // a superpage's low PPN fields must be zero (misaligned superpage: page fault)
    if (i > 0 && (ppn & ((<u64>1 << (9 * <u64>i)) - 1)) != 0) break;
    // A and D
    const want = PTE_A | (access == ACCESS_WRITE ? PTE_D : 0);
    if ((pte & want) != want) {
      if (stage == STAGE_VS) {
        // the update is a store to guest physical memory: the G-stage must allow it
        ptePa = gStage(pteAddr, ACCESS_WRITE, false);
        if (walkFault != WALK_OK) return ptFault(pteAddr, true);
      }
      if (!pmpCheck(ptePa, 8, ACCESS_WRITE, PRV_S)) {
        walkFault = WALK_ACCESS_FAULT;
        return 0;
      }
      pte |= want;
      store<u64>(ramHost(ptePa), pte);
      walkRefs++;
    }
    // the TLB drops cached superpages on a flush by address; G-stage ones never need it
    if (i > 0 && stage != STAGE_G) tlbNoteSuperpage(va, i);
    const offMask: u64 = (<u64>1 << (12 + 9 * <u64>i)) - 1;
    return ((ppn << 12) & ~offMask) | (va & offMask);
  }
  walkFault = WALK_PAGE_FAULT;
  return 0;
}

/** The G-stage refused the VS-stage walk's access to the PTE at guest physical `gpa`. */
function ptFault(gpa: u64, write: bool): u64 {
  if (walkFault == WALK_PAGE_FAULT) {
    walkFault = WALK_GUEST_PTE_FAULT;
    walkFaultGpa = gpa;
    walkFaultWrite = write;
  }
  return 0;
}
