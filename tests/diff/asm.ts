// Layout of generated programs: sections of "steps" (a few instructions that belong together,
// the unit of truncation and bisection), pc-relative references resolved after layout, and
// encoding through src/isa/encode.ts (the same table the hart's decoder is generated from).
import { encode, type Operands } from '../../src/isa/encode.js';
import { liSequence } from '../../src/isa/assembler.js';

/** What a pc-relative operand points at: an item of the same step, the step's end, or a symbol. */
export type Ref = { local: number } | { end: true } | { sym: string };

export type Item =
  /** an instruction; with `ref`, its immediate is the offset from this instruction to ref */
  | { k: 'i'; name: string; ops: Operands; ref?: Ref }
  /** auipc rd, %hi(ref - pc) */
  | { k: 'hi'; rd: number; ref: Ref }
  /** addi rd, rd, %lo(ref - pc of the `hi` item `hiAt` of this step) */
  | { k: 'lo'; rd: number; ref: Ref; hiAt: number }
  /** raw instruction bits (illegal encodings) */
  | { k: 'raw'; word: number; len: 2 | 4 }
  | { k: 'bytes'; data: Uint8Array }
  /** pad with zero bytes up to this absolute address */
  | { k: 'org'; addr: bigint }
  /** pad with zero bytes to a multiple of n */
  | { k: 'align'; n: number }
  /** define a symbol here */
  | { k: 'sym'; name: string };

export interface Step {
  /** what the step tests (for reports) */
  kind: string;
  items: Item[];
}

export function ins(name: string, ops: Operands = {}, ref?: Ref): Item {
  return ref ? { k: 'i', name, ops, ref } : { k: 'i', name, ops };
}

export function itemSize(it: Item, at: bigint): number {
  switch (it.k) {
    case 'i': return it.name.startsWith('c.') ? 2 : 4;
    case 'hi': case 'lo': return 4;
    case 'raw': return it.len;
    case 'bytes': return it.data.length;
    case 'org':
      if (it.addr < at) throw new Error(`org 0x${it.addr.toString(16)} is behind 0x${at.toString(16)}`);
      return Number(it.addr - at);
    case 'align': return Number((BigInt(it.n) - (at % BigInt(it.n))) % BigInt(it.n));
    case 'sym': return 0;
  }
}

/** `li rd, v`: the assembler's expansion (src/isa/assembler.ts). */
export function li(rd: number, value: bigint | number): Item[] {
  return liSequence(rd, value).map(([name, ops]) => ins(name, ops));
}

/** rd = address of ref (auipc + addi), for an item list that starts at index `at` of its step. */
export function la(rd: number, ref: Ref, at: number): Item[] {
  return [{ k: 'hi', rd, ref }, { k: 'lo', rd, ref, hiAt: at }];
}

export interface Placed {
  step: Step;
  /** address of each item */
  addrs: bigint[];
  start: bigint;
  end: bigint;
}

export interface Layout {
  bytes: Uint8Array;
  placed: Placed[];
  symbols: Map<string, bigint>;
}

/** Lay out the steps from `base`, resolve references and encode. */
export function assemble(base: bigint, steps: Step[]): Layout {
  const symbols = new Map<string, bigint>();
  const placed: Placed[] = [];
  let pc = base;
  for (const step of steps) {
    const addrs: bigint[] = [];
    const start = pc;
    for (const it of step.items) {
      addrs.push(pc);
      if (it.k === 'sym') {
        if (symbols.has(it.name)) throw new Error(`symbol ${it.name} defined twice`);
        symbols.set(it.name, pc);
      }
      pc += BigInt(itemSize(it, pc));
    }
    placed.push({ step, addrs, start, end: pc });
  }
  const bytes = new Uint8Array(Number(pc - base));
  const dv = new DataView(bytes.buffer);
  for (const p of placed) {
    const target = (r: Ref): bigint => {
      if ('local' in r) return p.addrs[r.local];
      if ('end' in r) return p.end;
      const s = symbols.get(r.sym);
      if (s === undefined) throw new Error(`no symbol ${r.sym}`);
      return s;
    };
    p.step.items.forEach((it, n) => {
      const at = p.addrs[n];
      const off = Number(at - base);
      let word: number | undefined;
      let len = 4;
      switch (it.k) {
        case 'i': {
          const ops = { ...it.ops };
          if (it.ref) ops.imm = Number(target(it.ref) - at);
          word = encode(it.name, ops);
          len = it.name.startsWith('c.') ? 2 : 4;
          break;
        }
        case 'hi': {
          const d = target(it.ref) - at;
          const lo = BigInt.asIntN(12, d);
          word = encode('auipc', { rd: it.rd, imm: Number(BigInt.asIntN(32, d - lo)) });
          break;
        }
        case 'lo': {
          const d = target(it.ref) - p.addrs[it.hiAt];
          word = encode('addi', { rd: it.rd, rs1: it.rd, imm: Number(BigInt.asIntN(12, d)) });
          break;
        }
        case 'raw':
          word = it.word;
          len = it.len;
          break;
        case 'bytes':
          bytes.set(it.data, off);
          break;
        default:
          break;
      }
      if (word !== undefined) {
        if (len === 2) dv.setUint16(off, word, true);
        else dv.setUint32(off, word >>> 0, true);
      }
    });
  }
  return { bytes, placed, symbols };
}
