// The hart's generated decoder (AssemblyScript) and the TypeScript table decoder must agree:
// both derive from src/isa/opcodes.ts, so any disagreement is a generator bug.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Core } from '../src/core.js';
import { decode, encode, INSNS } from '../src/isa/encode.js';
import { INSN_BY_NAME } from '../src/isa/table.js';
import { disassemble } from '../src/isa/disasm.js';

let core: Core;
beforeAll(async () => {
  core = await Core.create(1 << 20);
});

const X_SINK = 32;
const IMM_FIELDS = ['imm12', 'simm12', 'bimm12', 'imm20', 'jimm20', 'shamtd', 'shamtw', 'csr'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('decoder', () => {
  it('the generated file is up to date with the table', () => {
    execFileSync(process.execPath, ['scripts/gen-opcodes.mjs', '--check'], { stdio: 'pipe' });
  });

  it('agrees with the table on all 65536 compressed encodings', () => {
    let legal = 0;
    for (let w = 0; w < 0x10000; w++) {
      if ((w & 3) === 3) continue;
      const ts = decode(w);
      const hart = core.decode(w);
      if (ts.name === 'illegal') {
        expect(hart.op, `0x${w.toString(16)}`).toBe(0);
        continue;
      }
      legal++;
      const base = INSN_BY_NAME.get(ts.base!)!;
      const rdIsX = base.args.includes('rd');
      const want = {
        op: base.id,
        rd: rdIsX && ts.ops.rd === 0 ? X_SINK : ts.ops.rd,
        rs1: ts.ops.rs1, rs2: ts.ops.rs2, imm: ts.ops.imm, len: 2,
      };
      const got = { op: hart.op, rd: hart.rd, rs1: hart.rs1, rs2: hart.rs2, imm: hart.imm, len: hart.len };
      expect(got, `${ts.name} 0x${w.toString(16)}`).toEqual(want);
    }
    // RV64C has 36 instruction forms; most of the 3/4 of the space that is not 32-bit is legal
    expect(legal).toBeGreaterThan(40000);
  });

  it('agrees with the table on random 32-bit words and on every instruction', () => {
    const next = rng(12345);
    const words: number[] = [];
    for (let k = 0; k < 100_000; k++) words.push((next() | 3) >>> 0);
    for (const i of INSNS) for (let k = 0; k < 50; k++) words.push(((next() & ~i.mask) | i.match) >>> 0);
    for (const w of words) {
      const ts = decode(w);
      const hart = core.decode(w);
      const id = ts.name === 'illegal' ? 0 : INSN_BY_NAME.get(ts.name)!.id;
      expect(hart.op, `0x${w.toString(16)} ${ts.name}`).toBe(id);
      if (!id) continue;
      const ins = INSN_BY_NAME.get(ts.name)!;
      const immField = IMM_FIELDS.find((f) => ins.args.includes(f));
      if (immField) expect(hart.imm, `${ts.name} imm`).toBe(ts.ops[immField] | 0);
      expect(hart.len).toBe(4);
      expect(hart.rs1).toBe((w >>> 15) & 31);
      const rd = (w >>> 7) & 31;
      expect(hart.rd).toBe(rd === 0 && ins.args.includes('rd') ? X_SINK : rd);
    }
  });

  it('encodes, decodes and disassembles every table row', () => {
    for (const i of INSNS) {
      const w = encode(i.name, {});
      expect(decode(w).name).toBe(i.name);
      expect(disassemble(w)).toMatch(new RegExp(`^${i.name.replace(/\./g, '\\.')}`));
    }
    expect(disassemble(encode('addi', { rd: 10, rs1: 2, imm: -16 }))).toBe('addi a0, sp, -16');
    expect(disassemble(encode('ld', { rd: 1, rs1: 2, imm: 8 }))).toBe('ld ra, 8(sp)');
    expect(disassemble(encode('sd', { rs1: 2, rs2: 1, imm: 8 }))).toBe('sd ra, 8(sp)');
    expect(disassemble(encode('csrrs', { rd: 10, rs1: 0, csr: 0x300 }))).toBe('csrrs a0, mstatus, zero');
    expect(disassemble(encode('beq', { rs1: 10, rs2: 11, imm: -8 }), 0x80000010n)).toBe('beq a0, a1, 0x80000008');
    expect(disassemble(encode('c.addi', { rd: 10, imm: -1 }))).toBe('c.addi a0, -1');
    expect(disassemble(encode('c.ldsp', { rd: 1, imm: 8 }))).toBe('c.ldsp ra, 8(sp)');
    expect(disassemble(0)).toBe('illegal 0x0');
  });

  it('rejects operands that do not fit', () => {
    expect(() => encode('addi', { rd: 1, rs1: 1, imm: 2048 })).toThrow(RangeError);
    expect(() => encode('beq', { rs1: 1, rs2: 1, imm: 3 })).toThrow(/misaligned/);
    expect(() => encode('c.addi16sp', { rd: 2, imm: 0 })).toThrow(/encodes illegal/);
    expect(() => encode('c.lw', { rd: 1, rs1: 8, imm: 0 })).toThrow(/x1 not encodable/);
    expect(() => encode('nop')).toThrow(/unknown instruction/);
  });
});
