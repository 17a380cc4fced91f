// Encoder (used by tests and the differential-test generator) and a table-driven decoder
// for the disassembler, both derived from the encoding table (opcodes.ts via table.ts).
import {
  INSNS, INSN_BY_NAME, CINSNS, putField, getField, putCImm, getCImm, putCReg, getCReg, cCondition,
  type Insn, type CInsn,
} from './table.js';
import { FIELDS } from './opcodes.js';

/** Operands by field name; `imm` stands for the instruction's immediate field, whatever it is. */
export type Operands = Record<string, number>;

const IMM_FIELDS = ['imm12', 'simm12', 'bimm12', 'imm20', 'jimm20', 'shamtd', 'shamtw', 'zimm'];
const C_BY_NAME = new Map(CINSNS.map((c) => [c.name, c]));

function immFieldOf(i: Insn): string | undefined {
  return i.args.find((a) => IMM_FIELDS.includes(a) && a !== 'zimm') ?? (i.args.includes('zimm') ? 'zimm' : undefined);
}

/**
 * Encode one instruction. 32-bit: operands named as the table's fields (rd, rs1, rs2, frd,
 * rm, csr, ...; `imm` for the immediate, as its architectural value: lui/auipc take the
 * whole 32-bit value). Compressed (`c.*`): rd, rs1, rs2 and imm of the base instruction.
 * Throws RangeError for operands that do not fit.
 */
export function encode(name: string, ops: Operands = {}): number {
  if (name.startsWith('c.')) return encodeC(name, ops);
  const i = INSN_BY_NAME.get(name);
  if (!i) throw new Error(`unknown instruction ${name}`);
  let w = i.match;
  const immField = immFieldOf(i);
  for (const a of i.args) {
    let v = ops[a];
    if (v === undefined && a === immField) v = ops.imm;
    if (v === undefined && a === 'rm') v = 7; // dynamic rounding mode by default
    if (v === undefined) v = 0;
    w = (w | putField(a, v)) >>> 0;
  }
  for (const k of Object.keys(ops))
    if (!i.args.includes(k) && !(k === 'imm' && immField)) throw new Error(`${name} has no operand ${k}`);
  return w >>> 0;
}

function encodeC(name: string, ops: Operands): number {
  const c = C_BY_NAME.get(name);
  if (!c) throw new Error(`unknown instruction ${name}`);
  let w = c.match;
  const placed = new Map<string, number>();
  for (const role of ['rd', 'rs1', 'rs2'] as const) {
    const f = c[role];
    const v = ops[role];
    if (typeof f === 'number') {
      if (v !== undefined && v !== f) throw new RangeError(`${name}: ${role} must be x${f}`);
      continue;
    }
    if (f === undefined) {
      if (v !== undefined) throw new Error(`${name} has no operand ${role}`);
      continue;
    }
    if (v === undefined) continue;
    if (placed.has(f) && placed.get(f) !== v) throw new RangeError(`${name}: rd and rs1 must be the same register`);
    placed.set(f, v);
    w |= putCReg(f, v);
  }
  if (c.imm) w |= putCImm(c.imm, ops.imm ?? 0);
  const back = decode(w);
  if (back.name !== name) throw new RangeError(`${name} with these operands encodes ${back.name}`);
  return w;
}

export interface Decoded {
  name: string;
  /** 2 or 4 */
  len: number;
  insn: number;
  /** operand values by field name (32-bit) or role (compressed: rd, rs1, rs2, imm) */
  ops: Operands;
  /** for compressed instructions, the base instruction it expands to */
  base?: string;
}

/** Decode instruction bits (16-bit if the low two bits are not 11). name 'illegal' if none. */
export function decode(insn: number): Decoded {
  if ((insn & 3) !== 3) {
    insn &= 0xffff;
    const rd = (insn >> 7) & 31;
    for (const c of CINSNS) {
      if ((insn & c.mask) !== c.match) continue;
      const imm = c.imm ? getCImm(insn, c.imm) : 0;
      if (c.when && !cCondition(c.when, { rd, imm })) continue;
      if (c.reserved && cCondition(c.reserved, { rd, imm })) break;
      const ops: Operands = { rd: getCReg(insn, c.rd), rs1: getCReg(insn, c.rs1), rs2: getCReg(insn, c.rs2), imm };
      return { name: c.name, len: 2, insn, ops, base: c.base };
    }
    return { name: 'illegal', len: 2, insn, ops: {} };
  }
  insn >>>= 0;
  for (const i of INSNS) {
    if (((insn & i.mask) >>> 0) !== i.match) continue;
    const ops: Operands = {};
    for (const a of i.args) ops[a] = getField(insn, a);
    return { name: i.name, len: 4, insn, ops };
  }
  return { name: 'illegal', len: 4, insn, ops: {} };
}

export { INSNS, CINSNS, FIELDS, type Insn, type CInsn };
