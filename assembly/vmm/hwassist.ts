// The `hw-assist` machine's VMM (docs/hw-assist.md): an unmodified guest kernel runs in VS-mode
// on the H extension, and this VMM plays the hypervisor in HS-mode, the way KVM does.
//
// Like the paravirt VMM it is host code (AssemblyScript) rather than RISC-V code: while
// hvActive, every trap that would enter HS-mode comes to hvTrap() instead. The hardware does
// the rest, and that is the point of the assist:
//   - memory: the G-stage (hgatp, Sv39x4) maps the guest's RAM, 2 MiB at a time, to the same
//     physical addresses (so the host's device models can DMA into it unchanged); everything
//     else the guest touches is a guest-page fault. The tables live in the VMM's own RAM above
//     the guest's, which the G-stage does not map.
//   - traps: hedeleg/hideleg send the guest's own exceptions (page faults, illegal
//     instructions, system calls...) and its VS-level interrupts straight to its VS-mode
//     handlers; only SBI calls, guest-page faults and virtual instructions exit to the VMM.
//   - interrupts: the timer is vstimecmp (Sstc for VS-mode: VSTIP without an exit); IPIs and
//     the PLIC's S-mode context are injected through hvip (VSSIP, VSEIP).
// Exits: the guest's SBI calls are answered (sbi.ts, in guest mode); a guest-page fault on a
// device's page is emulated with the device models (MMIO), from the transformed instruction
// the hart reports in htinst; any other guest-page fault, and a virtual-instruction
// exception, is reflected into the guest as the access fault or illegal instruction a bare
// machine would have raised.
import {
  getX, setX, getF, setF, csrRaw, csrRawSet, setPriv, setVirt, trapTinst, trapTval2, PRV_S,
  MIP_VSSIP, MIP_VSEIP, MIP_VS_ALL, FS_DIRTY,
  CAUSE_VS_ECALL, CAUSE_FETCH_GUEST_PAGE_FAULT, CAUSE_LOAD_GUEST_PAGE_FAULT, CAUSE_STORE_GUEST_PAGE_FAULT,
  CAUSE_VIRTUAL_INSTRUCTION, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
} from '../hart/state';
import {
  CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MCOUNTEREN, CSR_MENVCFG, CSR_PMPADDR0, CSR_PMPCFG0,
  CSR_HEDELEG, CSR_HIDELEG, CSR_HCOUNTEREN, CSR_HENVCFG, CSR_HGATP, CSR_HVIP,
  CSR_VSTIMECMP, CSR_VSSTATUS, CSR_MSTATUS,
} from '../hart/opcodes.gen';
import { hExt } from '../hart/csr';
import { enterVS } from '../hart/trap';
import { tinstKind, tinstSize, tinstLen, tinstStoreValue, tinstLoadResult, TINST_NONE, TINST_LOAD } from '../hart/tinst';
import { requestStop } from '../hart/counters';
import { pmpRecount } from '../mmu/pmp';
import { updateViews, tlbFlushAll } from '../mmu/tlb';
import { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_A, PTE_D, SATP_MODE_SV39, ramHost } from '../mmu/walk';
import { ramSize } from '../mmu/ram';
import { busRead, busWrite, busOk } from '../devices/bus';
import { sbiGuestCall, sbiEnableHost } from '../sbi';
import { requestExit } from '../exit';
import { statAdd, STAT_HV_EXITS, STAT_HV_SBI, STAT_HV_MMIO, STAT_HV_INJECTED, STAT_HV_REFLECTED } from '../stats';
import { RAM_PHYS, PC_ADDR, EXIT_HV_CRASH } from '../memmap';

const PAGE: u64 = 4096;
const MEGA: u64 = 2 << 20;
/** The VMM's RAM above the guest's: the G-stage root (16 KiB, 16 KiB aligned) and its level-1 tables. */
export const HV_VMM_BYTES: u64 = 2 << 20;
/** The guest's VMID in hgatp (any nonzero value; the TLB is flushed on a regime change anyway). */
const GUEST_VMID: u64 = 1;
/** Exceptions the guest handles itself (hedeleg): causes 0-8, 12, 13, 15 (all a bare hart has). */
const GUEST_EXCEPTIONS: u64 = 0xb1ff;

export let hvActive: bool = false;
let guestEnd: u64 = 0;

const A0: u32 = 10, A1: u32 = 11;

export function resetHv(): void {
  hvActive = false;
  guestEnd = 0;
}

@inline function wr(pa: u64, v: u64): void {
  store<u64>(ramHost(pa), v);
}

/**
 * Start an unmodified guest kernel in VS-mode at `entry` with a0 = 0 (hartid) and a1 = `dtb`
 * (a guest physical address), on `guestBytes` of RAM from RAM_PHYS (a multiple of 2 MiB, at
 * most 64 GiB); the VMM keeps HV_VMM_BYTES above it. False if the sizes do not allow it or the
 * hart lacks the H extension.
 */
export function hvBoot(entry: u64, dtb: u64, guestBytes: u64): bool {
  if (!hExt || guestBytes == 0 || (guestBytes & (MEGA - 1)) != 0 || guestBytes + HV_VMM_BYTES > ramSize) return false;
  if (guestBytes > (<u64>64 << 30)) return false;
  resetHv();
  guestEnd = RAM_PHYS + guestBytes;
  // G-stage, Sv39x4 (H chapter, "Guest Physical Address Translation"): a 16 KiB root whose
  // 2048 entries cover 1 GiB each, then one level-1 table per GiB of guest RAM, 2 MiB leaves.
  // Leaves are U (G-stage accesses count as U-mode), RWX, with A and D set.
  const root = guestEnd; // 2 MiB aligned, so 16 KiB aligned
  const l1 = root + 4 * PAGE;
  const gigs = (guestEnd - 1 - RAM_PHYS) >> 30;
  memory.fill(ramHost(root), 0, <usize>(4 * PAGE + (gigs + 2) * PAGE));
  for (let pa = RAM_PHYS; pa < guestEnd; pa += MEGA) {
    const table = l1 + (((pa - RAM_PHYS) >> 30) << 12);
    wr(root + ((pa >> 30) << 3), (table >> 12 << 10) | PTE_V);
    wr(table + (((pa >> 21) & 0x1ff) << 3), (pa >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  }
  enterGuest(root);
  setX(A0, 0);
  setX(A1, dtb);
  store<u64>(PC_ADDR, entry);
  hvActive = true;
  return true;
}

/**
 * The hart as a hypervisor leaves it to run its guest in VS-mode on the G-stage rooted at
 * `root` (the hw-assist VMM and the kvm machine's in-core part both run their guest so).
 */
export function enterGuest(root: u64): void {
  sbiEnableHost(); // the VMM is also the firmware: nothing runs in M-mode
  // M delegates to HS everything the guest can raise; HS keeps SBI calls, guest-page faults
  // and virtual instructions, and gives the guest its own exceptions and VS interrupts
  csrRawSet(CSR_MEDELEG, GUEST_EXCEPTIONS | (1 << CAUSE_VS_ECALL) | (<u64>0xf << 20));
  csrRawSet(CSR_MIDELEG, (1 << 1) | (1 << 5) | (1 << 9) | MIP_VS_ALL);
  csrRawSet(CSR_HEDELEG, GUEST_EXCEPTIONS);
  csrRawSet(CSR_HIDELEG, MIP_VS_ALL);
  csrRawSet(CSR_MIE, 0); // the guest enables its own (vsie)
  csrRawSet(CSR_MCOUNTEREN, 7); // cycle, time, instret
  csrRawSet(CSR_HCOUNTEREN, 7);
  // Sstc for VS-mode: the guest's SBI set_timer programs vstimecmp (menvcfg.STCE gates henvcfg's)
  csrRawSet(CSR_MENVCFG, <u64>1 << 63);
  csrRawSet(CSR_HENVCFG, <u64>1 << 63);
  csrRawSet(CSR_VSTIMECMP, 0xffff_ffff_ffff_ffff);
  // with V=1 the FPU needs mstatus.FS on as well as the guest's vsstatus.FS (H chapter,
  // vsstatus): the VMM leaves it Dirty, so only the guest's own setting counts
  csrRawSet(CSR_MSTATUS, csrRaw(CSR_MSTATUS) | FS_DIRTY | (<u64>1 << 63));
  // PMP open: the G-stage is the wall (the VMM's RAM is not mapped for the guest)
  csrRawSet(CSR_PMPADDR0, 0x003f_ffff_ffff_ffff);
  csrRawSet(CSR_PMPCFG0, 0x1f);
  pmpRecount();
  csrRawSet(CSR_HGATP, (SATP_MODE_SV39 << 60) | (GUEST_VMID << 44) | (root >> 12));
  setPriv(PRV_S);
  setVirt(true);
  tlbFlushAll();
  updateViews();
}

/**
 * The guest's external interrupt at `level`, injected as VSEIP through hvip: the PLIC's S-mode
 * context under the hw-assist VMM, KVM_IRQ_LINE under kvm.
 */
export function hvSetExternal(level: bool): void {
  const hvip = csrRaw(CSR_HVIP);
  if (level == ((hvip & MIP_VSEIP) != 0)) return;
  if (level) statAdd(STAT_HV_INJECTED);
  csrRawSet(CSR_HVIP, level ? hvip | MIP_VSEIP : hvip & ~MIP_VSEIP);
  requestStop();
}

/** A trap of the guest that enters HS-mode: handle it, return where the guest goes on. */
export function hvTrap(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  statAdd(STAT_HV_EXITS);
  if (isInterrupt) {
    // S-level interrupts are the VMM's own; it arms none (its timer and IPIs are the guest's)
    return hvCrash(pc, cause, tval, true);
  }
  switch (cause) {
    case CAUSE_VS_ECALL: {
      statAdd(STAT_HV_SBI);
      const ipi = csrRaw(CSR_HVIP) & MIP_VSSIP;
      sbiGuestCall(guestEnd);
      if ((csrRaw(CSR_HVIP) & MIP_VSSIP) > ipi) statAdd(STAT_HV_INJECTED);
      return pc + 4;
    }
    case CAUSE_LOAD_GUEST_PAGE_FAULT: case CAUSE_STORE_GUEST_PAGE_FAULT:
      // the guest physical address: htval's GPA >> 2, and the low bits from the virtual one
      return mmio(pc, cause, tval, (trapTval2 << 2) | (tval & 3));
    case CAUSE_FETCH_GUEST_PAGE_FAULT:
      return reflect(pc, CAUSE_FETCH_ACCESS, tval);
    case CAUSE_VIRTUAL_INSTRUCTION:
      // an instruction HS-mode may execute but the guest may not: illegal on a bare machine
      return reflect(pc, CAUSE_ILLEGAL_INSTRUCTION, tval);
  }
  // delegation sends every other exception to the guest's own handler
  return hvCrash(pc, cause, tval, false);
}

/** Deliver an exception to the guest's VS-mode handler, as the hardware would have. */
function reflect(pc: u64, cause: u32, tval: u64): u64 {
  statAdd(STAT_HV_REFLECTED);
  return enterVS(pc, cause, tval, false);
}

/**
 * A load or store to guest physical `gpa` that the G-stage does not map: a device's register
 * (emulated with the device models, from the transformed instruction in htinst), or nothing
 * (reflected as an access fault).
 */
function mmio(pc: u64, cause: u32, tval: u64, gpa: u64): u64 {
  const insn = <u32>trapTinst;
  const faultCause = cause == CAUSE_LOAD_GUEST_PAGE_FAULT ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;
  const kind = tinstKind(insn, cause);
  // guest RAM is all mapped: a fault inside it cannot be a device; neither can an AMO or an
  // access without a transformed instruction (0)
  if (kind == TINST_NONE || (gpa >= RAM_PHYS && gpa < guestEnd)) return reflect(pc, faultCause, tval);
  if (kind == TINST_LOAD) {
    const v = busRead(gpa, tinstSize(insn));
    if (!busOk) return reflect(pc, faultCause, tval);
    tinstLoadResult(insn, v);
  } else {
    busWrite(gpa, tinstSize(insn), tinstStoreValue(insn));
    if (!busOk) return reflect(pc, faultCause, tval);
  }
  statAdd(STAT_HV_MMIO);
  return pc + tinstLen(insn);
}

/**
 * A trap the VMM cannot give the guest (one that reaches M-mode, or an S-level interrupt of
 * its own): the run ends with EXIT_HV_CRASH (value: cause, bit 31 = interrupt).
 */
export function hvCrash(pc: u64, cause: u32, tval: u64, isInterrupt: bool): u64 {
  requestExit(EXIT_HV_CRASH, cause | (isInterrupt ? 0x8000_0000 : 0));
  return pc;
}
