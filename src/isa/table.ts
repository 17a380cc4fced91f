// Parses the encoding tables of opcodes.ts into match/mask form. Used by the decoder
// generator (scripts/gen-opcodes.mjs), the disassembler and the encoder.
import { RV64G, RVC, C_REGS, C_IMMS, FIELDS, type CDef } from './opcodes.js';

export interface Insn {
  /** op id: index in INSNS + 1 (0 is "illegal") */
  id: number;
  name: string;
  /** operand field names, in the order the assembler writes them */
  args: string[];
  match: number;
  mask: number;
}

export interface CInsn extends CDef {
  match: number;
  mask: number;
  baseId: number;
}

/** `hi..lo=v` / `bit=v` into a mask and match over `width` bits. */
export function parseFixed(spec: string[]): { match: number; mask: number } {
  let match = 0;
  let mask = 0;
  for (const s of spec) {
    const m = /^(\d+)(?:\.\.(\d+))?=(0x[0-9a-fA-F]+|\d+)$/.exec(s);
    if (!m) throw new Error(`bad fixed field '${s}'`);
    const hi = +m[1];
    const lo = m[2] === undefined ? hi : +m[2];
    const v = Number(m[3]);
    const width = hi - lo + 1;
    const fmask = width === 32 ? 0xffffffff : (1 << width) - 1;
    if (v > fmask) throw new Error(`value ${v} does not fit ${s}`);
    mask = (mask | (fmask << lo)) >>> 0;
    match = (match | (v << lo)) >>> 0;
  }
  return { match, mask };
}

function parseRV64G(): Insn[] {
  const out: Insn[] = [];
  for (const raw of RV64G.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, ...rest] = line.split(/\s+/);
    const args = rest.filter((t) => !t.includes('='));
    for (const a of args) if (!FIELDS[a]) throw new Error(`${name}: unknown field ${a}`);
    const { match, mask } = parseFixed(rest.filter((t) => t.includes('=')));
    out.push({ id: out.length + 1, name, args, match, mask });
  }
  // every pair of encodings must be distinguishable
  for (const a of out)
    for (const b of out)
      if (a !== b && ((a.match ^ b.match) & a.mask & b.mask) === 0)
        throw new Error(`encodings of ${a.name} and ${b.name} overlap`);
  return out;
}

export const INSNS: Insn[] = parseRV64G();
export const INSN_BY_NAME: Map<string, Insn> = new Map(INSNS.map((i) => [i.name, i]));

export const CINSNS: CInsn[] = RVC.map((c) => {
  const base = INSN_BY_NAME.get(c.base);
  if (!base) throw new Error(`${c.name}: unknown base ${c.base}`);
  if (c.imm && !C_IMMS[c.imm]) throw new Error(`${c.name}: unknown immediate ${c.imm}`);
  for (const r of [c.rd, c.rs1, c.rs2])
    if (typeof r === 'string' && !C_REGS[r]) throw new Error(`${c.name}: unknown register field ${r}`);
  return { ...c, ...parseFixed(c.fixed.split(/\s+/)), baseId: base.id };
});

// ---- field access shared by the disassembler and encoder

export function bits(x: number, hi: number, lo: number): number {
  return Math.floor(x / 2 ** lo) % 2 ** (hi - lo + 1);
}

export function getField(insn: number, name: string): number {
  const f = FIELDS[name];
  let v = 0;
  let top = 0;
  for (const [hi, lo, vlo] of f.segs) {
    v += bits(insn, hi, lo) * 2 ** vlo;
    top = Math.max(top, vlo + hi - lo);
  }
  if (f.signed && v >= 2 ** top) v -= 2 ** (top + 1);
  return v;
}

export function putField(name: string, value: number): number {
  const f = FIELDS[name];
  let top = 0;
  for (const [hi, lo, vlo] of f.segs) top = Math.max(top, vlo + hi - lo);
  const lowest = Math.min(...f.segs.map((s) => s[2]));
  const min = f.signed ? -(2 ** top) : 0;
  const max = f.signed ? 2 ** top - 1 : 2 ** (top + 1) - 1;
  if (!Number.isInteger(value) || value < min || value > max || value % 2 ** lowest !== 0)
    throw new RangeError(`${name}: ${value} out of range [${min}, ${max}] or misaligned`);
  const u = value < 0 ? value + 2 ** (top + 1) : value;
  let out = 0;
  for (const [hi, lo, vlo] of f.segs) out += bits(u, vlo + hi - lo, vlo) * 2 ** lo;
  return out >>> 0;
}

export function getCImm(insn: number, name: string): number {
  const d = C_IMMS[name];
  let v = 0;
  let top = 0;
  for (const [hi, , vbits] of d.segs)
    vbits.forEach((vb, i) => {
      v += bits(insn, hi - i, hi - i) * 2 ** vb;
      top = Math.max(top, vb);
    });
  if (d.signed && v >= 2 ** top) v -= 2 ** (top + 1);
  return v;
}

export function putCImm(name: string, value: number): number {
  const d = C_IMMS[name];
  const all = d.segs.flatMap((s) => s[2]);
  const top = all.length ? Math.max(...all) : 0;
  const u = value < 0 ? value + 2 ** (top + 1) : value;
  let covered = 0;
  for (const b of all) covered += 2 ** b;
  if (!Number.isInteger(value) || u < 0 || u >= 2 ** (top + 1) || (u & ~covered) !== 0 ||
      (d.signed && (value < -(2 ** top) || value >= 2 ** top)))
    throw new RangeError(`${name}: ${value} is not encodable`);
  let out = 0;
  for (const [hi, , vbits] of d.segs) vbits.forEach((vb, i) => (out |= bits(u, vb, vb) << (hi - i)));
  return out;
}

export function getCReg(insn: number, field: string | number | undefined): number {
  if (field === undefined) return 0;
  if (typeof field === 'number') return field;
  const r = C_REGS[field];
  const v = bits(insn, r.hi, r.lo);
  return r.primed ? v + 8 : v;
}

export function putCReg(field: string, reg: number): number {
  const r = C_REGS[field];
  const v = r.primed ? reg - 8 : reg;
  if (v < 0 || v >= 2 ** (r.hi - r.lo + 1)) throw new RangeError(`${field}: x${reg} not encodable`);
  return v << r.lo;
}

/** Evaluate a `when`/`reserved` condition such as `rd==2` or `imm==0`. */
export function cCondition(cond: string, vals: { rd: number; imm: number }): boolean {
  const m = /^(rd|imm)(==|!=)(\d+)$/.exec(cond);
  if (!m) throw new Error(`bad RVC condition ${cond}`);
  const v = vals[m[1] as 'rd' | 'imm'];
  return m[2] === '==' ? v === +m[3] : v !== +m[3];
}
