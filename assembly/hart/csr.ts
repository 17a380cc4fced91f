// The CSR file as a table of {predicate, read, write} entries (QEMU's riscv_csr_operations
// shape): privileged spec 2.1-2.2 for the number rules, and chapters 3-4 for each CSR.
// Plain CSRs store their value in the CSR file (memmap CSR_BASE) under a write mask;
// the rest have their own read/write functions below.
import {
  csrRaw, csrRawSet, priv, PRV_M, PRV_S, PRV_U,
  MSTATUS_SIE, MSTATUS_MIE, MSTATUS_SPIE, MSTATUS_MPIE, MSTATUS_SPP, MSTATUS_MPP, MSTATUS_FS,
  MSTATUS_MPRV, MSTATUS_SUM, MSTATUS_MXR, MSTATUS_TVM, MSTATUS_TW, MSTATUS_TSR, MSTATUS_UXL,
  MSTATUS_SXL, MSTATUS_SD, MSTATUS_UBE, MSTATUS_XS, MSTATUS_VS, MPP_SHIFT,
  MIP_SSIP, MIP_STIP, MIP_SEIP, MIP_MSIP, MIP_MTIP, MIP_MEIP, FS_DIRTY,
} from './state';
import * as C from './opcodes.gen';
import { updateViews, tlbFlushAll } from '../mmu/tlb';
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

type CsrRead = (num: u32) => u64;
type CsrWrite = (num: u32, v: u64) => void;

class CsrDef {
  constructor(public pred: u8, public mask: u64, public read: CsrRead, public write: CsrWrite) {}
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
  table[num] = new CsrDef(pred, mask, read, write);
}

// ---- misa (3.1.1): RV64 with I M A F D C, S and U
export const MISA_RV64: u64 = <u64>2 << 62;
function ext(c: string): u64 {
  return <u64>1 << (c.charCodeAt(0) - 65);
}
export let misa: u64 = 0;

// ---- mstatus and its sstatus view (3.1.6, 4.1.1)
const MSTATUS_WMASK: u64 = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP |
  MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
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
  if (((old ^ n) & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM)) != 0) updateViews();
  // enabling an interrupt takes effect before the next instruction
  if (((old ^ n) & (MSTATUS_MIE | MSTATUS_SIE)) != 0) requestStop();
}
const MSTATUS_UXL_SXL: u64 = (<u64>2 << 32) | (<u64>2 << 34);

function writeMstatus(num: u32, v: u64): void {
  setMstatus(v, MSTATUS_WMASK);
}
function readSstatus(num: u32): u64 {
  return csrRaw(C.CSR_MSTATUS) & SSTATUS_MASK;
}
function writeSstatus(num: u32, v: u64): void {
  setMstatus(v, SSTATUS_MASK & MSTATUS_WMASK);
}

// ---- interrupts: mip/mie and the sip/sie views through mideleg (3.1.9, 4.1.3)
const MIP_ALL: u64 = MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP;
const MIDELEG_MASK: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
const MEDELEG_MASK: u64 = 0xb3ff; // causes 0-9, 12, 13, 15 (not 11: M-mode ECALL)

/** Bits of mip driven by devices (CLINT, PLIC, Sstc), ORed with the software-written ones. */
export let mipHw: u64 = 0;
export function setMipHw(bit: u64, on: bool): void {
  const n = on ? mipHw | bit : mipHw & ~bit;
  if (n != mipHw) {
    mipHw = n;
    requestStop();
  }
}
export function mipValue(): u64 {
  return csrRaw(C.CSR_MIP) | mipHw;
}
function readMip(num: u32): u64 {
  return mipValue();
}
function writeMip(num: u32, v: u64): void {
  // software may write SSIP, STIP (unless Sstc drives it) and SEIP (3.1.9)
  const m = MIP_SSIP | MIP_SEIP | (stce() ? 0 : MIP_STIP);
  csrRawSet(C.CSR_MIP, (csrRaw(C.CSR_MIP) & ~m) | (v & m));
  requestStop();
}
function writeMie(num: u32, v: u64): void {
  csrRawSet(C.CSR_MIE, v & MIP_ALL);
  requestStop();
}
function readSip(num: u32): u64 {
  return mipValue() & csrRaw(C.CSR_MIDELEG);
}
function writeSip(num: u32, v: u64): void {
  const m = MIP_SSIP & csrRaw(C.CSR_MIDELEG);
  csrRawSet(C.CSR_MIP, (csrRaw(C.CSR_MIP) & ~m) | (v & m));
  requestStop();
}
function readSie(num: u32): u64 {
  return csrRaw(C.CSR_MIE) & csrRaw(C.CSR_MIDELEG);
}
function writeSie(num: u32, v: u64): void {
  const m = csrRaw(C.CSR_MIDELEG) & MIDELEG_MASK;
  csrRawSet(C.CSR_MIE, (csrRaw(C.CSR_MIE) & ~m) | (v & m));
  requestStop();
}

// ---- trap vectors: MODE 0 direct, 1 vectored; 2 and 3 reserved (the write is ignored)
function writeTvec(num: u32, v: u64): void {
  if ((v & 3) < 2) csrRawSet(num, v);
}
// xepc: bit 0 is always zero, bit 1 too without C (IALIGN=16 here)
function writeEpc(num: u32, v: u64): void {
  csrRawSet(num, v & ~<u64>1);
}

// ---- satp (4.1.11): an unsupported MODE makes the whole write have no effect
function writeSatp(num: u32, v: u64): void {
  const mode = v >> 60;
  if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48) return;
  // 16 ASID bits (59:44), 44 PPN bits: every bit is kept
  csrRawSet(num, v);
  tlbFlushAll();
}

// ---- counters (Zicntr; 3.1.10-3.1.11): one cycle per instruction
let cycleOffset: u64 = 0;
let instretOffset: u64 = 0;
function readCounter(num: u32): u64 {
  const low = num & 0x1f;
  if (low == 0) return instretNow() + cycleOffset;
  if (low == 1) return mtime();
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
  requestStop();
}
function writeStimecmp(num: u32, v: u64): void {
  csrRawSet(num, v);
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
  misa = MISA_RV64 | ext('I') | ext('M') | ext('A') | ext('F') | ext('D') | ext('C') | ext('S') | ext('U');
  for (let i = 0; i < 4096; i++) csrRawSet(i, 0);
  if (!built) buildTable();
  built = true;
  csrRawSet(C.CSR_MHARTID, hartid);
  cycleOffset = 0;
  instretOffset = 0;
  mipHw = 0;
  csrRawSet(C.CSR_MSTATUS, MSTATUS_UXL_SXL);
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
  def(C.CSR_SCOUNTEREN, P_ANY, 0xffff_ffff);
  def(C.CSR_SENVCFG, P_ANY, 1);
  def(C.CSR_SSCRATCH, P_ANY, ALL);
  def(C.CSR_SEPC, P_ANY, 0, readPlain, writeEpc);
  def(C.CSR_SCAUSE, P_ANY, ALL);
  def(C.CSR_STVAL, P_ANY, ALL);
  def(C.CSR_SIP, P_ANY, 0, readSip, writeSip);
  def(C.CSR_STIMECMP, P_STIMECMP, 0, readPlain, writeStimecmp);
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
  def(C.CSR_MEDELEG, P_ANY, MEDELEG_MASK);
  def(C.CSR_MIDELEG, P_ANY, MIDELEG_MASK);
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

// ---- access (Zicsr chapter; privileged spec 2.1: bits 9:8 give the lowest privilege,
// bits 11:10 == 3 mark read-only)

/** Result of csrAccess; `csrOk` false means an illegal-instruction exception. */
export let csrOk: bool = true;

function allowed(num: u32, pred: u8): bool {
  if (pred == P_ANY) return true;
  if (pred == P_FP) return (csrRaw(C.CSR_MSTATUS) & MSTATUS_FS) != 0;
  if (pred == P_COUNTER) {
    const bit = <u64>1 << (num & 0x1f);
    if (priv < PRV_M && (csrRaw(C.CSR_MCOUNTEREN) & bit) == 0) return false;
    if (priv == PRV_U && (csrRaw(C.CSR_SCOUNTEREN) & bit) == 0) return false;
    return true;
  }
  if (pred == P_SATP) return !(priv == PRV_S && (csrRaw(C.CSR_MSTATUS) & MSTATUS_TVM) != 0);
  if (pred == P_STIMECMP) {
    // STCE = 0 makes stimecmp inaccessible "in a mode other than M-mode" (menvcfg, Sstc)
    if (priv == PRV_M) return true;
    return stce() && (csrRaw(C.CSR_MCOUNTEREN) & 2) != 0;
  }
  return false;
}

/**
 * Read-modify-write of a CSR. `op`: 1 = write (CSRRW), 2 = set (CSRRS), 3 = clear (CSRRC).
 * `doRead` false skips the read (CSRRW with rd=x0), `doWrite` false skips the write
 * (CSRRS/CSRRC with rs1=x0 or uimm=0). Returns the old value; csrOk tells legality.
 */
export function csrAccess(num: u32, op: u32, operand: u64, doRead: bool, doWrite: bool): u64 {
  csrOk = false;
  const d = table[num];
  if (d == null) return 0;
  if (((num >> 8) & 3) > priv) return 0;
  if (doWrite && (num >> 10) == 3) return 0;
  if (!allowed(num, d.pred)) return 0;
  csrOk = true;
  const old: u64 = doRead || op != 1 ? d.read(num) : 0;
  if (doWrite) {
    const v = op == 1 ? operand : op == 2 ? old | operand : old & ~operand;
    d.write(num, v);
  }
  return old;
}

/** Read a CSR with no privilege checks (debugging, the host API). */
export function csrPeek(num: u32): u64 {
  const d = table[num];
  return d == null ? 0 : d.read(num);
}
