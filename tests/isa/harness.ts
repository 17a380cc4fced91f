// Harness of the ISA tests: a Program with a fixed prologue and trap handler, run on a fresh
// core, and the results read back. Conventions:
//  - x30 (t5) and x31 (t6) belong to the harness (halting, prologue, mode switches): tests
//    must not expect values in them.
//  - The prologue points mtvec at `__trap`, which powers off with a failure (Exit.Fail), so
//    any trap the test does not handle itself ends the run with mcause/mepc/mtval kept.
//  - `halt()` powers off normally (Exit.Poweroff): the program reached its end.
import { expect } from 'vitest';
import { Core, Exit } from '../../src/core.js';
import { Program, R, RAM } from '../helpers/program.js';
import { CSRS } from '../../src/isa/opcodes.js';

export { Core, Exit, R, RAM };
export const CSR = CSRS;
export const TEST_DEV = 0x0010_0000n;
export const CLINT = 0x0200_0000n;
export const MTIMECMP = CLINT + 0x4000n;
export const MTIME = CLINT + 0xbff8n;
export const UART = 0x1000_0000n;
const T5 = 30;
const T6 = 31;

export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

/** mstatus bits (privileged spec 3.1.6). */
export const MS = {
  SIE: 1n << 1n, MIE: 1n << 3n, SPIE: 1n << 5n, MPIE: 1n << 7n, SPP: 1n << 8n,
  MPP: 3n << 11n, FS: 3n << 13n, MPRV: 1n << 17n, SUM: 1n << 18n, MXR: 1n << 19n,
  TVM: 1n << 20n, TW: 1n << 21n, TSR: 1n << 22n, SD: 1n << 63n,
} as const;

/** Interrupt causes / mip-mie bits. */
export const IRQ = { SSI: 1, MSI: 3, STI: 5, MTI: 7, SEI: 9, MEI: 11 } as const;
export const INTERRUPT = 1n << 63n;

export const u64 = (v: bigint | number) => BigInt.asUintN(64, BigInt(v));
export const sext32 = (v: bigint | number) => BigInt.asUintN(64, BigInt.asIntN(32, BigInt(v)));

export class Asm extends Program {
  private finished = false;
  /** Memory to write besides the program: [pa, bytes]. */
  readonly pokes: [bigint, Uint8Array][] = [];

  constructor() {
    super(RAM);
    this.la(T6, '__trap').csrw(CSR.mtvec, T6);
  }

  // ---- pseudo-instructions
  csrw(csr: number, rs: number): this {
    return this.i('csrrw', { rd: 0, rs1: rs, csr });
  }
  csrr(rd: number, csr: number): this {
    return this.i('csrrs', { rd, rs1: 0, csr });
  }
  csrs(csr: number, rs: number): this {
    return this.i('csrrs', { rd: 0, rs1: rs, csr });
  }
  csrc(csr: number, rs: number): this {
    return this.i('csrrc', { rd: 0, rs1: rs, csr });
  }
  /** csr = value (through t6). */
  csrwv(csr: number, value: bigint | number): this {
    return this.li(T6, value).csrw(csr, T6);
  }
  csrsv(csr: number, value: bigint | number): this {
    return this.li(T6, value).csrs(csr, T6);
  }
  csrcv(csr: number, value: bigint | number): this {
    return this.li(T6, value).csrc(csr, T6);
  }
  mv(rd: number, rs: number): this {
    return this.i('addi', { rd, rs1: rs, imm: 0 });
  }
  nop(): this {
    return this.i('addi', { rd: 0, rs1: 0, imm: 0 });
  }
  j(label: string): this {
    return this.i('jal', { rd: 0 }, label);
  }
  word(w: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, w >>> 0, true);
    return this.bytes(b);
  }
  half(h: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, h & 0xffff, true);
    return this.bytes(b);
  }
  dword(v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, u64(v), true);
    return this.bytes(b);
  }
  /** Store 8 bytes at physical `pa` before the run. */
  poke64(pa: bigint, v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, u64(v), true);
    this.pokes.push([pa, b]);
    return this;
  }

  // ---- machine control
  /** Power off normally (clobbers t5, t6). */
  halt(): this {
    return this.li(T6, TEST_DEV).li(T5, 0x5555).i('sw', { rs1: T6, rs2: T5, imm: 0 });
  }
  /** PMP entry 0 = all of memory, RWX (what firmware does before entering S or U). */
  openPmp(): this {
    return this.csrwv(CSR.pmpaddr0, -1).csrwv(CSR.pmpcfg0, 0x1f);
  }
  /** mret into privilege `prv` at `label` (clobbers t6). */
  enter(prv: number, label: string): this {
    this.csrcv(CSR.mstatus, MS.MPP);
    if (prv !== PRV_U) this.csrsv(CSR.mstatus, BigInt(prv) << 11n);
    this.la(T6, label).csrw(CSR.mepc, T6);
    return this.i('mret');
  }
  /** Enable the FPU (mstatus.FS = Initial). */
  fpOn(fs = 1n): this {
    return this.csrcv(CSR.mstatus, MS.FS).csrsv(CSR.mstatus, fs << 13n);
  }

  override assemble(): Uint8Array {
    if (!this.finished) {
      this.finished = true;
      // unhandled trap: keep mstatus as the trap left it (Result.trapMstatus), drop MPRV so
      // the stores are physical M-mode ones, power off with a failure
      this.align(4).label('__trap');
      this.csrr(T5, CSR.mstatus).li(T6, MS.MPRV).csrc(CSR.mstatus, T6);
      this.la(T6, '__mstatus').i('sd', { rs1: T6, rs2: T5, imm: 0 });
      this.li(T6, TEST_DEV).li(T5, 0x3333).i('sw', { rs1: T6, rs2: T5, imm: 0 });
      this.label('__hang').j('__hang');
      this.align(8).label('__mstatus').dword(0n);
    }
    return super.assemble();
  }
}

export interface RunOptions {
  ram?: number;
  budget?: number;
  /** the hart has the H extension (default true, as with -cpu rv64) */
  h?: boolean;
  /** Called after the image is loaded and the core reset, before run(). */
  before?: (core: Core) => void;
}

export class Result {
  constructor(readonly core: Core, readonly exit: Exit, readonly p: Asm) {}
  x(i: number): bigint {
    return this.core.x(i);
  }
  f(i: number): bigint {
    return this.core.f(i);
  }
  /** A CSR as the hart holds it (readCsr returns an i64: made unsigned here). */
  csr(n: number): bigint {
    return u64(this.core.csr(n));
  }
  get priv(): number {
    return this.core.priv;
  }
  addr(label: string): bigint {
    return this.p.addr(label);
  }
  read64(pa: bigint): bigint {
    return new DataView(this.core.ram(pa, 8).slice().buffer).getBigUint64(0, true);
  }
  read32(pa: bigint): number {
    return new DataView(this.core.ram(pa, 4).slice().buffer).getUint32(0, true);
  }
  bytes(pa: bigint, n: number): number[] {
    return Array.from(this.core.ram(pa, n));
  }
  /** mstatus when the default trap handler was entered (before it cleared MPRV). */
  get trapMstatus(): bigint {
    return this.read64(this.addr('__mstatus'));
  }
  /** The M-mode trap registers. */
  get mtrap() {
    return { cause: this.csr(CSR.mcause), epc: this.csr(CSR.mepc), tval: this.csr(CSR.mtval) };
  }
  get strap() {
    return { cause: this.csr(CSR.scause), epc: this.csr(CSR.sepc), tval: this.csr(CSR.stval) };
  }
}

export async function run(p: Asm, opts: RunOptions = {}): Promise<Result> {
  const core = await Core.create(opts.ram ?? 4 << 20);
  core.writeRam(RAM, p.assemble());
  for (const [pa, b] of p.pokes) core.writeRam(pa, b);
  core.setHypervisorExtension(opts.h ?? true);
  core.reset(RAM);
  opts.before?.(core);
  const exit = core.run(opts.budget ?? 200_000);
  return new Result(core, exit, p);
}

/** The program ran to its halt(). */
export function expectHalt(r: Result): void {
  if (r.exit !== Exit.Poweroff) {
    const t = r.mtrap;
    throw new Error(`expected a normal halt, got exit ${Exit[r.exit]} (mcause ${t.cause}, mepc 0x${t.epc.toString(16)}, mtval 0x${t.tval.toString(16)}, pc 0x${r.core.pc.toString(16)})`);
  }
}

/** The program ended in the default M-mode trap handler with these trap registers. */
export function expectTrap(r: Result, want: { cause: bigint | number; epc?: bigint; tval?: bigint | number }): void {
  expect(Exit[r.exit], 'run should end in the default trap handler').toBe('Fail');
  const t = r.mtrap;
  expect(t.cause, 'mcause').toBe(u64(want.cause));
  if (want.epc !== undefined) expect(t.epc, 'mepc').toBe(want.epc);
  if (want.tval !== undefined) expect(t.tval, 'mtval').toBe(u64(want.tval));
}

/**
 * Evaluate `insn rd, rs1, rs2` (or rs1, imm) for each case in one program; returns the
 * rd values. Cases: [rs1, rs2] for register forms, [rs1, imm] when `imm` is set.
 */
export async function evalOp(name: string, cases: [bigint, bigint | number][], imm = false): Promise<bigint[]> {
  const p = new Asm();
  const { a0, a1, a2, s0 } = R;
  p.la(s0, 'out');
  cases.forEach(([x, y], k) => {
    p.li(a0, x).li(a2, 0x5a5a);
    if (imm) p.i(name, { rd: a2, rs1: a0, imm: Number(y) });
    else p.li(a1, y).i(name, { rd: a2, rs1: a0, rs2: a1 });
    p.i('sd', { rs1: s0, rs2: a2, imm: 0 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
  });
  p.halt().align(8).label('out').bytes(new Uint8Array(8 * cases.length));
  const r = await run(p);
  expectHalt(r);
  const out = r.addr('out');
  return cases.map((_, k) => r.read64(out + BigInt(8 * k)));
}

// ---- page tables (privileged spec 4.3-4.5)
export const PTE = { V: 1n, R: 2n, W: 4n, X: 8n, U: 16n, G: 32n, A: 64n, D: 128n } as const;
export const SATP_SV39 = 8n;
export const SATP_SV48 = 9n;

/** Builds Sv39/Sv48 page tables into an Asm's pokes, allocating tables from `pool`. */
export class PageTables {
  readonly root: bigint;
  private next: bigint;
  private tables = new Map<bigint, Map<number, bigint>>();
  constructor(readonly p: Asm, readonly levels: 3 | 4, pool: bigint) {
    this.root = pool;
    this.next = pool + 0x1000n;
    this.tables.set(this.root, new Map());
  }
  get satp(): bigint {
    return ((this.levels === 3 ? SATP_SV39 : SATP_SV48) << 60n) | (this.root >> 12n);
  }
  static pte(pa: bigint, flags: bigint): bigint {
    return ((pa >> 12n) << 10n) | flags;
  }
  private index(va: bigint, level: number): number {
    return Number((va >> (12n + 9n * BigInt(level))) & 0x1ffn);
  }
  private set(table: bigint, idx: number, v: bigint): void {
    this.tables.get(table)!.set(idx, v);
    this.p.poke64(table + BigInt(idx * 8), v);
  }
  /** Address of the PTE for `va` at `level` (walking/creating non-leaf tables above it). */
  pteAddr(va: bigint, level: number): bigint {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) {
      const idx = this.index(va, l);
      let e = this.tables.get(table)!.get(idx);
      if (e === undefined) {
        const t = this.next;
        this.next += 0x1000n;
        this.tables.set(t, new Map());
        e = PageTables.pte(t, PTE.V);
        this.set(table, idx, e);
      }
      table = (e >> 10n) << 12n;
    }
    return table + BigInt(this.index(va, level) * 8);
  }
  /** Map `va` to `pa` with a leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB, 3: 512 GiB). */
  map(va: bigint, pa: bigint, flags: bigint, level = 0): bigint {
    return this.raw(va, PageTables.pte(pa, flags), level);
  }
  /** Write a raw PTE value for `va` at `level`; returns the PTE's address. */
  raw(va: bigint, pteValue: bigint, level = 0): bigint {
    const a = this.pteAddr(va, level);
    let table = a & ~0xfffn;
    this.set(table, Number((a & 0xfffn) / 8n), pteValue);
    return a;
  }
}
