// H extension traps (privileged spec, "Hypervisor Extension" chapter: "Traps", "Trap Cause
// Codes", "Trap Entry", "Trap Return", "Virtual Instruction Exception", "Hypervisor Interrupt
// Registers"): the virtual-instruction table, delegation to M, HS or VS and the registers each
// trap writes, MRET/SRET into and inside V=1, and VS-level interrupts (hvip, vstimecmp).
import { describe, it, expect } from 'vitest';
import { Asm, R, CSR, MS, INTERRUPT, PRV_S, PRV_U, PRV_M, run, expectHalt, expectTrap, Exit } from './harness.js';
import { encode } from '../../src/isa/encode.js';
import { HS, MPV, MGVA, VSSIP, VSTIP, VSEIP, VS_ALL, STCE, CAUSE, enterV, insnProbes } from './h-harness.js';

const { a0, a1, a2, a3, s0, s1, t0 } = R;
const NONE = -1n;
const mpp = (ms: bigint) => Number((ms & MS.MPP) >> 11n);

const HINSNS: [string, Record<string, number>][] = [
  ['hlv.b', { rd: a0, rs1: s0 }], ['hlv.hu', { rd: a0, rs1: s0 }], ['hlvx.hu', { rd: a0, rs1: s0 }],
  ['hlvx.wu', { rd: a0, rs1: s0 }], ['hlv.d', { rd: a0, rs1: s0 }], ['hsv.w', { rs1: s0, rs2: a0 }],
  ['hfence.vvma', { rs1: 0, rs2: 0 }], ['hfence.gvma', { rs1: a1, rs2: a2 }],
];

describe('virtual-instruction exception (cause 22, tval = the instruction)', () => {
  const check = (res: [bigint, bigint][], insns: [string, Record<string, number>][], want: bigint[]) => {
    res.forEach(([c, tval], k) => {
      expect(c, insns[k][0]).toBe(want[k]);
      if (c >= 0n) expect(tval, insns[k][0]).toBe(BigInt(encode(insns[k][0], insns[k][1])));
    });
  };
  it('HLV/HLVX/HSV/HFENCE from VS and from VU (even with hstatus.HU = 1)', async () => {
    for (const prv of [PRV_S, PRV_U]) {
      const res = await insnProbes(prv, true, HINSNS, (p) => p.csrwv(CSR.hstatus, HS.HU));
      check(res, HINSNS, HINSNS.map(() => 22n));
    }
  });
  it('HFENCE and HLV/HSV from U-mode (V=0): illegal; with hstatus.HU the loads and stores are allowed, HFENCE still illegal', async () => {
    const res = await insnProbes(PRV_U, false, HINSNS);
    check(res, HINSNS, HINSNS.map(() => 2n));
    const res2 = await insnProbes(PRV_U, false, HINSNS, (p) => p.csrwv(CSR.hstatus, HS.HU).csrsv(CSR.vsstatus, 0n));
    // HLVX needs execute permission: the scratch data is in RAM, executable with Bare/Bare
    check(res2, HINSNS, [NONE, NONE, NONE, NONE, NONE, NONE, 2n, 2n]);
  });
  it('HFENCE.GVMA from HS with mstatus.TVM = 1 is illegal, HFENCE.VVMA is not', async () => {
    const ins: [string, Record<string, number>][] = [['hfence.gvma', { rs1: 0, rs2: 0 }], ['hfence.vvma', { rs1: 0, rs2: 0 }]];
    check(await insnProbes(PRV_S, false, ins, (p) => p.csrsv(CSR.mstatus, MS.TVM)), ins, [2n, NONE]);
  });
  const sret: [string, Record<string, number>][] = [['sret', {}]];
  it('SRET: in VU virtual; in VS with hstatus.VTSR virtual; mstatus.TSR does not affect VS-mode', async () => {
    check(await insnProbes(PRV_U, true, sret), sret, [22n]);
    check(await insnProbes(PRV_S, true, sret, (p) => p.csrwv(CSR.hstatus, HS.VTSR)), sret, [22n]);
    // TSR=1 only traps HS-mode: in VS-mode SRET returns (here to VU at vsepc = a probe-safe label)
    const p = new Asm();
    p.openPmp().csrsv(CSR.mstatus, MS.TSR).la(t0, 'vu').csrw(CSR.vsepc, t0);
    enterV(p, PRV_S, 'vs');
    p.label('vs').i('sret');
    p.label('vu').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.U_ECALL, epc: r.addr('end') });
    expect(r.trapMstatus & MPV).toBe(MPV);
    // and in HS-mode TSR = 1 makes it illegal, VTSR does not
    check(await insnProbes(PRV_S, false, sret, (p) => p.csrsv(CSR.mstatus, MS.TSR)), sret, [2n]);
  });
  const wfi: [string, Record<string, number>][] = [['wfi', {}]];
  it('WFI: in VU virtual; in VS with VTW virtual; mstatus.TW = 1 makes it illegal in VS and VU', async () => {
    check(await insnProbes(PRV_U, true, wfi), wfi, [22n]);
    check(await insnProbes(PRV_S, true, wfi, (p) => p.csrwv(CSR.hstatus, HS.VTW)), wfi, [22n]);
    check(await insnProbes(PRV_S, true, wfi, (p) => p.csrwv(CSR.hstatus, HS.VTW).csrsv(CSR.mstatus, MS.TW)), wfi, [2n]);
    check(await insnProbes(PRV_U, true, wfi, (p) => p.csrsv(CSR.mstatus, MS.TW)), wfi, [2n]);
    // HS-mode: VTW has no effect
    const q = await insnProbes(PRV_S, false, wfi, (p) => p.csrwv(CSR.hstatus, HS.VTW)
      .csrwv(CSR.hideleg, 0).csrwv(CSR.mie, VSSIP).csrwv(CSR.hvip, VSSIP)); // a pending, enabled (but masked) interrupt wakes it
    expect(q[0][0]).toBe(NONE);
  });
  it('WFI in VS without VTW/TW waits (a pending VS interrupt masked by vsstatus.SIE wakes it)', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.hideleg, VSSIP).csrwv(CSR.hie, VSSIP).csrwv(CSR.hvip, VSSIP);
    enterV(p, PRV_S, 'vs');
    p.label('vs').i('wfi').halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.core.virt).toBe(true);
  });
  const fence: [string, Record<string, number>][] = [['sfence.vma', { rs1: 0, rs2: 0 }], ['csrrs', { rd: a0, rs1: 0, csr: CSR.satp }]];
  it('SFENCE.VMA and satp: in VU virtual; in VS with VTVM virtual; mstatus.TVM does not affect VS-mode', async () => {
    check(await insnProbes(PRV_U, true, fence), fence, [22n, 22n]);
    check(await insnProbes(PRV_S, true, fence, (p) => p.csrwv(CSR.hstatus, HS.VTVM)), fence, [22n, 22n]);
    check(await insnProbes(PRV_S, true, fence, (p) => p.csrsv(CSR.mstatus, MS.TVM)), fence, [NONE, NONE]);
    check(await insnProbes(PRV_S, false, fence, (p) => p.csrwv(CSR.hstatus, HS.VTVM)), fence, [NONE, NONE]);
  });
  it('MRET from VS and VU: illegal instruction, not virtual', async () => {
    const m: [string, Record<string, number>][] = [['mret', {}]];
    check(await insnProbes(PRV_S, true, m), m, [2n]);
    check(await insnProbes(PRV_U, true, m), m, [2n]);
  });
  it('virtual instruction is delegable to HS with medeleg[22] (hedeleg[22] is read-only zero)', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, 1 << 22).csrwv(CSR.hedeleg, 1 << 22).la(t0, 'hs').csrw(CSR.stvec, t0);
    enterV(p, PRV_S, 'vs');
    p.label('vs').label('bad').csrr(a0, CSR.hstatus);
    p.align(4).label('hs').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('end') });
    expect(r.strap).toEqual({ cause: 22n, epc: r.addr('bad'), tval: BigInt(encode('csrrs', { rd: a0, rs1: 0, csr: CSR.hstatus })) });
    expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP | HS.GVA)).toBe(HS.SPV | HS.SPVP);
  });
});

describe('trap delegation: M, HS or VS', () => {
  /** ecall from (prv, V=1) with the given delegation; handlers at stvec/vstvec ecall to M. */
  async function ecallFrom(prv: number, medeleg: number, hedeleg: number, setup: (p: Asm) => void = () => {}) {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, medeleg).csrwv(CSR.hedeleg, hedeleg);
    p.la(t0, 'hs').csrw(CSR.stvec, t0).la(t0, 'vsh').csrw(CSR.vstvec, t0);
    setup(p);
    enterV(p, prv, 'guest');
    p.label('guest').li(a0, 1).label('ec').i('ecall');
    p.align(4).label('hs').li(a0, 2).label('hsend').i('ecall');
    p.align(4).label('vsh').li(a0, 3).label('vsend').i('ecall');
    return { r: await run(p), p };
  }
  it('ECALL from VS = cause 10 and from VU = cause 8, to M when not delegated: MPV = 1, MPP, GVA = 0', async () => {
    for (const [prv, cause] of [[PRV_S, 10], [PRV_U, 8]]) {
      const { r } = await ecallFrom(prv, 0, 0);
      expectTrap(r, { cause, epc: r.addr('ec'), tval: 0 });
      expect(r.trapMstatus & (MPV | MGVA)).toBe(MPV);
      expect(mpp(r.trapMstatus)).toBe(prv);
      expect(r.core.virt).toBe(false);
    }
  });
  it('from VU, medeleg[8] and hedeleg[8]: to VS (vscause, vsepc, vsstatus.SPP = 0), hstatus and HS CSRs untouched', async () => {
    const { r } = await ecallFrom(PRV_U, 1 << 8, 1 << 8, (p) => p.csrwv(CSR.vsstatus, MS.SIE | MS.SPP).csrwv(CSR.hstatus, HS.SPVP));
    expectTrap(r, { cause: CAUSE.VS_ECALL, epc: r.addr('vsend') });
    expect(r.x(a0)).toBe(3n);
    expect(r.csr(CSR.vscause)).toBe(8n);
    expect(r.csr(CSR.vsepc)).toBe(r.addr('ec'));
    expect(r.csr(CSR.vstval)).toBe(0n);
    // SIE = 1 (ignored in VU) moves to SPIE; SPP = 0 (from VU)
    expect(r.csr(CSR.vsstatus) & (MS.SIE | MS.SPIE | MS.SPP)).toBe(MS.SPIE);
    expect(r.csr(CSR.scause)).toBe(0n);
    expect(r.csr(CSR.sepc)).toBe(0n);
    expect(r.csr(CSR.hstatus)).toBe(HS.SPVP | (2n << 32n));
  });
  it('from VU, medeleg[8] only: to HS: scause 8, SPV = 1, SPVP = 0 (VU), SPP = 0, V = 0', async () => {
    const { r } = await ecallFrom(PRV_U, 1 << 8, 0, (p) => p.csrwv(CSR.hstatus, HS.SPVP | HS.GVA).csrsv(CSR.mstatus, MS.SPP));
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('hsend') });
    expect(r.x(a0)).toBe(2n);
    expect(r.strap).toEqual({ cause: 8n, epc: r.addr('ec'), tval: 0n });
    expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP | HS.GVA)).toBe(HS.SPV);
    expect(r.trapMstatus & (MS.SPP | MPV)).toBe(0n); // MPV = 0: the ecall to M came from HS
    expect(r.csr(CSR.vscause)).toBe(0n);
  });
  it('from VS, medeleg[10]: to HS: scause 10, SPV = 1, SPVP = 1, SPP = 1 (nominal S), SIE -> SPIE', async () => {
    const { r } = await ecallFrom(PRV_S, 1 << 10, -1, (p) => p.csrsv(CSR.mstatus, MS.SIE));
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('hsend') });
    expect(r.strap).toEqual({ cause: 10n, epc: r.addr('ec'), tval: 0n });
    expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP)).toBe(HS.SPV | HS.SPVP);
    expect(r.trapMstatus & (MS.SPP | MS.SPIE | MS.SIE)).toBe(MS.SPP | MS.SPIE);
  });
  it('from VS, illegal instruction with medeleg[2] and hedeleg[2]: to VS, vstval = the instruction, vsstatus.SPP = 1, SIE -> SPIE', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, 1 << 2).csrwv(CSR.hedeleg, 1 << 2).la(t0, 'vsh').csrw(CSR.vstvec, t0);
    p.csrwv(CSR.vsstatus, MS.SIE).csrwv(CSR.hstatus, 0);
    enterV(p, PRV_S, 'vs');
    p.label('vs').label('bad').word(0x0000_000b);
    p.align(4).label('vsh').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.VS_ECALL, epc: r.addr('end') });
    expect(r.csr(CSR.vscause)).toBe(2n);
    expect(r.csr(CSR.vsepc)).toBe(r.addr('bad'));
    expect(r.csr(CSR.vstval)).toBe(0xbn);
    expect(r.csr(CSR.vsstatus) & (MS.SIE | MS.SPIE | MS.SPP)).toBe(MS.SPIE | MS.SPP);
    expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP)).toBe(0n);
    expect(r.csr(CSR.scause)).toBe(0n);
  });
  it('hedeleg without medeleg does nothing: the trap goes to M', async () => {
    const { r } = await ecallFrom(PRV_U, 0, 1 << 8);
    expectTrap(r, { cause: CAUSE.U_ECALL, epc: r.addr('ec') });
    expect(r.csr(CSR.vscause)).toBe(0n);
  });
  it('exceptions from HS are never delegated to VS (hedeleg applies to V=1 only)', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, 1 << 2).csrwv(CSR.hedeleg, 1 << 2).la(t0, 'hs').csrw(CSR.stvec, t0);
    p.la(t0, 'vsh').csrw(CSR.vstvec, t0).enter(PRV_S, 'low');
    p.label('low').label('bad').word(0x0000_000b);
    p.align(4).label('hs').label('end').i('ecall');
    p.align(4).label('vsh').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('end') });
    expect(r.strap.cause).toBe(2n);
    expect(r.csr(CSR.hstatus) & HS.SPV).toBe(0n);
  });
});

describe('trap return into and within V=1', () => {
  it('MRET with MPV = 1 enters V=1 (VS or VU by MPP); MPV is cleared; MPP = M ignores MPV', async () => {
    const p = new Asm();
    p.openPmp();
    enterV(p, PRV_S, 'vs');
    p.label('vs').halt();
    const r = await run(p);
    expectHalt(r);
    expect([r.core.virt, r.priv]).toEqual([true, PRV_S]);
    expect(r.csr(CSR.mstatus) & MPV).toBe(0n);
    const q = new Asm();
    q.openPmp().csrsv(CSR.mstatus, MPV | (3n << 11n)).la(t0, 'm').csrw(CSR.mepc, t0).i('mret');
    q.label('m').csrr(a0, CSR.mstatus).halt();
    const r2 = await run(q);
    expectHalt(r2);
    expect([r2.core.virt, r2.priv]).toEqual([false, PRV_M]);
    expect(r2.x(a0) & MPV).toBe(0n);
  });
  it('SRET from HS with hstatus.SPV = 1 enters VS (SPP = 1) or VU (SPP = 0) at sepc and clears SPV', async () => {
    for (const [spp, cause] of [[MS.SPP, CAUSE.VS_ECALL], [0n, CAUSE.U_ECALL]] as const) {
      const p = new Asm();
      p.openPmp().enter(PRV_S, 'hs');
      p.label('hs').csrwv(CSR.hstatus, HS.SPV | HS.SPVP).csrcv(CSR.sstatus, MS.SPP).csrsv(CSR.sstatus, spp | MS.SPIE);
      p.la(t0, 'guest').csrw(CSR.sepc, t0).i('sret');
      p.label('guest').label('end').i('ecall');
      const r = await run(p);
      expectTrap(r, { cause, epc: r.addr('end') });
      expect(r.trapMstatus & MPV).toBe(MPV);
      expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP)).toBe(HS.SPVP);
      expect(r.trapMstatus & (MS.SPP | MS.SIE | MS.SPIE)).toBe(MS.SIE | MS.SPIE);
    }
  });
  it('SRET from HS with SPV = 0 stays in V=0', async () => {
    const p = new Asm();
    p.openPmp().enter(PRV_S, 'hs');
    p.label('hs').csrwv(CSR.hstatus, 0).csrsv(CSR.sstatus, MS.SPP).la(t0, 'h2').csrw(CSR.sepc, t0).i('sret');
    p.label('h2').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('end') });
    expect(r.trapMstatus & MPV).toBe(0n);
  });
  it('SRET in VS uses vsstatus and vsepc (to VU), leaving sstatus, sepc and hstatus alone', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.vsstatus, MS.SPIE).la(t0, 'vu').csrw(CSR.vsepc, t0).csrwv(CSR.sepc, 0x1230);
    p.csrsv(CSR.mstatus, MS.SPP | MS.SPIE).csrwv(CSR.hstatus, HS.SPV);
    enterV(p, PRV_S, 'vs');
    p.label('vs').i('sret');
    p.label('vu').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.U_ECALL, epc: r.addr('end') });
    expect(r.trapMstatus & MPV).toBe(MPV);
    expect(mpp(r.trapMstatus)).toBe(PRV_U);
    expect(r.csr(CSR.vsstatus) & (MS.SIE | MS.SPIE | MS.SPP)).toBe(MS.SIE | MS.SPIE);
    expect(r.trapMstatus & (MS.SPP | MS.SPIE | MS.SIE)).toBe(MS.SPP | MS.SPIE);
    expect(r.csr(CSR.sepc)).toBe(0x1230n);
    expect(r.csr(CSR.hstatus) & HS.SPV).toBe(HS.SPV);
  });
  it('SRET in M-mode with SPV = 1 goes to V=1 as well', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.hstatus, HS.SPV).csrsv(CSR.mstatus, MS.SPP).la(t0, 'vs').csrw(CSR.sepc, t0).i('sret');
    p.label('vs').label('end').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.VS_ECALL, epc: r.addr('end') });
  });
});

describe('VS-level interrupts (hvip, hideleg, hie, vstimecmp)', () => {
  interface IrqOpts {
    prv: number;
    v: boolean;
    hvip: bigint;
    hideleg?: bigint;
    hie?: bigint;
    vsSIE?: boolean;
    sSIE?: boolean;
    vectored?: boolean;
    setup?: (p: Asm) => void;
  }
  /** Enter (prv, v) with interrupts pending: halts if none is taken; handlers ecall to M. */
  async function irq(o: IrqOpts) {
    const p = new Asm();
    p.openPmp().la(t0, 'hs').csrw(CSR.stvec, t0);
    p.la(t0, o.vectored ? 'vtab' : 'vsh');
    if (o.vectored) p.i('ori', { rd: t0, rs1: t0, imm: 1 });
    p.csrw(CSR.vstvec, t0);
    p.csrwv(CSR.hideleg, o.hideleg ?? VS_ALL).csrwv(CSR.hie, o.hie ?? VS_ALL);
    if (o.vsSIE) p.csrwv(CSR.vsstatus, MS.SIE);
    if (o.sSIE) p.csrsv(CSR.mstatus, MS.SIE);
    o.setup?.(p);
    p.csrwv(CSR.hvip, o.hvip);
    if (o.v) enterV(p, o.prv, 'low');
    else p.enter(o.prv, 'low');
    p.label('low').label('first').nop().nop().halt();
    p.align(4).label('hs').li(a0, 2).i('ecall');
    p.align(4).label('vsh').li(a0, 3).i('ecall');
    p.align(4).label('vtab');
    for (let k = 0; k < 16; k++) p.j(`vh${k}`); // 4-byte entries
    for (let k = 0; k < 16; k++) p.label(`vh${k}`).li(a1, k).j('vsh');
    const r = await run(p);
    return r;
  }
  it('VSSIP from hvip is taken in VS with vsstatus.SIE: vscause = interrupt 1, vsepc, SIE -> SPIE', async () => {
    const r = await irq({ prv: PRV_S, v: true, hvip: VSSIP, vsSIE: true });
    expectTrap(r, { cause: CAUSE.VS_ECALL });
    expect(r.x(a0)).toBe(3n);
    expect(r.csr(CSR.vscause)).toBe(INTERRUPT | 1n);
    expect(r.csr(CSR.vsepc)).toBe(r.addr('first'));
    expect(r.csr(CSR.vsstatus) & (MS.SIE | MS.SPIE | MS.SPP)).toBe(MS.SPIE | MS.SPP);
    expect(r.csr(CSR.scause)).toBe(0n);
  });
  it('VSTIP -> vscause 5, VSEIP -> vscause 9; vectored vstvec jumps to base + 4 * (cause)', async () => {
    for (const [bit, cause] of [[VSSIP, 1n], [VSTIP, 5n], [VSEIP, 9n]] as const) {
      const r = await irq({ prv: PRV_S, v: true, hvip: bit, vsSIE: true, vectored: true });
      expectTrap(r, { cause: CAUSE.VS_ECALL });
      expect(r.csr(CSR.vscause)).toBe(INTERRUPT | cause);
      expect(r.x(a1)).toBe(cause); // vtab entry k sets a1 = k
    }
  });
  it('not taken in VS with vsstatus.SIE = 0, nor with hie clear, nor with V=0 (HS with SIE, or U)', async () => {
    for (const o of [
      { prv: PRV_S, v: true, hvip: VS_ALL, vsSIE: false },
      { prv: PRV_S, v: true, hvip: VS_ALL, vsSIE: true, hie: 0n },
      { prv: PRV_S, v: false, hvip: VS_ALL, vsSIE: true, sSIE: true },
      { prv: PRV_U, v: false, hvip: VS_ALL, vsSIE: true, sSIE: true },
      { prv: PRV_M, v: false, hvip: VS_ALL, vsSIE: true, sSIE: true, setup: (p: Asm) => p.csrsv(CSR.mstatus, MS.MIE) },
    ]) {
      const r = await irq(o);
      expectHalt(r);
    }
  });
  it('taken in VU whatever vsstatus.SIE says', async () => {
    const r = await irq({ prv: PRV_U, v: true, hvip: VSTIP, vsSIE: false });
    expectTrap(r, { cause: CAUSE.VS_ECALL });
    expect(r.csr(CSR.vscause)).toBe(INTERRUPT | 5n);
    expect(r.csr(CSR.vsstatus) & MS.SPP).toBe(0n);
  });
  it('not delegated by hideleg: an HS-level interrupt (cause 2/6/10 unshifted) taken from V=1 whatever SIE, in HS only with SIE', async () => {
    const r = await irq({ prv: PRV_S, v: true, hvip: VSSIP, hideleg: 0n, vsSIE: false });
    expectTrap(r, { cause: CAUSE.S_ECALL });
    expect(r.x(a0)).toBe(2n);
    expect(r.csr(CSR.scause)).toBe(INTERRUPT | 2n);
    expect(r.csr(CSR.hstatus) & (HS.SPV | HS.SPVP)).toBe(HS.SPV | HS.SPVP);
    const r2 = await irq({ prv: PRV_S, v: false, hvip: VSEIP, hideleg: 0n, sSIE: false });
    expectHalt(r2);
    const r3 = await irq({ prv: PRV_S, v: false, hvip: VSEIP, hideleg: 0n, sSIE: true });
    expectTrap(r3, { cause: CAUSE.S_ECALL });
    expect(r3.csr(CSR.scause)).toBe(INTERRUPT | 10n);
    expect(r3.csr(CSR.hstatus) & HS.SPV).toBe(0n);
  });
  it('priority: VSEI > VSSI > VSTI; an HS-level interrupt before any VS-level one', async () => {
    let r = await irq({ prv: PRV_S, v: true, hvip: VS_ALL, vsSIE: true });
    expect(r.csr(CSR.vscause)).toBe(INTERRUPT | 9n);
    r = await irq({ prv: PRV_S, v: true, hvip: VSSIP | VSTIP, vsSIE: true });
    expect(r.csr(CSR.vscause)).toBe(INTERRUPT | 1n);
    r = await irq({
      prv: PRV_S, v: true, hvip: VSEIP, vsSIE: true,
      setup: (p) => p.csrwv(CSR.mideleg, 0x222).csrsv(CSR.mie, 0x2).csrsv(CSR.mip, 0x2 | Number(VSEIP)),
    });
    expectTrap(r, { cause: CAUSE.S_ECALL });
    expect(r.csr(CSR.scause)).toBe(INTERRUPT | 1n);
    expect(r.csr(CSR.vscause)).toBe(0n);
  });
  it('vstimecmp drives VSTIP when henvcfg.STCE = 1, comparing time + htimedelta', async () => {
    // [henvcfg, vstimecmp, htimedelta, taken]
    const cases: [bigint, bigint, bigint, boolean][] = [
      [STCE, 0n, 0n, true], [0n, 0n, 0n, false], [STCE, 1n << 40n, 0n, false], [STCE, 1n << 40n, 1n << 40n, true],
    ];
    for (const [he, cmp, delta, taken] of cases) {
      const setup = (p: Asm) => {
        p.csrwv(CSR.menvcfg, STCE).csrwv(CSR.henvcfg, he).csrwv(CSR.vstimecmp, cmp).csrwv(CSR.htimedelta, delta);
        p.csrr(a2, CSR.hip).csrr(a3, CSR.vsip);
      };
      const r = await irq({ prv: PRV_S, v: true, hvip: 0n, vsSIE: true, setup });
      const what = `henvcfg=${he} vstimecmp=${cmp} htimedelta=${delta}`;
      if (taken) {
        expectTrap(r, { cause: CAUSE.VS_ECALL });
        expect(r.csr(CSR.vscause), what).toBe(INTERRUPT | 5n);
        expect(r.x(a2), what).toBe(VSTIP);
        expect(r.x(a3), what).toBe(VSTIP >> 1n);
      } else {
        expectHalt(r);
        expect(r.x(a2), what).toBe(0n);
      }
    }
  });
  it('hip.VSTIP is hvip.VSTIP OR the vstimecmp condition; writes to hip cannot clear the latter', async () => {
    const p = new Asm();
    p.csrwv(CSR.menvcfg, STCE).csrwv(CSR.henvcfg, STCE).csrwv(CSR.vstimecmp, 0).csrwv(CSR.hvip, 0);
    p.nop().csrr(a0, CSR.hip).csrwv(CSR.hip, 0).csrr(a1, CSR.hip).csrr(a2, CSR.hvip);
    p.csrwv(CSR.vstimecmp, -1).nop().csrr(a3, CSR.hip).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(VSTIP);
    expect(r.x(a1)).toBe(VSTIP);
    expect(r.x(a2)).toBe(0n);
    expect(r.x(a3)).toBe(0n);
  });
});

describe('more trap details with V=1', () => {
  it('exceptions go to the vstvec base even in vectored mode; interrupts to HS use stvec base + 4 * cause', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, 1 << 2).csrwv(CSR.hedeleg, 1 << 2);
    p.la(t0, 'vtab').i('ori', { rd: t0, rs1: t0, imm: 1 }).csrw(CSR.vstvec, t0);
    enterV(p, PRV_S, 'vs');
    p.label('vs').word(0xb);
    p.align(64).label('vtab').li(a0, 0x55).i('ecall').li(a0, 0x66).i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.VS_ECALL });
    expect(r.x(a0)).toBe(0x55n);
    const q = new Asm();
    q.openPmp().csrwv(CSR.hideleg, 0).csrwv(CSR.hie, VSTIP).csrwv(CSR.hvip, VSTIP);
    q.la(t0, 'stab').i('ori', { rd: t0, rs1: t0, imm: 1 }).csrw(CSR.stvec, t0);
    enterV(q, PRV_U, 'vu');
    q.label('vu').nop().halt();
    q.align(64).label('stab');
    for (let k = 0; k < 12; k++) q.j(`h${k}`);
    for (let k = 0; k < 12; k++) q.label(`h${k}`).li(a0, k).i('ecall');
    const r2 = await run(q);
    expectTrap(r2, { cause: CAUSE.S_ECALL });
    expect(r2.x(a0)).toBe(6n);
    expect(r2.csr(CSR.scause)).toBe(INTERRUPT | 6n);
    expect(r2.csr(CSR.hstatus) & (HS.SPV | HS.SPVP)).toBe(HS.SPV);
  });
  it('an interrupt taken into M from V=1 sets MPV, and MRET returns to V=1', async () => {
    const p = new Asm();
    p.openPmp().la(t0, 'mh').csrw(CSR.mtvec, t0).csrwv(CSR.mie, 1 << 3).csrwv(CSR.mip, 0);
    enterV(p, PRV_S, 'vs');
    p.label('vs').li(s0, 0x0200_0000n).li(t0, 1).i('sw', { rs1: s0, rs2: t0, imm: 0 }).label('after').nop().halt(); // CLINT msip
    p.align(4).label('mh').csrr(a0, CSR.mcause).csrr(a1, CSR.mstatus).csrr(a2, CSR.mepc);
    p.li(s0, 0x0200_0000n).i('sw', { rs1: s0, rs2: 0, imm: 0 }).i('mret');
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(INTERRUPT | 3n);
    expect(r.x(a1) & (MPV | MGVA)).toBe(MPV);
    expect(r.core.virt).toBe(true);
  });
  it('floating point with V=1 needs both mstatus.FS and vsstatus.FS; a write makes both Dirty', async () => {
    const fp = (q: Asm) => q.label('bad').i('fadd.d', { frd: 1, frs1: 2, frs2: 3 }).halt();
    const p = new Asm();
    p.openPmp().fpOn();
    enterV(p, PRV_S, 'vs');
    fp(p.label('vs'));
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.ILLEGAL, epc: r.addr('bad') });
    const q = new Asm();
    q.openPmp().csrwv(CSR.vsstatus, 1n << 13n);
    enterV(q, PRV_S, 'vs');
    fp(q.label('vs'));
    const r2 = await run(q);
    expectTrap(r2, { cause: CAUSE.ILLEGAL, epc: r2.addr('bad') });
    const b = new Asm();
    b.openPmp().fpOn().csrwv(CSR.vsstatus, 1n << 13n);
    enterV(b, PRV_S, 'vs');
    fp(b.label('vs'));
    const r3 = await run(b);
    expectHalt(r3);
    expect(r3.csr(CSR.vsstatus) & (MS.FS | MS.SD)).toBe(MS.FS | MS.SD);
    expect(r3.csr(CSR.mstatus) & MS.FS).toBe(MS.FS);
    // HS-mode ignores vsstatus.FS
    const h = new Asm();
    h.openPmp().fpOn().enter(PRV_S, 'hs');
    fp(h.label('hs'));
    expectHalt(await run(h));
  });
  it('the H instruction encodings (spec opcode map)', () => {
    expect(encode('hfence.vvma', { rs1: 0, rs2: 0 })).toBe(0x2200_0073);
    expect(encode('hfence.gvma', { rs1: 0, rs2: 0 })).toBe(0x6200_0073);
    expect(encode('hlv.d', { rd: 10, rs1: 11 })).toBe(0x6c05_c573);
    expect(encode('hlvx.wu', { rd: 10, rs1: 11 })).toBe(0x6835_c573);
    expect(encode('hsv.w', { rs1: 11, rs2: 12 })).toBe(0x6ac5_c073);
  });
});
