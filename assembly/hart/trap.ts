// Trap entry and interrupt selection (privileged spec 3.1.6.1, 3.1.7-3.1.9, 3.3.1, 4.1.1).
import {
  csrRaw, csrRawSet, priv, setPriv, PRV_M, PRV_S,
  MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP, MSTATUS_MPP, MPP_SHIFT,
  MIP_MTIP, MIP_STIP, MIP_MSIP, IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER,
} from './state';
import {
  CSR_MSTATUS, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MTVEC, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL,
  CSR_STVEC, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_STIMECMP,
} from './opcodes.gen';
import { mipValue, setMipHw, stce } from './csr';
import { updateViews } from '../mmu/tlb';
import { mtime, mtimecmp, msip, insnsUntil } from '../devices/clint';
import { statAdd, STAT_EXC_BASE, STAT_IRQ_BASE } from '../stats';
import { sbiHost, sbiTimecmp } from '../sbi';
import { requestExit } from '../exit';
import { EXIT_M_TRAP } from '../memmap';
import { pvActive, pvTrap } from '../vmm/paravirt';

export let trapsTaken: u64 = 0;
export let interruptsTaken: u64 = 0;

const INTERRUPT: u64 = <u64>1 << 63;

/** Enter the trap handler for `cause`; returns the new pc. */
export function trapEnter(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  if (pvActive) {
    // the paravirt VMM is the most privileged software: it takes every trap (vmm/paravirt.ts)
    if (isInterrupt) { interruptsTaken++; statAdd(STAT_IRQ_BASE + (cause & 31)); }
    else { trapsTaken++; statAdd(STAT_EXC_BASE + (cause & 31)); }
    return pvTrap(pc, cause, tval, isInterrupt);
  }
  const p = priv;
  const deleg = csrRaw(isInterrupt ? CSR_MIDELEG : CSR_MEDELEG);
  let ms = csrRaw(CSR_MSTATUS);
  let tvec: u64;
  const xcause = <u64>cause | (isInterrupt ? INTERRUPT : 0);
  if (isInterrupt) { interruptsTaken++; statAdd(STAT_IRQ_BASE + (cause & 31)); }
  else { trapsTaken++; statAdd(STAT_EXC_BASE + (cause & 31)); }
  if (p <= PRV_S && ((deleg >> cause) & 1) != 0) {
    // to S-mode (4.1.1): SPP <- priv, SPIE <- SIE, SIE <- 0
    csrRawSet(CSR_SCAUSE, xcause);
    csrRawSet(CSR_SEPC, pc);
    csrRawSet(CSR_STVAL, tval);
    ms = (ms & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) |
      (p == PRV_S ? MSTATUS_SPP : 0) | ((ms & MSTATUS_SIE) != 0 ? MSTATUS_SPIE : 0);
    csrRawSet(CSR_MSTATUS, ms);
    setPriv(PRV_S);
    tvec = csrRaw(CSR_STVEC);
  } else {
    // to M-mode (3.1.6.1): MPP <- priv, MPIE <- MIE, MIE <- 0
    csrRawSet(CSR_MCAUSE, xcause);
    csrRawSet(CSR_MEPC, pc);
    csrRawSet(CSR_MTVAL, tval);
    ms = (ms & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE)) |
      (<u64>p << MPP_SHIFT) | ((ms & MSTATUS_MIE) != 0 ? MSTATUS_MPIE : 0);
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

// Priority among pending interrupts (3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
function highest(bits: u64): i32 {
  if ((bits & (1 << IRQ_M_EXT)) != 0) return IRQ_M_EXT;
  if ((bits & (1 << IRQ_M_SOFT)) != 0) return IRQ_M_SOFT;
  if ((bits & (1 << IRQ_M_TIMER)) != 0) return IRQ_M_TIMER;
  if ((bits & (1 << IRQ_S_EXT)) != 0) return IRQ_S_EXT;
  if ((bits & (1 << IRQ_S_SOFT)) != 0) return IRQ_S_SOFT;
  if ((bits & (1 << IRQ_S_TIMER)) != 0) return IRQ_S_TIMER;
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
  // S-level (delegated) interrupts are enabled below S, or in S with SIE; never in M
  const sLevel = pending & mideleg;
  if (sLevel != 0 && (p < PRV_S || (p == PRV_S && (ms & MSTATUS_SIE) != 0))) return highest(sLevel);
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
}

const NEVER: u64 = 0xffff_ffff_ffff_ffff;

/** Ticks until the nearest timer compare value not yet reached (NEVER: none). */
export function ticksToNextTimer(): u64 {
  let t = NEVER;
  const now = mtime();
  if (now < mtimecmp) t = min(t, mtimecmp - now);
  const s = stce() ? csrRaw(CSR_STIMECMP) : sbiHost ? sbiTimecmp : NEVER;
  if (now < s) t = min(t, s - now);
  return t;
}

/** Instructions until that timer event (NEVER: none): the run loop's chunk bound. */
export function insnsToNextTimer(): u64 {
  const t = ticksToNextTimer();
  return t == NEVER ? NEVER : insnsUntil(mtime() + t);
}

/** MRET (3.3.2): priv <- MPP, MIE <- MPIE, MPIE <- 1, MPP <- U; MPRV <- 0 if leaving M. */
export function doMret(): u64 {
  let ms = csrRaw(CSR_MSTATUS);
  const mpp = <u32>((ms & MSTATUS_MPP) >> MPP_SHIFT);
  ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP)) | ((ms & MSTATUS_MPIE) != 0 ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
  if (mpp != PRV_M) ms &= ~(<u64>1 << 17);
  csrRawSet(CSR_MSTATUS, ms);
  setPriv(mpp);
  updateViews();
  return csrRaw(CSR_MEPC);
}

/** SRET (3.3.2): priv <- SPP, SIE <- SPIE, SPIE <- 1, SPP <- U; MPRV <- 0. */
export function doSret(): u64 {
  let ms = csrRaw(CSR_MSTATUS);
  const spp = (ms & MSTATUS_SPP) != 0 ? PRV_S : 0;
  ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP)) | ((ms & MSTATUS_SPIE) != 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
  ms &= ~(<u64>1 << 17);
  csrRawSet(CSR_MSTATUS, ms);
  setPriv(spp);
  updateViews();
  return csrRaw(CSR_SEPC);
}
