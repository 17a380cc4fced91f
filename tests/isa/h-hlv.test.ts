// HLV, HLVX and HSV (privileged spec, "Hypervisor Extension" chapter, "Hypervisor
// Virtual-Machine Load and Store Instructions"): from HS-mode (and U-mode with hstatus.HU),
// loads and stores translated as VS/VU-mode would (hstatus.SPVP) through both stages; HLVX
// needs execute permission instead of read; their faults carry a guest virtual address (GVA).
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, PTE, PageTables, PRV_S, PRV_U, PRV_M, run, expectTrap, u64 } from './harness.js';
import { encode } from '../../src/isa/encode.js';
import { HS, MPV, MGVA, CAUSE, GTables, VsTables, GRWX, GRW, RWX, RW, G_POOL, VS_POOL, HS_POOL, PA_A, PA_B } from './h-harness.js';

const { a0, a1, a2, a3, s0, s1, t0 } = R;
const { V, R: PR, W: PW, X: PX, U: PU, A: PA, D: PD } = PTE;

const VA = 0x4020_3000n;
const GPA_X = 0x1_0000_0000n;

interface HOpts {
  vsFlags?: bigint;
  gFlags?: bigint;
  /** G-stage flags of the gigapage holding the VS page tables */
  gTables?: bigint;
  hstatus?: bigint;
  vsstatus?: bigint;
  mstatus?: bigint;
  prv?: number;
  setup?: (p: Asm) => void;
}
/** HS (or U) code with VA -> GPA_X -> PA_A set up for HLV/HSV; `body` then ecall at `end`. */
function hyper(body: (p: Asm) => void, o: HOpts = {}) {
  const p = new Asm();
  const vs = new VsTables(p, 3, VS_POOL);
  vs.map(VA, GPA_X, o.vsFlags ?? RWX);
  const g = new GTables(p, 3, G_POOL);
  g.map(RAM, RAM, o.gTables ?? GRWX, 2);
  g.map(GPA_X, PA_A, o.gFlags ?? GRWX);
  p.openPmp().csrwv(CSR.vsatp, vs.satp).csrwv(CSR.hgatp, g.hgatp).csrwv(CSR.hstatus, o.hstatus ?? HS.SPVP);
  if (o.vsstatus) p.csrwv(CSR.vsstatus, o.vsstatus);
  if (o.mstatus) p.csrsv(CSR.mstatus, o.mstatus);
  o.setup?.(p);
  const prv = o.prv ?? PRV_S;
  if (prv !== PRV_M) p.enter(prv, 'low');
  p.label('low').li(s0, VA);
  body(p);
  p.label('end').i('ecall');
  return p;
}
type Res = Awaited<ReturnType<typeof run>>;
function expectEnd(r: Res, prv = PRV_S) {
  expectTrap(r, { cause: prv === PRV_U ? 8 : prv === PRV_M ? 11 : 9, epc: r.addr('end') });
  expect(r.trapMstatus & MPV).toBe(0n);
}
/** Run one HLV-style access at `bad`; returns mcause (0: reached the end) and the result. */
async function one(insn: [string, Record<string, number>], o: HOpts = {}) {
  const p = hyper((q) => q.label('bad').i(insn[0], insn[1]), o);
  p.poke64(PA_A, 0x1122_3344_5566_7788n);
  const r = await run(p);
  const endCause = o.prv === PRV_U ? 8n : 9n;
  const c = r.csr(CSR.mcause);
  return { r, cause: c === endCause && r.csr(CSR.mepc) === r.addr('end') ? 0 : Number(c) };
}
const hlvw: [string, Record<string, number>] = ['hlv.w', { rd: a0, rs1: s0 }];
const hlvxwu: [string, Record<string, number>] = ['hlvx.wu', { rd: a0, rs1: s0 }];
const hlvxhu: [string, Record<string, number>] = ['hlvx.hu', { rd: a0, rs1: s0 }];

/** Each of `loads` from the guest page holding `value` (PA_A), through both stages: what rd got. */
async function hlvResults(loads: string[], value: bigint): Promise<bigint[]> {
  const p = hyper((q) => {
    q.la(s1, 'out');
    loads.forEach((n, k) => q.i(n, { rd: a0, rs1: s0 }).i('sd', { rs1: s1, rs2: a0, imm: 8 * k }));
  });
  p.align(8).label('out').bytes(new Uint8Array(8 * loads.length));
  p.poke64(PA_A, value);
  const r = await run(p);
  expectEnd(r);
  return loads.map((_, k) => r.read64(r.addr('out') + BigInt(8 * k)));
}

describe('HLV/HLVX/HSV: data and widths', () => {
  it('each load width with its sign or zero extension, through VS-stage and G-stage', async () => {
    const loads = ['hlv.b', 'hlv.bu', 'hlv.h', 'hlv.hu', 'hlvx.hu', 'hlv.w', 'hlv.wu', 'hlvx.wu', 'hlv.d'];
    expect(await hlvResults(loads, 0x8899_aabb_ccdd_eeffn)).toEqual([
      u64(-1n), 0xffn, u64(-0x1101n), 0xeeffn, 0xeeffn, 0xffff_ffff_ccdd_eeffn, 0xccdd_eeffn, 0xccdd_eeffn, 0x8899_aabb_ccdd_eeffn,
    ]);
  });
  it('positive values are not sign-extended', async () => {
    expect(await hlvResults(['hlv.b', 'hlv.h', 'hlv.w'], 0x8000_0000_7654_3210n)).toEqual([0x10n, 0x3210n, 0x7654_3210n]);
  });
  it('HSV.B/H/W/D store the low 1/2/4/8 bytes', async () => {
    const p = hyper((q) => {
      q.li(a1, 0x1122_3344_5566_7788n);
      q.i('hsv.b', { rs1: s0, rs2: a1 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
      q.i('hsv.h', { rs1: s0, rs2: a1 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
      q.i('hsv.w', { rs1: s0, rs2: a1 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
      q.i('hsv.d', { rs1: s0, rs2: a1 });
    });
    for (let k = 0n; k < 4n; k++) p.poke64(PA_A + 8n * k, -1n);
    const r = await run(p);
    expectEnd(r);
    expect([r.read64(PA_A), r.read64(PA_A + 8n), r.read64(PA_A + 16n), r.read64(PA_A + 24n)]).toEqual([
      0xffff_ffff_ffff_ff88n, 0xffff_ffff_ffff_7788n, 0xffff_ffff_5566_7788n, 0x1122_3344_5566_7788n,
    ]);
  });
  it('from M-mode and from U-mode with hstatus.HU', async () => {
    for (const [prv, hs] of [[PRV_M, HS.SPVP], [PRV_U, HS.SPVP | HS.HU]] as const) {
      const p = hyper((q) => q.i('hlv.d', { rd: a0, rs1: s0 }), { prv, hstatus: hs });
      p.poke64(PA_A, 0x5a5an);
      const r = await run(p);
      expectEnd(r, prv);
      expect(r.x(a0)).toBe(0x5a5an);
    }
  });
  it('MPRV does not affect HLV/HSV: from M-mode with MPRV = 1 (MPP = S, MPV = 0, satp Sv39) they still translate as V=1', async () => {
    const p = new Asm();
    const hs = new PageTables(p, 3, HS_POOL);
    hs.map(VA, PA_B, RW);
    const vs = new VsTables(p, 3, VS_POOL);
    vs.map(VA, GPA_X, RW);
    const g = new GTables(p, 3, G_POOL);
    g.map(RAM, RAM, GRW, 2);
    g.map(GPA_X, PA_A, GRW);
    p.openPmp().csrwv(CSR.satp, hs.satp).csrwv(CSR.vsatp, vs.satp).csrwv(CSR.hgatp, g.hgatp).csrwv(CSR.hstatus, HS.SPVP);
    p.li(s0, VA).csrsv(CSR.mstatus, MS.MPRV | (1n << 11n));
    p.i('hlv.d', { rd: a0, rs1: s0 }).i('ld', { rd: a1, rs1: s0, imm: 0 }).li(a2, 0x77).i('hsv.d', { rs1: s0, rs2: a2 });
    p.csrcv(CSR.mstatus, MS.MPRV).label('end').i('ecall');
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectTrap(r, { cause: 11, epc: r.addr('end') });
    expect([r.x(a0), r.x(a1), r.read64(PA_A), r.read64(PA_B)]).toEqual([0xaaaan, 0xbbbbn, 0x77n, 0xbbbbn]);
  });
  it('from U-mode without hstatus.HU: illegal instruction', async () => {
    const { r, cause } = await one(hlvw, { prv: PRV_U, hstatus: HS.SPVP });
    expect(cause).toBe(CAUSE.ILLEGAL);
    expect(r.csr(CSR.mtval)).toBe(BigInt(encode('hlv.w', { rd: a0, rs1: s0 })));
  });
  it('HLV does not use or fill the HS-mode TLB: the same VA alternates between the two translations', async () => {
    const p = new Asm();
    const hs = new PageTables(p, 3, HS_POOL);
    hs.map(RAM, RAM, RWX, 2);
    hs.map(VA, PA_B, RW);
    const vs = new VsTables(p, 3, VS_POOL);
    vs.map(VA, GPA_X, RW);
    const g = new GTables(p, 3, G_POOL);
    g.map(RAM, RAM, GRW, 2);
    g.map(GPA_X, PA_A, GRW);
    p.openPmp().csrwv(CSR.satp, hs.satp).csrwv(CSR.vsatp, vs.satp).csrwv(CSR.hgatp, g.hgatp).csrwv(CSR.hstatus, HS.SPVP);
    p.enter(PRV_S, 'hs');
    p.label('hs').li(s0, VA).i('hlv.d', { rd: a0, rs1: s0 }).i('ld', { rd: a1, rs1: s0, imm: 0 });
    p.i('hlv.d', { rd: a2, rs1: s0 }).i('ld', { rd: a3, rs1: s0, imm: 0 }).label('end').i('ecall');
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1), r.x(a2), r.x(a3)]).toEqual([0xaaaan, 0xbbbbn, 0xaaaan, 0xbbbbn]);
  });
});

describe('HLV/HSV permissions: SPVP, SUM, MXR, HLVX', () => {
  it('SPVP = 1 checks as VS-mode: no U page needed; U pages need vsstatus.SUM', async () => {
    expect((await one(hlvw, { vsFlags: RW })).cause).toBe(0);
    expect((await one(hlvw, { vsFlags: RW | PU })).cause).toBe(CAUSE.LOAD_PF);
    expect((await one(hlvw, { vsFlags: RW | PU, vsstatus: MS.SUM })).cause).toBe(0);
    expect((await one(hlvw, { vsFlags: RW | PU, mstatus: MS.SUM })).cause).toBe(CAUSE.LOAD_PF);
  });
  it('SPVP = 0 checks as VU-mode: U pages only', async () => {
    expect((await one(hlvw, { vsFlags: RW, hstatus: 0n })).cause).toBe(CAUSE.LOAD_PF);
    expect((await one(hlvw, { vsFlags: RW | PU, hstatus: 0n })).cause).toBe(0);
    expect((await one(['hsv.w', { rs1: s0, rs2: a0 }], { vsFlags: RW, hstatus: 0n })).cause).toBe(CAUSE.STORE_PF);
  });
  it('HSV needs W in both stages', async () => {
    const hsv: [string, Record<string, number>] = ['hsv.d', { rs1: s0, rs2: a0 }];
    expect((await one(hsv, { vsFlags: V | PR | PA | PD })).cause).toBe(CAUSE.STORE_PF);
    expect((await one(hsv, { gFlags: V | PR | PU | PA | PD })).cause).toBe(CAUSE.STORE_GPF);
  });
  it('HLV of an execute-only page: fault unless MXR (vsstatus.MXR for the VS-stage)', async () => {
    const XO = V | PX | PA | PD;
    expect((await one(hlvw, { vsFlags: XO })).cause).toBe(CAUSE.LOAD_PF);
    expect((await one(hlvw, { vsFlags: XO, vsstatus: MS.MXR })).cause).toBe(0);
    expect((await one(hlvw, { gFlags: V | PX | PU | PA | PD, vsstatus: MS.MXR })).cause).toBe(CAUSE.LOAD_GPF);
    expect((await one(hlvw, { gFlags: V | PX | PU | PA | PD, mstatus: MS.MXR })).cause).toBe(0);
  });
  it('HLVX needs execute permission in both stages, not read permission', async () => {
    const XO = V | PX | PA | PD;
    const RO = V | PR | PA | PD;
    expect((await one(hlvxwu, { vsFlags: XO })).cause).toBe(0);
    expect((await one(hlvxhu, { gFlags: V | PX | PU | PA | PD })).cause).toBe(0);
    expect((await one(hlvxwu, { vsFlags: RO })).cause).toBe(CAUSE.LOAD_PF);
    expect((await one(hlvxwu, { vsFlags: RO, vsstatus: MS.MXR })).cause).toBe(CAUSE.LOAD_PF);
    expect((await one(hlvxhu, { gFlags: V | PR | PU | PA | PD })).cause).toBe(CAUSE.LOAD_GPF);
  });
  it('HLVX: the VS page tables themselves need not be executable in the G-stage (the walk reads them as loads)', async () => {
    const { r, cause } = await one(hlvxwu, { gTables: GRW });
    expect(cause).toBe(0);
    expect(r.x(a0)).toBe(0x5566_7788n);
  });
  it('HLVX needs PMP execute and read permission for the physical address; HLV needs read only', async () => {
    // H chapter, HLVX: "the supervisor physical memory attributes must grant both execute and
    // read permissions"; PMP entry 0 makes PA_A's page read-only (R), entry 1 opens the rest
    const pmp = (q: Asm) => {
      q.csrwv(CSR.pmpaddr0, (PA_A >> 2n) | 0x1ffn).csrwv(CSR.pmpaddr1, -1).csrwv(CSR.pmpcfg0, 0x1f_19n);
    };
    const hlv = await one(hlvw, { setup: pmp });
    expect(hlv.cause).toBe(0);
    expect(hlv.r.x(a0)).toBe(0x5566_7788n);
    const hlvx = await one(hlvxwu, { setup: pmp });
    expect(hlvx.cause).toBe(CAUSE.LOAD_ACCESS);
    expect(hlvx.r.csr(CSR.mtval)).toBe(VA);
    expect(hlvx.r.trapMstatus & MGVA).toBe(MGVA);
    expect((await one(['hsv.d', { rs1: s0, rs2: a0 }], { setup: pmp })).cause).toBe(CAUSE.STORE_ACCESS);
    // and an execute-only PMP region does not let HLVX (or HLV) read
    const xo = (q: Asm) => {
      q.csrwv(CSR.pmpaddr0, (PA_A >> 2n) | 0x1ffn).csrwv(CSR.pmpaddr1, -1).csrwv(CSR.pmpcfg0, 0x1f_1cn);
    };
    expect((await one(hlvxwu, { setup: xo })).cause).toBe(CAUSE.LOAD_ACCESS);
    expect((await one(hlvw, { setup: xo })).cause).toBe(CAUSE.LOAD_ACCESS);
  });
  it('HLVX with SPVP = 0: an executable U page', async () => {
    expect((await one(hlvxwu, { vsFlags: V | PX | PU | PA | PD, hstatus: 0n })).cause).toBe(0);
    expect((await one(hlvxwu, { vsFlags: V | PX | PA | PD, hstatus: 0n })).cause).toBe(CAUSE.LOAD_PF);
  });
});

describe('HLV/HSV faults', () => {
  it('a VS-stage fault taken into M: mtval = guest VA, GVA = 1, MPV = 0 (V was 0), MPP = S', async () => {
    const { r, cause } = await one(hlvw, { vsFlags: 0n });
    expect(cause).toBe(CAUSE.LOAD_PF);
    expect(r.csr(CSR.mepc)).toBe(r.addr('bad'));
    expect(r.csr(CSR.mtval)).toBe(VA);
    expect(r.trapMstatus & (MGVA | MPV)).toBe(MGVA);
    expect(Number((r.trapMstatus & MS.MPP) >> 11n)).toBe(PRV_S);
    expect(r.csr(CSR.mtval2)).toBe(0n);
  });
  it('delegated to HS: stval = VA, hstatus.GVA = 1, SPV = 0 (V was 0, even if it was 1), SPVP unchanged', async () => {
    for (const spvp of [0n, HS.SPVP]) {
      const p = hyper((q) => q.label('bad').i('hlv.d', { rd: a0, rs1: s0 }), {
        vsFlags: spvp ? 0n : RW | PU, gFlags: spvp ? GRW : 0n, hstatus: spvp | HS.SPV,
        setup: (q) => q.csrwv(CSR.medeleg, (1 << 13) | (1 << 21)).la(t0, 'hs').csrw(CSR.stvec, t0),
      });
      p.align(4).label('hs').label('hsend').i('ecall');
      const r = await run(p);
      expectTrap(r, { cause: 9, epc: r.addr('hsend') });
      expect(r.strap).toEqual({ cause: spvp ? 13n : 21n, epc: r.addr('bad'), tval: VA });
      expect(r.csr(CSR.hstatus) & (HS.GVA | HS.SPV | HS.SPVP)).toBe(HS.GVA | spvp);
      expect(r.csr(CSR.htval)).toBe(spvp ? 0n : GPA_X >> 2n);
      expect(r.csr(CSR.htinst)).toBe(spvp ? 0n : BigInt(encode('hlv.d', { rd: a0, rs1: 0 })));
    }
  });
  it('G-stage faults: 21 for HLV/HLVX, 23 for HSV, mtval2 = GPA >> 2, mtinst = the instruction with rs1 = 0', async () => {
    const cases: [string, Record<string, number>, number][] = [
      ['hlv.hu', { rd: a3, rs1: s0 }, CAUSE.LOAD_GPF],
      ['hlvx.wu', { rd: a1, rs1: s0 }, CAUSE.LOAD_GPF],
      ['hsv.w', { rs1: s0, rs2: a1 }, CAUSE.STORE_GPF],
    ];
    for (const [n, ops, cause] of cases) {
      const { r, cause: c } = await one([n, ops], { gFlags: 0n });
      expect(c, n).toBe(cause);
      expect(r.csr(CSR.mtval), n).toBe(VA);
      expect(r.csr(CSR.mtval2), n).toBe(GPA_X >> 2n);
      expect(r.csr(CSR.mtinst), n).toBe(BigInt(encode(n, { ...ops, rs1: 0 })));
      expect(r.trapMstatus & (MGVA | MPV), n).toBe(MGVA);
    }
  });
  it('a G-stage fault on the VS-stage walk of an HLV: mtinst = 0x3000', async () => {
    const { r, cause } = await one(hlvw, { gTables: 0n });
    expect(cause).toBe(CAUSE.LOAD_GPF);
    expect(r.csr(CSR.mtinst)).toBe(0x3000n);
    expect(r.csr(CSR.mtval2)).toBe((VS_POOL + 8n * (VA >> 30n)) >> 2n); // the root PTE of VA
  });
  it('after an HLV fault, the next ordinary fault from HS does not report GVA', async () => {
    const p = hyper((q) => {
      q.label('bad').i('hlv.d', { rd: a0, rs1: s0 });
      q.label('bad2').word(0xb);
    }, {
      vsFlags: 0n,
      setup: (q) => q.csrwv(CSR.medeleg, 1 << 13).la(t0, 'hs').csrw(CSR.stvec, t0),
    });
    p.align(4).label('hs').csrr(a1, CSR.hstatus).csrr(t0, CSR.sepc).i('addi', { rd: t0, rs1: t0, imm: 4 }).csrw(CSR.sepc, t0).i('sret');
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad2') });
    expect(r.x(a1) & HS.GVA).toBe(HS.GVA);
    expect(r.trapMstatus & MGVA).toBe(0n);
  });
});
