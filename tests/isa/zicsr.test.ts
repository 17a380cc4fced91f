// Zicsr (unprivileged spec, "Zicsr" chapter) and the CSR rules of the privileged spec
// (2.1 address conventions, 2.2 CSR listing, 3.1.x machine CSRs, 4.1.x supervisor views,
// Zicntr counters and their enables).
import { describe, it, expect } from 'vitest';
import { Asm, R, CSR, MS, PRV_S, PRV_U, PRV_M, CLINT, MTIME, run, expectHalt, expectTrap } from './harness.js';
import { encode } from '../../src/isa/encode.js';

const ONES = 0xffff_ffff_ffff_ffffn;
const { a0, a1, a2, a3, a4, a5, s1 } = R;

describe('Zicsr: the six instructions', () => {
  it('csrrw/csrrs/csrrc and their immediate forms return the old value and update the CSR', async () => {
    const p = new Asm();
    p.li(a0, 0xf0f0).i('csrrw', { rd: a1, rs1: a0, csr: CSR.mscratch });
    p.li(a0, 0x0f0f).i('csrrs', { rd: a2, rs1: a0, csr: CSR.mscratch });
    p.li(a0, 0x00ff).i('csrrc', { rd: a3, rs1: a0, csr: CSR.mscratch });
    p.i('csrrwi', { rd: a4, zimm: 31, csr: CSR.mscratch });
    p.i('csrrci', { rd: a5, zimm: 5, csr: CSR.mscratch });
    p.i('csrrsi', { rd: s1, zimm: 0x10, csr: CSR.mscratch });
    p.csrr(R.s2, CSR.mscratch);
    p.li(R.s3, -1).i('csrrw', { rd: R.s3, rs1: R.s3, csr: CSR.mscratch }); // rd == rs1: a swap
    p.csrr(R.s4, CSR.mscratch);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1)).toBe(0n);
    expect(r.x(a2)).toBe(0xf0f0n);
    expect(r.x(a3)).toBe(0xffffn);
    expect(r.x(a4)).toBe(0xff00n);
    expect(r.x(a5)).toBe(31n);
    expect(r.x(s1)).toBe(26n);
    expect(r.x(R.s2)).toBe(26n);
    expect(r.x(R.s3)).toBe(26n);
    expect(r.x(R.s4)).toBe(ONES);
  });
  it('with rs1 = x0 / uimm = 0, CSRRS/CSRRC/CSRRSI/CSRRCI do not write: legal on read-only CSRs', async () => {
    const p = new Asm();
    p.i('csrrs', { rd: a0, rs1: 0, csr: CSR.mhartid });
    p.i('csrrc', { rd: a1, rs1: 0, csr: CSR.mvendorid });
    p.i('csrrsi', { rd: a2, zimm: 0, csr: CSR.marchid });
    p.i('csrrci', { rd: a3, zimm: 0, csr: CSR.mimpid });
    p.i('csrrs', { rd: a4, rs1: 0, csr: CSR.cycle });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0n); // hart 0
  });
  // writes to read-only CSRs (bits 11:10 = 3): CSRRW always writes; CSRRS/C with a register
  // other than x0 write (even a zero value), CSRRWI always writes
  const roWrites: [string, Record<string, number>][] = [
    ['csrrw x0, mhartid, x0', { rd: 0, rs1: 0, csr: CSR.mhartid }],
    ['csrrs a0, mhartid, a1 (a1 = 0)', { rd: a0, rs1: a1, csr: CSR.mhartid }],
    ['csrrc a0, mvendorid, a1 (a1 = 0)', { rd: a0, rs1: a1, csr: CSR.mvendorid }],
    ['csrrwi a0, marchid, 0', { rd: a0, zimm: 0, csr: CSR.marchid }],
    ['csrrsi a0, mimpid, 1', { rd: a0, zimm: 1, csr: CSR.mimpid }],
    ['csrrw a0, cycle, a1', { rd: a0, rs1: a1, csr: CSR.cycle }],
    ['csrrci a0, instret, 1', { rd: a0, zimm: 1, csr: CSR.instret }],
    ['csrrw a0, mconfigptr, a1', { rd: a0, rs1: a1, csr: CSR.mconfigptr }],
  ];
  it.each(roWrites)('writing a read-only CSR is illegal: %s', async (desc, ops) => {
    const name = desc.split(' ')[0];
    const p = new Asm();
    p.li(a0, 0x55).li(a1, 0);
    p.label('bad').i(name, ops).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name, ops) });
    expect(r.x(a0)).toBe(0x55n); // rd not written
  });
  // pmpcfg1/3 do not exist on RV64; cycleh/instreth/timeh are RV32-only; vstart (no V),
  // a custom-space CSR; on a hart without H (-cpu rv64,h=off) hstatus, vsstatus, hgatp, mtval2
  it.each([0x3a1, 0x3a3, 0xc80, 0xc81, 0xc82, 0x008, 0x800, 0x7c0, 0x600, 0x200, 0x680, 0x34b].map((c) => [`0x${c.toString(16)}`, c] as [string, number]))('CSR %s does not exist: illegal on read', async (_, csr) => {
    const p = new Asm();
    p.li(a0, 0x55);
    p.label('bad').i('csrrs', { rd: a0, rs1: 0, csr }).halt();
    const r = await run(p, { h: !(csr === 0x600 || csr === 0x200 || csr === 0x680 || csr === 0x34b) });
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('csrrs', { rd: a0, rs1: 0, csr }) });
    expect(r.x(a0)).toBe(0x55n);
  });
});

describe('Zicsr: privilege of CSR accesses (bits 9:8 of the number)', () => {
  const cases: [string, number, number][] = [
    ['S reads mstatus', PRV_S, CSR.mstatus],
    ['S reads mscratch', PRV_S, CSR.mscratch],
    ['S reads mhartid', PRV_S, CSR.mhartid],
    ['S reads pmpaddr0', PRV_S, CSR.pmpaddr0],
    ['U reads sstatus', PRV_U, CSR.sstatus],
    ['U reads sscratch', PRV_U, CSR.sscratch],
    ['U reads satp', PRV_U, CSR.satp],
    ['U reads mstatus', PRV_U, CSR.mstatus],
  ];
  it.each(cases)('%s: illegal instruction, mtval = the instruction', async (_, prv, csr) => {
    const p = new Asm();
    p.openPmp().li(a0, 0x55).enter(prv, 'low');
    p.label('low').label('bad').i('csrrs', { rd: a0, rs1: 0, csr }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('csrrs', { rd: a0, rs1: 0, csr }) });
    expect(r.x(a0)).toBe(0x55n);
    expect((r.trapMstatus & MS.MPP) >> 11n).toBe(BigInt(prv));
  });
  it('S reads and writes its own CSRs (sstatus, sscratch, stvec, sepc)', async () => {
    const p = new Asm();
    p.openPmp().enter(PRV_S, 'smode');
    p.label('smode').csrr(a0, CSR.sstatus);
    p.li(a1, 0x1234).csrw(CSR.sscratch, a1).csrr(a2, CSR.sscratch);
    p.li(a1, 0x8000_1001n).csrw(CSR.sepc, a1).csrr(a3, CSR.sepc);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a2)).toBe(0x1234n);
    expect(r.x(a3)).toBe(0x8000_1000n); // sepc[0] is always zero
    expect(r.priv).toBe(PRV_S);
  });
});

describe('Zicsr: counters (Zicntr) and their enables', () => {
  // [mcounteren, scounteren, privilege, counter, legal]
  const cases: [number, number, number, string, boolean][] = [
    [0, 0, PRV_S, 'cycle', false], [0, 0, PRV_S, 'time', false], [0, 0, PRV_S, 'instret', false],
    [7, 0, PRV_S, 'cycle', true], [7, 0, PRV_S, 'time', true], [7, 0, PRV_S, 'instret', true],
    [2, 0, PRV_S, 'time', true], [2, 0, PRV_S, 'cycle', false], [5, 0, PRV_S, 'time', false],
    [7, 0, PRV_U, 'cycle', false], [7, 0, PRV_U, 'time', false], [7, 0, PRV_U, 'instret', false],
    [7, 7, PRV_U, 'cycle', true], [7, 7, PRV_U, 'time', true], [7, 7, PRV_U, 'instret', true],
    [0, 7, PRV_U, 'cycle', false], [3, 4, PRV_U, 'instret', false], [4, 4, PRV_U, 'instret', true],
    [0, 0, PRV_M, 'cycle', true], [0, 0, PRV_M, 'time', true], [0, 0, PRV_M, 'instret', true],
  ];
  it.each(cases)('mcounteren=%i scounteren=%i priv=%i: %s legal %s', async (mc, sc, prv, name, legal) => {
    const csr = CSR[name];
    const p = new Asm();
    p.openPmp().csrwv(CSR.mcounteren, mc).csrwv(CSR.scounteren, sc).li(a0, 0x55);
    if (prv !== PRV_M) p.enter(prv, 'low');
    p.label('low').label('bad').i('csrrs', { rd: a0, rs1: 0, csr }).halt();
    const r = await run(p);
    if (legal) {
      expectHalt(r);
      expect(r.x(a0)).not.toBe(0x55n);
    } else {
      expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('csrrs', { rd: a0, rs1: 0, csr }) });
    }
  });
  it('instret counts retired instructions; a write to minstret replaces that instruction\'s increment', async () => {
    const p = new Asm();
    p.csrr(a0, CSR.instret).csrr(a1, CSR.instret).csrr(a2, CSR.minstret);
    p.csrwv(CSR.minstret, 100).csrr(a3, CSR.minstret).csrr(a4, CSR.instret);
    p.csrwv(CSR.mcycle, 1000).csrr(a5, CSR.cycle);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1) - r.x(a0)).toBe(1n);
    expect(r.x(a2) - r.x(a1)).toBe(1n);
    expect(r.x(a3)).toBe(100n);
    expect(r.x(a4)).toBe(101n);
    expect(r.x(a5) >= 1000n && r.x(a5) < 1010n).toBe(true);
  });
  it('time reads the CLINT mtime', async () => {
    const p = new Asm();
    p.li(R.s0, MTIME);
    for (let i = 0; i < 50; i++) p.nop();
    p.i('ld', { rd: a0, rs1: R.s0, imm: 0 }).csrr(a1, CSR.time).i('ld', { rd: a2, rs1: R.s0, imm: 0 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBeGreaterThan(0n);
    expect(r.x(a1) >= r.x(a0) && r.x(a1) <= r.x(a2)).toBe(true);
    void CLINT;
  });
});

describe('Zicsr: machine and supervisor CSR fields', () => {
  it.each([['I, M, A, F, D, C, H, S, U', true], ['I, M, A, F, D, C, S, U (h=off)', false]] as const)('misa: RV64 (MXL = 2) with %s', async (_, h) => {
    const p = new Asm();
    p.csrr(a0, CSR.misa).halt();
    const r = await run(p, { h });
    expectHalt(r);
    const ext = (c: string) => 1n << BigInt(c.charCodeAt(0) - 65);
    const exts = ['I', 'M', 'A', 'F', 'D', 'C', 'S', 'U', ...(h ? ['H'] : [])];
    expect(r.x(a0)).toBe((2n << 62n) | exts.map(ext).reduce((x, y) => x | y));
  });
  it('mstatus: UXL = SXL = 2 read-only; MPP never holds the reserved value 2', async () => {
    const p = new Asm();
    p.csrr(a0, CSR.mstatus);
    p.csrcv(CSR.mstatus, 0xf_0000_0000n).csrr(a1, CSR.mstatus);
    p.csrcv(CSR.mstatus, MS.MPP).csrsv(CSR.mstatus, 2n << 11n).csrr(a2, CSR.mstatus);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect((r.x(a0) >> 32n) & 0xfn).toBe(0xan);
    expect((r.x(a1) >> 32n) & 0xfn).toBe(0xan);
    expect((r.x(a2) & MS.MPP) >> 11n).not.toBe(2n);
  });
  it('sstatus is a restricted view of mstatus', async () => {
    const p = new Asm();
    p.csrwv(CSR.mstatus, 0).li(a0, -1).csrw(CSR.sstatus, a0);
    p.csrr(a1, CSR.mstatus).csrr(a2, CSR.sstatus);
    p.csrwv(CSR.mstatus, MS.MIE | MS.MPIE | MS.MPRV | MS.TVM | MS.TW | MS.TSR | (1n << 11n)).csrr(a3, CSR.sstatus);
    p.csrwv(CSR.mstatus, 0).halt(); // (MPRV off again for the halt's store)
    const r = await run(p);
    expectHalt(r);
    const sBits = MS.SIE | MS.SPIE | MS.SPP | MS.FS | MS.SUM | MS.MXR;
    expect(r.x(a1) & (MS.MIE | MS.MPIE | MS.MPP | MS.MPRV | MS.TVM | MS.TW | MS.TSR)).toBe(0n);
    expect(r.x(a1) & sBits).toBe(sBits);
    expect(r.x(a2)).toBe(sBits | MS.SD | (2n << 32n));
    expect(r.x(a3)).toBe(2n << 32n); // none of the M-only bits show
  });
  it('sie and sip are mie and mip restricted to the delegated interrupts', async () => {
    const p = new Asm();
    p.li(a0, -1).csrw(CSR.sie, a0).csrr(a1, CSR.mie).csrr(a2, CSR.sie);
    p.csrwv(CSR.mideleg, 0x222).csrw(CSR.sie, a0).csrr(a3, CSR.mie).csrr(a4, CSR.sie);
    p.csrwv(CSR.mie, 0xaaa).csrr(a5, CSR.sie);
    p.csrsv(CSR.mip, 2).csrr(s1, CSR.sip); // SSIP set by M
    p.csrwv(CSR.mideleg, 0).csrr(R.s2, CSR.sip);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1)).toBe(0n);
    expect(r.x(a2)).toBe(0n);
    expect(r.x(a3)).toBe(0x222n);
    expect(r.x(a4)).toBe(0x222n);
    expect(r.x(a5)).toBe(0x222n);
    expect(r.x(s1) & 2n).toBe(2n);
    expect(r.x(R.s2)).toBe(0n);
  });
  it('mepc/sepc bit 0 is always zero; mtvec keeps MODE 0 or 1', async () => {
    const p = new Asm();
    p.csrwv(CSR.mepc, 0x8000_0003n).csrr(a0, CSR.mepc);
    p.csrwv(CSR.sepc, -1).csrr(a1, CSR.sepc);
    p.csrwv(CSR.mtvec, 0x8000_0101n).csrr(a2, CSR.mtvec);
    p.csrwv(CSR.stvec, 0x8000_0200n).csrr(a3, CSR.stvec);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0x8000_0002n);
    expect(r.x(a1)).toBe(ONES - 1n);
    expect(r.x(a2)).toBe(0x8000_0101n);
    expect(r.x(a3)).toBe(0x8000_0200n);
  });
  it('medeleg[11] (ecall from M) is read-only zero; the causes used by S can be delegated', async () => {
    const p = new Asm();
    p.csrwv(CSR.medeleg, -1).csrr(a0, CSR.medeleg).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & (1n << 11n)).toBe(0n);
    for (const c of [0n, 2n, 3n, 8n, 12n, 13n, 15n]) expect(r.x(a0) & (1n << c)).toBe(1n << c);
  });
});
