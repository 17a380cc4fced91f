// Helpers of the H-extension tests (privileged spec, "Hypervisor Extension" chapter):
// hstatus bits, entering VS/VU-mode, a probe handler that records traps and continues, and
// G-stage (Sv39x4/Sv48x4) page tables with their 16 KiB root.
import { expect } from 'vitest';
import { Asm, CSR, Exit, PTE, PageTables, R, RAM, PRV_S, PRV_U, run, expectHalt, expectTrap } from './harness.js';

/** hstatus fields (H chapter, "Hypervisor Status Register"). */
// PTE permission sets: G-stage leaves need U = 1 (every G-stage access is checked as U-mode)
const { V, R: PR, W: PW, X: PX, U: PU, A: PA, D: PD } = PTE;
export const GRWX = V | PR | PW | PX | PU | PA | PD;
export const GRW = V | PR | PW | PU | PA | PD;
export const RWX = V | PR | PW | PX | PA | PD;
export const RW = V | PR | PW | PA | PD;
// where the two-stage tests put their tables (G-stage, VS-stage, HS's own) and data frames
export const G_POOL = RAM + 0x10_0000n;
export const VS_POOL = RAM + 0x14_0000n;
export const HS_POOL = RAM + 0x18_0000n;
export const PA_A = RAM + 0x2_0000n;
export const PA_B = RAM + 0x2_1000n;

export const HS = {
  GVA: 1n << 6n, SPV: 1n << 7n, SPVP: 1n << 8n, HU: 1n << 9n, VGEIN: 0x3fn << 12n,
  VTVM: 1n << 20n, VTW: 1n << 21n, VTSR: 1n << 22n, VSXL: 3n << 32n,
} as const;
/** mstatus fields the H extension adds. */
export const MPV = 1n << 39n;
export const MGVA = 1n << 38n;
/** VS-level interrupt bits of mip/mie/hip/hie/hvip. */
export const VSSIP = 1n << 2n;
export const VSTIP = 1n << 6n;
export const VSEIP = 1n << 10n;
export const VS_ALL = VSSIP | VSTIP | VSEIP;
export const STCE = 1n << 63n;

export const CAUSE = {
  ILLEGAL: 2, VIRTUAL: 22, LOAD_PF: 13, STORE_PF: 15, FETCH_PF: 12,
  FETCH_GPF: 20, LOAD_GPF: 21, STORE_GPF: 23, LOAD_ACCESS: 5, STORE_ACCESS: 7, FETCH_ACCESS: 1,
  U_ECALL: 8, S_ECALL: 9, VS_ECALL: 10, M_ECALL: 11,
} as const;

/** mret into VS (prv = 1) or VU (prv = 0) at `label`: MPV = 1 (clobbers t6). */
export function enterV(p: Asm, prv: number, label: string): Asm {
  p.csrsv(CSR.mstatus, MPV);
  return p.enter(prv, label);
}

const { a4, a5, s11 } = R;
/**
 * Probe mode: M-mode traps record mcause in a5 and mtval in a4 and resume after the
 * (4-byte) faulting instruction, in the mode it came from (MPP/MPV). Each probe: a5 = -1,
 * the instruction, then a5/a4 stored to the `out` array at s11 (advanced 16 each).
 */
export function probeSetup(p: Asm): Asm {
  p.la(R.t6, '__probe').csrw(CSR.mtvec, R.t6).la(s11, '__out');
  return p;
}
export function probe(p: Asm, name: string, ops: Record<string, number> = {}): Asm {
  p.li(a5, -1).li(a4, 0).i(name, ops);
  return p.i('sd', { rs1: s11, rs2: a5, imm: 0 }).i('sd', { rs1: s11, rs2: a4, imm: 8 }).i('addi', { rd: s11, rs1: s11, imm: 16 });
}
/** The probe handler and the result array (call after the test code, before run). */
export function probeTail(p: Asm, n: number): Asm {
  p.align(4).label('__probe');
  p.csrr(a5, CSR.mcause).csrr(a4, CSR.mtval);
  p.csrr(R.t6, CSR.mepc).i('addi', { rd: R.t6, rs1: R.t6, imm: 4 }).csrw(CSR.mepc, R.t6).i('mret');
  p.align(8).label('__out').bytes(new Uint8Array(16 * n));
  return p;
}
/** The recorded [mcause or -1, mtval] of each probe. */
export function probeResults(r: { read64(pa: bigint): bigint; addr(l: string): bigint }, n: number): [bigint, bigint][] {
  const out = r.addr('__out');
  return Array.from({ length: n }, (_, k) => [BigInt.asIntN(64, r.read64(out + BigInt(16 * k))), r.read64(out + BigInt(16 * k + 8))]);
}

/**
 * Page tables for either stage. G-stage (H chapter, "Guest Physical Address Translation"):
 * Sv39x4/Sv48x4, the root 16 KiB with 11 index bits (rootBits 11), `pool` 16 KiB aligned.
 * VS-stage tables may sit at a guest physical address other than their physical one: the
 * tables are written at pool (physical) and point to each other by pool + gpaOffset.
 */
export class Tables {
  readonly root: bigint;
  private next: bigint;
  private tables = new Map<bigint, Map<number, bigint>>();
  constructor(readonly p: Asm, readonly levels: 3 | 4, pool: bigint, readonly rootBits = 11, readonly gpaOffset = 0n) {
    if (rootBits === 11 && pool & 0x3fffn) throw new Error('G-stage root must be 16 KiB aligned');
    this.root = pool;
    this.next = pool + (rootBits === 11 ? 0x4000n : 0x1000n);
    this.tables.set(this.root, new Map());
  }
  /** hgatp (rootBits 11) or vsatp value. */
  get atp(): bigint {
    const mode = (this.levels === 3 ? 8n : 9n) << 60n;
    return mode | ((this.root + this.gpaOffset) >> 12n);
  }
  get hgatp(): bigint {
    return this.atp;
  }
  private index(a: bigint, level: number): number {
    const mask = level === this.levels - 1 ? (1n << BigInt(this.rootBits)) - 1n : 0x1ffn;
    return Number((a >> (12n + 9n * BigInt(level))) & mask);
  }
  private set(table: bigint, idx: number, v: bigint): void {
    this.tables.get(table)!.set(idx, v);
    this.p.poke64(table + BigInt(idx * 8), v);
  }
  /** Physical address of the PTE for `a` at `level` (creating the tables above it). */
  pteAddr(a: bigint, level: number): bigint {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) {
      const idx = this.index(a, l);
      let e = this.tables.get(table)!.get(idx);
      if (e === undefined) {
        const t = this.next;
        this.next += 0x1000n;
        this.tables.set(t, new Map());
        e = PageTables.pte(t + this.gpaOffset, PTE.V);
        this.set(table, idx, e);
      }
      table = ((e >> 10n) << 12n) - this.gpaOffset;
    }
    return table + BigInt(this.index(a, level) * 8);
  }
  map(a: bigint, pa: bigint, flags: bigint, level = 0): bigint {
    return this.raw(a, PageTables.pte(pa, flags), level);
  }
  raw(a: bigint, pteValue: bigint, level = 0): bigint {
    const at = this.pteAddr(a, level);
    const table = at & ~0xfffn;
    this.set(table, Number((at & 0xfffn) / 8n), pteValue);
    return at;
  }
  /** Physical addresses of the 4 KiB table pages allocated so far (a 16 KiB root as 4). */
  get pages(): bigint[] {
    const out: bigint[] = [];
    for (const t of this.tables.keys()) {
      out.push(t);
      if (t === this.root && this.rootBits === 11) out.push(t + 0x1000n, t + 0x2000n, t + 0x3000n);
    }
    return out;
  }
}
/** G-stage tables (Sv39x4 with levels 3, Sv48x4 with 4). */
export class GTables extends Tables {
  constructor(p: Asm, levels: 3 | 4, pool: bigint) {
    super(p, levels, pool, 11, 0n);
  }
}
/** VS-stage tables (Sv39/Sv48) at physical `pool`, seen by the guest at pool + gpaOffset. */
export class VsTables extends Tables {
  constructor(p: Asm, levels: 3 | 4, pool: bigint, gpaOffset = 0n) {
    super(p, levels, pool, 9, gpaOffset);
  }
  get satp(): bigint {
    return this.atp;
  }
}

export { RAM };

/** Run `insns` as probes from (prv, V) after `setup`; returns [cause, tval] of each. */
export async function insnProbes(prv: number, v: boolean, insns: [string, Record<string, number>][], setup: (p: Asm) => void = () => {}) {
  const p = new Asm();
  p.openPmp();
  setup(p);
  probeSetup(p);
  if (v) enterV(p, prv, 'low');
  else p.enter(prv, 'low');
  p.label('low').la(R.s0, 'scratch');
  for (const [n, ops] of insns) probe(p, n, ops);
  p.halt();
  probeTail(p, insns.length);
  p.align(8).label('scratch').bytes(new Uint8Array(16));
  const r = await run(p);
  expectHalt(r);
  // every probe traps to M-mode and comes back: the hart ends where the probes ran
  expect(r.core.virt).toBe(v);
  expect(r.priv).toBe(prv);
  return probeResults(r, insns.length);
}

// ---- two-stage guests (h-mmu, h-matrix)

export interface GuestOpts {
  /** VS-stage levels (0: vsatp Bare) */
  vs?: 0 | 3 | 4;
  /** G-stage levels (0: hgatp Bare) */
  g?: 0 | 3 | 4;
  prv?: number;
  /** G-stage maps code and tables with 4 KiB pages (no gigapages) */
  small?: boolean;
  setup?: (p: Asm) => void;
}

/**
 * A guest in VS (or VU): identity mappings of code in both stages (G-stage gigapages for
 * devices and RAM, a VS gigapage for RAM), then `map`, `body`, ecall at `end`.
 */
export function guest(map: (vs: VsTables | null, g: GTables | null, p: Asm) => void, body: (p: Asm) => void, o: GuestOpts = {}) {
  const p = new Asm();
  const prv = o.prv ?? PRV_S;
  const g = o.g ? new GTables(p, o.g, G_POOL) : null;
  const vs = o.vs ? new VsTables(p, o.vs, VS_POOL) : null;
  if (g) {
    if (o.small) {
      for (let a = RAM; a < RAM + 0x1_0000n; a += 0x1000n) g.map(a, a, GRWX);
      for (let a = VS_POOL; a < VS_POOL + 0x8000n; a += 0x1000n) g.map(a, a, GRW);
    } else {
      g.map(0n, 0n, GRW, 2); // TEST_DEV, CLINT
      g.map(RAM, RAM, GRWX, 2);
    }
  }
  if (vs) vs.map(RAM, RAM, prv === PRV_U ? RWX | PU : RWX, 2);
  map(vs, g, p);
  p.openPmp();
  if (g) p.csrwv(CSR.hgatp, g.hgatp);
  if (vs) p.csrwv(CSR.vsatp, vs.satp);
  o.setup?.(p);
  enterV(p, prv, 'low');
  p.label('low');
  body(p);
  p.label('end').i('ecall');
  return p;
}
type Res = Awaited<ReturnType<typeof run>>;
/** The guest reached its ecall at `end`. */
export function expectEnd(r: Res, prv = PRV_S) {
  expectTrap(r, { cause: prv === PRV_U ? CAUSE.U_ECALL : CAUSE.VS_ECALL, epc: r.addr('end') });
  expect(r.trapMstatus & MPV).toBe(MPV);
}
/** A fault taken into M from V=1: mcause, mepc, mtval, mtval2, mtinst, GVA. */
export function expectGuestFault(r: Res, w: { cause: number; epc?: bigint; tval: bigint; tval2?: bigint; tinst?: bigint; gva?: boolean }) {
  expectTrap(r, { cause: w.cause, epc: w.epc, tval: w.tval });
  expect(r.trapMstatus & MPV, 'MPV').toBe(MPV);
  expect(r.trapMstatus & MGVA, 'GVA').toBe(w.gva === false ? 0n : MGVA);
  expect(r.csr(CSR.mtval2), 'mtval2').toBe(w.tval2 ?? 0n);
  expect(r.csr(CSR.mtinst), 'mtinst').toBe(w.tinst ?? 0n);
}

// ---- where a trap is taken (H chapter, "Trap Entry"): M, HS or VS, and what it recorded

export type TrapTarget = 'M' | 'HS' | 'VS';
/** What routeTraps leaves in htval/htinst: a trap into VS-mode must not touch them. */
export const HTVAL_UNTOUCHED = 0x1234n;
export const HTINST_UNTOUCHED = 0x3020n;

/**
 * Send the exceptions `causes` from V=1 to `to`: M (medeleg clear; hedeleg set, which alone
 * does nothing), HS (medeleg) or VS (medeleg and hedeleg: guest-page faults, whose hedeleg
 * bits are read-only zero, still go to HS). The HS and VS handlers (trapHandlers) ecall to M.
 */
export function routeTraps(p: Asm, to: TrapTarget, causes: number[]): Asm {
  const bits = causes.reduce((m, c) => m | (1n << BigInt(c)), 0n);
  p.csrwv(CSR.medeleg, to === 'M' ? 0n : bits).csrwv(CSR.hedeleg, to === 'HS' ? 0n : -1n);
  p.la(R.t6, '__hs').csrw(CSR.stvec, R.t6).la(R.t6, '__vs').csrw(CSR.vstvec, R.t6);
  return p.csrwv(CSR.hstatus, 0).csrwv(CSR.htval, HTVAL_UNTOUCHED).csrwv(CSR.htinst, HTINST_UNTOUCHED);
}
/** The HS and VS handlers of routeTraps: an ecall each (VS-mode's is fetched through both stages). */
export function trapHandlers(p: Asm): Asm {
  p.align(4).label('__hs').label('__hsend').i('ecall');
  return p.align(4).label('__vs').label('__vsend').i('ecall');
}

/** A trap as the mode that took it recorded it. */
export interface Taken {
  to: TrapTarget;
  cause: bigint;
  epc: bigint;
  tval: bigint;
  /** mtval2 or htval (for VS: htval, which it must leave alone) */
  tval2: bigint;
  /** mtinst or htinst (likewise) */
  tinst: bigint;
  /** mstatus.GVA or hstatus.GVA (for VS: hstatus.GVA, left alone) */
  gva: boolean;
  /** V before the trap: mstatus.MPV or hstatus.SPV (for VS: still 1) */
  v: boolean;
  /** the privilege before the trap: MPP, SPP or vsstatus.SPP */
  prv: number;
}
/** Read the trap taken in `to` after a run that ended in M (directly, or by the HS/VS handler's ecall). */
export function takenTrap(r: Awaited<ReturnType<typeof run>>, to: TrapTarget): Taken {
  const ms = r.trapMstatus;
  if (to === 'M') {
    expect(Exit[r.exit], 'run should end in the M-mode trap handler').toBe('Fail');
    return {
      to, cause: r.csr(CSR.mcause), epc: r.csr(CSR.mepc), tval: r.csr(CSR.mtval), tval2: r.csr(CSR.mtval2),
      tinst: r.csr(CSR.mtinst), gva: (ms & MGVA) !== 0n, v: (ms & MPV) !== 0n, prv: Number((ms >> 11n) & 3n),
    };
  }
  const hs = r.csr(CSR.hstatus);
  if (to === 'HS') {
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('__hsend') });
    // from V=1, hstatus.SPVP is set as sstatus.SPP is (H chapter, "Trap Entry")
    if (hs & HS.SPV) expect((hs & HS.SPVP) !== 0n, 'hstatus.SPVP = SPP').toBe((ms & (1n << 8n)) !== 0n);
    return {
      to, cause: r.csr(CSR.scause), epc: r.csr(CSR.sepc), tval: r.csr(CSR.stval), tval2: r.csr(CSR.htval),
      tinst: r.csr(CSR.htinst), gva: (hs & HS.GVA) !== 0n, v: (hs & HS.SPV) !== 0n, prv: Number((ms >> 8n) & 1n),
    };
  }
  expectTrap(r, { cause: CAUSE.VS_ECALL, epc: r.addr('__vsend') });
  return {
    to, cause: r.csr(CSR.vscause), epc: r.csr(CSR.vsepc), tval: r.csr(CSR.vstval), tval2: r.csr(CSR.htval),
    tinst: r.csr(CSR.htinst), gva: (hs & HS.GVA) !== 0n, v: (ms & MPV) !== 0n, prv: Number((r.csr(CSR.vsstatus) >> 8n) & 1n),
  };
}
