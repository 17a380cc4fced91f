// H extension CSRs (privileged spec, "Hypervisor Extension" chapter: "Hypervisor and Virtual
// Supervisor CSRs", the mstatus/mideleg/mip additions, misa.H): reset values, WARL masks,
// read-only bits, the aliases between hvip/hip/mip/vsip and hie/mie/vsie, the S -> VS CSR
// redirection while V=1, the virtual-instruction exception for CSR accesses, counters under
// hcounteren, time + htimedelta, and that none of it exists on a hart without H.
import { describe, it, expect } from 'vitest';
import { Asm, R, CSR, MS, MTIME, PRV_S, PRV_U, PRV_M, run, expectHalt, expectTrap, u64 } from './harness.js';
import { encode } from '../../src/isa/encode.js';
import { HS, MPV, MGVA, VSSIP, VSTIP, VSEIP, VS_ALL, STCE, CAUSE, enterV, probeSetup, probe, probeTail, probeResults, insnProbes } from './h-harness.js';

const { a0, a1, a2, a3, s0, s1, t0 } = R;
const NONE = -1n;

/** Read each CSR in M-mode into the `vals` array; returns the values. */
async function readAll(csrs: number[], setup: (p: Asm) => void = () => {}, opts = {}) {
  const p = new Asm();
  setup(p);
  p.la(s0, 'vals');
  csrs.forEach((c, k) => p.csrr(a0, c).i('sd', { rs1: s0, rs2: a0, imm: 8 * k }));
  p.halt().align(8).label('vals').bytes(new Uint8Array(8 * csrs.length));
  const r = await run(p, opts);
  expectHalt(r);
  return csrs.map((_, k) => r.read64(r.addr('vals') + BigInt(8 * k)));
}

const H_CSRS = ['hstatus', 'hedeleg', 'hideleg', 'hie', 'htimedelta', 'hcounteren', 'hgeie', 'henvcfg', 'htval',
  'hip', 'hvip', 'htinst', 'hgatp', 'hgeip'];
const VS_CSRS = ['vsstatus', 'vsie', 'vstvec', 'vsscratch', 'vsepc', 'vscause', 'vstval', 'vsip', 'vsatp', 'vstimecmp'];

describe('H CSRs: reset values and misa.H', () => {
  it('misa.H is set with H and clear without it', async () => {
    const [withH] = await readAll([CSR.misa]);
    const [without] = await readAll([CSR.misa], () => {}, { h: false });
    expect((withH >> 7n) & 1n).toBe(1n);
    expect((without >> 7n) & 1n).toBe(0n);
    expect(withH & ~(1n << 7n)).toBe(without);
  });
  it('after reset: hstatus.VSXL = 2 (64-bit), vsstatus.UXL = 2, mideleg VS bits = 1, everything else 0', async () => {
    const names = [...H_CSRS, ...VS_CSRS, 'mtval2', 'mtinst'];
    const v = await readAll([...names.map((n) => CSR[n]), CSR.mideleg, CSR.mstatus]);
    const want: Record<string, bigint> = { hstatus: 2n << 32n, vsstatus: 2n << 32n };
    names.forEach((n, k) => expect(v[k], n).toBe(want[n] ?? 0n));
    expect(v[names.length], 'mideleg').toBe(VS_ALL);
    expect(v[names.length + 1] & (MPV | MGVA), 'mstatus MPV/GVA').toBe(0n);
  });
});

describe('H CSRs: writable bits (WARL) and read-only bits', () => {
  const ONES = -1n;
  /** Write `value` to each CSR in M-mode and read it back. */
  async function writeRead(cases: [number, bigint][], setup: (p: Asm) => void = () => {}) {
    const p = new Asm();
    setup(p);
    p.la(s0, 'vals');
    cases.forEach(([c, v], k) => p.li(a1, v).csrw(c, a1).csrr(a0, c).i('sd', { rs1: s0, rs2: a0, imm: 8 * k }));
    p.halt().align(8).label('vals').bytes(new Uint8Array(8 * cases.length));
    const r = await run(p);
    expectHalt(r);
    return { r, v: cases.map((_, k) => r.read64(r.addr('vals') + BigInt(8 * k))) };
  }
  it('hstatus: GVA SPV SPVP HU VTVM VTW VTSR writable; VGEIN 0 (GEILEN = 0); VSXL reads 2 whatever is written', async () => {
    const { v } = await writeRead([[CSR.hstatus, ONES], [CSR.hstatus, 0n], [CSR.hstatus, 1n << 33n]]);
    const rw = HS.GVA | HS.SPV | HS.SPVP | HS.HU | HS.VTVM | HS.VTW | HS.VTSR;
    expect(v[0]).toBe(rw | (2n << 32n));
    expect(v[1]).toBe(2n << 32n);
    expect(v[2]).toBe(2n << 32n);
  });
  it('hedeleg: causes 9, 10, 11 and 20-23 are read-only zero; 0-8, 12, 13, 15 writable', async () => {
    const { v } = await writeRead([[CSR.hedeleg, ONES], [CSR.hedeleg, 0n]]);
    expect(v[0]).toBe(0xb1ffn);
    expect(v[1]).toBe(0n);
  });
  it('medeleg with H: 10 (VS ecall) and 20-23 writable, 11 read-only zero', async () => {
    const { v } = await writeRead([[CSR.medeleg, ONES]]);
    expect(v[0]).toBe(0xb3ffn | (1n << 10n) | (0xfn << 20n));
  });
  it('hideleg: only the VS-level bits 2, 6, 10 are writable', async () => {
    const { v } = await writeRead([[CSR.hideleg, ONES], [CSR.hideleg, 0n]]);
    expect(v[0]).toBe(VS_ALL);
    expect(v[1]).toBe(0n);
  });
  it('mideleg: VSSIP, VSTIP, VSEIP read-only one (SGEIP zero: GEILEN = 0)', async () => {
    const { v } = await writeRead([[CSR.mideleg, 0n], [CSR.mideleg, ONES]]);
    expect(v[0]).toBe(VS_ALL);
    expect(v[1]).toBe(VS_ALL | 0x222n);
  });
  it('hie: VSSIE VSTIE VSEIE writable (SGEIE zero), the same bits as mie\'s', async () => {
    const p = new Asm();
    p.csrwv(CSR.mie, 0).csrwv(CSR.hie, -1).csrr(a0, CSR.hie).csrr(a1, CSR.mie);
    p.csrwv(CSR.mie, 0x888n | VSTIP).csrr(a2, CSR.hie).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(VS_ALL);
    expect(r.x(a1)).toBe(VS_ALL);
    expect(r.x(a2)).toBe(VSTIP);
  });
  it('hvip: VSSIP VSTIP VSEIP writable; hip and mip show them; hip and mip write only VSSIP', async () => {
    const p = new Asm();
    p.csrwv(CSR.hvip, -1).csrr(a0, CSR.hvip).csrr(a1, CSR.hip).csrr(a2, CSR.mip);
    p.csrwv(CSR.hip, 0).csrr(a3, CSR.hvip); // clears VSSIP only
    p.csrwv(CSR.mip, VSSIP).csrr(s0, CSR.hvip); // mip.VSSIP is hvip.VSSIP
    p.csrwv(CSR.hvip, 0).csrwv(CSR.mip, VS_ALL).csrr(s1, CSR.hvip).csrwv(CSR.hip, VS_ALL).csrr(t0, CSR.hvip);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(VS_ALL);
    expect(r.x(a1)).toBe(VS_ALL);
    expect(r.x(a2) & VS_ALL).toBe(VS_ALL);
    expect(r.x(a3)).toBe(VSTIP | VSEIP);
    expect(r.x(s0)).toBe(VS_ALL);
    expect(r.x(s1)).toBe(VSSIP); // mip.VSTIP/VSEIP are read-only
    expect(r.x(t0)).toBe(VSSIP);
  });
  it('vsip/vsie: hideleg-masked views of hip/hie shifted down one bit', async () => {
    const p = new Asm();
    p.csrwv(CSR.hvip, VS_ALL).csrwv(CSR.hie, 0);
    p.csrr(a0, CSR.vsip); // hideleg = 0: nothing visible
    p.csrwv(CSR.vsie, -1).csrr(a1, CSR.hie); // nor writable
    p.csrwv(CSR.hideleg, VSSIP | VSEIP);
    p.csrr(a2, CSR.vsip);
    p.csrwv(CSR.vsie, -1).csrr(a3, CSR.hie).csrr(s0, CSR.vsie);
    p.csrwv(CSR.vsip, 0).csrr(s1, CSR.hvip); // vsip.SSIP is hvip.VSSIP
    p.csrwv(CSR.hideleg, VS_ALL).csrwv(CSR.vsip, 0x222).csrr(t0, CSR.hvip); // only SSIP writable
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0n);
    expect(r.x(a1)).toBe(0n);
    expect(r.x(a2)).toBe(0x202n);
    expect(r.x(a3)).toBe(VSSIP | VSEIP);
    expect(r.x(s0)).toBe(0x202n);
    expect(r.x(s1)).toBe(VSTIP | VSEIP);
    expect(r.x(t0)).toBe(VS_ALL);
  });
  it('sip/sie do not show the VS-level bits', async () => {
    const p = new Asm();
    p.csrwv(CSR.mideleg, -1).csrwv(CSR.hvip, VS_ALL).csrwv(CSR.hie, VS_ALL);
    p.csrr(a0, CSR.sip).csrr(a1, CSR.sie).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & VS_ALL).toBe(0n);
    expect(r.x(a1) & VS_ALL).toBe(0n);
  });
  it('hgatp: Sv39x4/Sv48x4 accepted; 14 VMID bits; PPN[1:0] read as zero', async () => {
    const sv39 = (8n << 60n) | (0xffffn << 44n) | 0xfff_ffff_ffffn;
    const { v } = await writeRead([
      [CSR.hgatp, sv39], [CSR.hgatp, (9n << 60n) | (0x1234n << 44n) | 0x8_0004n], [CSR.hgatp, 0n],
    ]);
    expect(v[0]).toBe((8n << 60n) | (0x3fffn << 44n) | 0xfff_ffff_fffcn);
    expect(v[1]).toBe((9n << 60n) | (0x1234n << 44n) | 0x8_0004n);
    expect(v[2]).toBe(0n);
  });
  it('hgatp: a write with an unsupported MODE is not ignored (unlike satp): MODE is WARL, VMID and PPN are written', async () => {
    // H chapter, hgatp: "A write to hgatp with an unsupported MODE value is not ignored as it
    // is for satp. Instead, the fields of hgatp are WARL in the normal way."
    const { v } = await writeRead([
      [CSR.hgatp, (8n << 60n) | 0x100n], [CSR.hgatp, (10n << 60n) | (5n << 44n) | 0x207n],
      [CSR.hgatp, (9n << 60n) | 0x100n], [CSR.hgatp, (1n << 60n) | 0x30bn],
    ]);
    expect([0n, 8n, 9n]).toContain(v[1] >> 60n); // some supported MODE (Sv57x4 is not)
    expect(v[1] & ((1n << 60n) - 1n)).toBe((5n << 44n) | 0x204n);
    expect([0n, 8n, 9n]).toContain(v[3] >> 60n);
    expect(v[3] & ((1n << 60n) - 1n)).toBe(0x308n);
  });
  it('henvcfg: FIOM writable; STCE only while menvcfg.STCE = 1 (read-only zero otherwise)', async () => {
    const { v } = await writeRead([
      [CSR.henvcfg, -1n], [CSR.menvcfg, STCE], [CSR.henvcfg, -1n], [CSR.menvcfg, 0n], [CSR.henvcfg, -1n],
    ]);
    expect(v[0]).toBe(1n);
    expect(v[2]).toBe(STCE | 1n);
    expect(v[4]).toBe(1n);
  });
  it('hcounteren 32 bits; htimedelta, htval, htinst, mtval2, mtinst hold what is written; hgeie zero', async () => {
    const { v } = await writeRead([
      [CSR.hcounteren, -1n], [CSR.htimedelta, 0x1234_5678_9abc_def0n], [CSR.htval, 0x1_2345_6789n],
      [CSR.htinst, 0x3000n], [CSR.mtval2, 0x2_0000_0000n], [CSR.mtinst, 0x3020n], [CSR.hgeie, -1n],
    ]);
    expect(v).toEqual([0xffff_ffffn, 0x1234_5678_9abc_def0n, 0x1_2345_6789n, 0x3000n, 0x2_0000_0000n, 0x3020n, 0n]);
  });
  it('hgeip is read-only: reads 0, a write is an illegal instruction', async () => {
    const p = new Asm();
    p.csrr(a0, CSR.hgeip).li(a1, 1).label('bad').csrw(CSR.hgeip, a1).halt();
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.ILLEGAL, epc: r.addr('bad'), tval: encode('csrrw', { rd: 0, rs1: a1, csr: CSR.hgeip }) });
    expect(r.x(a0)).toBe(0n);
  });
  it('vsstatus: SIE SPIE SPP FS SUM MXR writable, UXL = 2, SD follows FS', async () => {
    const { v } = await writeRead([[CSR.vsstatus, -1n], [CSR.vsstatus, 0n]]);
    expect(v[0]).toBe(MS.SIE | MS.SPIE | MS.SPP | MS.FS | MS.SUM | MS.MXR | (2n << 32n) | MS.SD);
    expect(v[1]).toBe(2n << 32n);
  });
  it('vstvec (MODE 2/3 ignored), vsepc (bit 0 zero), vsscratch/vscause/vstval, vsatp (bad MODE ignored), vstimecmp', async () => {
    const { v } = await writeRead([
      [CSR.vstvec, 0x8000_1001n], [CSR.vstvec, 0x8000_2002n], [CSR.vsepc, 0x8000_0003n], [CSR.vsscratch, -1n],
      [CSR.vscause, 0x8000_0000_0000_0005n], [CSR.vstval, 0xdeadn], [CSR.vsatp, (8n << 60n) | (0xabcdn << 44n) | 0x8_0123n],
      [CSR.vsatp, (5n << 60n) | 1n], [CSR.vstimecmp, 0x7777n],
    ]);
    expect(v).toEqual([
      0x8000_1001n, 0x8000_1001n, 0x8000_0002n, u64(-1n), 0x8000_0000_0000_0005n, 0xdeadn,
      (8n << 60n) | (0xabcdn << 44n) | 0x8_0123n, (8n << 60n) | (0xabcdn << 44n) | 0x8_0123n, 0x7777n,
    ]);
  });
  it('mstatus.MPV and mstatus.GVA are writable with H, read-only zero without', async () => {
    const p = new Asm();
    p.csrsv(CSR.mstatus, MPV | MGVA).csrr(a0, CSR.mstatus).halt();
    const r1 = await run(p);
    expectHalt(r1);
    expect(r1.x(a0) & (MPV | MGVA)).toBe(MPV | MGVA);
    const q = new Asm();
    q.csrsv(CSR.mstatus, MPV | MGVA).csrr(a0, CSR.mstatus).halt();
    const r2 = await run(q, { h: false });
    expectHalt(r2);
    expect(r2.x(a0) & (MPV | MGVA)).toBe(0n);
  });
  it('without H: mideleg/medeleg have no VS bits; hvip does not exist so mip.VSSIP is not writable', async () => {
    const p = new Asm();
    p.csrwv(CSR.mideleg, -1).csrr(a0, CSR.mideleg).csrwv(CSR.medeleg, -1).csrr(a1, CSR.medeleg);
    p.csrwv(CSR.mip, VSSIP).csrr(a2, CSR.mip).csrwv(CSR.mie, -1).csrr(a3, CSR.mie).halt();
    const r = await run(p, { h: false });
    expectHalt(r);
    expect(r.x(a0)).toBe(0x222n);
    expect(r.x(a1)).toBe(0xb3ffn);
    expect(r.x(a2) & VS_ALL).toBe(0n);
    expect(r.x(a3) & VS_ALL).toBe(0n);
  });
});

describe('without H: the H CSRs and instructions are illegal, even in M-mode', () => {
  const names = [...H_CSRS, ...VS_CSRS, 'mtval2', 'mtinst'];
  const insns: [string, Record<string, number>][] = [
    ['hlv.b', { rd: a0, rs1: s0 }], ['hlv.bu', { rd: a0, rs1: s0 }], ['hlv.h', { rd: a0, rs1: s0 }],
    ['hlv.hu', { rd: a0, rs1: s0 }], ['hlvx.hu', { rd: a0, rs1: s0 }], ['hlv.w', { rd: a0, rs1: s0 }],
    ['hlv.wu', { rd: a0, rs1: s0 }], ['hlvx.wu', { rd: a0, rs1: s0 }], ['hlv.d', { rd: a0, rs1: s0 }],
    ['hsv.b', { rs1: s0, rs2: a0 }], ['hsv.h', { rs1: s0, rs2: a0 }], ['hsv.w', { rs1: s0, rs2: a0 }],
    ['hsv.d', { rs1: s0, rs2: a0 }], ['hfence.vvma', { rs1: 0, rs2: 0 }], ['hfence.gvma', { rs1: 0, rs2: 0 }],
  ];
  it('every H and VS CSR (read) and mtval2/mtinst: illegal instruction with mtval = the instruction', async () => {
    const p = new Asm();
    probeSetup(p);
    for (const n of names) probe(p, 'csrrs', { rd: a0, rs1: 0, csr: CSR[n] });
    p.halt();
    probeTail(p, names.length);
    const r = await run(p, { h: false });
    expectHalt(r);
    probeResults(r, names.length).forEach(([cause, tval], k) => {
      expect(cause, names[k]).toBe(2n);
      expect(tval, names[k]).toBe(BigInt(encode('csrrs', { rd: a0, rs1: 0, csr: CSR[names[k]] })));
    });
  });
  it('HLV, HLVX, HSV, HFENCE: illegal instruction in M-mode', async () => {
    const p = new Asm();
    probeSetup(p);
    p.la(s0, '__out');
    for (const [n, ops] of insns) probe(p, n, ops);
    p.halt();
    probeTail(p, insns.length);
    const r = await run(p, { h: false });
    expectHalt(r);
    probeResults(r, insns.length).forEach(([cause, tval], k) => {
      expect(cause, insns[k][0]).toBe(2n);
      expect(tval, insns[k][0]).toBe(BigInt(encode(insns[k][0], insns[k][1])));
    });
  });
  it('with H the same instructions execute in M-mode (no trap)', async () => {
    // (insnProbes opens PMP: HLV/HSV are checked by PMP as VS/VU accesses)
    (await insnProbes(PRV_M, false, insns)).forEach(([cause], k) => expect(cause, insns[k][0]).toBe(NONE));
  });
});

/** Probe each CSR read (csrrs rd, csr, x0), or write (csrrw, x0), from `prv` with V=`v`; returns the causes. */
async function csrProbes(prv: number, v: boolean, csrs: number[], setup: (p: Asm) => void = () => {}, write = false) {
  const enc = (c: number): [string, Record<string, number>] => [write ? 'csrrw' : 'csrrs', { rd: a0, rs1: 0, csr: c }];
  return (await insnProbes(prv, v, csrs.map(enc), setup)).map(([c, tval], k) => {
    if (c >= 0n) expect(tval).toBe(BigInt(encode(...enc(csrs[k]))));
    return c;
  });
}

describe('CSR accesses with V=1 (H chapter, "Virtual Instruction Exception")', () => {
  const hvs = [...H_CSRS.filter((n) => n !== 'hgeip'), 'hgeip', ...VS_CSRS.filter((n) => n !== 'vstimecmp')].map((n) => CSR[n]);
  const mcsrs = ['mstatus', 'misa', 'medeleg', 'mideleg', 'mie', 'mtvec', 'mscratch', 'mepc', 'mip', 'mtval2', 'mtinst', 'mhartid', 'pmpcfg0'].map((n) => CSR[n]);
  const scsrs = ['sstatus', 'sie', 'stvec', 'scounteren', 'senvcfg', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'satp'].map((n) => CSR[n]);
  it('from VS: hypervisor and VS CSRs raise virtual instruction (22), M CSRs illegal (2), S CSRs are accessible', async () => {
    const c = await csrProbes(PRV_S, true, [...hvs, ...mcsrs, ...scsrs]);
    expect(c.slice(0, hvs.length)).toEqual(hvs.map(() => 22n));
    expect(c.slice(hvs.length, hvs.length + mcsrs.length)).toEqual(mcsrs.map(() => 2n));
    expect(c.slice(hvs.length + mcsrs.length)).toEqual(scsrs.map(() => NONE));
  });
  it('from VU: hypervisor, VS and S CSRs raise virtual instruction, M CSRs illegal', async () => {
    const c = await csrProbes(PRV_U, true, [...hvs, ...scsrs, ...mcsrs]);
    expect(c.slice(0, hvs.length + scsrs.length)).toEqual([...hvs, ...scsrs].map(() => 22n));
    expect(c.slice(hvs.length + scsrs.length)).toEqual(mcsrs.map(() => 2n));
  });
  it('from VS: a write to read-only hgeip is illegal (HS-mode could not do it either)', async () => {
    const c = await csrProbes(PRV_S, true, [CSR.hgeip], () => {}, true);
    expect(c).toEqual([2n]);
  });
  it('from HS: the H and VS CSRs are accessible; from U (V=0) they are illegal', async () => {
    expect(await csrProbes(PRV_S, false, hvs)).toEqual(hvs.map(() => NONE));
    expect(await csrProbes(PRV_U, false, hvs)).toEqual(hvs.map(() => 2n));
  });
  it('hgatp from HS with mstatus.TVM = 1 is illegal; vsatp is not affected by TVM', async () => {
    const c = await csrProbes(PRV_S, false, [CSR.hgatp, CSR.vsatp, CSR.satp], (p) => p.csrsv(CSR.mstatus, MS.TVM));
    expect(c).toEqual([2n, NONE, 2n]);
  });
});

describe('S CSRs access their VS counterparts while V=1', () => {
  it('sscratch/stvec/sepc/scause/stval/satp read and write vsscratch/vstvec/vsepc/vscause/vstval/vsatp', async () => {
    const p = new Asm();
    p.openPmp();
    const pairs: [string, string, bigint, bigint, bigint][] = [
      // [S, VS, HS value, VS value, value VS-mode writes]
      ['sscratch', 'vsscratch', 0x1111n, 0x2222n, 0x3333n],
      ['stvec', 'vstvec', 0x8000_1000n, 0x8000_2000n, 0x8000_3000n],
      ['sepc', 'vsepc', 0x8000_1100n, 0x8000_2200n, 0x8000_3300n],
      ['scause', 'vscause', 5n, 7n, 13n],
      ['stval', 'vstval', 0xaaaan, 0xbbbbn, 0xccccn],
      ['satp', 'vsatp', (8n << 60n) | 0x8_0100n, 0n, 0n],
    ];
    for (const [s, vs, hv, vv] of pairs) p.csrwv(CSR[s], hv).csrwv(CSR[vs], vv);
    enterV(p, PRV_S, 'vs');
    p.label('vs').la(s0, 'vals');
    pairs.forEach(([s, , , , w], k) => {
      p.csrr(a0, CSR[s]).i('sd', { rs1: s0, rs2: a0, imm: 8 * k });
      p.li(a1, w).csrw(CSR[s], a1);
    });
    p.halt().align(8).label('vals').bytes(new Uint8Array(8 * pairs.length));
    const r = await run(p);
    expectHalt(r);
    expect(r.core.virt).toBe(true);
    pairs.forEach(([s, vs, hv, vv, w], k) => {
      expect(r.read64(r.addr('vals') + BigInt(8 * k)), `${s} read in VS`).toBe(vv);
      expect(r.csr(CSR[vs]), vs).toBe(w);
      expect(r.csr(CSR[s]), s).toBe(hv);
    });
  });
  it('sstatus is vsstatus: SUM/MXR/SIE/SPP of VS-mode, mstatus untouched', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.vsstatus, MS.SUM | MS.SPP).csrsv(CSR.mstatus, MS.SIE);
    enterV(p, PRV_S, 'vs');
    p.label('vs').csrr(a0, CSR.sstatus).csrsv(CSR.sstatus, MS.MXR).csrcv(CSR.sstatus, MS.SPP).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & (MS.SUM | MS.SPP | MS.SIE)).toBe(MS.SUM | MS.SPP);
    expect(r.csr(CSR.vsstatus) & (MS.SUM | MS.MXR | MS.SPP)).toBe(MS.SUM | MS.MXR);
    expect(r.csr(CSR.mstatus) & (MS.SUM | MS.MXR | MS.SIE)).toBe(MS.SIE);
  });
  it('sip/sie are vsip/vsie (hideleg-masked, shifted); HS\'s own sip/sie bits are not visible', async () => {
    const p = new Asm();
    // (mip first: its write sets mip.VSSIP, the alias of hvip.VSSIP, too)
    p.openPmp().csrwv(CSR.mideleg, 0x222).csrwv(CSR.mip, 0x2).csrwv(CSR.hideleg, VS_ALL).csrwv(CSR.hvip, VSSIP);
    enterV(p, PRV_S, 'vs');
    p.label('vs').csrr(a0, CSR.sip).csrr(a1, CSR.sie);
    p.csrsv(CSR.sie, 0x20).csrcv(CSR.sip, 0x2).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0x2n); // vsip.SSIP = hvip.VSSIP, not HS's SSIP
    expect(r.x(a1)).toBe(0n);
    expect(r.csr(CSR.mie)).toBe(VSTIP); // vsie.STIE is hie.VSTIE
    expect(r.csr(CSR.hvip)).toBe(0n);
    expect(r.csr(CSR.mip) & 0x2n).toBe(0x2n); // HS's SSIP untouched
  });
  it('stimecmp is vstimecmp (Sstc with henvcfg.STCE); STCE/TM gating: illegal vs virtual', async () => {
    const cases: [bigint, bigint, number, number, bigint][] = [
      // menvcfg, henvcfg, mcounteren, hcounteren, expected cause
      [STCE, STCE, 2, 2, NONE], [STCE, 0n, 2, 2, 22n], [STCE, STCE, 2, 0, 22n], [STCE, STCE, 0, 2, 2n], [0n, 0n, 2, 2, 2n],
    ];
    for (const [me, he, mc, hc, want] of cases) {
      const p = new Asm();
      p.openPmp().csrwv(CSR.menvcfg, me).csrwv(CSR.henvcfg, he).csrwv(CSR.mcounteren, mc).csrwv(CSR.hcounteren, hc);
      p.csrwv(CSR.stimecmp, 0x5555_0000n).csrwv(CSR.vstimecmp, 0x6666_0000n);
      probeSetup(p);
      enterV(p, PRV_S, 'vs');
      p.label('vs');
      probe(p, 'csrrs', { rd: a0, rs1: 0, csr: CSR.stimecmp });
      p.li(a1, 0x7777_0000n);
      probe(p, 'csrrw', { rd: 0, rs1: a1, csr: CSR.stimecmp });
      p.halt();
      probeTail(p, 2);
      const r = await run(p);
      expectHalt(r);
      const res = probeResults(r, 2);
      expect(res.map((x) => x[0]), `menvcfg=${me} henvcfg=${he} mcounteren=${mc} hcounteren=${hc}`).toEqual([want, want]);
      if (want === NONE) {
        expect(r.x(a0)).toBe(0x6666_0000n);
        expect(r.csr(CSR.vstimecmp)).toBe(0x7777_0000n);
        expect(r.csr(CSR.stimecmp)).toBe(0x5555_0000n);
      }
    }
  });
});

describe('Sstc CSRs with V=1: virtual instruction only if HS-mode could make the access', () => {
  // H chapter, "Virtual Instruction Exception": VS/VU accesses to hypervisor/VS CSRs and VU
  // accesses to supervisor CSRs are virtual-instruction exceptions "when the same access would
  // be allowed in HS-mode"; Sstc: menvcfg.STCE = 0 or mcounteren.TM = 0 makes stimecmp and
  // vstimecmp illegal below M-mode.
  const cases: [string, number, number, bigint, number, bigint][] = [
    // what, privilege, CSR, menvcfg, mcounteren, expected cause
    ['VU stimecmp, STCE=0', PRV_U, CSR.stimecmp, 0n, 2, 2n],
    ['VU stimecmp, TM=0', PRV_U, CSR.stimecmp, STCE, 0, 2n],
    ['VU stimecmp, STCE=1 TM=1', PRV_U, CSR.stimecmp, STCE, 2, 22n],
    ['VS vstimecmp, STCE=0', PRV_S, CSR.vstimecmp, 0n, 2, 2n],
    ['VS vstimecmp, TM=0', PRV_S, CSR.vstimecmp, STCE, 0, 2n],
    ['VS vstimecmp, STCE=1 TM=1', PRV_S, CSR.vstimecmp, STCE, 2, 22n],
    ['VU vstimecmp, STCE=0', PRV_U, CSR.vstimecmp, 0n, 2, 2n],
  ];
  it.each(cases)('%s', async (_, prv, csr, menvcfg, mcounteren, want) => {
    const setup = (p: Asm) => p.csrwv(CSR.menvcfg, menvcfg).csrwv(CSR.henvcfg, STCE).csrwv(CSR.mcounteren, mcounteren).csrwv(CSR.hcounteren, 2);
    expect(await csrProbes(prv, true, [csr], setup)).toEqual([want]);
  });
});

describe('counters with V=1: hcounteren', () => {
  // [privilege, mcounteren, hcounteren, scounteren, expected cause]
  const cases: [number, number, number, number, bigint][] = [
    [PRV_S, 0, 7, 7, 2n], [PRV_S, 7, 0, 7, 22n], [PRV_S, 7, 7, 0, NONE],
    [PRV_U, 0, 7, 7, 2n], [PRV_U, 7, 0, 7, 22n], [PRV_U, 7, 7, 0, 22n], [PRV_U, 7, 7, 7, NONE],
    [PRV_S, 5, 7, 7, 2n], [PRV_S, 7, 5, 7, 22n],
  ];
  it.each(cases)('V=1 priv %i, mcounteren %i, hcounteren %i, scounteren %i: cycle/time/instret', async (prv, mc, hc, sc, want) => {
    const setup = (p: Asm) => p.csrwv(CSR.mcounteren, mc).csrwv(CSR.hcounteren, hc).csrwv(CSR.scounteren, sc);
    const c = await csrProbes(prv, true, [CSR.cycle, CSR.time, CSR.instret], setup);
    // counter i is gated by bit i; the cases with 5 (cycle and instret only) gate time alone
    const exp = [CSR.cycle, CSR.time, CSR.instret].map((_, i) => {
      const bit = 1 << i;
      if (prv < PRV_M && !(mc & bit)) return 2n;
      if (!(hc & bit)) return 22n;
      if (prv === PRV_U && !(sc & bit)) return 22n;
      return NONE;
    });
    expect(c).toEqual(exp);
    expect(exp).toContain(want);
  });
  it('time reads mtime + htimedelta with V=1, mtime with V=0', async () => {
    const delta = 1n << 40n;
    const p = new Asm();
    p.openPmp().csrwv(CSR.mcounteren, 7).csrwv(CSR.hcounteren, 7).csrwv(CSR.htimedelta, delta);
    p.la(t0, 'hs').csrw(CSR.stvec, t0).csrwv(CSR.medeleg, 1 << 10);
    enterV(p, PRV_S, 'vs');
    p.label('vs').li(s0, MTIME).i('ld', { rd: a0, rs1: s0, imm: 0 }).csrr(a1, CSR.time).i('ecall');
    p.align(4).label('hs').i('ld', { rd: a2, rs1: s0, imm: 0 }).csrr(a3, CSR.time).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.priv).toBe(PRV_S);
    expect(r.core.virt).toBe(false);
    const gdiff = r.x(a1) - delta - r.x(a0);
    expect(gdiff >= 0n && gdiff < 100n, `guest time - delta - mtime = ${gdiff}`).toBe(true);
    const hdiff = r.x(a3) - r.x(a2);
    expect(hdiff >= 0n && hdiff < 100n, `host time - mtime = ${hdiff}`).toBe(true);
  });
});
