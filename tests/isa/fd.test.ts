// F and D through the hart (unprivileged spec, "F" and "D" chapters; privileged spec
// mstatus.FS): NaN-boxing, transfers bit-exact, sign injection, conversions into x registers,
// fcsr and its views, rounding-mode legality, FS. The arithmetic itself is tested elsewhere.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, run, expectHalt, expectTrap } from './harness.js';
import { encode } from '../../src/isa/encode.js';

const { a0, a1, a2, a3, a4, a5, s0 } = R;
const BOX = 0xffff_ffff_0000_0000n;
const QNAN_S = 0x7fc0_0000n;
const QNAN_D = 0x7ff8_0000_0000_0000n;
const ONE_S = 0x3f80_0000n;
const TWO_S = 0x4000_0000n;
const ONE_D = 0x3ff0_0000_0000_0000n;
// fflags bits
const NX = 1n, UF = 2n, OF = 4n, DZ = 8n, NV = 16n;
void UF; void OF;

/** A program with the FPU on (FS = Initial) and f[i] = bits, via fmv.d.x. */
function fp(init: Record<number, bigint> = {}): Asm {
  const p = new Asm();
  p.fpOn();
  for (const [f, v] of Object.entries(init)) p.li(a5, v).i('fmv.d.x', { frd: Number(f), rs1: a5 });
  return p;
}

describe('F/D: NaN-boxing (D chapter, "NaN Boxing of Narrower Values")', () => {
  it('a single-precision operand that is not NaN-boxed reads as the canonical NaN', async () => {
    const p = fp({ 1: ONE_S, 2: 0xffff_fffe_3f80_0000n, 4: BOX | ONE_S });
    p.i('fsgnj.s', { frd: 3, frs1: 1, frs2: 1 }); // fmv.s of an unboxed value
    p.i('fadd.s', { frd: 5, frs1: 4, frs2: 1, rm: 0 });
    p.i('fsgnj.s', { frd: 6, frs1: 2, frs2: 4 }); // upper bits not all ones: not boxed either
    p.i('fclass.s', { rd: a0, frs1: 1 });
    p.i('fcvt.d.s', { frd: 7, frs1: 1, rm: 0 });
    p.i('feq.s', { rd: a1, frs1: 1, frs2: 1 });
    p.csrr(a2, CSR.fflags).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.f(3)).toBe(BOX | QNAN_S);
    expect(r.f(5)).toBe(BOX | QNAN_S);
    expect(r.f(6)).toBe(BOX | QNAN_S);
    expect(r.x(a0)).toBe(1n << 9n); // quiet NaN
    expect(r.f(7)).toBe(QNAN_D);
    expect(r.x(a1)).toBe(0n);
    expect(r.x(a2)).toBe(0n); // the canonical NaN is quiet: no invalid flag
  });
  it('single-precision results, fmv.w.x and flw write NaN-boxed values', async () => {
    const p = fp({ 1: BOX | ONE_S, 2: BOX | TWO_S });
    p.i('fadd.s', { frd: 3, frs1: 1, frs2: 2, rm: 0 });
    p.li(a0, 0x1234_5678_9abc_def0n).i('fmv.w.x', { frd: 4, rs1: a0 });
    p.la(s0, 'data').i('flw', { frd: 5, rs1: s0, imm: 0 }).i('flw', { frd: 6, rs1: s0, imm: 4 });
    p.i('fcvt.s.d', { frd: 7, frs1: 8, rm: 0 });
    p.halt().align(8).label('data').word(0x7f80_0001).word(0x8000_0000);
    const r = await run(p);
    expectHalt(r);
    expect(r.f(3)).toBe(BOX | 0x4040_0000n);
    expect(r.f(4)).toBe(BOX | 0x9abc_def0n);
    expect(r.f(5)).toBe(BOX | 0x7f80_0001n); // a signaling NaN is loaded unchanged
    expect(r.f(6)).toBe(BOX | 0x8000_0000n);
    expect(r.f(7)).toBe(BOX); // f8 = +0.0 (reset) converts to +0.0f, boxed
  });
  it('transfers ignore boxing: fmv.x.w and fsw move the low 32 bits of any register', async () => {
    const p = fp({ 1: 0x0000_0000_bf80_0000n, 2: 0x1234_5678_7f80_0001n });
    p.la(s0, 'data').i('fmv.x.w', { rd: a0, frs1: 1 }).i('fsw', { rs1: s0, frs2: 2, imm: 0 });
    p.i('fmv.x.w', { rd: a1, frs1: 2 });
    p.halt().align(8).label('data').dword(0xeeee_eeee_eeee_eeeen);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_bf80_0000n);
    expect(r.x(a1)).toBe(0x7f80_0001n);
    expect(r.read64(r.addr('data'))).toBe(0xeeee_eeee_7f80_0001n);
  });
});

describe('F/D: loads, stores and moves are bit-exact', () => {
  it('fld/fsd/flw/fsw keep NaN payloads and signs; misaligned addresses work', async () => {
    const p = fp();
    p.la(s0, 'data');
    p.i('fld', { frd: 1, rs1: s0, imm: 0 }).i('fld', { frd: 2, rs1: s0, imm: 8 });
    p.i('fsd', { rs1: s0, frs2: 1, imm: 16 }).i('fsd', { rs1: s0, frs2: 2, imm: 24 });
    p.i('flw', { frd: 3, rs1: s0, imm: 32 }).i('fsw', { rs1: s0, frs2: 3, imm: 36 });
    p.i('fld', { frd: 4, rs1: s0, imm: 41 }).i('fsd', { rs1: s0, frs2: 4, imm: 51 });
    p.i('fmv.x.d', { rd: a0, frs1: 1 }).li(a1, 0xfff0_0000_0000_0001n).i('fmv.d.x', { frd: 5, rs1: a1 });
    p.i('fmv.x.d', { rd: a2, frs1: 5 });
    p.halt().align(8).label('data');
    p.dword(0x7ff0_0000_0000_0001n).dword(0x8000_0000_0000_0000n).dword(0n).dword(0n);
    p.word(0xff80_0001).word(0).dword(0x1122_3344_5566_7788n).dword(0x99aa_bbcc_ddee_ff00n).dword(0n).dword(0n);
    const r = await run(p);
    expectHalt(r);
    const d = r.addr('data');
    expect(r.f(1)).toBe(0x7ff0_0000_0000_0001n);
    expect(r.f(2)).toBe(0x8000_0000_0000_0000n);
    expect(r.read64(d + 16n)).toBe(0x7ff0_0000_0000_0001n);
    expect(r.read64(d + 24n)).toBe(0x8000_0000_0000_0000n);
    expect(r.f(3)).toBe(BOX | 0xff80_0001n);
    expect(r.read32(d + 36n)).toBe(0xff80_0001);
    expect(r.f(4)).toBe(0x0011_2233_4455_6677n); // bytes 41..48
    expect(r.bytes(d + 51n, 8)).toEqual([0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00]);
    expect(r.x(a0)).toBe(0x7ff0_0000_0000_0001n);
    expect(r.x(a2)).toBe(0xfff0_0000_0000_0001n);
    expect(r.csr(CSR.fflags)).toBe(0n);
  });
  it('fmv.x.w sign-extends bit 31 into rd', async () => {
    const p = fp({ 1: BOX | 0x8000_0000n, 2: BOX | 0x7f80_0000n, 3: BOX | 0xffff_ffffn });
    p.i('fmv.x.w', { rd: a0, frs1: 1 }).i('fmv.x.w', { rd: a1, frs1: 2 }).i('fmv.x.w', { rd: a2, frs1: 3 }).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_8000_0000n);
    expect(r.x(a1)).toBe(0x7f80_0000n);
    expect(r.x(a2)).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe('F/D: sign injection', () => {
  it('fsgnj/fsgnjn/fsgnjx .s and .d, no flags even on a signaling NaN', async () => {
    const NEG_TWO_S = BOX | 0xc000_0000n;
    const NEG_ONE_S = BOX | 0xbf80_0000n;
    const NEG_TWO_D = 0xc000_0000_0000_0000n;
    const NEG_ONE_D = 0xbff0_0000_0000_0000n;
    const p = fp({ 1: BOX | ONE_S, 2: NEG_TWO_S, 3: NEG_ONE_S, 4: ONE_D, 5: NEG_TWO_D, 6: NEG_ONE_D, 7: BOX | 0x7f80_0001n, 8: 0x7ff0_0000_0000_0001n });
    p.i('fsgnj.s', { frd: 10, frs1: 1, frs2: 2 });
    p.i('fsgnjn.s', { frd: 11, frs1: 1, frs2: 2 });
    p.i('fsgnjx.s', { frd: 12, frs1: 3, frs2: 2 });
    p.i('fsgnjx.s', { frd: 13, frs1: 1, frs2: 2 });
    p.i('fsgnj.d', { frd: 14, frs1: 4, frs2: 5 });
    p.i('fsgnjn.d', { frd: 15, frs1: 6, frs2: 5 });
    p.i('fsgnjx.d', { frd: 16, frs1: 6, frs2: 5 });
    p.i('fsgnjn.s', { frd: 17, frs1: 7, frs2: 7 }); // fneg.s of a signaling NaN
    p.i('fsgnjx.d', { frd: 18, frs1: 8, frs2: 5 });
    p.i('fsgnj.d', { frd: 19, frs1: 5, frs2: 4 }); // fabs via fsgnj with a positive sign
    p.csrr(a0, CSR.fflags).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.f(10)).toBe(NEG_ONE_S);
    expect(r.f(11)).toBe(BOX | ONE_S);
    expect(r.f(12)).toBe(BOX | ONE_S);
    expect(r.f(13)).toBe(NEG_ONE_S);
    expect(r.f(14)).toBe(NEG_ONE_D);
    expect(r.f(15)).toBe(ONE_D);
    expect(r.f(16)).toBe(ONE_D);
    expect(r.f(17)).toBe(BOX | 0xff80_0001n);
    expect(r.f(18)).toBe(0xfff0_0000_0000_0001n);
    expect(r.f(19)).toBe(0x4000_0000_0000_0000n);
    expect(r.x(a0)).toBe(0n);
  });
});

describe('F/D: conversions into x registers (32-bit results sign-extended on RV64)', () => {
  it('fcvt.wu.s / fcvt.wu.d sign-extend the 32-bit result; invalid inputs saturate with NV', async () => {
    const p = fp({ 1: BOX | 0x4f32_d05en /* 3e9 */, 2: 0x41e6_5a0b_c000_0000n /* 3e9 */, 3: BOX | 0xbf80_0000n /* -1 */, 4: BOX | 0x5015_02f9n /* 1e10 */, 5: BOX | QNAN_S });
    p.i('fcvt.wu.s', { rd: a0, frs1: 1, rm: 1 });
    p.i('fcvt.wu.d', { rd: a1, frs1: 2, rm: 1 });
    p.csrr(s0, CSR.fflags);
    p.i('fcvt.wu.s', { rd: a2, frs1: 3, rm: 1 });
    p.i('fcvt.wu.s', { rd: a3, frs1: 4, rm: 1 });
    p.i('fcvt.w.s', { rd: a4, frs1: 5, rm: 1 });
    p.i('fcvt.w.s', { rd: R.s1, frs1: 4, rm: 1 });
    p.csrr(a5, CSR.fflags).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_b2d0_5e00n);
    expect(r.x(a1)).toBe(0xffff_ffff_b2d0_5e00n);
    expect(r.x(s0)).toBe(0n);
    expect(r.x(a2)).toBe(0n);
    expect(r.x(a3)).toBe(0xffff_ffff_ffff_ffffn); // 2^32-1, sign-extended
    expect(r.x(a4)).toBe(0x7fff_ffffn);
    expect(r.x(R.s1)).toBe(0x7fff_ffffn);
    expect(r.x(a5)).toBe(NV);
  });
  it('the static rm field and the dynamic frm select the rounding of a conversion', async () => {
    const p = fp({ 1: BOX | 0x4020_0000n /* 2.5 */, 2: BOX | 0xc060_0000n /* -3.5 */ });
    const modes = [0, 1, 2, 3, 4];
    modes.forEach((rm, k) => p.i('fcvt.w.s', { rd: 10 + k, frs1: 1, rm }));
    modes.forEach((rm, k) => p.i('fcvt.l.s', { rd: 18 + k, frs1: 2, rm }));
    p.i('csrrwi', { rd: 0, zimm: 3, csr: CSR.frm }).i('fcvt.w.s', { rd: 23, frs1: 1, rm: 7 });
    p.i('csrrwi', { rd: 0, zimm: 1, csr: CSR.frm }).i('fcvt.w.s', { rd: 24, frs1: 2, rm: 7 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    // RNE, RTZ, RDN, RUP, RMM
    expect([10, 11, 12, 13, 14].map((i) => r.x(i))).toEqual([2n, 2n, 2n, 3n, 3n]);
    const m = (v: bigint) => BigInt.asUintN(64, v);
    expect([18, 19, 20, 21, 22].map((i) => r.x(i))).toEqual([m(-4n), m(-3n), m(-4n), m(-3n), m(-4n)]);
    expect(r.x(23)).toBe(3n); // dynamic: RUP
    expect(r.x(24)).toBe(m(-3n)); // dynamic: RTZ
    expect(r.csr(CSR.fflags)).toBe(NX);
  });
});

describe('F/D: fcsr, frm, fflags', () => {
  it('exception flags accumulate until software clears them; the three CSR views agree', async () => {
    const p = fp({ 1: BOX | ONE_S, 2: BOX, 3: BOX | 0x3080_0000n /* 2^-30 */ });
    p.i('fdiv.s', { frd: 4, frs1: 1, frs2: 2, rm: 0 }); // 1/0: DZ
    p.csrr(a0, CSR.fflags);
    p.i('fadd.s', { frd: 5, frs1: 1, frs2: 3, rm: 0 }); // inexact
    p.csrr(a1, CSR.fflags).i('csrrwi', { rd: 0, zimm: 2, csr: CSR.frm }).csrr(a2, CSR.fcsr);
    p.i('csrrw', { rd: a3, rs1: 0, csr: CSR.fflags }); // read and clear
    p.csrr(a4, CSR.fcsr);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.f(4)).toBe(BOX | 0x7f80_0000n);
    expect(r.f(5)).toBe(BOX | ONE_S);
    expect(r.x(a0)).toBe(DZ);
    expect(r.x(a1)).toBe(DZ | NX);
    expect(r.x(a2)).toBe((2n << 5n) | DZ | NX);
    expect(r.x(a3)).toBe(DZ | NX);
    expect(r.x(a4)).toBe(2n << 5n);
  });
  it('fcsr keeps bits 7:0, fflags bits 4:0, frm bits 2:0; fcsr writes reach both fields', async () => {
    const p = fp();
    p.li(a0, 0xfff).i('csrrw', { rd: a1, rs1: a0, csr: CSR.fcsr });
    p.csrr(a2, CSR.fcsr).csrr(a3, CSR.frm).csrr(a4, CSR.fflags);
    p.li(a0, 0x4a).csrw(CSR.fcsr, a0).csrr(s0, CSR.frm).csrr(R.s1, CSR.fflags);
    p.li(a0, -1).csrw(CSR.fflags, a0).csrw(CSR.frm, 0).csrr(R.s2, CSR.fcsr);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1)).toBe(0n);
    expect(r.x(a2)).toBe(0xffn);
    expect(r.x(a3)).toBe(7n);
    expect(r.x(a4)).toBe(0x1fn);
    expect(r.x(s0)).toBe(2n);
    expect(r.x(R.s1)).toBe(0x0an);
    expect(r.x(R.s2)).toBe(0x1fn);
  });
});

describe('F/D: rounding-mode legality', () => {
  it.each([5, 6])('a static rm of %i is an illegal instruction (mtval = the instruction)', async (rm) => {
    const p = fp({ 1: BOX | ONE_S });
    p.label('bad').i('fadd.s', { frd: 2, frs1: 1, frs2: 1, rm }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('fadd.s', { frd: 2, frs1: 1, frs2: 1, rm }) });
    expect(r.f(2)).toBe(0n);
  });
  it('instructions whose result ignores rm still decode it: fcvt.d.s / fcvt.d.w with rm 5 are illegal', async () => {
    for (const name of ['fcvt.d.s', 'fcvt.d.w']) {
      const p = fp();
      const ops: Record<string, number> = name === 'fcvt.d.s' ? { frd: 2, frs1: 1, rm: 5 } : { frd: 2, rs1: 0, rm: 5 };
      p.label('bad').i(name, ops).halt();
      const r = await run(p);
      expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name, ops) });
    }
  });
  it.each([5, 6, 7])('with frm = %i, a dynamic-rm instruction is illegal; static-rm and rm-less ones are not', async (frm) => {
    const p = fp({ 1: BOX | ONE_S });
    p.i('csrrwi', { rd: 0, zimm: frm, csr: CSR.frm });
    p.i('fadd.s', { frd: 3, frs1: 1, frs2: 1, rm: 0 }); // static: fine
    p.i('fsgnj.s', { frd: 4, frs1: 1, frs2: 1 }).i('fmv.x.w', { rd: a0, frs1: 1 }).i('feq.s', { rd: a1, frs1: 1, frs2: 1 });
    p.label('bad').i('fmul.s', { frd: 5, frs1: 1, frs2: 1, rm: 7 }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode('fmul.s', { frd: 5, frs1: 1, frs2: 1, rm: 7 }) });
    expect(r.f(3)).toBe(BOX | TWO_S);
    expect(r.f(4)).toBe(BOX | ONE_S);
    expect(r.x(a0)).toBe(ONE_S);
    expect(r.x(a1)).toBe(1n);
  });
});

describe('F/D: mstatus.FS', () => {
  const insns: [string, Record<string, number>][] = [
    ['flw', { frd: 1, rs1: 0, imm: 0 }],
    ['fsd', { frs2: 1, rs1: 0, imm: 0 }],
    ['fmv.x.w', { rd: 10, frs1: 1 }],
    ['fmv.d.x', { frd: 1, rs1: 10 }],
    ['fadd.d', { frd: 1, frs1: 2, frs2: 3, rm: 0 }],
    ['fsgnj.s', { frd: 1, frs1: 2, frs2: 3 }],
    ['fcvt.w.s', { rd: 10, frs1: 2, rm: 1 }],
    ['fmadd.s', { frd: 1, frs1: 2, frs2: 3, frs3: 4, rm: 0 }],
    ['csrrs', { rd: 10, rs1: 0, csr: CSR.fcsr }],
    ['csrrs', { rd: 10, rs1: 0, csr: CSR.frm }],
    ['csrrwi', { rd: 0, zimm: 1, csr: CSR.fflags }],
  ];
  it.each(insns)('with FS = Off, %s %j is an illegal instruction', async (name, ops) => {
    const p = new Asm();
    p.csrcv(CSR.mstatus, MS.FS).li(a0, 0x1234);
    p.label('bad').i(name, ops).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name, ops) });
    expect(r.x(a0)).toBe(0x1234n);
  });
  it('with FS = Off, c.fld / c.fsdsp are illegal (mtval = the 16-bit instruction)', async () => {
    for (const [name, ops] of [['c.fld', { rd: 8, rs1: 9, imm: 8 }], ['c.fsdsp', { rs2: 3, imm: 16 }]] as const) {
      const p = new Asm();
      p.csrcv(CSR.mstatus, MS.FS).li(R.sp, RAM + 0x8000n).li(R.s1, RAM + 0x8000n);
      p.label('bad').i(name, ops as Record<string, number>).half(0xffff).halt();
      const r = await run(p);
      expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: encode(name, ops as Record<string, number>) });
    }
  });
  it('writing FP state (a register, fflags via an operation, fcsr) makes FS Dirty and sets SD', async () => {
    const p = new Asm();
    p.fpOn(1n).csrr(a0, CSR.mstatus);
    p.i('fmv.d.x', { frd: 1, rs1: 0 }).csrr(a1, CSR.mstatus);
    p.fpOn(2n).csrr(a2, CSR.mstatus); // Clean
    p.i('csrrwi', { rd: 0, zimm: 1, csr: CSR.fflags }).csrr(a3, CSR.mstatus).csrr(a4, CSR.sstatus);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0) & (MS.FS | MS.SD)).toBe(1n << 13n);
    expect(r.x(a1) & (MS.FS | MS.SD)).toBe(MS.FS | MS.SD);
    expect(r.x(a2) & (MS.FS | MS.SD)).toBe(2n << 13n);
    expect(r.x(a3) & (MS.FS | MS.SD)).toBe(MS.FS | MS.SD);
    expect(r.x(a4) & (MS.FS | MS.SD)).toBe(MS.FS | MS.SD);
  });
});
