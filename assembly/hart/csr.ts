// The CSR file as a table of {predicate, read, write} entries (QEMU's riscv_csr_operations
// shape): privileged spec 2.1-2.2 for the number rules, and chapters 3-4 for each CSR.
// Plain CSRs store their value in the CSR file (memmap CSR_BASE) under a write mask;
// the rest have their own read/write functions below.
import {
  csrRaw, csrRawSet, priv, virt, PRV_M, PRV_S, PRV_U,
  MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP, MSTATUS_MPP, MSTATUS_FS,
  MSTATUS_MPRV, MSTATUS_SUM, MSTATUS_MXR, MSTATUS_TVM, MSTATUS_TW, MSTATUS_TSR, MSTATUS_UXL,
  MSTATUS_SXL, MSTATUS_SD, MSTATUS_UBE, MSTATUS_XS, MSTATUS_VS, MSTATUS_GVA, MSTATUS_MPV, MPP_SHIFT,
  MIP_SSIP, MIP_STIP, MIP_SEIP, MIP_MSIP, MIP_MTIP, MIP_MEIP, MIP_VSSIP, MIP_SGEIP, MIP_VS_ALL, FS_DIRTY,
  HSTATUS_GVA, HSTATUS_SPV, HSTATUS_SPVP, HSTATUS_HU, HSTATUS_VTVM, HSTATUS_VTW, HSTATUS_VTSR, HSTATUS_VSXL_64,
  CAUSE_ILLEGAL_INSTRUCTION, CAUSE_VIRTUAL_INSTRUCTION,
} from './state';
import * as C from './opcodes.gen';
import { updateViews, tlbFlushAll, tlbFlushVirt, tlbSelectContext } from '../mmu/tlb';
import { pmpAddrLocked, pmpCfg, pmpRecount, PMP_L } from '../mmu/pmp';
import { SATP_MODE_BARE, SATP_MODE_SV39, SATP_MODE_SV48 } from '../mmu/walk';
import { mtime } from '../devices/clint';
import { instretNow, requestStop } from './counters';
import { fflagsGet, fflagsSet, frm, setFrm } from './fpstate';

// ---- predicates (whether a CSR exists/is accessible beyond the privilege rule)
const P_ANY: u8 = 0;
const P_FP: u8 = 1; // mstatus.FS != Off
const P_COUNTER: u8 = 2; // mcounteren/scounteren gate the U/S view of a counter
const P_SATP: u8 = 3; // mstatus.TVM traps S-mode accesses
const P_STIMECMP: u8 = 4; // Sstc: menvcfg.STCE (and mcounteren.TM from S)
const P_HGATP: u8 = 5; // mstatus.TVM traps HS-mode accesses of hgatp (H chapter, hgatp)

type CsrRead = (num: u32) => u64;
type CsrWrite = (num: u32, v: u64) => void;

class CsrDef {
  /** `h`: exists only on a hart with the H extension. */
  constructor(public pred: u8, public mask: u64, public read: CsrRead, public write: CsrWrite, public h: bool) {}
}

const table = new StaticArray<CsrDef | null>(4096);

function readPlain(num: u32): u64 {
  return csrRaw(num);
}
function writePlain(num: u32, v: u64): void {
  const d = table[num]!;
  csrRawSet(num, (csrRaw(num) & ~d.mask) | (v & d.mask));
}
function writeNone(num: u32, v: u64): void {}

function def(num: u32, pred: u8, mask: u64, read: CsrRead = readPlain, write: CsrWrite = writePlain): void {
  table[num] = new CsrDef(pred, mask, read, write, false);
}
/** A CSR of the H extension. */
function defH(num: u32, pred: u8, mask: u64, read: CsrRead = readPlain, write: CsrWrite = writePlain): void {
  table[num] = new CsrDef(pred, mask, read, write, true);
}

// ---- misa (3.1.1): RV64 with I M A F D C, S and U, and H when the hart has it
export const MISA_RV64: u64 = <u64>2 << 62;
function ext(c: string): u64 {
  return <u64>1 << (c.charCodeAt(0) - 65);
}
export let misa: u64 = 0;
/** The hart has the H extension (-cpu rv64,h=on; on by default, as in QEMU). Set before reset. */
export let hExt: bool = true;
export function setHExt(on: bool): void {
  hExt = on;
}

// ---- mstatus and its sstatus view (3.1.6, 4.1.1)
const MSTATUS_WMASK: u64 = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP |
  MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
/** mstatus bits the H extension adds (H chapter, "Machine Status Registers"). */
const MSTATUS_H: u64 = MSTATUS_GVA | MSTATUS_MPV;
const SSTATUS_MASK: u64 = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS |
  MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD;

function withSD(ms: u64): u64 {
  return (ms & MSTATUS_FS) == MSTATUS_FS ? ms | MSTATUS_SD : ms & ~MSTATUS_SD;
}

/** Write mstatus bits in `mask` (already legal values); keeps the derived state in step. */
export function setMstatus(v: u64, mask: u64): void {
  const old = csrRaw(C.CSR_MSTATUS);
  let n = (old & ~mask) | (v & mask);
  // MPP is WARL over {U, S, M}: the reserved value 2 leaves the field unchanged
  if (((n & MSTATUS_MPP) >> MPP_SHIFT) == 2) n = (n & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
  n = withSD(n) | MSTATUS_UXL_SXL;
  csrRawSet(C.CSR_MSTATUS, n);
  if (((old ^ n) & MSTATUS_MXR) != 0) tlbFlushAll();
  if (((old ^ n) & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MPV)) != 0) updateViews();
  // enabling an interrupt takes effect before the next instruction
  if (((old ^ n) & (MSTATUS_MIE | MSTATUS_SIE)) != 0) requestStop();
}
const MSTATUS_UXL_SXL: u64 = (<u64>2 << 32) | (<u64>2 << 34);

function writeMstatus(num: u32, v: u64): void {
  setMstatus(v, hExt ? MSTATUS_WMASK | MSTATUS_H : MSTATUS_WMASK);
}
function readSstatus(num: u32): u64 {
  return csrRaw(C.CSR_MSTATUS) & SSTATUS_MASK;
}
function writeSstatus(num: u32, v: u64): void {
  setMstatus(v, SSTATUS_MASK & MSTATUS_WMASK);
}

// ---- vsstatus (H chapter, "Virtual Supervisor Status Register"): the sstatus of VS-mode, in
// its own storage; UXL reads 2 (64-bit), SD summarises FS.
const VSSTATUS_WMASK: u64 = SSTATUS_MASK & MSTATUS_WMASK;
const VSSTATUS_UXL: u64 = <u64>2 << 32;
function writeVsstatus(num: u32, v: u64): void {
  const old = csrRaw(C.CSR_VSSTATUS);
  const n = withSD((old & ~VSSTATUS_WMASK) | (v & VSSTATUS_WMASK)) | VSSTATUS_UXL;
  csrRawSet(C.CSR_VSSTATUS, n);
  // MXR shapes the VS-stage translations the TLB holds while V=1, SUM which view is used
  if (((old ^ n) & MSTATUS_MXR) != 0) tlbFlushVirt();
  if (((old ^ n) & MSTATUS_SUM) != 0) updateViews();
  if (((old ^ n) & MSTATUS_SIE) != 0) requestStop();
}

// ---- interrupts: mip/mie and the sip/sie views through mideleg (3.1.9, 4.1.3)
const MIP_ALL: u64 = MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP;
const MIDELEG_MASK: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
// causes 0-9, 12, 13, 15 (not 11: M-mode ECALL); with H also 10 (VS ECALL) and 20-23
const MEDELEG_MASK: u64 = 0xb3ff;
const MEDELEG_H: u64 = (1 << 10) | (0xf << 20);
/** With H, mideleg's VS-level bits are read-only one; SGEIP too, but GEILEN = 0 here (H chapter, mideleg). */
const MIDELEG_H: u64 = MIP_VS_ALL;
/** hedeleg: causes 0-8, 12, 13, 15; ECALLs from HS/VS/M and the H causes stay with HS. */
const HEDELEG_MASK: u64 = 0xb1ff;

/** Bits of mip driven by devices (CLINT, PLIC, Sstc), ORed with the software-written ones. */
export let mipHw: u64 = 0;
export function setMipHw(bit: u64, on: bool): void {
  const n = on ? mipHw | bit : mipHw & ~bit;
  if (n != mipHw) {
    mipHw = n;
    requestStop();
  }
}
/** mip: the software-written bits, the device-driven ones and hvip's VS-level ones. */
export function mipValue(): u64 {
  return csrRaw(C.CSR_MIP) | mipHw | (csrRaw(C.CSR_HVIP) & MIP_VS_ALL);
}
function readMip(num: u32): u64 {
  return mipValue();
}
function writeMip(num: u32, v: u64): void {
  // software may write SSIP, STIP (unless Sstc drives it) and SEIP (3.1.9)
  const m = MIP_SSIP | MIP_SEIP | (stce() ? 0 : MIP_STIP);
  csrRawSet(C.CSR_MIP, (csrRaw(C.CSR_MIP) & ~m) | (v & m));
  // mip.VSSIP is an alias of hvip.VSSIP (H chapter, hvip)
  if (hExt) setHvipBits(MIP_VSSIP, v);
  requestStop();
}
function writeMie(num: u32, v: u64): void {
  csrRawSet(C.CSR_MIE, v & (hExt ? MIP_ALL | MIP_VS_ALL : MIP_ALL));
  requestStop();
}
function writeMideleg(num: u32, v: u64): void {
  csrRawSet(num, (v & MIDELEG_MASK) | (hExt ? MIDELEG_H : 0));
}
function writeMedeleg(num: u32, v: u64): void {
  csrRawSet(num, v & (hExt ? MEDELEG_MASK | MEDELEG_H : MEDELEG_MASK));
}
// sip/sie show only the S-level bits mideleg delegates (the VS-level ones are in hip/hie)
function readSip(num: u32): u64 {
  return mipValue() & csrRaw(C.CSR_MIDELEG) & MIDELEG_MASK;
}
function writeSip(num: u32, v: u64): void {
  const m = MIP_SSIP & csrRaw(C.CSR_MIDELEG);
  csrRawSet(C.CSR_MIP, (csrRaw(C.CSR_MIP) & ~m) | (v & m));
  requestStop();
}
function readSie(num: u32): u64 {
  return csrRaw(C.CSR_MIE) & csrRaw(C.CSR_MIDELEG) & MIDELEG_MASK;
}
function writeSie(num: u32, v: u64): void {
  const m = csrRaw(C.CSR_MIDELEG) & MIDELEG_MASK;
  csrRawSet(C.CSR_MIE, (csrRaw(C.CSR_MIE) & ~m) | (v & m));
  requestStop();
}

// ---- trap vectors: MODE 0 direct, 1 vectored; 2 and 3 reserved (the write is ignored).
// The WARL rules are exported for a VMM that keeps a guest's copies (vmm/full.ts).
@inline export function tvecWritable(v: u64): bool {
  return (v & 3) < 2;
}
function writeTvec(num: u32, v: u64): void {
  if (tvecWritable(v)) csrRawSet(num, v);
}
// xepc: bit 0 is always zero, bit 1 too without C (IALIGN=16 here)
@inline export function epcValue(v: u64): u64 {
  return v & ~<u64>1;
}
function writeEpc(num: u32, v: u64): void {
  csrRawSet(num, epcValue(v));
}
/** scounteren's and senvcfg's writable bits (all 32 counters; FIOM). */
export const SCOUNTEREN_WRITABLE: u64 = 0xffff_ffff;
export const SENVCFG_WRITABLE: u64 = 1;

// ---- satp (4.1.11): an unsupported MODE makes the whole write have no effect. vsatp (H
// chapter) has the same format; it translates only while V=1. A write selects the address
// space the TLB uses (mmu/tlb.ts: entries are tagged by ASID, and by VMID and V): no flush,
// as on hardware with ASIDs, where changing tables without SFENCE.VMA needs a new ASID.
function writeSatp(num: u32, v: u64): void {
  const mode = v >> 60;
  if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48) return;
  // 16 ASID bits (59:44), 44 PPN bits: every bit is kept
  csrRawSet(num, v);
  tlbSelectContext();
}

// ---- the H extension's CSRs (privileged spec, "Hypervisor Extension" chapter). GEILEN = 0:
// no guest external interrupt lines, so hgeip/hgeie and hstatus.VGEIN are zero.
const HSTATUS_WMASK: u64 = HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_HU | HSTATUS_VTVM |
  HSTATUS_VTW | HSTATUS_VTSR;
function writeHstatus(num: u32, v: u64): void {
  csrRawSet(num, (v & HSTATUS_WMASK) | HSTATUS_VSXL_64);
}
function setHvipBits(mask: u64, v: u64): void {
  csrRawSet(C.CSR_HVIP, (csrRaw(C.CSR_HVIP) & ~mask) | (v & mask));
  requestStop();
}
// hvip: VSSIP, VSTIP, VSEIP written by the hypervisor to inject interrupts into VS-mode
function writeHvip(num: u32, v: u64): void {
  setHvipBits(MIP_VS_ALL, v);
}
const HIP_MASK: u64 = MIP_VS_ALL | MIP_SGEIP;
function readHip(num: u32): u64 {
  return mipValue() & HIP_MASK;
}
// hip: only VSSIP is writable (an alias of hvip.VSSIP)
function writeHip(num: u32, v: u64): void {
  setHvipBits(MIP_VSSIP, v);
}
function readHie(num: u32): u64 {
  return csrRaw(C.CSR_MIE) & HIP_MASK;
}
// hie: VSSIE, VSTIE, VSEIE (SGEIE is read-only zero with GEILEN = 0)
function writeHie(num: u32, v: u64): void {
  csrRawSet(C.CSR_MIE, (csrRaw(C.CSR_MIE) & ~MIP_VS_ALL) | (v & MIP_VS_ALL));
  requestStop();
}
// vsip/vsie: the VS-level bits hideleg delegates, shifted down one to their S positions
// (VSSIP -> SSIP, VSTIP -> STIP, VSEIP -> SEIP)
function readVsip(num: u32): u64 {
  return (mipValue() & csrRaw(C.CSR_HIDELEG) & MIP_VS_ALL) >> 1;
}
function writeVsip(num: u32, v: u64): void {
  setHvipBits(MIP_VSSIP & csrRaw(C.CSR_HIDELEG), v << 1);
}
function readVsie(num: u32): u64 {
  return (csrRaw(C.CSR_MIE) & csrRaw(C.CSR_HIDELEG) & MIP_VS_ALL) >> 1;
}
function writeVsie(num: u32, v: u64): void {
  const m = csrRaw(C.CSR_HIDELEG) & MIP_VS_ALL;
  csrRawSet(C.CSR_MIE, (csrRaw(C.CSR_MIE) & ~m) | ((v << 1) & m));
  requestStop();
}
// hgatp: MODE Bare, Sv39x4 or Sv48x4, 14 VMID bits, PPN of a 16 KiB aligned root (its two
// low bits read as zero). Unlike satp, a write with an unsupported MODE is not ignored: the
// fields are WARL one by one (H chapter, hgatp), so MODE keeps its value and VMID/PPN are written.
const HGATP_VMID_PPN: u64 = (<u64>0x3fff << 44) | (0xfff_ffff_ffff & ~<u64>3);
function writeHgatp(num: u32, v: u64): void {
  let mode = v >> 60;
  if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48) mode = csrRaw(num) >> 60;
  csrRawSet(num, (mode << 60) | (v & HGATP_VMID_PPN));
  tlbSelectContext(); // at V=1, the VMID's context
}
// henvcfg: FIOM, and STCE only when menvcfg.STCE allows it (Sstc)
function writeHenvcfg(num: u32, v: u64): void {
  csrRawSet(num, v & ((stce() ? MENVCFG_STCE : 0) | 1));
  requestStop();
}
/** Sstc for VS-mode: vstimecmp drives VSTIP (henvcfg.STCE, itself gated by menvcfg.STCE). */
@inline export function vstce(): bool {
  return (csrRaw(C.CSR_HENVCFG) & MENVCFG_STCE) != 0;
}
function writeTimer(num: u32, v: u64): void {
  csrRawSet(num, v);
  requestStop();
}

// ---- counters (Zicntr; 3.1.10-3.1.11): one cycle per instruction
let cycleOffset: u64 = 0;
let instretOffset: u64 = 0;
function readCounter(num: u32): u64 {
  const low = num & 0x1f;
  if (low == 0) return instretNow() + cycleOffset;
  // VS and VU see time + htimedelta (H chapter, htimedelta)
  if (low == 1) return virt ? mtime() + csrRaw(C.CSR_HTIMEDELTA) : mtime();
  if (low == 2) return instretNow() + instretOffset;
  return 0; // hpmcounter3..31: no events implemented
}
function writeMcounter(num: u32, v: u64): void {
  if (num == C.CSR_MCYCLE) cycleOffset = v - instretNow();
  else if (num == C.CSR_MINSTRET) instretOffset = v - instretNow() - 1; // this instruction retires after the write
}

// ---- envcfg (3.1.18, 4.1.10): FIOM; STCE enables Sstc
const MENVCFG_STCE: u64 = <u64>1 << 63;
@inline export function stce(): bool {
  return (csrRaw(C.CSR_MENVCFG) & MENVCFG_STCE) != 0;
}
function writeMenvcfg(num: u32, v: u64): void {
  csrRawSet(num, v & (MENVCFG_STCE | 1));
  // henvcfg.STCE is read-only zero while menvcfg.STCE is
  if (!stce()) csrRawSet(C.CSR_HENVCFG, csrRaw(C.CSR_HENVCFG) & ~MENVCFG_STCE);
  requestStop();
}

// ---- floating point (unprivileged spec, F chapter: fcsr)
function readFcsr(num: u32): u64 {
  if (num == C.CSR_FFLAGS) return fflagsGet();
  if (num == C.CSR_FRM) return frm;
  return (<u64>frm << 5) | fflagsGet();
}
function writeFcsr(num: u32, v: u64): void {
  if (num == C.CSR_FFLAGS) fflagsSet(<u32>v & 0x1f);
  else if (num == C.CSR_FRM) setFrm(<u32>v & 7);
  else {
    fflagsSet(<u32>v & 0x1f);
    setFrm(<u32>(v >> 5) & 7);
  }
  markFsDirty();
}
export function markFsDirty(): void {
  const ms = csrRaw(C.CSR_MSTATUS);
  if ((ms & MSTATUS_FS) != FS_DIRTY) csrRawSet(C.CSR_MSTATUS, ms | FS_DIRTY | MSTATUS_SD);
  // with V=1 both mstatus.FS and vsstatus.FS become Dirty (H chapter, vsstatus)
  if (virt) csrRawSet(C.CSR_VSSTATUS, csrRaw(C.CSR_VSSTATUS) | FS_DIRTY | MSTATUS_SD);
}
/** The FPU is off: mstatus.FS = Off, or with V=1 vsstatus.FS = Off. */
export function fpOff(): bool {
  return (csrRaw(C.CSR_MSTATUS) & MSTATUS_FS) == 0 || (virt && (csrRaw(C.CSR_VSSTATUS) & MSTATUS_FS) == 0);
}

// ---- PMP (3.7): locked entries ignore writes; odd pmpcfg do not exist on RV64
function writePmpcfg(num: u32, v: u64): void {
  const first = (num - C.CSR_PMPCFG0) << 2; // entry number of byte 0
  let cur = csrRaw(num);
  for (let b: u32 = 0; b < 8; b++) {
    if ((pmpCfg(first + b) & PMP_L) != 0) continue;
    // bits 6:5 are reserved and read as zero (3.7.1, pmpcfg format)
    let nb = (v >> (b << 3)) & 0x9f;
    // R=0 W=1 is reserved: keep it from being set (WARL)
    if ((nb & 3) == 2) nb &= ~<u64>2;
    cur = (cur & ~(<u64>0xff << (b << 3))) | (nb << (b << 3));
  }
  csrRawSet(num, cur);
  pmpRecount();
  tlbFlushAll();
}
function writePmpaddr(num: u32, v: u64): void {
  if (pmpAddrLocked(num - C.CSR_PMPADDR0)) return;
  csrRawSet(num, v & 0x3f_ffff_ffff_ffff); // 54 bits (PA 56 bits >> 2)
  tlbFlushAll();
}

function readZero(num: u32): u64 {
  return 0;
}

let built = false;

/** Reset every CSR (privileged spec 3.4: reset state); the table is built on first use. */
export function initCsrs(hartid: u64): void {
  misa = MISA_RV64 | ext('I') | ext('M') | ext('A') | ext('F') | ext('D') | ext('C') | ext('S') | ext('U') |
    (hExt ? ext('H') : 0);
  for (let i = 0; i < 4096; i++) csrRawSet(i, 0);
  if (!built) buildTable();
  built = true;
  csrRawSet(C.CSR_MHARTID, hartid);
  cycleOffset = 0;
  instretOffset = 0;
  mipHw = 0;
  csrRawSet(C.CSR_MSTATUS, MSTATUS_UXL_SXL);
  if (hExt) {
    csrRawSet(C.CSR_MIDELEG, MIDELEG_H);
    csrRawSet(C.CSR_HSTATUS, HSTATUS_VSXL_64);
    csrRawSet(C.CSR_VSSTATUS, VSSTATUS_UXL);
  }
  pmpRecount();
}

// The table is allocated once: the stub runtime never frees.
function buildTable(): void {
  const ALL: u64 = 0xffff_ffff_ffff_ffff;
  // unprivileged
  def(C.CSR_FFLAGS, P_FP, 0, readFcsr, writeFcsr);
  def(C.CSR_FRM, P_FP, 0, readFcsr, writeFcsr);
  def(C.CSR_FCSR, P_FP, 0, readFcsr, writeFcsr);
  for (let n: u32 = 0xc00; n <= 0xc1f; n++) def(n, P_COUNTER, 0, readCounter, writeNone);
  // supervisor
  def(C.CSR_SSTATUS, P_ANY, 0, readSstatus, writeSstatus);
  def(C.CSR_SIE, P_ANY, 0, readSie, writeSie);
  def(C.CSR_STVEC, P_ANY, 0, readPlain, writeTvec);
  def(C.CSR_SCOUNTEREN, P_ANY, SCOUNTEREN_WRITABLE);
  def(C.CSR_SENVCFG, P_ANY, SENVCFG_WRITABLE);
  def(C.CSR_SSCRATCH, P_ANY, ALL);
  def(C.CSR_SEPC, P_ANY, 0, readPlain, writeEpc);
  def(C.CSR_SCAUSE, P_ANY, ALL);
  def(C.CSR_STVAL, P_ANY, ALL);
  def(C.CSR_SIP, P_ANY, 0, readSip, writeSip);
  def(C.CSR_STIMECMP, P_STIMECMP, 0, readPlain, writeTimer);
  def(C.CSR_SATP, P_SATP, 0, readPlain, writeSatp);
  // machine information (read-only)
  def(C.CSR_MVENDORID, P_ANY, 0);
  def(C.CSR_MARCHID, P_ANY, 0);
  def(C.CSR_MIMPID, P_ANY, 0);
  def(C.CSR_MHARTID, P_ANY, 0);
  def(C.CSR_MCONFIGPTR, P_ANY, 0);
  // machine trap setup and handling
  def(C.CSR_MSTATUS, P_ANY, 0, readPlain, writeMstatus);
  def(C.CSR_MISA, P_ANY, 0, readMisa, writeNone);
  def(C.CSR_MEDELEG, P_ANY, 0, readPlain, writeMedeleg);
  def(C.CSR_MIDELEG, P_ANY, 0, readPlain, writeMideleg);
  def(C.CSR_MIE, P_ANY, 0, readPlain, writeMie);
  def(C.CSR_MTVEC, P_ANY, 0, readPlain, writeTvec);
  def(C.CSR_MCOUNTEREN, P_ANY, 0xffff_ffff);
  def(C.CSR_MENVCFG, P_ANY, 0, readPlain, writeMenvcfg);
  def(C.CSR_MCOUNTINHIBIT, P_ANY, 0xffff_fffd);
  def(C.CSR_MSCRATCH, P_ANY, ALL);
  def(C.CSR_MEPC, P_ANY, 0, readPlain, writeEpc);
  def(C.CSR_MCAUSE, P_ANY, ALL);
  def(C.CSR_MTVAL, P_ANY, ALL);
  def(C.CSR_MIP, P_ANY, 0, readMip, writeMip);
  defH(C.CSR_MTINST, P_ANY, ALL);
  defH(C.CSR_MTVAL2, P_ANY, ALL);
  // hypervisor (H chapter, "Hypervisor and Virtual Supervisor CSRs")
  defH(C.CSR_HSTATUS, P_ANY, 0, readPlain, writeHstatus);
  defH(C.CSR_HEDELEG, P_ANY, HEDELEG_MASK);
  defH(C.CSR_HIDELEG, P_ANY, MIP_VS_ALL);
  defH(C.CSR_HIE, P_ANY, 0, readHie, writeHie);
  defH(C.CSR_HTIMEDELTA, P_ANY, 0, readPlain, writeTimer);
  defH(C.CSR_HCOUNTEREN, P_ANY, 0xffff_ffff);
  defH(C.CSR_HGEIE, P_ANY, 0, readZero, writeNone);
  defH(C.CSR_HENVCFG, P_ANY, 0, readPlain, writeHenvcfg);
  defH(C.CSR_HTVAL, P_ANY, ALL);
  defH(C.CSR_HIP, P_ANY, 0, readHip, writeHip);
  defH(C.CSR_HVIP, P_ANY, 0, readPlain, writeHvip);
  defH(C.CSR_HTINST, P_ANY, ALL);
  defH(C.CSR_HGATP, P_HGATP, 0, readPlain, writeHgatp);
  defH(C.CSR_HGEIP, P_ANY, 0, readZero, writeNone);
  // virtual supervisor: what the S CSRs (their number - 0x100) access while V=1
  defH(C.CSR_VSSTATUS, P_ANY, 0, readPlain, writeVsstatus);
  defH(C.CSR_VSIE, P_ANY, 0, readVsie, writeVsie);
  defH(C.CSR_VSTVEC, P_ANY, 0, readPlain, writeTvec);
  defH(C.CSR_VSSCRATCH, P_ANY, ALL);
  defH(C.CSR_VSEPC, P_ANY, 0, readPlain, writeEpc);
  defH(C.CSR_VSCAUSE, P_ANY, ALL);
  defH(C.CSR_VSTVAL, P_ANY, ALL);
  defH(C.CSR_VSIP, P_ANY, 0, readVsip, writeVsip);
  defH(C.CSR_VSTIMECMP, P_STIMECMP, 0, readPlain, writeTimer);
  defH(C.CSR_VSATP, P_ANY, 0, readPlain, writeSatp);
  def(C.CSR_PMPCFG0, P_ANY, 0, readPlain, writePmpcfg);
  def(C.CSR_PMPCFG2, P_ANY, 0, readPlain, writePmpcfg);
  for (let i: u32 = 0; i < 16; i++) def(C.CSR_PMPADDR0 + i, P_ANY, 0, readPlain, writePmpaddr);
  // machine counters; mhpmcounter3..31 and mhpmevent3..31 are read-only zero (no events)
  def(C.CSR_MCYCLE, P_ANY, 0, readCounter, writeMcounter);
  def(C.CSR_MINSTRET, P_ANY, 0, readCounter, writeMcounter);
  for (let n: u32 = 0xb03; n <= 0xb1f; n++) def(n, P_ANY, 0, readZero, writeNone);
  for (let n: u32 = 0x323; n <= 0x33f; n++) def(n, P_ANY, 0, readZero, writeNone);
}

function readMisa(num: u32): u64 {
  return misa;
}

// ---- access (Zicsr chapter; privileged spec 2.1: bits 9:8 give the lowest privilege, 2 being
// the hypervisor's (HS-mode), bits 11:10 == 3 mark read-only; H chapter, "Virtual Instruction
// Exception": from V=1, an access HS-mode could make raises a virtual-instruction exception)

/** Result of csrAccess: 0, or the exception it raises (illegal or virtual instruction). */
export let csrFault: u32 = 0;

const ILLEGAL: u32 = CAUSE_ILLEGAL_INSTRUCTION;
const VIRTUAL: u32 = CAUSE_VIRTUAL_INSTRUCTION;

/** 0 if the predicate allows the access from the current mode, else the exception. */
function allowed(num: u32, pred: u8): u32 {
  if (pred == P_ANY) return 0;
  if (pred == P_FP) return fpOff() ? ILLEGAL : 0;
  const ms = csrRaw(C.CSR_MSTATUS);
  if (pred == P_COUNTER) {
    const bit = <u64>1 << (num & 0x1f);
    if (priv < PRV_M && (csrRaw(C.CSR_MCOUNTEREN) & bit) == 0) return ILLEGAL;
    if (virt && (csrRaw(C.CSR_HCOUNTEREN) & bit) == 0) return VIRTUAL;
    if (priv == PRV_U && (csrRaw(C.CSR_SCOUNTEREN) & bit) == 0) return virt ? VIRTUAL : ILLEGAL;
    return 0;
  }
  if (pred == P_SATP) {
    if (virt) return (csrRaw(C.CSR_HSTATUS) & HSTATUS_VTVM) != 0 ? VIRTUAL : 0;
    return priv == PRV_S && (ms & MSTATUS_TVM) != 0 ? ILLEGAL : 0;
  }
  if (pred == P_HGATP) return priv == PRV_S && (ms & MSTATUS_TVM) != 0 ? ILLEGAL : 0;
  if (pred == P_STIMECMP) {
    // STCE = 0 makes stimecmp inaccessible "in a mode other than M-mode" (menvcfg, Sstc);
    // henvcfg.STCE and hcounteren.TM do the same for VS-mode (Sstc with H)
    if (priv == PRV_M) return 0;
    if (!stce() || (csrRaw(C.CSR_MCOUNTEREN) & 2) == 0) return ILLEGAL;
    if (virt && (!vstce() || (csrRaw(C.CSR_HCOUNTEREN) & 2) == 0)) return VIRTUAL;
    return 0;
  }
  return ILLEGAL;
}

/** The VS CSR a supervisor CSR number accesses while V=1 (its number + 0x100), or `num`. */
function vsAlias(num: u32): u32 {
  switch (num) {
    case C.CSR_SSTATUS: case C.CSR_SIE: case C.CSR_STVEC: case C.CSR_SSCRATCH: case C.CSR_SEPC:
    case C.CSR_SCAUSE: case C.CSR_STVAL: case C.CSR_SIP: case C.CSR_STIMECMP: case C.CSR_SATP:
      return num + 0x100;
  }
  return num;
}

/**
 * Read-modify-write of a CSR. `op`: 1 = write (CSRRW), 2 = set (CSRRS), 3 = clear (CSRRC).
 * `doRead` false skips the read (CSRRW with rd=x0), `doWrite` false skips the write
 * (CSRRS/CSRRC with rs1=x0 or uimm=0). Returns the old value; csrFault tells legality.
 */
export function csrAccess(num: u32, op: u32, operand: u64, doRead: bool, doWrite: bool): u64 {
  csrFault = ILLEGAL;
  let d = table[num];
  if (d == null || (d.h && !hExt)) return 0;
  if (doWrite && (num >> 10) == 3) return 0;
  const level = (num >> 8) & 3;
  if (level == 3 && priv != PRV_M) return 0;
  if (virt) {
    // hypervisor and VS CSRs from VS/VU, supervisor CSRs from VU: HS-mode could access them
    if (level == 2 || (level == 1 && priv == PRV_U)) {
      // only when HS-mode could make the access (H chapter, "Virtual Instruction Exception"):
      // Sstc keeps stimecmp/vstimecmp illegal below M with menvcfg.STCE or mcounteren.TM clear
      const hsCan = d.pred != P_STIMECMP || (stce() && (csrRaw(C.CSR_MCOUNTEREN) & 2) != 0);
      csrFault = hsCan ? VIRTUAL : ILLEGAL;
      return 0;
    }
  } else if ((level == 2 ? PRV_S : level) > priv) return 0;
  const fault = allowed(num, d.pred);
  if (fault != 0) {
    csrFault = fault;
    return 0;
  }
  if (virt && level == 1) {
    const alias = vsAlias(num);
    num = alias;
    d = table[alias];
  }
  csrFault = 0;
  const def = d!;
  const old: u64 = doRead || op != 1 ? def.read(num) : 0;
  if (doWrite) {
    const v = op == 1 ? operand : op == 2 ? old | operand : old & ~operand;
    def.write(num, v);
  }
  return old;
}

/** Write a CSR as the hart would (its WARL rules), with no privilege checks (the host API). */
export function csrPoke(num: u32, v: u64): void {
  const d = table[num];
  if (d != null) d.write(num, v);
}

/** Read a CSR with no privilege checks (debugging, the host API). */
export function csrPeek(num: u32): u64 {
  const d = table[num];
  return d == null ? 0 : d.read(num);
}
