// A extension (unprivileged spec, "A" Extension for Atomic Instructions): LR/SC, every AMO in
// .w (sign-extended result, 32-bit operation) and .d form, alignment exceptions.
import { describe, it, expect } from 'vitest';
import { Asm, R, run, expectHalt, expectTrap, UART } from './harness.js';

const ONES = 0xffff_ffff_ffff_ffffn;
const MIN = 0x8000_0000_0000_0000n;
const MAX = 0x7fff_ffff_ffff_ffffn;
const { a0, a1, a2, a3, a4, s0 } = R;
const SENTINEL = 0x5eeb_dead_beef_5eebn;

/** amo a0, a1, (s0) on memory `init`; returns rd and the memory afterwards (and the next dword). */
async function amo(name: string, init: bigint, src: bigint) {
  const p = new Asm();
  p.la(s0, 'data').li(a1, src).i(name, { rd: a0, rs1: s0, rs2: a1 }).halt();
  p.align(8).label('data').dword(init).dword(SENTINEL);
  const r = await run(p);
  expectHalt(r);
  return { rd: r.x(a0), mem: r.read64(r.addr('data')), next: r.read64(r.addr('data') + 8n), rs2: r.x(a1) };
}

describe('A: AMO .w (32-bit operation, old value sign-extended into rd, upper word untouched)', () => {
  // [name, memory dword (only its low word is the operand), rs2, new low word]
  const cases: [string, bigint, bigint, bigint][] = [
    ['amoswap.w', 0x8000_0001n, 0x1_2345_6789n, 0x2345_6789n],
    ['amoadd.w', 0xffff_ffffn, 2n, 1n],
    ['amoadd.w', 0x7fff_ffffn, 1n, 0x8000_0000n],
    ['amoxor.w', 0xf0f0_f0f0n, 0xffn, 0xf0f0_f00fn],
    ['amoand.w', 0x8000_ffffn, 0xffff_0000_ff00n, 0x0000_ff00n],
    ['amoor.w', 0x0000_0001n, 0x8000_0000n, 0x8000_0001n],
    // signed 32-bit compares: 0x0000_0000_ffff_fffe is -2 as a word
    ['amomin.w', 5n, 0x0000_0000_ffff_fffen, 0xffff_fffen],
    ['amomin.w', 0xffff_fffen, 5n, 0xffff_fffen],
    ['amomax.w', 0xffff_fffen, 0x1_0000_0003n, 3n],
    ['amomax.w', 3n, 0xffff_fffen, 3n],
    // unsigned 32-bit compares, upper bits of rs2 ignored
    ['amominu.w', 0xffff_fffen, 0xffff_ffff_0000_0003n, 3n],
    ['amominu.w', 3n, 0xffff_fffen, 3n],
    ['amomaxu.w', 3n, ONES - 1n, 0xffff_fffen],
    ['amomaxu.w', 0xffff_fffen, 0x1_0000_0003n, 0xffff_fffen],
  ];
  it.each(cases)('%s [%s], %s', async (name, init, src, want) => {
    const r = await amo(name, 0x1234_5678_0000_0000n | init, src);
    expect(r.rd).toBe(BigInt.asUintN(64, BigInt.asIntN(32, init)));
    expect(r.mem).toBe(0x1234_5678_0000_0000n | want);
    expect(r.next).toBe(SENTINEL);
  });
});

describe('A: AMO .d', () => {
  const cases: [string, bigint, bigint, bigint][] = [
    ['amoswap.d', 0x1122_3344_5566_7788n, ONES, ONES],
    ['amoadd.d', MAX, 1n, MIN],
    ['amoadd.d', ONES, 2n, 1n],
    ['amoxor.d', 0xff00_ff00_ff00_ff00n, ONES, 0x00ff_00ff_00ff_00ffn],
    ['amoand.d', 0xff00_ff00_ff00_ff00n, 0x0ff0_0ff0_0ff0_0ff0n, 0x0f00_0f00_0f00_0f00n],
    ['amoor.d', MIN, 1n, MIN | 1n],
    ['amomin.d', 5n, ONES, ONES],
    ['amomin.d', MIN, MAX, MIN],
    ['amomax.d', ONES, 5n, 5n],
    ['amomax.d', MIN, MAX, MAX],
    ['amominu.d', ONES, 5n, 5n],
    ['amominu.d', MIN, MAX, MAX],
    ['amomaxu.d', 5n, ONES, ONES],
    ['amomaxu.d', MIN, MAX, MIN],
  ];
  it.each(cases)('%s [%s], %s', async (name, init, src, want) => {
    const r = await amo(name, init, src);
    expect(r.rd).toBe(init);
    expect(r.mem).toBe(want);
    expect(r.next).toBe(SENTINEL);
  });
  it('rd == rs2: memory gets the operation on the old rs2, rd the old memory', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 10).i('amoadd.d', { rd: a1, rs1: s0, rs2: a1 });
    p.li(a2, 3).i('amoswap.w', { rd: 0, rs1: s0, rs2: a2 }); // rd = x0: the store still happens
    p.halt().align(8).label('data').dword(100n);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1)).toBe(100n);
    expect(r.x(0)).toBe(0n);
    expect(r.read64(r.addr('data'))).toBe(3n); // 110 = 0x6e, then its low word swapped for 3
  });
});

describe('A: LR/SC', () => {
  it('lr.w sign-extends; sc.w after it succeeds (rd = 0) and writes the word', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 0x1_2345_6789n);
    p.i('lr.w', { rd: a0, rs1: s0 }).i('sc.w', { rd: a2, rs1: s0, rs2: a1 });
    p.halt().align(8).label('data').dword(0xaaaa_aaaa_8000_0000n);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_8000_0000n);
    expect(r.x(a2)).toBe(0n);
    expect(r.read64(r.addr('data'))).toBe(0xaaaa_aaaa_2345_6789n);
  });
  it('lr.d / sc.d succeed on a doubleword', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, ONES);
    p.i('lr.d', { rd: a0, rs1: s0 }).i('sc.d', { rd: a2, rs1: s0, rs2: a1 });
    p.halt().align(8).label('data').dword(MIN | 7n);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(MIN | 7n);
    expect(r.x(a2)).toBe(0n);
    expect(r.read64(r.addr('data'))).toBe(ONES);
  });
  it('sc without any reservation fails with code 1 and does not write', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 0x55).li(a2, 0x77);
    p.i('sc.w', { rd: a0, rs1: s0, rs2: a1 }).i('sc.d', { rd: a3, rs1: s0, rs2: a2 });
    p.halt().align(8).label('data').dword(0x1111n);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(1n);
    expect(r.x(a3)).toBe(1n);
    expect(r.read64(r.addr('data'))).toBe(0x1111n);
  });
  it('an SC, successful or not, ends the reservation: a second SC fails', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 1).li(a2, 2);
    p.i('lr.d', { rd: a0, rs1: s0 }).i('sc.d', { rd: a3, rs1: s0, rs2: a1 }).i('sc.d', { rd: a4, rs1: s0, rs2: a2 });
    // a new LR makes a new reservation
    p.i('lr.d', { rd: a0, rs1: s0 }).i('sc.d', { rd: R.s1, rs1: s0, rs2: a2 });
    p.halt().align(8).label('data').dword(0n);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a3)).toBe(0n);
    expect(r.x(a4)).toBe(1n);
    expect(r.x(a0)).toBe(1n);
    expect(r.x(R.s1)).toBe(0n);
    expect(r.read64(r.addr('data'))).toBe(2n);
  });
  it('an SC between LR and SC (to another address) makes the later SC fail', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 1).li(a2, 2);
    p.i('lr.w', { rd: a0, rs1: s0 }).i('addi', { rd: R.s1, rs1: s0, imm: 0x100 });
    p.i('sc.w', { rd: a3, rs1: R.s1, rs2: a1 }).i('sc.w', { rd: a4, rs1: s0, rs2: a2 });
    p.halt().align(8).label('data').bytes(new Uint8Array(0x108));
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a4)).toBe(1n);
    expect(r.read32(r.addr('data'))).toBe(0);
  });
  it('SC to an address outside the reservation set (another page, the core reserves the LR address) fails', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a1, 9).li(a2, 0x1000).i('add', { rd: a2, rs1: s0, rs2: a2 });
    p.i('lr.d', { rd: a0, rs1: s0 }).i('sc.d', { rd: a3, rs1: a2, rs2: a1 });
    p.halt().align(8).label('data').bytes(new Uint8Array(0x1008));
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a3)).not.toBe(0n);
    expect(r.read64(r.addr('data') + 0x1000n)).toBe(0n);
  });
});

describe('A: alignment and access faults', () => {
  const mis: [string, number, number][] = [
    ['amoadd.w', 2, 6], ['amoswap.w', 1, 6], ['amoor.d', 4, 6], ['amomaxu.d', 7, 6],
    ['lr.w', 2, 4], ['lr.d', 4, 4],
    // the spec: LR and SC require natural alignment, else an exception is raised (no reservation needed)
    ['sc.w', 2, 6], ['sc.d', 4, 6],
  ];
  it.each(mis)('%s at data+%i raises cause %i with tval = the address and no write', async (name, off, cause) => {
    const p = new Asm();
    p.la(s0, 'data').i('addi', { rd: s0, rs1: s0, imm: off }).li(a1, -1).li(a0, 0x77);
    p.label('insn').i(name, name.startsWith('lr') ? { rd: a0, rs1: s0 } : { rd: a0, rs1: s0, rs2: a1 });
    p.halt().align(8).label('data').dword(0n).dword(0n);
    const r = await run(p);
    expectTrap(r, { cause, epc: r.addr('insn'), tval: r.addr('data') + BigInt(off) });
    expect(r.x(a0)).toBe(0x77n);
    expect(r.read64(r.addr('data'))).toBe(0n);
    expect(r.read64(r.addr('data') + 8n)).toBe(0n);
  });
  it('AMO to an I/O region without atomics (the UART) or to no device: store/AMO access fault', async () => {
    for (const addr of [UART, 0x4000_0000n]) {
      const p = new Asm();
      p.li(s0, addr).li(a1, 1);
      p.label('insn').i('amoadd.w', { rd: a0, rs1: s0, rs2: a1 });
      p.halt();
      const r = await run(p);
      expectTrap(r, { cause: 7, epc: r.addr('insn'), tval: addr });
    }
  });
});
