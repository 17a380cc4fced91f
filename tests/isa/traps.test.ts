// Privileged architecture: exceptions and their trap registers, delegation, xRET, the
// mstatus trap controls (TSR, TVM, TW), interrupts (CLINT timer and software, Sstc), WFI.
// Privileged spec chapter 3 (3.1.6-3.1.9, 3.1.14-3.1.17, 3.3) and chapter 4 (4.1.1-4.1.9).
import { describe, it, expect } from 'vitest';
import {
  Asm, R, RAM, CSR, MS, IRQ, INTERRUPT, PRV_M, PRV_S, PRV_U, CLINT, MTIMECMP, MTIME, UART,
  run, expectHalt, expectTrap, Exit,
} from './harness.js';
import { encode } from '../../src/isa/encode.js';

const { a0, a1, a2, a3, a4, a5, s0, s1, t0, t1 } = R;
const mpp = (ms: bigint) => Number((ms & MS.MPP) >> 11n);

describe('exceptions: cause, mepc, mtval', () => {
  it('1: instruction access fault fetching from 0x0, from no device and from MMIO', async () => {
    for (const target of [0n, 0x4000_0000n, UART, RAM + (4n << 20n)]) {
      const p = new Asm();
      p.li(t0, target).label('jump').i('jalr', { rd: R.ra, rs1: t0, imm: 0 }).halt();
      const r = await run(p);
      expectTrap(r, { cause: 1, epc: target, tval: target });
      expect(r.x(R.ra)).toBe(r.addr('jump') + 4n);
    }
  });
  it('2: illegal instruction (custom-0 opcode, mret/sret/wfi/sfence.vma below their privilege) with mtval = the instruction', async () => {
    const p1 = new Asm();
    p1.label('bad').word(0x0000_000b).halt();
    const r1 = await run(p1);
    expectTrap(r1, { cause: 2, epc: r1.addr('bad'), tval: 0x0000_000b });
    for (const [prv, name] of [[PRV_S, 'mret'], [PRV_U, 'sret'], [PRV_U, 'wfi'], [PRV_U, 'sfence.vma'], [PRV_U, 'mret']] as const) {
      const p = new Asm();
      p.openPmp().enter(prv, 'low');
      p.label('low').label('bad').i(name).halt();
      const r = await run(p);
      expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name) });
      expect(mpp(r.trapMstatus)).toBe(prv);
    }
  });
  it('3: ebreak: mepc = its address, mtval = 0 or its address', async () => {
    const p = new Asm();
    p.label('bp').i('ebreak').halt();
    const r = await run(p);
    expectTrap(r, { cause: 3, epc: r.addr('bp') });
    expect([0n, r.addr('bp')]).toContain(r.csr(CSR.mtval));
  });
  it('4 and 6: misaligned LR and AMO', async () => {
    for (const [name, cause] of [['lr.d', 4], ['amoadd.d', 6]] as const) {
      const p = new Asm();
      p.li(s0, RAM + 0x8004n).label('bad').i(name, name === 'lr.d' ? { rd: a0, rs1: s0 } : { rd: a0, rs1: s0, rs2: 0 }).halt();
      const r = await run(p);
      expectTrap(r, { cause, epc: r.addr('bad'), tval: RAM + 0x8004n });
    }
  });
  it('5 and 7: load and store access faults on unmapped physical addresses (mtval = address)', async () => {
    const cases: [string, bigint, number][] = [
      ['ld', 0n, 5], ['lw', 0x4000_0000n, 5], ['lbu', UART + 0x100n, 5], ['lhu', RAM + (4n << 20n), 5],
      ['sd', 0x8n, 7], ['sw', 0x4000_0000n, 7], ['sb', 0x2_0000_0000n, 7], ['sh', RAM - 2n, 7],
    ];
    for (const [name, addr, cause] of cases) {
      const p = new Asm();
      p.li(s0, addr).li(a0, 0x55);
      p.label('bad').i(name, name.startsWith('l') ? { rd: a0, rs1: s0, imm: 0 } : { rs1: s0, rs2: a0, imm: 0 }).halt();
      const r = await run(p);
      expectTrap(r, { cause, epc: r.addr('bad'), tval: addr });
      expect(r.x(a0)).toBe(0x55n);
    }
  });
  it.each([[PRV_U, 8], [PRV_S, 9], [PRV_M, 11]])('ecall from privilege %i: cause %i, mepc = the ecall, mtval = 0', async (prv, cause) => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.mtval, 0x1234);
    if (prv !== PRV_M) p.enter(prv, 'low');
    p.label('low').label('ec').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause, epc: r.addr('ec'), tval: 0 });
    expect(r.priv).toBe(PRV_M);
    expect(mpp(r.trapMstatus)).toBe(prv);
  });
  it('trap entry to M: MPIE <- MIE, MIE <- 0, MPP <- privilege', async () => {
    const p = new Asm();
    p.csrsv(CSR.mstatus, MS.MIE).label('ec').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause: 11, epc: r.addr('ec') });
    const ms = r.trapMstatus;
    expect(ms & MS.MIE).toBe(0n);
    expect(ms & MS.MPIE).toBe(MS.MPIE);
    expect(mpp(ms)).toBe(PRV_M);
  });
});

describe('delegation (medeleg, 3.1.8) and trap entry to S (4.1.1)', () => {
  it('a U ecall delegated to S: scause/sepc/stval, SPP = U, SPIE <- SIE, SIE <- 0; S ecall not delegated goes to M', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, 1 << 8).la(t0, 'strap').csrw(CSR.stvec, t0);
    p.csrwv(CSR.stval, 0x77).csrsv(CSR.mstatus, MS.SIE);
    p.enter(PRV_U, 'user');
    p.label('user').label('ec').i('ecall').halt();
    p.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sepc).csrr(a2, CSR.stval).csrr(a3, CSR.sstatus);
    p.label('sec').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause: 9, epc: r.addr('sec') });
    expect(r.x(a0)).toBe(8n);
    expect(r.x(a1)).toBe(r.addr('ec'));
    expect(r.x(a2)).toBe(0n);
    expect(r.x(a3) & (MS.SPP | MS.SPIE | MS.SIE)).toBe(MS.SPIE);
    expect(mpp(r.trapMstatus)).toBe(PRV_S);
  });
  it('an exception in S delegated to S: SPP = S; stval = the faulting address', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.medeleg, (1 << 5) | (1 << 2)).la(t0, 'strap').csrw(CSR.stvec, t0);
    p.enter(PRV_S, 'sup');
    p.label('sup').li(s0, 0x4000_0000n).label('bad').i('ld', { rd: a0, rs1: s0, imm: 8 }).halt();
    p.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sepc).csrr(a2, CSR.stval).csrr(a3, CSR.sstatus).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.priv).toBe(PRV_S);
    expect(r.x(a0)).toBe(5n);
    expect(r.x(a1)).toBe(r.addr('bad'));
    expect(r.x(a2)).toBe(0x4000_0008n);
    expect(r.x(a3) & MS.SPP).toBe(MS.SPP);
    expect(r.csr(CSR.mcause)).toBe(0n); // M never saw it
  });
  it('exceptions taken in M are never delegated', async () => {
    const p = new Asm();
    p.csrwv(CSR.medeleg, -1).la(t0, 'strap').csrw(CSR.stvec, t0);
    p.label('bad').word(0x0000_000b).halt();
    p.align(4).label('strap').li(a0, 0xbad).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: 0xb });
    expect(r.csr(CSR.scause)).toBe(0n);
  });
});

describe('xRET (3.3.2)', () => {
  it('mret to M: MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV kept', async () => {
    const p = new Asm();
    p.csrsv(CSR.mstatus, MS.MPP | MS.MPIE | MS.MPRV).la(t0, 'next').csrw(CSR.mepc, t0).i('mret');
    p.label('next').csrr(a0, CSR.mstatus);
    p.csrsv(CSR.mstatus, MS.MPP).csrcv(CSR.mstatus, MS.MPIE).la(t0, 'next2').csrw(CSR.mepc, t0).i('mret');
    p.label('next2').csrr(a1, CSR.mstatus).csrcv(CSR.mstatus, MS.MPRV | MS.MIE).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & (MS.MIE | MS.MPIE | MS.MPP | MS.MPRV)).toBe(MS.MIE | MS.MPIE | MS.MPRV);
    expect(r.x(a1) & (MS.MIE | MS.MPIE | MS.MPP | MS.MPRV)).toBe(MS.MPIE | MS.MPRV);
  });
  it('mret to S clears MPRV', async () => {
    const p = new Asm();
    p.openPmp().csrsv(CSR.mstatus, MS.MPRV).enter(PRV_S, 'sup');
    p.label('sup').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause: 9 });
    expect(r.trapMstatus & MS.MPRV).toBe(0n);
  });
  it('sret from S to U: SIE <- SPIE, SPIE <- 1, SPP <- U', async () => {
    const p = new Asm();
    p.openPmp().enter(PRV_S, 'sup');
    p.label('sup').li(t0, MS.SPIE).csrs(CSR.sstatus, t0).li(t0, MS.SPP | MS.SIE).csrc(CSR.sstatus, t0);
    p.la(t0, 'user').csrw(CSR.sepc, t0).i('sret');
    p.label('user').label('ec').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause: 8, epc: r.addr('ec') });
    const ms = r.trapMstatus;
    expect(ms & (MS.SIE | MS.SPIE | MS.SPP)).toBe(MS.SIE | MS.SPIE);
    expect(mpp(ms)).toBe(PRV_U);
  });
  it('sret executed in M returns to SPP and clears MPRV', async () => {
    const p = new Asm();
    p.openPmp().csrsv(CSR.mstatus, MS.SPP | MS.MPRV).la(t0, 'sup').csrw(CSR.sepc, t0).i('sret');
    p.label('sup').label('ec').i('ecall').halt();
    const r = await run(p);
    expectTrap(r, { cause: 9, epc: r.addr('ec') });
    expect(r.trapMstatus & (MS.MPRV | MS.SPP)).toBe(0n);
  });
});

describe('mstatus TSR, TVM, TW (3.1.6.5)', () => {
  const cases: [string, bigint, string, Record<string, number>, boolean][] = [
    ['TSR traps sret in S', MS.TSR, 'sret', {}, true],
    ['TVM traps sfence.vma in S', MS.TVM, 'sfence.vma', { rs1: 0, rs2: 0 }, true],
    ['TVM traps satp reads in S', MS.TVM, 'csrrs', { rd: a0, rs1: 0, csr: CSR.satp }, true],
    ['TVM traps satp writes in S', MS.TVM, 'csrrw', { rd: 0, rs1: 0, csr: CSR.satp }, true],
    ['TW traps wfi in S', MS.TW, 'wfi', {}, true],
    ['without TVM, S reads satp', 0n, 'csrrs', { rd: a0, rs1: 0, csr: CSR.satp }, false],
    ['without TVM, S runs sfence.vma', 0n, 'sfence.vma', { rs1: 0, rs2: 0 }, false],
  ];
  it.each(cases)('%s', async (_, bit, name, ops, traps) => {
    const p = new Asm();
    p.openPmp().csrsv(CSR.mstatus, bit).enter(PRV_S, 'sup');
    p.label('sup').label('bad').i(name, ops).halt();
    const r = await run(p);
    if (traps) expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name, ops) });
    else expectHalt(r);
  });
  it('M-mode is not affected by TSR, TVM and TW', async () => {
    const p = new Asm();
    p.openPmp().csrsv(CSR.mstatus, MS.TSR | MS.TVM | MS.TW);
    p.csrr(a0, CSR.satp).i('sfence.vma', { rs1: 0, rs2: 0 });
    // WFI with an enabled interrupt pending (MIE = 0: it resumes without a trap)
    p.csrsv(CSR.mie, 1 << IRQ.MSI).li(t0, CLINT).li(t1, 1).i('sw', { rs1: t0, rs2: t1, imm: 0 }).i('wfi');
    p.i('sw', { rs1: t0, rs2: 0, imm: 0 });
    p.csrsv(CSR.mstatus, MS.SPP).la(t1, 'after').csrw(CSR.sepc, t1).i('sret');
    p.label('after').halt();
    const r = await run(p);
    // sret went to S (SPP = S), where the halt's store works: PMP is open
    expectHalt(r);
    expect(r.priv).toBe(PRV_S);
  });
});

describe('interrupts (3.1.9, 3.3.3) with the CLINT', () => {
  it('machine timer: mtimecmp <= mtime raises MTIP; taken with mcause = interrupt | 7', async () => {
    const p = new Asm();
    p.la(t0, 'handler').csrw(CSR.mtvec, t0);
    p.li(s0, MTIME).i('ld', { rd: s1, rs1: s0, imm: 0 }).i('addi', { rd: s1, rs1: s1, imm: 20 });
    p.li(t0, MTIMECMP).i('sd', { rs1: t0, rs2: s1, imm: 0 });
    p.csrsv(CSR.mie, 1 << IRQ.MTI).csrsv(CSR.mstatus, MS.MIE).li(a5, 0);
    p.label('loop').i('addi', { rd: a5, rs1: a5, imm: 1 }).j('loop');
    p.align(4).label('handler').csrr(a0, CSR.mcause).csrr(a1, CSR.mepc).csrr(a2, CSR.mip).i('ld', { rd: a3, rs1: s0, imm: 0 });
    p.csrr(a4, CSR.mstatus).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(INTERRUPT | 7n);
    expect([r.addr('loop'), r.addr('loop') + 4n]).toContain(r.x(a1));
    expect(r.x(a2) & (1n << 7n)).toBe(1n << 7n);
    expect(r.x(a3) >= r.x(s1)).toBe(true);
    // one tick per 10 instructions: about 100 loop iterations' worth of instructions
    expect(r.x(a5)).toBeGreaterThan(50n);
    expect(r.x(a5)).toBeLessThan(120n);
    expect(r.x(a4) & (MS.MIE | MS.MPIE)).toBe(MS.MPIE);
  });
  it('MTIP follows mtime >= mtimecmp: writing a later mtimecmp clears it', async () => {
    const p = new Asm();
    p.li(t0, MTIMECMP).i('sd', { rs1: t0, rs2: 0, imm: 0 }).csrr(a0, CSR.mip);
    p.li(t1, -1).i('sd', { rs1: t0, rs2: t1, imm: 0 }).csrr(a1, CSR.mip);
    p.csrsv(CSR.mip, 1 << IRQ.MTI).csrr(a2, CSR.mip); // MTIP is read-only in mip
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & 0x80n).toBe(0x80n);
    expect(r.x(a1) & 0x80n).toBe(0n);
    expect(r.x(a2) & 0x80n).toBe(0n);
  });
  it('vectored stvec: a delegated interrupt goes to base + 4 * cause', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.mideleg, 1 << IRQ.SSI).csrsv(CSR.mie, 1 << IRQ.SSI).csrsv(CSR.mip, 1 << IRQ.SSI);
    p.la(t0, 'svec').i('addi', { rd: t0, rs1: t0, imm: 1 }).csrw(CSR.stvec, t0).csrsv(CSR.mstatus, MS.SIE).enter(PRV_S, 'sup');
    p.label('sup').label('spin').j('spin');
    p.align(64).label('svec');
    for (let c = 0; c < 8; c++) p.j(`s${c}`);
    for (let c = 0; c < 8; c++) p.label(`s${c}`).li(a0, c).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(1n);
    expect(r.csr(CSR.scause)).toBe(INTERRUPT | 1n);
  });
  it('mtime advances one tick per 10 instructions', async () => {
    const p = new Asm();
    p.li(s0, MTIME).i('ld', { rd: a0, rs1: s0, imm: 0 });
    for (let i = 0; i < 99; i++) p.nop();
    p.i('ld', { rd: a1, rs1: s0, imm: 0 });
    for (let i = 0; i < 999; i++) p.nop();
    p.i('ld', { rd: a2, rs1: s0, imm: 0 }).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1) - r.x(a0)).toBe(10n);
    expect(r.x(a2) - r.x(a1)).toBe(100n);
  });
  it('vectored mtvec: interrupts go to base + 4 * cause, exceptions to base', async () => {
    for (const kind of ['timer', 'software', 'ecall'] as const) {
      const p = new Asm();
      p.la(t0, 'vec').i('addi', { rd: t0, rs1: t0, imm: 1 }).csrw(CSR.mtvec, t0);
      if (kind === 'timer') p.li(t0, MTIMECMP).i('sd', { rs1: t0, rs2: 0, imm: 0 }).csrsv(CSR.mie, 1 << IRQ.MTI);
      if (kind === 'software') p.li(t0, CLINT).li(t1, 1).i('sw', { rs1: t0, rs2: t1, imm: 0 }).csrsv(CSR.mie, 1 << IRQ.MSI);
      if (kind === 'ecall') p.i('ecall');
      p.csrsv(CSR.mstatus, MS.MIE);
      p.label('spin').j('spin');
      p.align(64).label('vec');
      for (let c = 0; c < 16; c++) p.j(`h${c}`);
      for (let c = 0; c < 16; c++) p.label(`h${c}`).li(a0, c).halt();
      const r = await run(p);
      expectHalt(r);
      expect(r.x(a0)).toBe(kind === 'timer' ? 7n : kind === 'software' ? 3n : 0n);
      expect(r.csr(CSR.mcause)).toBe(kind === 'timer' ? INTERRUPT | 7n : kind === 'software' ? INTERRUPT | 3n : 11n);
    }
  });
  it('machine software interrupt via msip: taken after the store, mepc = the next instruction', async () => {
    const p = new Asm();
    p.csrsv(CSR.mie, 1 << IRQ.MSI).csrsv(CSR.mstatus, MS.MIE).li(t0, CLINT).li(t1, 1);
    p.i('sw', { rs1: t0, rs2: t1, imm: 0 }).label('next').li(a5, 0xbad).halt();
    const r = await run(p);
    expectTrap(r, { cause: INTERRUPT | 3n, epc: r.addr('next'), tval: 0 });
    expect(r.x(a5)).toBe(0n);
    expect(r.csr(CSR.mip) & (1n << 3n)).toBe(1n << 3n);
  });
  it('priority: MSI before MTI when both are pending', async () => {
    const p = new Asm();
    p.li(t0, MTIMECMP).i('sd', { rs1: t0, rs2: 0, imm: 0 }).li(t0, CLINT).li(t1, 1).i('sw', { rs1: t0, rs2: t1, imm: 0 });
    p.csrsv(CSR.mie, (1 << IRQ.MSI) | (1 << IRQ.MTI)).csrr(a0, CSR.mip).csrsv(CSR.mstatus, MS.MIE).halt();
    const r = await run(p);
    expectTrap(r, { cause: INTERRUPT | 3n });
    expect(r.x(a0) & 0x88n).toBe(0x88n);
  });
  it('an M-level interrupt is taken in S even with mstatus.MIE = 0', async () => {
    const p = new Asm();
    p.openPmp().li(t0, MTIMECMP).li(t1, 50).i('sd', { rs1: t0, rs2: t1, imm: 0 }).csrsv(CSR.mie, 1 << IRQ.MTI);
    p.enter(PRV_S, 'sup');
    p.label('sup').label('spin').j('spin');
    const r = await run(p);
    expectTrap(r, { cause: INTERRUPT | 7n, epc: r.addr('spin') });
    expect(mpp(r.trapMstatus)).toBe(PRV_S);
  });
  it('a delegated S interrupt is not taken in M, but in S with SIE and in U always', async () => {
    for (const target of [PRV_S, PRV_U]) {
      const p = new Asm();
      p.openPmp().csrwv(CSR.mideleg, 1 << IRQ.STI).csrsv(CSR.mie, (1 << IRQ.STI) | (1 << IRQ.MTI));
      p.la(t0, 'strap').csrw(CSR.stvec, t0).csrsv(CSR.mip, 1 << IRQ.STI);
      p.csrsv(CSR.mstatus, MS.SIE | MS.MIE).li(a5, 0);
      for (let i = 0; i < 5; i++) p.i('addi', { rd: a5, rs1: a5, imm: 1 }); // M: not taken
      if (target === PRV_U) p.csrcv(CSR.mstatus, MS.SIE);
      p.enter(target, 'low');
      p.label('low').label('first').li(a4, 1).halt();
      p.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sepc).csrr(a2, CSR.sstatus).halt();
      const r = await run(p);
      expectHalt(r);
      expect(r.priv).toBe(PRV_S);
      expect(r.x(a5)).toBe(5n);
      expect(r.x(a4)).toBe(0n);
      expect(r.x(a0)).toBe(INTERRUPT | 5n);
      expect(r.x(a1)).toBe(r.addr('first'));
      expect(r.x(a2) & MS.SPP).toBe(target === PRV_S ? MS.SPP : 0n);
    }
  });
  it('in S with SIE = 0 a delegated S interrupt waits', async () => {
    const p = new Asm();
    p.openPmp().csrwv(CSR.mideleg, 1 << IRQ.SSI).csrsv(CSR.mie, 1 << IRQ.SSI).csrsv(CSR.mip, 1 << IRQ.SSI);
    p.la(t0, 'strap').csrw(CSR.stvec, t0).enter(PRV_S, 'sup');
    p.label('sup').li(a4, 1).i('csrrsi', { rd: 0, zimm: 2, csr: CSR.sstatus }).label('after').li(a5, 1).halt();
    p.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sepc).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a4)).toBe(1n);
    expect(r.x(a5)).toBe(0n);
    expect(r.x(a0)).toBe(INTERRUPT | 1n);
    expect(r.x(a1)).toBe(r.addr('after'));
  });
});

describe('WFI (3.3.3)', () => {
  it('wakes on a pending enabled interrupt even with MIE = 0, and continues after the wfi', async () => {
    const p = new Asm();
    p.li(s0, MTIME).i('ld', { rd: s1, rs1: s0, imm: 0 }).i('addi', { rd: s1, rs1: s1, imm: 1000 });
    p.li(t0, MTIMECMP).i('sd', { rs1: t0, rs2: s1, imm: 0 }).csrsv(CSR.mie, 1 << IRQ.MTI);
    p.i('wfi').i('ld', { rd: a0, rs1: s0, imm: 0 }).csrr(a1, CSR.mip).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) >= r.x(s1)).toBe(true);
    expect(r.x(a1) & (1n << 7n)).toBe(1n << 7n);
  });
  it('with MIE = 1 the interrupt is taken with mepc = the instruction after the wfi', async () => {
    const p = new Asm();
    p.li(t0, MTIMECMP).li(t1, 500).i('sd', { rs1: t0, rs2: t1, imm: 0 }).csrsv(CSR.mie, 1 << IRQ.MTI).csrsv(CSR.mstatus, MS.MIE);
    p.i('wfi').label('after').li(a0, 1).halt();
    const r = await run(p);
    expectTrap(r, { cause: INTERRUPT | 7n, epc: r.addr('after') });
    expect(r.x(a0)).toBe(0n);
  });
  it('with nothing that could wake the hart, run() returns Exit.Wfi', async () => {
    const p = new Asm();
    p.i('wfi').halt();
    const r = await run(p);
    expect(r.exit).toBe(Exit.Wfi);
  });
});

describe('Sstc (menvcfg.STCE = bit 63): stimecmp', () => {
  it('S programs stimecmp; STIP rises when time >= stimecmp; the delegated interrupt reaches S', async () => {
    const p = new Asm();
    p.openPmp().csrsv(CSR.menvcfg, 1n << 63n).csrwv(CSR.mcounteren, 2).csrwv(CSR.mideleg, 1 << IRQ.STI);
    p.csrsv(CSR.mie, 1 << IRQ.STI).la(t0, 'strap').csrw(CSR.stvec, t0).enter(PRV_S, 'sup');
    p.label('sup').csrr(s1, CSR.time).i('addi', { rd: s1, rs1: s1, imm: 20 }).csrw(CSR.stimecmp, s1);
    p.csrr(a3, CSR.sip).i('csrrsi', { rd: 0, zimm: 2, csr: CSR.sstatus }).li(a5, 0);
    p.label('spin').i('addi', { rd: a5, rs1: a5, imm: 1 }).j('spin');
    p.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sip).csrr(a2, CSR.time).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(INTERRUPT | 5n);
    expect(r.x(a3) & (1n << 5n)).toBe(0n);
    expect(r.x(a1) & (1n << 5n)).toBe(1n << 5n);
    expect(r.x(a2) >= r.x(s1)).toBe(true);
    expect(r.x(a5)).toBeGreaterThan(50n);
  });
  it('with STCE = 1, mip.STIP follows stimecmp only (software writes are ignored)', async () => {
    const p = new Asm();
    p.csrsv(CSR.menvcfg, 1n << 63n).csrwv(CSR.stimecmp, -1);
    p.csrsv(CSR.mip, 1 << IRQ.STI).csrr(a0, CSR.mip);
    p.csrwv(CSR.stimecmp, 0).csrcv(CSR.mip, 1 << IRQ.STI).csrr(a1, CSR.mip);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & (1n << 5n)).toBe(0n);
    expect(r.x(a1) & (1n << 5n)).toBe(1n << 5n);
  });
  it('stimecmp: illegal in S when STCE = 0 or mcounteren.TM = 0; always accessible in M', async () => {
    const ops = { rd: a0, rs1: 0, csr: CSR.stimecmp };
    for (const [stce, tm, legal] of [[0n, 2, false], [1n, 0, false], [1n, 2, true]] as const) {
      const p = new Asm();
      p.openPmp().csrwv(CSR.menvcfg, stce << 63n).csrwv(CSR.mcounteren, tm).li(a0, 0x55).enter(PRV_S, 'sup');
      p.label('sup').label('bad').i('csrrs', ops).halt();
      const r = await run(p);
      if (legal) expectHalt(r);
      else expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('csrrs', ops) });
    }
    // M with STCE = 0 (Sstc: "in a mode other than M-mode raises an illegal-instruction exception")
    const p = new Asm();
    p.csrwv(CSR.stimecmp, 0x1234).csrr(a0, CSR.stimecmp).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0x1234n);
  });
});
