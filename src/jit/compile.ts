// The region compiler: the decoded RV64IM instructions of one page that are reachable from
// a hot entry (a "region": its branches and jumps inside the page followed, both ways)
// become one Wasm function fn(pc) -> pc of the core's table. The contract with the core's
// run loop is in assembly/hart/jit.ts ("block" there means the compiled function).
//
// Inside a region the guest's x registers live in Wasm locals (loaded at entry, stored at
// the one exit), so V8 keeps them in host registers. Loads and stores look up the core's
// software TLB inline, as the interpreter does (assembly/mmu/memory.ts); a miss leaves the
// function before the access, which the interpreter then makes. Jumps out of the page, JALR
// and anything not compilable leave the function too. Only instructions that cannot change
// privilege, CSRs or translation are compiled; everything else is left to the interpreter.
import { INSNS } from '../isa/table.js';
import { Bytes, Op, I32, I64, EMPTY, type Func, type Import, type FuncType } from './wasm.js';

const ID: Record<string, number> = Object.fromEntries(INSNS.map((i) => [i.name, i.id]));
const id = (name: string): number => {
  const v = ID[name];
  if (v === undefined) throw new Error(`no instruction ${name} in the encoding table`);
  return v;
};

const LOADS = new Map<number, { size: number; fast: number; ext?: number }>([
  [id('lb'), { size: 1, fast: Op.i64_load8_s, ext: Op.i64_extend8_s }],
  [id('lh'), { size: 2, fast: Op.i64_load16_s, ext: Op.i64_extend16_s }],
  [id('lw'), { size: 4, fast: Op.i64_load32_s, ext: Op.i64_extend32_s }],
  [id('ld'), { size: 8, fast: Op.i64_load }],
  [id('lbu'), { size: 1, fast: Op.i64_load8_u }],
  [id('lhu'), { size: 2, fast: Op.i64_load16_u }],
  [id('lwu'), { size: 4, fast: Op.i64_load32_u }],
]);
const STORES = new Map<number, { size: number; op: number }>([
  [id('sb'), { size: 1, op: Op.i64_store8 }],
  [id('sh'), { size: 2, op: Op.i64_store16 }],
  [id('sw'), { size: 4, op: Op.i64_store32 }],
  [id('sd'), { size: 8, op: Op.i64_store }],
]);
const BRANCHES = new Map<number, number>([
  [id('beq'), Op.i64_eq], [id('bne'), Op.i64_ne], [id('blt'), Op.i64_lt_s],
  [id('bge'), Op.i64_ge_s], [id('bltu'), Op.i64_lt_u], [id('bgeu'), Op.i64_ge_u],
]);
/** rd = rs1 <op> imm, 64-bit. */
const ALU_IMM = new Map<number, number>([
  [id('addi'), Op.i64_add], [id('xori'), Op.i64_xor], [id('ori'), Op.i64_or], [id('andi'), Op.i64_and],
  [id('slli'), Op.i64_shl], [id('srli'), Op.i64_shr_u], [id('srai'), Op.i64_shr_s],
]);
/** rd = rs1 <op> rs2, 64-bit (Wasm masks shift amounts to 6 bits, as RV64 does). */
const ALU_REG = new Map<number, number>([
  [id('add'), Op.i64_add], [id('sub'), Op.i64_sub], [id('sll'), Op.i64_shl], [id('xor'), Op.i64_xor],
  [id('srl'), Op.i64_shr_u], [id('sra'), Op.i64_shr_s], [id('or'), Op.i64_or], [id('and'), Op.i64_and],
  [id('mul'), Op.i64_mul],
]);
/** rd = sext32(rs1 <op> rs2|imm) computed on the low 32 bits (Wasm masks shifts to 5 bits). */
const ALU_W = new Map<number, { op: number; imm: boolean }>([
  [id('addiw'), { op: Op.i32_add, imm: true }], [id('slliw'), { op: Op.i32_shl, imm: true }],
  [id('srliw'), { op: Op.i32_shr_u, imm: true }], [id('sraiw'), { op: Op.i32_shr_s, imm: true }],
  [id('addw'), { op: Op.i32_add, imm: false }], [id('subw'), { op: Op.i32_sub, imm: false }],
  [id('sllw'), { op: Op.i32_shl, imm: false }], [id('srlw'), { op: Op.i32_shr_u, imm: false }],
  [id('sraw'), { op: Op.i32_shr_s, imm: false }], [id('mulw'), { op: Op.i32_mul, imm: false }],
]);
const OP = {
  lui: id('lui'), auipc: id('auipc'), jal: id('jal'), jalr: id('jalr'), slti: id('slti'),
  sltiu: id('sltiu'), slt: id('slt'), sltu: id('sltu'), fence: id('fence'), fence_i: id('fence.i'),
  mulh: id('mulh'), mulhsu: id('mulhsu'), mulhu: id('mulhu'), div: id('div'), divu: id('divu'),
  rem: id('rem'), remu: id('remu'), divw: id('divw'), divuw: id('divuw'), remw: id('remw'),
  remuw: id('remuw'),
};
const DIVS = new Set([OP.div, OP.divu, OP.rem, OP.remu, OP.divw, OP.divuw, OP.remw, OP.remuw]);
const MULHS = new Set([OP.mulh, OP.mulhsu, OP.mulhu]);

const COMPILABLE = new Set([
  ...LOADS.keys(), ...STORES.keys(), ...BRANCHES.keys(), ...ALU_IMM.keys(), ...ALU_REG.keys(), ...ALU_W.keys(),
  ...DIVS, ...MULHS,
  OP.lui, OP.auipc, OP.jal, OP.jalr, OP.slti, OP.sltiu, OP.slt, OP.sltu, OP.fence, OP.fence_i,
]);

/** Can this op be compiled? */
export function compilable(op: number): boolean {
  return COMPILABLE.has(op);
}

/** One decoded instruction (fields as in a core slot; memmap.ts SLOT_*). */
export interface RegionInsn {
  op: number;
  rd: number;
  rs1: number;
  rs2: number;
  imm: number;
  len: number;
  /** Byte offset in its page. */
  off: number;
}

/**
 * A region: the compilable instructions of one page reachable from an entry without
 * leaving the page or passing an instruction that is not compilable. Targets that are not
 * in `insns` are exits back to the run loop.
 */
export interface Region {
  /** Page offset of the entry (where the function's pc argument points). */
  entry: number;
  insns: Map<number, RegionInsn>;
}

/** Most instructions in a region (so a basic block's length fits the run loop's 8 bits). */
export const MAX_REGION = 200;

/** Successor page offsets of an instruction inside its region's page (jumps out excluded). */
export function successors(i: RegionInsn): number[] {
  if (i.op === OP.jalr) return [];
  if (i.op === OP.jal) return [i.off + i.imm];
  if (BRANCHES.has(i.op)) return [i.off + i.len, i.off + i.imm];
  return [i.off + i.len];
}

interface BasicBlock {
  start: number;
  insns: RegionInsn[];
  /** Where execution goes after the last instruction when it is not a jump (page offset). */
  next: number;
}

/** Split a region into basic blocks, ordered by address (leaders: entry and jump targets). */
export function basicBlocks(r: Region): BasicBlock[] {
  const leaders = new Set([r.entry]);
  for (const i of r.insns.values()) {
    if (i.op === OP.jal || BRANCHES.has(i.op)) for (const t of successors(i)) if (r.insns.has(t)) leaders.add(t);
  }
  const bbs: BasicBlock[] = [];
  for (const start of [...leaders].sort((a, b) => a - b)) {
    const insns: RegionInsn[] = [];
    let off = start;
    for (;;) {
      const i = r.insns.get(off)!;
      insns.push(i);
      off = i.off + i.len;
      if (i.op === OP.jal || i.op === OP.jalr || BRANCHES.has(i.op)) break;
      if (leaders.has(off) || !r.insns.has(off)) break;
    }
    bbs.push({ start, insns, next: off });
  }
  return bbs;
}

/** What a block module imports from the core (index.ts exports), in import order. */
export const CORE_IMPORTS: Import[] = [
  { module: 'core', name: 'memory', kind: 'memory' },
  { module: 'core', name: 'instret', kind: 'global', valtype: I64, mutable: true },
  { module: 'core', name: 'stopAt', kind: 'global', valtype: I64, mutable: true },
  { module: 'core', name: 'tlbRead', kind: 'global', valtype: I32, mutable: true },
  { module: 'core', name: 'tlbWrite', kind: 'global', valtype: I32, mutable: true },
  { module: 'core', name: 'tlbGen', kind: 'global', valtype: I64, mutable: true },
  { module: 'core', name: 'tlbHits', kind: 'global', valtype: I64, mutable: true },
  { module: 'core', name: 'jitRetired', kind: 'global', valtype: I64, mutable: true },
];
const G = { instret: 0, stopAt: 1, tlbRead: 2, tlbWrite: 3, tlbGen: 4, tlbHits: 5, jitRetired: 6 };
export const BLOCK_TYPES: FuncType[] = [
  { params: [I64], results: [I64] }, // a block: fn(pc) -> pc
];

/** Linear-memory layout the generated code depends on (the core's exported constants). */
export interface CoreLayout {
  X_BASE: number;
  TLB_ENTRIES: number;
}

// locals: 0 = pc (the param: the entry's pc), then one per guest register used, then these
// scratch i64s (gen: the TLB's flush generation; hits: TLB hits not yet added to tlbHits),
// then four i32s: the TLB entry, the basic block to run next, the read and write TLB bases.
// The TLB globals are copied at entry: only what a region never does (a privilege or
// mstatus change, a flush) changes them, and imported globals cost an indirection each.
const SCRATCH = ['n', 'npc', 'va', 'a', 'b', 't1', 't2', 'lim', 'gen', 'hits'] as const;

/**
 * Compile a region into a function of type 0. Its basic blocks follow each other in reverse
 * postorder inside nested `block`s (a block falls into the next one; a jump forward is a `br`
 * to its target's label); a region with a backward jump also has a `loop` with a
 * `br_table` (the usual way to write a control-flow graph in Wasm's structured control
 * flow), and then each block checks that it fits before stopAt, or leaves.
 * Returns the function and the budget a call needs (`entryLen`: the entry block's length,
 * or with no backward jump the longest path through the region).
 */
export function compileRegion(r: Region, layout: CoreLayout): { func: Func; entryLen: number } {
  if (r.insns.size === 0 || r.insns.size > MAX_REGION || !r.insns.has(r.entry)) throw new RangeError(`bad region (${r.insns.size} instructions)`);
  // Blocks are laid out in reverse postorder from the entry (a successor visited last, the
  // fall-through, comes right after its block): the entry first, and every jump forward
  // except those that close a loop. A jump forward leaves the nested blocks straight to
  // its target's label; only the targets of jumps backward are reached through one loop
  // around a br_table (TurboFan's compile time grows fast with dispatch edges).
  const byAddr = basicBlocks(r);
  const addrIndex = new Map(byAddr.map((bb, i) => [bb.start, i]));
  const succOf = (bb: BasicBlock): number[] => {
    const last = bb.insns[bb.insns.length - 1];
    const ts = last.op === OP.jalr ? [] : last.op === OP.jal ? [last.off + last.imm]
      : BRANCHES.has(last.op) ? [last.off + last.imm, bb.next] : [bb.next];
    return ts.filter((t) => addrIndex.has(t));
  };
  const post: BasicBlock[] = [];
  const visited = new Set<number>();
  const visit = (k: number) => {
    visited.add(k);
    for (const t of succOf(byAddr[k])) { const j = addrIndex.get(t)!; if (!visited.has(j)) visit(j); }
    post.push(byAddr[k]);
  };
  visit(addrIndex.get(r.entry)!);
  const bbs = post.reverse();
  const bbIndex = new Map(bbs.map((bb, i) => [bb.start, i]));
  const dispatch = [0];
  let looped = false;
  bbs.forEach((bb, i) => {
    for (const t of succOf(bb)) {
      const j = bbIndex.get(t)!;
      if (j > i) continue;
      looped = true;
      if (!dispatch.includes(j)) dispatch.push(j);
    }
  });
  // The budget a call needs (the run loop calls only if stopAt - instret is at least this).
  // With a backward jump, every block checks that it fits before stopAt, and a call needs
  // only the entry block to fit. Without one, no path is longer than the longest path from
  // the entry (the layout is a topological order then), so when that fits no block needs
  // a check: the interpreter runs the rare calls that would not fit.
  let budget = bbs[0].insns.length;
  if (!looped) {
    const longest: number[] = [];
    for (let i = bbs.length - 1; i >= 0; i--) {
      let after = 0;
      for (const t of succOf(bbs[i])) after = Math.max(after, longest[bbIndex.get(t)!]);
      longest[i] = bbs[i].insns.length + after;
    }
    budget = longest[0];
  }
  const regs = new Set<number>();
  const written = new Set<number>();
  const reg = (x: number) => { if (x !== 0 && x < 32) regs.add(x); };
  for (const i of r.insns.values()) {
    if (!STORES.has(i.op) && !BRANCHES.has(i.op) && i.op !== OP.fence && i.op !== OP.fence_i && i.rd !== 0 && i.rd < 32) {
      reg(i.rd);
      written.add(i.rd);
    }
    reg(i.rs1);
    reg(i.rs2);
  }
  const regLocal = new Map<number, number>();
  let next = 1;
  for (const x of [...regs].sort((a, b) => a - b)) regLocal.set(x, next++);
  const L = Object.fromEntries(SCRATCH.map((n, i) => [n, next + i])) as Record<(typeof SCRATCH)[number], number>;
  const E = next + SCRATCH.length; // i32: the TLB entry
  const BB = E + 1; // i32: the basic block to run next
  const RB = E + 2; // i32: tlbRead
  const WB = E + 3; // i32: tlbWrite
  const b = new Bytes();
  /** Open `if`s in the current block's code, and the `block`s around that code. */
  let depth = 0;
  let outer = 0;
  let cur = 0;

  const op = (...codes: number[]) => { for (const c of codes) b.byte(c); };
  const get = (l: number) => b.byte(Op.local_get).u32(l);
  const set = (l: number) => b.byte(Op.local_set).u32(l);
  const tee = (l: number) => b.byte(Op.local_tee).u32(l);
  const gget = (g: number) => b.byte(Op.global_get).u32(g);
  const gset = (g: number) => b.byte(Op.global_set).u32(g);
  const i64 = (v: number) => b.byte(Op.i64_const).s64(v);
  const i32 = (v: number) => b.byte(Op.i32_const).s32(v);
  const mem = (code: number, offset: number) => b.byte(code).u32(0).u32(offset);
  const getX = (r: number) => (r === 0 ? i64(0) : get(regLocal.get(r)!));
  /** Pop the value on the stack into guest register rd (dropped for x0 and its sink, 32). */
  const setX = (rd: number) => (rd === 0 || rd >= 32 ? op(Op.drop) : set(regLocal.get(rd)!));
  const pcPlus = (off: number) => { get(0); if (off !== 0) { i64(off); op(Op.i64_add); } };
  const ifThen = (type: number, body: () => void, orElse?: () => void) => {
    b.byte(Op.if).byte(type);
    depth++;
    body();
    if (orElse) { op(Op.else); orElse(); }
    op(Op.end);
    depth--;
  };
  const addN = (k: number) => { if (k) { get(L.n); i64(k); op(Op.i64_add); set(L.n); } };
  /** Leave the function: `retired` more instructions done, next pc pushed by `npc`. */
  const exit = (retired: number, npc: () => void) => {
    addN(retired);
    npc();
    set(L.npc);
    b.byte(Op.br).u32(outer + depth + (looped ? 1 : 0));
  };
  /** Go on at page offset `t` (the current block's instructions are counted already). */
  const goTo = (t: number) => {
    const j = bbIndex.get(t);
    if (j === undefined) return exit(0, () => pcPlus(t - r.entry));
    if (j === cur + 1 && depth === 0) return; // the next block in layout: fall into it
    if (j > cur) { b.byte(Op.br).u32(j - cur - 1 + depth); return; } // forward: out to its label
    i32(dispatch.indexOf(j)); set(BB); // backward: through the loop's dispatch
    b.byte(Op.br).u32(outer + depth);
  };
  /** Push the TLB-hit condition for an access of `size` bytes at va (local), entry into E. */
  const tlbHit = (base: number, size: number) => {
    get(L.va); i64(12); op(Op.i64_shr_u, Op.i32_wrap_i64); i32(layout.TLB_ENTRIES - 1); op(Op.i32_and);
    i32(4); op(Op.i32_shl); get(base); op(Op.i32_add); tee(E);
    mem(Op.i64_load, 0);
    get(L.va); i64(12); op(Op.i64_shr_u); get(L.gen); op(Op.i64_or, Op.i64_eq);
    if (size > 1) {
      get(L.va); op(Op.i32_wrap_i64); i32(0xfff); op(Op.i32_and); i32(4096 - size); op(Op.i32_le_u, Op.i32_and);
    }
  };
  const hostAddr = () => { get(E); mem(Op.i64_load, 8); get(L.va); op(Op.i64_add, Op.i32_wrap_i64); };
  const countHit = () => { get(L.hits); i64(1); op(Op.i64_add); set(L.hits); };
  /** High 64 bits of the unsigned product of locals a and b (as assembly/hart/execute.ts mulhu). */
  const mulhu = () => {
    const lo = (l: number) => { get(l); i64(0xffffffff); op(Op.i64_and); };
    const hi = (l: number) => { get(l); i64(32); op(Op.i64_shr_u); };
    lo(L.a); hi(L.b); op(Op.i64_mul); set(L.t1); // lh
    hi(L.a); lo(L.b); op(Op.i64_mul); set(L.t2); // hl
    hi(L.a); hi(L.b); op(Op.i64_mul); // hh
    get(L.t1); i64(32); op(Op.i64_shr_u, Op.i64_add);
    get(L.t2); i64(32); op(Op.i64_shr_u, Op.i64_add);
    lo(L.a); lo(L.b); op(Op.i64_mul); i64(32); op(Op.i64_shr_u); // ll >> 32
    get(L.t1); i64(0xffffffff); op(Op.i64_and, Op.i64_add);
    get(L.t2); i64(0xffffffff); op(Op.i64_and, Op.i64_add);
    i64(32); op(Op.i64_shr_u, Op.i64_add);
  };
  /** rd = (local l < 0 ? other : 0) subtracted from the stack value. */
  const subIfNeg = (neg: number, other: number) => {
    get(other); i64(0); get(neg); i64(0); op(Op.i64_lt_s, Op.select, Op.i64_sub);
  };


  // prologue: guest registers into locals; the instructions left before stopAt
  for (const [x, l] of regLocal) { i32(0); mem(Op.i64_load, layout.X_BASE + 8 * x); set(l); }
  if (looped) { gget(G.stopAt); gget(G.instret); op(Op.i64_sub); set(L.lim); }
  const memOps = [...r.insns.values()].some((i) => LOADS.has(i.op) || STORES.has(i.op));
  if (memOps) { gget(G.tlbRead); set(RB); gget(G.tlbWrite); set(WB); gget(G.tlbGen); set(L.gen); }
  b.byte(Op.block).byte(EMPTY); // the exit
  if (looped) {
    i32(0); set(BB);
    b.byte(Op.loop).byte(EMPTY); // the dispatch: the entry, or a backward jump's target
    for (let k = 0; k < bbs.length; k++) b.byte(Op.block).byte(EMPTY);
    get(BB);
    b.byte(Op.br_table).u32(dispatch.length - 1);
    for (const k of dispatch) b.u32(k);
  } else {
    for (let k = 1; k < bbs.length; k++) b.byte(Op.block).byte(EMPTY);
  }
  bbs.forEach((bb, bi) => {
    if (looped || bi > 0) op(Op.end); // the block this one's code follows
    cur = bi;
    outer = bbs.length - 1 - bi;
    if (looped) {
      // does the whole block fit before stopAt?
      get(L.n); i64(bb.insns.length); op(Op.i64_add); get(L.lim); op(Op.i64_gt_u);
      ifThen(EMPTY, () => exit(0, () => pcPlus(bb.start - r.entry)));
    }
    bb.insns.forEach((i, k) => {
      const o = i.op;
      const next = () => pcPlus(i.off + i.len - r.entry);
      let m;
      if (o === OP.lui) { i64(i.imm); setX(i.rd); }
      else if (o === OP.auipc) { pcPlus(i.off + i.imm - r.entry); setX(i.rd); }
      else if (o === OP.jal) {
        next(); setX(i.rd);
        addN(bb.insns.length);
        goTo(i.off + i.imm);
      } else if (o === OP.jalr) {
        getX(i.rs1); i64(i.imm); op(Op.i64_add); i64(-2); op(Op.i64_and); set(L.npc);
        next(); setX(i.rd);
        exit(bb.insns.length, () => get(L.npc));
      } else if ((m = BRANCHES.get(o)) !== undefined) {
        addN(bb.insns.length);
        getX(i.rs1); getX(i.rs2); op(m);
        ifThen(EMPTY, () => goTo(i.off + i.imm));
        goTo(bb.next);
      } else if ((m = LOADS.get(o)) !== undefined) {
        const ld = m;
        getX(i.rs1); i64(i.imm); op(Op.i64_add); set(L.va);
        tlbHit(RB, ld.size);
        // a miss (or an access crossing a page) leaves before the load: the interpreter does it
        ifThen(I64, () => { hostAddr(); mem(ld.fast, 0); countHit(); }, () => exit(k, () => pcPlus(i.off - r.entry)));
        setX(i.rd);
      } else if ((m = STORES.get(o)) !== undefined) {
        const st = m;
        getX(i.rs1); i64(i.imm); op(Op.i64_add); set(L.va);
        tlbHit(WB, st.size);
        ifThen(EMPTY, () => { hostAddr(); getX(i.rs2); mem(st.op, 0); countHit(); }, () => exit(k, () => pcPlus(i.off - r.entry)));
      } else if ((m = ALU_IMM.get(o)) !== undefined) { getX(i.rs1); i64(i.imm); op(m); setX(i.rd); }
      else if ((m = ALU_REG.get(o)) !== undefined) { getX(i.rs1); getX(i.rs2); op(m); setX(i.rd); }
      else if ((m = ALU_W.get(o)) !== undefined) {
        getX(i.rs1); op(Op.i32_wrap_i64);
        if (m.imm) i32(i.imm); else { getX(i.rs2); op(Op.i32_wrap_i64); }
        op(m.op, Op.i64_extend_i32_s); setX(i.rd);
      } else if (o === OP.slti || o === OP.sltiu) {
        getX(i.rs1); i64(i.imm); op(o === OP.slti ? Op.i64_lt_s : Op.i64_lt_u, Op.i64_extend_i32_u); setX(i.rd);
      } else if (o === OP.slt || o === OP.sltu) {
        getX(i.rs1); getX(i.rs2); op(o === OP.slt ? Op.i64_lt_s : Op.i64_lt_u, Op.i64_extend_i32_u); setX(i.rd);
      } else if (MULHS.has(o)) {
        getX(i.rs1); set(L.a); getX(i.rs2); set(L.b);
        mulhu();
        if (o === OP.mulh) { subIfNeg(L.a, L.b); subIfNeg(L.b, L.a); }
        else if (o === OP.mulhsu) subIfNeg(L.a, L.b);
        setX(i.rd);
      } else if (DIVS.has(o)) {
        divide(o, i);
      } else if (o === OP.fence || o === OP.fence_i) {
        // one hart; stores already invalidate decoded code (as the interpreter does)
      } else throw new Error(`op ${o} is not compilable`);
    });
    const last = bb.insns[bb.insns.length - 1];
    if (last.op !== OP.jal && last.op !== OP.jalr && !BRANCHES.has(last.op)) {
      addN(bb.insns.length);
      goTo(bb.next);
    }
  });
  // the last block never falls off the end: every path above ends in a br
  op(Op.unreachable);
  if (looped) op(Op.end); // loop
  op(Op.end); // the exit
  // epilogue: the one exit
  for (const x of written) { i32(0); get(regLocal.get(x)!); mem(Op.i64_store, layout.X_BASE + 8 * x); }
  gget(G.instret); get(L.n); op(Op.i64_add); gset(G.instret);
  gget(G.jitRetired); get(L.n); op(Op.i64_add); gset(G.jitRetired);
  if (memOps) { gget(G.tlbHits); get(L.hits); op(Op.i64_add); gset(G.tlbHits); }
  get(L.npc);

  // Division (unprivileged spec, "M" chapter, division by zero and overflow table): Wasm's
  // div traps on both, so they are tested first; its rem gives 0 on overflow, as RISC-V does.
  function divide(o: number, i: RegionInsn) {
    const w = o === OP.divw || o === OP.divuw || o === OP.remw || o === OP.remuw;
    const signed = o === OP.div || o === OP.rem || o === OP.divw || o === OP.remw;
    const isRem = o === OP.rem || o === OP.remu || o === OP.remw || o === OP.remuw;
    getX(i.rs1); set(L.a); getX(i.rs2); set(L.b);
    const a = () => { get(L.a); if (w) op(Op.i32_wrap_i64); };
    const bb = () => { get(L.b); if (w) op(Op.i32_wrap_i64); };
    const wide = (v: () => void) => { v(); if (w) op(Op.i64_extend_i32_s); };
    bb(); op(w ? Op.i32_eqz : Op.i64_eqz);
    ifThen(I64, () => {
      if (isRem) wide(a); else i64(-1);
    }, () => {
      if (signed) {
        bb(); if (w) i32(-1); else i64(-1); op(w ? Op.i32_eq : Op.i64_eq);
        ifThen(I64, () => {
          // x / -1 = -x (wrapping: the most negative value stays itself); x % -1 = 0
          if (isRem) i64(0); else if (w) { i32(0); a(); op(Op.i32_sub, Op.i64_extend_i32_s); } else { i64(0); a(); op(Op.i64_sub); }
        }, () => {
          wide(() => { a(); bb(); op(w ? (isRem ? Op.i32_rem_s : Op.i32_div_s) : (isRem ? Op.i64_rem_s : Op.i64_div_s)); });
        });
      } else {
        wide(() => { a(); bb(); op(w ? (isRem ? Op.i32_rem_u : Op.i32_div_u) : (isRem ? Op.i64_rem_u : Op.i64_div_u)); });
      }
    });
    setX(i.rd);
  }

  return { func: { type: 0, locals: [[regLocal.size + SCRATCH.length, I64], [4, I32]], body: b }, entryLen: budget };
}
