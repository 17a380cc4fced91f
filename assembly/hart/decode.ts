// Fill a decoded-instruction slot (memmap.ts SLOT_*) from instruction bits, using the
// decoder generated from the encoding table (opcodes.gen.ts).
import {
  SLOT_OP, SLOT_RD, SLOT_RS1, SLOT_RS2, SLOT_RS3, SLOT_LEN, SLOT_RM, SLOT_IMM, SLOT_RAW, X_SINK,
} from '../memmap';
import { decode32, decode16, imm32, RD_IS_X, OP_ILLEGAL, OP_COUNT, cRd, cRs1, cRs2, cImm } from './opcodes.gen';

/**
 * Stored op of an illegal instruction (0 in a slot means "not decoded yet"). It is the id
 * after the last table op, so the run loop's op switch stays dense and compiles to a
 * br_table (a sparse case value turns it into a chain of compares: 40% slower).
 */
export const OP_ILLEGAL_SLOT: u16 = <u16>OP_COUNT;
/** Stored op of a slot where a compiled block starts (hart/jit.ts; SLOT_RAW keeps the instruction). */
export const OP_JIT: u16 = <u16>OP_COUNT + 1;
/**
 * Stored op of a sensitive instruction of guest-kernel code rewritten by the full machine's
 * binary translator into a call of its VMM (vmm/full.ts; SLOT_RAW keeps the instruction).
 */
export const OP_FV_CALL: u16 = <u16>OP_COUNT + 2;

/** Decode `insn` (16 or 32 bits, by its low two bits) into `slot`; returns the stored op. */
export function decodeInto(slot: u32, insn: u32): u16 {
  let op: u32;
  let rd: u32, rs1: u32, rs2: u32, rs3: u32 = 0, rm: u32 = 0, imm: i32;
  let len: u8;
  if ((insn & 3) != 3) {
    insn &= 0xffff;
    op = decode16(insn);
    rd = cRd; rs1 = cRs1; rs2 = cRs2; imm = cImm;
    len = 2;
  } else {
    op = decode32(insn);
    rd = (insn >> 7) & 31;
    rs1 = (insn >> 15) & 31;
    rs2 = (insn >> 20) & 31;
    rs3 = insn >> 27;
    rm = (insn >> 12) & 7;
    imm = imm32(op, insn);
    len = 4;
  }
  const stored: u16 = op == OP_ILLEGAL ? OP_ILLEGAL_SLOT : <u16>op;
  if (rd == 0 && unchecked(RD_IS_X[op]) != 0) rd = X_SINK;
  store<u8>(slot, <u8>rd, SLOT_RD);
  store<u8>(slot, <u8>rs1, SLOT_RS1);
  store<u8>(slot, <u8>rs2, SLOT_RS2);
  store<u8>(slot, <u8>rs3, SLOT_RS3);
  store<u8>(slot, len, SLOT_LEN);
  store<u8>(slot, <u8>rm, SLOT_RM);
  store<i32>(slot, imm, SLOT_IMM);
  store<u32>(slot, insn, SLOT_RAW);
  store<u16>(slot, stored, SLOT_OP);
  return stored;
}
