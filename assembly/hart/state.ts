// Architectural state of the hart that the hot path touches, and the names of its fields.
import { X_BASE, F_BASE, CSR_BASE, PRIV_ADDR, VIRT_ADDR } from '../memmap';

// Privilege levels (privileged spec 1.2)
export const PRV_U: u32 = 0;
export const PRV_S: u32 = 1;
export const PRV_M: u32 = 3;

// mstatus fields (privileged spec 3.1.6)
export const MSTATUS_SIE: u64 = 1 << 1;
export const MSTATUS_MIE: u64 = 1 << 3;
export const MSTATUS_SPIE: u64 = 1 << 5;
export const MSTATUS_UBE: u64 = 1 << 6;
export const MSTATUS_MPIE: u64 = 1 << 7;
export const MSTATUS_SPP: u64 = 1 << 8;
export const MSTATUS_VS: u64 = 3 << 9;
export const MSTATUS_MPP: u64 = 3 << 11;
export const MSTATUS_FS: u64 = 3 << 13;
export const MSTATUS_XS: u64 = 3 << 15;
export const MSTATUS_MPRV: u64 = 1 << 17;
export const MSTATUS_SUM: u64 = 1 << 18;
export const MSTATUS_MXR: u64 = 1 << 19;
export const MSTATUS_TVM: u64 = 1 << 20;
export const MSTATUS_TW: u64 = 1 << 21;
export const MSTATUS_TSR: u64 = 1 << 22;
export const MSTATUS_UXL: u64 = <u64>3 << 32;
export const MSTATUS_SXL: u64 = <u64>3 << 34;
/** H extension: the trap wrote a guest virtual address to mtval; the trap came from V=1. */
export const MSTATUS_GVA: u64 = <u64>1 << 38;
export const MSTATUS_MPV: u64 = <u64>1 << 39;
export const MSTATUS_SD: u64 = <u64>1 << 63;
export const MPP_SHIFT: u64 = 11;
export const FS_OFF: u64 = 0;
export const FS_DIRTY: u64 = 3 << 13;

// Interrupt bits of mip/mie (privileged spec 3.1.9) and their cause numbers
export const IRQ_S_SOFT: u32 = 1;
export const IRQ_M_SOFT: u32 = 3;
export const IRQ_S_TIMER: u32 = 5;
export const IRQ_M_TIMER: u32 = 7;
export const IRQ_S_EXT: u32 = 9;
export const IRQ_M_EXT: u32 = 11;
export const MIP_SSIP: u64 = 1 << IRQ_S_SOFT;
export const MIP_MSIP: u64 = 1 << IRQ_M_SOFT;
export const MIP_STIP: u64 = 1 << IRQ_S_TIMER;
export const MIP_MTIP: u64 = 1 << IRQ_M_TIMER;
export const MIP_SEIP: u64 = 1 << IRQ_S_EXT;
export const MIP_MEIP: u64 = 1 << IRQ_M_EXT;
// H extension: VS-level interrupts and the supervisor guest external interrupt (H chapter,
// "Hypervisor Interrupt Registers"); a VS-level interrupt i is cause i - 1 in vscause.
export const IRQ_VS_SOFT: u32 = 2;
export const IRQ_VS_TIMER: u32 = 6;
export const IRQ_VS_EXT: u32 = 10;
export const IRQ_S_GEXT: u32 = 12;
export const MIP_VSSIP: u64 = 1 << IRQ_VS_SOFT;
export const MIP_VSTIP: u64 = 1 << IRQ_VS_TIMER;
export const MIP_VSEIP: u64 = 1 << IRQ_VS_EXT;
export const MIP_SGEIP: u64 = 1 << IRQ_S_GEXT;
export const MIP_VS_ALL: u64 = MIP_VSSIP | MIP_VSTIP | MIP_VSEIP;

// hstatus fields (H chapter, "Hypervisor Status Register")
export const HSTATUS_GVA: u64 = 1 << 6;
export const HSTATUS_SPV: u64 = 1 << 7;
export const HSTATUS_SPVP: u64 = 1 << 8;
export const HSTATUS_HU: u64 = 1 << 9;
export const HSTATUS_VTVM: u64 = 1 << 20;
export const HSTATUS_VTW: u64 = 1 << 21;
export const HSTATUS_VTSR: u64 = 1 << 22;
/** VSXL = 2 (VS-mode is 64-bit), read-only here. */
export const HSTATUS_VSXL_64: u64 = <u64>2 << 32;

// Exception causes (privileged spec table 3.6)
export const CAUSE_MISALIGNED_FETCH: u32 = 0;
export const CAUSE_FETCH_ACCESS: u32 = 1;
export const CAUSE_ILLEGAL_INSTRUCTION: u32 = 2;
export const CAUSE_BREAKPOINT: u32 = 3;
export const CAUSE_MISALIGNED_LOAD: u32 = 4;
export const CAUSE_LOAD_ACCESS: u32 = 5;
export const CAUSE_MISALIGNED_STORE: u32 = 6;
export const CAUSE_STORE_ACCESS: u32 = 7;
export const CAUSE_USER_ECALL: u32 = 8;
export const CAUSE_SUPERVISOR_ECALL: u32 = 9;
export const CAUSE_VS_ECALL: u32 = 10;
export const CAUSE_MACHINE_ECALL: u32 = 11;
export const CAUSE_FETCH_PAGE_FAULT: u32 = 12;
export const CAUSE_LOAD_PAGE_FAULT: u32 = 13;
export const CAUSE_STORE_PAGE_FAULT: u32 = 15;
// H extension (H chapter, "Trap Cause Codes")
export const CAUSE_FETCH_GUEST_PAGE_FAULT: u32 = 20;
export const CAUSE_LOAD_GUEST_PAGE_FAULT: u32 = 21;
export const CAUSE_VIRTUAL_INSTRUCTION: u32 = 22;
export const CAUSE_STORE_GUEST_PAGE_FAULT: u32 = 23;

// Memory access types, used by the MMU, PMP and the fault causes they raise
export const ACCESS_READ: u32 = 0;
export const ACCESS_WRITE: u32 = 1;
export const ACCESS_EXEC: u32 = 2;

/** Current privilege level. */
export let priv: u32 = PRV_M;
/**
 * The virtualization mode V of the H extension: with V=1, priv S is VS-mode and U is VU-mode
 * (H chapter, "Privilege Modes"). Always false on a hart without H.
 */
export let virt: bool = false;

// A trap raised while executing an instruction; run() takes it before the next one.
export let trapPending: bool = false;
export let trapCause: u64 = 0;
export let trapTval: u64 = 0;
/** H extension: what a trap writes to htval/mtval2 (guest physical address >> 2) and htinst/mtinst. */
export let trapTval2: u64 = 0;
export let trapTinst: u64 = 0;

@inline export function raise(cause: u32, tval: u64): void {
  trapPending = true;
  trapCause = cause;
  trapTval = tval;
  trapTval2 = 0;
  trapTinst = 0;
}

export function setTrapTinst(v: u64): void {
  trapTinst = v;
}

/** A guest-page fault (H chapter, "Two-Stage Address Translation"): tval2 = GPA >> 2. */
export function raiseGuest(cause: u32, tval: u64, gpa: u64, tinst: u64): void {
  raise(cause, tval);
  trapTval2 = gpa >> 2;
  trapTinst = tinst;
}

@inline export function getX(r: u32): u64 {
  return load<u64>(X_BASE + (r << 3));
}
@inline export function setX(r: u32, v: u64): void {
  store<u64>(X_BASE + (r << 3), v);
}
@inline export function getF(r: u32): u64 {
  return load<u64>(F_BASE + (r << 3));
}
@inline export function setF(r: u32, v: u64): void {
  store<u64>(F_BASE + (r << 3), v);
}

/** Raw CSR storage, indexed by CSR number (semantics live in csr.ts). */
@inline export function csrRaw(num: u32): u64 {
  return load<u64>(CSR_BASE + (num << 3));
}
@inline export function csrRawSet(num: u32, v: u64): void {
  store<u64>(CSR_BASE + (num << 3), v);
}

export function setPriv(p: u32): void {
  priv = p;
  store<u32>(PRIV_ADDR, p);
}

export function setVirt(v: bool): void {
  virt = v;
  store<u32>(VIRT_ADDR, v ? 1 : 0);
}
