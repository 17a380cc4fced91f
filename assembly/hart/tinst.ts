// The transformed instruction a guest-page fault reports in htinst/mtinst (privileged spec,
// H chapter, "Transformed Instruction or Pseudoinstruction for mtinst or htinst"): the
// faulting load or store with its immediate zeroed and the rs1 field replaced by the offset
// of the faulting address from the one the instruction computed (nonzero only for an access
// split at a page boundary). A compressed instruction is given as its 32-bit expansion with
// bit 1 cleared. The hypervisor can emulate the access from it without reading guest memory.
import * as O from './opcodes.gen';
import { SCRATCH_SLOT, SLOT_OP, SLOT_RD, SLOT_RS1, SLOT_RS2, SLOT_IMM, SLOT_RAW, SLOT_LEN } from '../memmap';
import {
  getX, setX, getF, setF, csrRaw, csrRawSet, FS_DIRTY, CAUSE_LOAD_GUEST_PAGE_FAULT, CAUSE_STORE_GUEST_PAGE_FAULT,
} from './state';
import { CSR_MSTATUS, CSR_VSSTATUS } from './opcodes.gen';
import { fetchVpn, fetchSlots } from '../mmu/tlb';
import { decodeInto } from './decode';

const OPC_LOAD: u32 = 0x03;
const OPC_LOAD_FP: u32 = 0x07;
const OPC_STORE: u32 = 0x23;
const OPC_STORE_FP: u32 = 0x27;
const RS1_FIELD: u32 = 0x1f << 15;

/** The transformed instruction for a guest-page fault at `tval` of the instruction at `pc` (0: none). */
export function transformedInsn(pc: u64, tval: u64): u64 {
  // the instruction is in the fetch path's page (it just executed); else report none
  if (pc >> 12 != fetchVpn) return 0;
  const slot = fetchSlots + ((<u32>pc & 0xfff) << 3);
  if (load<u16>(slot, SLOT_OP) == 0) return 0;
  const raw = load<u32>(slot, SLOT_RAW);
  // decode afresh: the slot may hold a compiled block's entry (its raw bits stay)
  const op = <u32>decodeInto(SCRATCH_SLOT, raw);
  const rd = <u32>load<u8>(SCRATCH_SLOT, SLOT_RD) & 31;
  const rs1 = <u32>load<u8>(SCRATCH_SLOT, SLOT_RS1);
  const rs2 = <u32>load<u8>(SCRATCH_SLOT, SLOT_RS2) & 31;
  const compressed = load<u8>(SCRATCH_SLOT, SLOT_LEN) == 2;
  let base = getX(rs1);
  let insn: u32;
  switch (op) {
    case O.OP_LB: case O.OP_LH: case O.OP_LW: case O.OP_LD: case O.OP_LBU: case O.OP_LHU: case O.OP_LWU:
      insn = OPC_LOAD | (rd << 7) | (funct3(op) << 12);
      break;
    case O.OP_FLW: case O.OP_FLD:
      insn = OPC_LOAD_FP | (rd << 7) | (funct3(op) << 12);
      break;
    case O.OP_SB: case O.OP_SH: case O.OP_SW: case O.OP_SD:
      insn = OPC_STORE | (funct3(op) << 12) | (rs2 << 20);
      break;
    case O.OP_FSW: case O.OP_FSD:
      insn = OPC_STORE_FP | (funct3(op) << 12) | (rs2 << 20);
      break;
    default:
      // atomics and HLV/HSV address rs1 with no immediate: the instruction itself, rs1 replaced
      if (compressed || !isRs1Only(op)) return 0;
      return <u64>((raw & ~RS1_FIELD) | (offsetField(tval - base) << 15));
  }
  base += <u64><i64>load<i32>(SCRATCH_SLOT, SLOT_IMM);
  insn |= offsetField(tval - base) << 15;
  if (compressed) insn &= ~<u32>2;
  return <u64>insn;
}

/** The load/store width field of the base encoding. */
function funct3(op: u32): u32 {
  switch (op) {
    case O.OP_LB: case O.OP_SB: return 0;
    case O.OP_LH: case O.OP_SH: return 1;
    case O.OP_LW: case O.OP_SW: case O.OP_FLW: case O.OP_FSW: return 2;
    case O.OP_LD: case O.OP_SD: case O.OP_FLD: case O.OP_FSD: return 3;
    case O.OP_LBU: return 4;
    case O.OP_LHU: return 5;
  }
  return 6; // lwu
}

function isRs1Only(op: u32): bool {
  return (op >= O.OP_LR_W && op <= O.OP_AMOMAXU_D) || (op >= O.OP_HLV_B && op <= O.OP_HSV_D);
}

/** The address offset, which fits the 5-bit rs1 field (an access is at most 8 bytes). */
@inline function offsetField(off: u64): u32 {
  return off < 32 ? <u32>off : 0;
}

// ---- reading one back: what a hypervisor needs to emulate the access (the hw-assist VMM,
// the kvm machine's in-core part)

export const TINST_NONE: u32 = 0;
export const TINST_LOAD: u32 = 1;
export const TINST_STORE: u32 = 2;

/**
 * What the transformed instruction `insn` of a guest-page fault with `cause` does: TINST_LOAD
 * or TINST_STORE (a base or FP load/store of the matching kind), else TINST_NONE (a
 * pseudo-instruction, an AMO, none at all).
 */
export function tinstKind(insn: u32, cause: u32): u32 {
  const opc = (insn & 0x7f) | 2; // as if uncompressed
  if (cause == CAUSE_LOAD_GUEST_PAGE_FAULT && (opc == OPC_LOAD || opc == OPC_LOAD_FP)) return TINST_LOAD;
  if (cause == CAUSE_STORE_GUEST_PAGE_FAULT && (opc == OPC_STORE || opc == OPC_STORE_FP)) return TINST_STORE;
  return TINST_NONE;
}

/** Its access size in bytes (funct3's width). */
@inline export function tinstSize(insn: u32): u32 {
  return 1 << ((insn >> 12) & 3);
}

/** The length of the instruction it stands for: 2 if it was compressed (bit 1 clear), else 4. */
@inline export function tinstLen(insn: u32): u64 {
  return (insn & 3) == 3 ? 4 : 2;
}

/** The value a store writes: its rs2 (an x or f register), cut to its size. */
export function tinstStoreValue(insn: u32): u64 {
  const rs2 = (insn >> 20) & 31;
  const v = ((insn & 0x7f) | 2) == OPC_STORE_FP ? getF(rs2) : getX(rs2);
  const size = tinstSize(insn);
  return size == 8 ? v : v & ((<u64>1 << (<u64>size << 3)) - 1);
}

/**
 * Complete a load with the value the device gave: rd gets it sign- or zero-extended
 * (funct3 bit 2: unsigned), an f register NaN-boxed for FLW (and FS made Dirty, in mstatus and
 * vsstatus: the guest's F state changed).
 */
export function tinstLoadResult(insn: u32, raw: u64): void {
  const size = tinstSize(insn);
  const v: u64 = size == 8 ? raw : raw & ((<u64>1 << (<u64>size << 3)) - 1);
  const rd = (insn >> 7) & 31;
  if (((insn & 0x7f) | 2) == OPC_LOAD_FP) {
    setF(rd, size == 4 ? v | 0xffff_ffff_0000_0000 : v);
    csrRawSet(CSR_MSTATUS, csrRaw(CSR_MSTATUS) | FS_DIRTY);
    csrRawSet(CSR_VSSTATUS, csrRaw(CSR_VSSTATUS) | FS_DIRTY);
  } else if (rd != 0) {
    const shift: u64 = 64 - (<u64>size << 3);
    setX(rd, ((insn >> 12) & 4) != 0 || size == 8 ? v : <u64>((<i64>(v << shift)) >> shift));
  }
}
