// Virtual-to-physical translation (privileged spec 4.3.2 and 4.4/4.5: Sv39, Sv48).
// One walk function parameterized by the stage's root, level count and root widening; the
// H extension's G-stage (Sv39x4/Sv48x4) adds a second call of it for each PTE address and
// for the result.
//
// A and D bits are updated by the walk itself, as QEMU does (the Svadu behaviour), so the
// differential tests agree with it.
import {
  csrRaw, raise, PRV_M, PRV_S, PRV_U, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC,
  MSTATUS_MXR, CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
  CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT,
} from '../hart/state';
import { CSR_MSTATUS, CSR_SATP } from '../hart/opcodes.gen';
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

export function accessFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_ACCESS : access == ACCESS_READ ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;
}

export function pageFaultCause(access: u32): u32 {
  return access == ACCESS_EXEC ? CAUSE_FETCH_PAGE_FAULT : access == ACCESS_READ ? CAUSE_LOAD_PAGE_FAULT : CAUSE_STORE_PAGE_FAULT;
}

@inline export function isRam(pa: u64): bool {
  return pa - RAM_PHYS < ramSize;
}

@inline export function ramHost(pa: u64): u32 {
  return <u32>(pa - RAM_PHYS) + RAM_BASE;
}

/**
 * Translate `va` for an access at effective privilege `p`. Returns the physical address,
 * or raises the page or access fault and returns 0 (check trapPending).
 */
export function translate(va: u64, access: u32, p: u32): u64 {
  if (p == PRV_M) return va;
  const satp = csrRaw(CSR_SATP);
  const mode = satp >> 60;
  if (mode == SATP_MODE_BARE) return va;
  const levels: i32 = mode == SATP_MODE_SV48 ? 4 : 3;
  return walk(va, access, p, (satp & 0xfff_ffff_ffff) << 12, levels, 0);
}

/**
 * One translation stage: walk the tree at `root` with `levels` levels of 9 bits. `extraBits`
 * widens the root level (0 for Sv39/Sv48; 2 for the H extension's Sv39x4/Sv48x4 G-stage,
 * whose root table is 16 KiB).
 */
export function walk(va: u64, access: u32, p: u32, root: u64, levels: i32, extraBits: u64): u64 {
  const vaBits: u64 = 12 + 9 * <u64>levels + extraBits;
  // bits 63..vaBits must all equal bit vaBits-1 (4.3.2: otherwise a page fault); the
  // G-stage will instead require them to be zero (a guest physical address)
  const high = <i64>va >> (vaBits - 1);
  if (high != 0 && high != -1) {
    raise(pageFaultCause(access), va);
    return 0;
  }
  pageWalks++;
  const mstatus = csrRaw(CSR_MSTATUS);
  let a: u64 = root;
  for (let i: i32 = levels - 1; i >= 0; i--) {
    const idxMask: u64 = i == levels - 1 ? (<u64>0x200 << extraBits) - 1 : 0x1ff;
    const pteAddr = a + (((va >> (12 + 9 * <u64>i)) & idxMask) << 3);
    walkRefs++;
    if (!isRam(pteAddr) || !pmpCheck(pteAddr, 8, ACCESS_READ, PRV_S)) {
      raise(accessFaultCause(access), va);
      return 0;
    }
    const host = ramHost(pteAddr);
    let pte = load<u64>(host);
    if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0) || (pte & PTE_RESERVED) != 0) break;
    const ppn = (pte & PTE_PPN_MASK) >> 10;
    if ((pte & (PTE_R | PTE_X)) == 0) {
      // pointer to the next level; at the last level this is a fault
      if ((pte & (PTE_A | PTE_D | PTE_U)) != 0) break; // 4.3.1: reserved for non-leaf PTEs
      a = ppn << 12;
      continue;
    }
    // leaf: permission checks (4.3.1, 4.1.1 SUM/MXR)
    if (access == ACCESS_EXEC) {
      if ((pte & PTE_X) == 0) break;
    } else if (access == ACCESS_READ) {
      if ((pte & PTE_R) == 0 && !((mstatus & MSTATUS_MXR) != 0 && (pte & PTE_X) != 0)) break;
    } else if ((pte & PTE_W) == 0) break;
    if (p == PRV_U) {
      if ((pte & PTE_U) == 0) break;
    } else if ((pte & PTE_U) != 0) {
      // S-mode never executes U pages, and reads/writes them only with SUM=1
      if (access == ACCESS_EXEC || !sumFor(p, mstatus)) break;
    }
    // a superpage's low PPN fields must be zero (misaligned superpage: page fault)
    if (i > 0 && (ppn & ((<u64>1 << (9 * <u64>i)) - 1)) != 0) break;
    // A and D
    const want = PTE_A | (access == ACCESS_WRITE ? PTE_D : 0);
    if ((pte & want) != want) {
      if (!pmpCheck(pteAddr, 8, ACCESS_WRITE, PRV_S)) {
        raise(accessFaultCause(access), va);
        return 0;
      }
      pte |= want;
      store<u64>(host, pte);
      walkRefs++;
    }
    if (i > 0) tlbNoteSuperpage(va, i);
    const offMask: u64 = (<u64>1 << (12 + 9 * <u64>i)) - 1;
    return ((ppn << 12) & ~offMask) | (va & offMask);
  }
  raise(pageFaultCause(access), va);
  return 0;
}

@inline function sumFor(p: u32, mstatus: u64): bool {
  return p == PRV_S && (mstatus & (1 << 18)) != 0;
}
