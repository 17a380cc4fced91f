// A small assembler: instructions by table name (encode.ts), labels,
// and the `li` / `la` pseudo-instructions. Used by tests, benchmarks and the differential tests.
import { encode, type Operands } from './encode.js';

/** The instructions of `li rd, value`: lui/addiw for 32-bit values, then slli/addi steps. */
export function liSequence(rd: number, value: bigint | number): [string, Operands][] {
  const v = BigInt.asIntN(64, BigInt(value));
  if (v >= -2048n && v < 2048n) return [['addi', { rd, rs1: 0, imm: Number(v) }]];
  if (v >= -(2n ** 31n) && v < 2n ** 31n) {
    const lo = Number(BigInt.asIntN(12, v));
    const hi = Number(BigInt.asIntN(32, v - BigInt(lo)));
    const out: [string, Operands][] = [['lui', { rd, imm: hi }]];
    if (lo !== 0 || hi !== Number(v)) out.push(['addiw', { rd, rs1: rd, imm: lo }]);
    return out;
  }
  const lo = BigInt.asIntN(12, v);
  let hi = (v - lo) >> 12n;
  let shift = 12n;
  while ((hi & 1n) === 0n) {
    hi >>= 1n;
    shift++;
  }
  const out = liSequence(rd, hi);
  out.push(['slli', { rd, rs1: rd, imm: Number(shift) }]);
  if (lo !== 0n) out.push(['addi', { rd, rs1: rd, imm: Number(lo) }]);
  return out;
}

type Item = { kind: 'insn'; name: string; ops: Operands; label?: string; field?: 'imm' } | { kind: 'bytes'; data: Uint8Array };

export const RAM = 0x8000_0000n;

export class Program {
  private items: Item[] = [];
  private labels = new Map<string, number>();
  private size = 0;
  constructor(readonly base: bigint = RAM) {}

  get here(): number {
    return this.size;
  }

  /** Emit an instruction; if `label` is given, its pc-relative offset becomes the immediate. */
  i(name: string, ops: Operands = {}, label?: string): this {
    this.items.push({ kind: 'insn', name, ops, label });
    this.size += name.startsWith('c.') ? 2 : 4;
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.size);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.items.push({ kind: 'bytes', data });
    this.size += data.length;
    return this;
  }

  align(n: number): this {
    while (this.size % n) this.bytes(new Uint8Array(1));
    return this;
  }

  /** Load a 64-bit constant (the usual lui/addiw/slli/addi expansion). */
  li(rd: number, value: bigint | number): this {
    for (const [name, ops] of liSequence(rd, value)) this.i(name, ops);
    return this;
  }

  /** rd = address of label (auipc + addi). */
  la(rd: number, label: string): this {
    this.items.push({ kind: 'insn', name: 'auipc', ops: { rd }, label, field: 'imm' });
    this.items.push({ kind: 'insn', name: 'addi', ops: { rd, rs1: rd }, label: label + '@lo' });
    this.size += 8;
    return this;
  }

  addr(label: string): bigint {
    const off = this.labels.get(label);
    if (off === undefined) throw new Error(`no label ${label}`);
    return this.base + BigInt(off);
  }

  assemble(): Uint8Array {
    const out = new Uint8Array(this.size);
    const dv = new DataView(out.buffer);
    let pc = 0;
    let auipcPc = 0;
    for (const it of this.items) {
      if (it.kind === 'bytes') {
        out.set(it.data, pc);
        pc += it.data.length;
        continue;
      }
      const ops = { ...it.ops };
      if (it.label?.endsWith('@lo')) {
        const target = this.labels.get(it.label.slice(0, -3));
        if (target === undefined) throw new Error(`no label ${it.label}`);
        ops.imm = Number(BigInt.asIntN(12, BigInt(target - auipcPc)));
      } else if (it.label) {
        const target = this.labels.get(it.label);
        if (target === undefined) throw new Error(`no label ${it.label}`);
        const off = target - pc;
        if (it.name === 'auipc') {
          auipcPc = pc;
          const lo = Number(BigInt.asIntN(12, BigInt(off)));
          ops.imm = off - lo;
        } else ops.imm = off;
      }
      const w = encode(it.name, ops);
      if (it.name.startsWith('c.')) {
        dv.setUint16(pc, w, true);
        pc += 2;
      } else {
        dv.setUint32(pc, w, true);
        pc += 4;
      }
    }
    return out;
  }
}

// Register numbers by ABI name
export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9,
  a0: 10, a1: 11, a2: 12, a3: 13, a4: 14, a5: 15, a6: 16, a7: 17,
  s2: 18, s3: 19, s4: 20, s5: 21, s6: 22, s7: 23, s8: 24, s9: 25, s10: 26, s11: 27,
  t3: 28, t4: 29, t5: 30, t6: 31,
} as const;
