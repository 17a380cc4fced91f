// Trap entry and interrupt selection (privileged spec 3.1.6.1, 3.1.7-3.1.9, 3.3.1, 4.1.1; H
// chapter, "Traps": a trap goes to M, HS or VS-mode by medeleg/mideleg then hedeleg/hideleg).
import {
  csrRaw, csrRawSet, priv, setPriv, virt, setVirt, PRV_M, PRV_S, PRV_U,
  MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP, MSTATUS_MPP, MPP_SHIFT,
  MSTATUS_MPRV, MSTATUS_MPV, MSTATUS_GVA, HSTATUS_SPV, HSTATUS_SPVP, HSTATUS_GVA,
  MIP_MTIP, MIP_STIP, MIP_MSIP, MIP_VSTIP, IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT,
  IRQ_S_TIMER, IRQ_S_GEXT, IRQ_VS_EXT, IRQ_VS_SOFT, IRQ_VS_TIMER, MIP_VS_ALL,
  CAUSE_MISALIGNED_FETCH, CAUSE_FETCH_ACCESS, CAUSE_MISALIGNED_LOAD, CAUSE_LOAD_ACCESS,
  CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_GUEST_PAGE_FAULT, CAUSE_LOAD_GUEST_PAGE_FAULT,
  CAUSE_STORE_GUEST_PAGE_FAULT, trapTval2, trapTinst,
} from './state';
import {
  CSR_MSTATUS, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MTVEC, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL,
  CSR_STVEC, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_STIMECMP, CSR_MTVAL2, CSR_MTINST,
  CSR_HSTATUS, CSR_HEDELEG, CSR_HIDELEG, CSR_HTVAL, CSR_HTINST, CSR_HTIMEDELTA,
  CSR_VSSTATUS, CSR_VSTVEC, CSR_VSEPC, CSR_VSCAUSE, CSR_VSTVAL, CSR_VSTIMECMP,
} from './opcodes.gen';
import { mipValue, setMipHw, stce, vstce, hExt } from './csr';
import { updateViews, dataVirt } from '../mmu/tlb';
import { mtime, mtimecmp, msip, insnsUntil } from '../devices/clint';
import { statAdd, STAT_EXC_BASE, STAT_IRQ_BASE } from '../stats';
import { sbiHost, sbiTimecmp } from '../sbi';
import { requestExit } from '../exit';
import { EXIT_M_TRAP } from '../memmap';
import { pvActive, pvTrap } from '../vmm/paravirt';
import { fvActive, fvTrap } from '../vmm/full';
import { hvActive, hvTrap, hvCrash } from '../vmm/hwassist';
import { kvmActive, kvmTrap, kvmCrash } from '../vmm/kvm';

export let trapsTaken: u64 = 0;
export let interruptsTaken: u64 = 0;

const INTERRUPT: u64 = <u64>1 << 63;

/**
 * An HLV/HSV is executing: its faults carry a guest virtual address even though V=0
 * (hart/execute.ts sets it around the access).
 */
export let hlvActive: bool = false;
export function setHlvActive(on: bool): void {
  hlvActive = on;
}

/**
 * Whether the exception's tval is a guest virtual address (mstatus.GVA / hstatus.GVA): an
 * address-type exception of an access translated for V=1 (a fetch with V=1, a load or store
 * with V=1, under MPRV with MPV=1, or by HLV/HSV).
 */
function tvalIsGuestVa(cause: u32): bool {
  switch (cause) {
    case CAUSE_MISALIGNED_FETCH: case CAUSE_FETCH_ACCESS: case CAUSE_FETCH_PAGE_FAULT:
      return virt;
    case CAUSE_FETCH_GUEST_PAGE_FAULT: case CAUSE_LOAD_GUEST_PAGE_FAULT: case CAUSE_STORE_GUEST_PAGE_FAULT:
      return true;
    case CAUSE_MISALIGNED_LOAD: case CAUSE_LOAD_ACCESS: case CAUSE_MISALIGNED_STORE:
    case CAUSE_STORE_ACCESS: case CAUSE_LOAD_PAGE_FAULT: case CAUSE_STORE_PAGE_FAULT:
      return dataVirt || hlvActive;
  }
  return false;
}

/** Enter the trap handler for `cause`; returns the new pc. */
export function trapEnter(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  if (isInterrupt) { interruptsTaken++; statAdd(STAT_IRQ_BASE + (cause & 31)); }
  else { trapsTaken++; statAdd(STAT_EXC_BASE + (cause & 31)); }
  // the paravirt VMM is the most privileged software: it takes every trap (vmm/paravirt.ts)
  if (pvActive) return pvTrap(pc, cause, tval, isInterrupt);
  // so is the full-virtualization VMM (vmm/full.ts): its guest runs deprivileged in U-mode
  if (fvActive) return fvTrap(pc, cause, tval, isInterrupt);
  const p = priv;
  const v = virt;
  let ms = csrRaw(CSR_MSTATUS);
  let tvec: u64;
  const bit = <u64>1 << cause;
  const xcause = <u64>cause | (isInterrupt ? INTERRUPT : 0);
  const gva = !isInterrupt && hExt && tvalIsGuestVa(cause);
  hlvActive = false;
  const toS = p <= PRV_S && (csrRaw(isInterrupt ? CSR_MIDELEG : CSR_MEDELEG) & bit) != 0;
  if (toS && v && (csrRaw(isInterrupt ? CSR_HIDELEG : CSR_HEDELEG) & bit) != 0) {
    // a VS-level interrupt is reported as its S-level cause (VSSI 2 -> SSI 1, and so on)
    return enterVS(pc, isInterrupt ? cause - 1 : cause, tval, isInterrupt);
  }
  // the kvm machine's in-kernel part likewise (vmm/kvm.ts), exiting to userspace when it must
  if (kvmActive) {
    if (toS && v) return kvmTrap(pc, cause, tval, isInterrupt);
    return kvmCrash(pc, cause, tval, isInterrupt);
  }
  // the hw-assist VMM acts in HS-mode: the guest's traps to HS come to it (vmm/hwassist.ts)
  if (hvActive) {
    if (toS && v) return hvTrap(pc, cause, tval, isInterrupt);
    return hvCrash(pc, cause, tval, isInterrupt);
  }
  if (toS) {
    // to (H)S-mode (4.1.1): SPP <- priv, SPIE <- SIE, SIE <- 0; with H also hstatus.SPV <- V,
    // SPVP <- priv if V was 1, GVA, and htval/htinst; V <- 0
    csrRawSet(CSR_SCAUSE, xcause);
    csrRawSet(CSR_SEPC, pc);
    csrRawSet(CSR_STVAL, tval);
    ms = (ms & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) |
      (p == PRV_S ? MSTATUS_SPP : 0) | ((ms & MSTATUS_SIE) != 0 ? MSTATUS_SPIE : 0);
    csrRawSet(CSR_MSTATUS, ms);
    if (hExt) {
      let hs = csrRaw(CSR_HSTATUS) & ~(HSTATUS_SPV | HSTATUS_GVA);
      if (v) hs = (hs & ~HSTATUS_SPVP) | HSTATUS_SPV | (p == PRV_S ? HSTATUS_SPVP : 0);
      if (gva) hs |= HSTATUS_GVA;
      csrRawSet(CSR_HSTATUS, hs);
      csrRawSet(CSR_HTVAL, isInterrupt ? 0 : trapTval2);
      csrRawSet(CSR_HTINST, isInterrupt ? 0 : trapTinst);
      if (v) setVirt(false);
    }
    setPriv(PRV_S);
    tvec = csrRaw(CSR_STVEC);
  } else {
    // to M-mode (3.1.6.1): MPP <- priv, MPIE <- MIE, MIE <- 0; with H also MPV <- V, GVA,
    // mtval2/mtinst; V <- 0
    csrRawSet(CSR_MCAUSE, xcause);
    csrRawSet(CSR_MEPC, pc);
    csrRawSet(CSR_MTVAL, tval);
    ms = (ms & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE)) |
      (<u64>p << MPP_SHIFT) | ((ms & MSTATUS_MIE) != 0 ? MSTATUS_MPIE : 0);
    if (hExt) {
      ms = (ms & ~(MSTATUS_MPV | MSTATUS_GVA)) | (v ? MSTATUS_MPV : 0) | (gva ? MSTATUS_GVA : 0);
      csrRawSet(CSR_MTVAL2, isInterrupt ? 0 : trapTval2);
      csrRawSet(CSR_MTINST, isInterrupt ? 0 : trapTinst);
      if (v) setVirt(false);
    }
    csrRawSet(CSR_MSTATUS, ms);
    setPriv(PRV_M);
    tvec = csrRaw(CSR_MTVEC);
    // the host's SBI is the firmware: no M-mode code exists to handle this trap
    if (sbiHost) requestExit(EXIT_M_TRAP, cause | (isInterrupt ? 0x8000_0000 : 0));
  }
  updateViews();
  const base = tvec & ~<u64>3;
  // vectored mode (3.1.7): interrupts go to base + 4 * cause
  return isInterrupt && (tvec & 3) == 1 ? base + (<u64>cause << 2) : base;
}

/**
 * Enter VS-mode's trap handler, V staying 1 (H chapter, "Traps"): vscause (already in its
 * S-level numbering), vsepc, vstval, vsstatus SPP/SPIE/SIE, vstvec. Also how a hypervisor
 * injects an exception into its guest.
 */
export function enterVS(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  csrRawSet(CSR_VSCAUSE, <u64>cause | (isInterrupt ? INTERRUPT : 0));
  csrRawSet(CSR_VSEPC, pc);
  csrRawSet(CSR_VSTVAL, tval);
  let vs = csrRaw(CSR_VSSTATUS);
  vs = (vs & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) |
    (priv == PRV_S ? MSTATUS_SPP : 0) | ((vs & MSTATUS_SIE) != 0 ? MSTATUS_SPIE : 0);
  csrRawSet(CSR_VSSTATUS, vs);
  setPriv(PRV_S);
  updateViews();
  const tvec = csrRaw(CSR_VSTVEC);
  const base = tvec & ~<u64>3;
  return isInterrupt && (tvec & 3) == 1 ? base + (<u64>cause << 2) : base;
}

// Priority among pending interrupts (3.1.9; H chapter, "Trap Cause Codes"): MEI, MSI, MTI,
// SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI.
function highest(bits: u64): i32 {
  if ((bits & (1 << IRQ_M_EXT)) != 0) return IRQ_M_EXT;
  if ((bits & (1 << IRQ_M_SOFT)) != 0) return IRQ_M_SOFT;
  if ((bits & (1 << IRQ_M_TIMER)) != 0) return IRQ_M_TIMER;
  if ((bits & (1 << IRQ_S_EXT)) != 0) return IRQ_S_EXT;
  if ((bits & (1 << IRQ_S_SOFT)) != 0) return IRQ_S_SOFT;
  if ((bits & (1 << IRQ_S_TIMER)) != 0) return IRQ_S_TIMER;
  if ((bits & (1 << IRQ_S_GEXT)) != 0) return IRQ_S_GEXT;
  if ((bits & (1 << IRQ_VS_EXT)) != 0) return IRQ_VS_EXT;
  if ((bits & (1 << IRQ_VS_SOFT)) != 0) return IRQ_VS_SOFT;
  if ((bits & (1 << IRQ_VS_TIMER)) != 0) return IRQ_VS_TIMER;
  return -1;
}

/** The interrupt to take now, or -1. */
export function pendingInterrupt(): i32 {
  const pending = mipValue() & csrRaw(CSR_MIE);
  if (pending == 0) return -1;
  const ms = csrRaw(CSR_MSTATUS);
  const mideleg = csrRaw(CSR_MIDELEG);
  const p = priv;
  // M-level interrupts are enabled below M, or in M with MIE
  const mLevel = pending & ~mideleg;
  if (mLevel != 0 && (p < PRV_M || (ms & MSTATUS_MIE) != 0)) return highest(mLevel);
  // HS-level (delegated by mideleg, not by hideleg): enabled with V=1, below S, or in
  // (H)S with SIE; never in M
  const hideleg = csrRaw(CSR_HIDELEG);
  const sLevel = pending & mideleg & ~hideleg;
  if (sLevel != 0 && (virt || p < PRV_S || (p == PRV_S && (ms & MSTATUS_SIE) != 0))) return highest(sLevel);
  // VS-level (delegated by hideleg too): only with V=1, in VU or in VS with vsstatus.SIE
  const vsLevel = pending & mideleg & hideleg;
  if (vsLevel != 0 && virt && (p == PRV_U || (csrRaw(CSR_VSSTATUS) & MSTATUS_SIE) != 0)) return highest(vsLevel);
  return -1;
}

/** Any interrupt pending and individually enabled (what WFI waits for: 3.3.3)? */
export function wfiWake(): bool {
  return (mipValue() & csrRaw(CSR_MIE)) != 0;
}

/** Drive mip's timer and software bits from the CLINT, Sstc and the host SBI's timer. */
export function updateTimerIrqs(): void {
  const now = mtime();
  setMipHw(MIP_MTIP, now >= mtimecmp);
  setMipHw(MIP_MSIP, msip != 0);
  if (stce()) setMipHw(MIP_STIP, now >= csrRaw(CSR_STIMECMP));
  else setMipHw(MIP_STIP, sbiHost && now >= sbiTimecmp);
  // Sstc for VS-mode: VSTIP while the guest's time (time + htimedelta) >= vstimecmp
  if (hExt) setMipHw(MIP_VSTIP, vstce() && now + csrRaw(CSR_HTIMEDELTA) >= csrRaw(CSR_VSTIMECMP));
}

const NEVER: u64 = 0xffff_ffff_ffff_ffff;

/** Ticks until the nearest timer compare value not yet reached (NEVER: none). */
export function ticksToNextTimer(): u64 {
  // a compare register of all ones is the usual "no timer" (SBI set_timer(-1)): never due
  let t = NEVER;
  const now = mtime();
  if (mtimecmp != NEVER && now < mtimecmp) t = min(t, mtimecmp - now);
  const s = stce() ? csrRaw(CSR_STIMECMP) : sbiHost ? sbiTimecmp : NEVER;
  if (s != NEVER && now < s) t = min(t, s - now);
  if (hExt && vstce()) {
    const g = now + csrRaw(CSR_HTIMEDELTA), vs = csrRaw(CSR_VSTIMECMP);
    if (vs != NEVER && g < vs) t = min(t, vs - g);
  }
  return t;
}

/** Instructions until that timer event (NEVER: none): the run loop's chunk bound. */
export function insnsToNextTimer(): u64 {
  const t = ticksToNextTimer();
  return t == NEVER ? NEVER : insnsUntil(mtime() + t);
}

/**
 * MRET (3.3.2): priv <- MPP, MIE <- MPIE, MPIE <- 1, MPP <- U; MPRV <- 0 if leaving M. With H
 * (H chapter, "Trap Return"): V <- MPV if MPP is not M, MPV <- 0.
 */
export function doMret(): u64 {
  let ms = csrRaw(CSR_MSTATUS);
  const mpp = <u32>((ms & MSTATUS_MPP) >> MPP_SHIFT);
  const mpv = (ms & MSTATUS_MPV) != 0 && mpp != PRV_M;
  ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP | MSTATUS_MPV)) | ((ms & MSTATUS_MPIE) != 0 ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
  if (mpp != PRV_M) ms &= ~MSTATUS_MPRV;
  csrRawSet(CSR_MSTATUS, ms);
  setPriv(mpp);
  if (hExt) setVirt(mpv);
  updateViews();
  return csrRaw(CSR_MEPC);
}

/**
 * SRET (3.3.2): priv <- SPP, SIE <- SPIE, SPIE <- 1, SPP <- U; MPRV <- 0. In HS-mode with H,
 * V <- hstatus.SPV and SPV <- 0; in VS-mode it is the same on vsstatus, vsepc, and V stays 1.
 */
export function doSret(): u64 {
  if (virt) {
    let vs = csrRaw(CSR_VSSTATUS);
    const vspp = (vs & MSTATUS_SPP) != 0 ? PRV_S : PRV_U;
    vs = (vs & ~(MSTATUS_SIE | MSTATUS_SPP)) | ((vs & MSTATUS_SPIE) != 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
    csrRawSet(CSR_VSSTATUS, vs);
    setPriv(vspp);
    updateViews();
    return csrRaw(CSR_VSEPC);
  }
  let ms = csrRaw(CSR_MSTATUS);
  const spp = (ms & MSTATUS_SPP) != 0 ? PRV_S : PRV_U;
  ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP)) | ((ms & MSTATUS_SPIE) != 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
  ms &= ~MSTATUS_MPRV;
  csrRawSet(CSR_MSTATUS, ms);
  setPriv(spp);
  if (hExt) {
    const hs = csrRaw(CSR_HSTATUS);
    csrRawSet(CSR_HSTATUS, hs & ~HSTATUS_SPV);
    setVirt((hs & HSTATUS_SPV) != 0);
  }
  updateViews();
  return csrRaw(CSR_SEPC);
}
