// C extension (unprivileged spec, "C" Extension for Compressed Instructions, RV64C): every
// instruction executed and checked against the 32-bit instruction it expands to, HINTs, and
// the reserved encodings (illegal instruction, mtval = the 16 instruction bits).
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, run, expectHalt, expectTrap } from './harness.js';

const ONES = 0xffff_ffff_ffff_ffffn;
const MIN = 0x8000_0000_0000_0000n;
const { sp, s0, s1, a0, a1, a2, a3, a4, a5, t0, t1, t2 } = R;
const DATA = RAM + 0x8000n;

describe('C: quadrant 1 and 2 integer computation', () => {
  it('c.addi, c.addiw, c.li, c.lui, c.slli, c.mv, c.add', async () => {
    const p = new Asm();
    p.li(a0, 5).i('c.addi', { rd: a0, imm: -6 });
    p.li(t0, 7).i('c.addi', { rd: t0, imm: 31 });
    p.li(a1, 0x7fff_ffff).i('c.addiw', { rd: a1, imm: 1 });
    p.li(t1, 0x1_0000_0005n).i('c.addiw', { rd: t1, imm: 0 }); // sext.w
    p.i('c.li', { rd: a2, imm: -32 }).i('c.li', { rd: R.s2, imm: 31 });
    p.i('c.lui', { rd: a3, imm: 0x1f000 }).i('c.lui', { rd: a4, imm: -0x20000 });
    p.li(t2, 3).i('c.slli', { rd: t2, imm: 62 });
    p.i('c.mv', { rd: R.s3, rs2: t2 });
    p.li(R.s4, 1).i('c.add', { rd: R.s4, rs1: R.s4, rs2: t2 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(ONES);
    expect(r.x(t0)).toBe(38n);
    expect(r.x(a1)).toBe(0xffff_ffff_8000_0000n);
    expect(r.x(t1)).toBe(5n);
    expect(r.x(a2)).toBe(0xffff_ffff_ffff_ffe0n);
    expect(r.x(R.s2)).toBe(31n);
    expect(r.x(a3)).toBe(0x1f000n);
    expect(r.x(a4)).toBe(0xffff_ffff_fffe_0000n);
    expect(r.x(t2)).toBe(0xc000_0000_0000_0000n);
    expect(r.x(R.s3)).toBe(0xc000_0000_0000_0000n);
    expect(r.x(R.s4)).toBe(0xc000_0000_0000_0001n);
  });
  it('c.srli, c.srai (shamt up to 63), c.andi, c.sub, c.xor', async () => {
    const p = new Asm();
    p.li(s0, MIN).i('c.srli', { rd: s0, imm: 63 });
    p.li(s1, MIN).i('c.srai', { rd: s1, imm: 33 });
    p.li(a0, -1).i('c.andi', { rd: a0, imm: -16 });
    p.li(a1, 0x1234).i('c.andi', { rd: a1, imm: 0x1f });
    p.li(a2, 10).li(a3, 12).i('c.sub', { rd: a2, rs2: a3 });
    p.li(a4, 0xff00).li(a5, 0x0ff0).i('c.xor', { rd: a4, rs2: a5 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(s0)).toBe(1n);
    expect(r.x(s1)).toBe(0xffff_ffff_c000_0000n);
    expect(r.x(a0)).toBe(0xffff_ffff_ffff_fff0n);
    expect(r.x(a1)).toBe(0x14n);
    expect(r.x(a2)).toBe(0xffff_ffff_ffff_fffen);
    expect(r.x(a4)).toBe(0xf0f0n);
  });
  it('c.or, c.and, c.subw, c.addw and the 64-bit shift by 1', async () => {
    const p = new Asm();
    p.li(s0, 0xf0).li(s1, 0x0f).i('c.or', { rd: s0, rs2: s1 });
    p.li(a0, 0xff).li(a1, 0x3c).i('c.and', { rd: a0, rs2: a1 });
    p.li(a2, 0x1_0000_0000n).li(a3, 1).i('c.subw', { rd: a2, rs2: a3 }); // low word 0 - 1
    p.li(a4, 0x7fff_ffff).li(a5, 0x1_0000_0001n).i('c.addw', { rd: a4, rs2: a5 });
    p.li(s1, 0x8000_0001n).i('c.srli', { rd: s1, imm: 1 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(s0)).toBe(0xffn);
    expect(r.x(a0)).toBe(0x3cn);
    expect(r.x(a2)).toBe(ONES);
    expect(r.x(a4)).toBe(0xffff_ffff_8000_0000n);
    expect(r.x(s1)).toBe(0x4000_0000n);
  });
});

describe('C: loads and stores', () => {
  it('c.addi4spn, c.addi16sp, c.lwsp/c.swsp, c.ldsp/c.sdsp, c.lw/c.sw, c.ld/c.sd', async () => {
    const p = new Asm();
    p.li(sp, DATA + 0x40n);
    p.i('c.addi16sp', { rd: sp, rs1: sp, imm: -64 }); // sp = DATA
    p.mv(t0, sp);
    p.i('c.addi4spn', { rd: a0, imm: 1020 });
    p.i('c.addi16sp', { rd: sp, rs1: sp, imm: 496 }).mv(t1, sp).i('c.addi16sp', { rd: sp, rs1: sp, imm: -496 });
    p.i('c.lwsp', { rd: t2, imm: 4 }); // 0x8000_0001: sign-extended
    p.i('c.ldsp', { rd: R.s2, imm: 504 });
    p.li(a1, 0x1111_2222_3333_4444n);
    p.i('c.swsp', { rs2: a1, imm: 252 }).i('c.sdsp', { rs2: a1, imm: 8 });
    p.li(s0, DATA + 0x100n);
    p.i('c.lw', { rd: a2, rs1: s0, imm: 124 }).i('c.ld', { rd: a3, rs1: s0, imm: 240 });
    p.i('c.sw', { rs1: s0, rs2: a1, imm: 4 }).i('c.sd', { rs1: s0, rs2: a1, imm: 16 });
    p.halt();
    const mem = new Uint8Array(0x400);
    const dv = new DataView(mem.buffer);
    dv.setUint32(4, 0x8000_0001, true);
    dv.setBigUint64(504, 0x0102_0304_0506_0708n, true);
    dv.setUint32(0x100 + 124, 0xfedc_ba98, true);
    dv.setBigUint64(0x100 + 240, 0xa5a5_5a5a_c3c3_3c3cn, true);
    p.pokes.push([DATA, mem]);
    const r = await run(p);
    expectHalt(r);
    expect(r.x(t0)).toBe(DATA);
    expect(r.x(a0)).toBe(DATA + 1020n);
    expect(r.x(t1)).toBe(DATA + 496n);
    expect(r.x(sp)).toBe(DATA);
    expect(r.x(t2)).toBe(0xffff_ffff_8000_0001n);
    expect(r.x(R.s2)).toBe(0x0102_0304_0506_0708n);
    expect(r.read32(DATA + 252n)).toBe(0x3333_4444);
    expect(r.read64(DATA + 8n)).toBe(0x1111_2222_3333_4444n);
    expect(r.x(a2)).toBe(0xffff_ffff_fedc_ba98n);
    expect(r.x(a3)).toBe(0xa5a5_5a5a_c3c3_3c3cn);
    expect(r.read64(DATA + 0x100n)).toBe(0x3333_4444_0000_0000n);
    expect(r.read64(DATA + 0x110n)).toBe(0x1111_2222_3333_4444n);
  });
  it('c.fld/c.fsd and c.fldsp/c.fsdsp move doubles bit-exactly', async () => {
    const p = new Asm();
    p.fpOn().li(sp, DATA).li(s1, DATA + 0x200n);
    p.i('c.fldsp', { rd: 10, imm: 8 }).i('c.fld', { rd: 9, rs1: s1, imm: 248 });
    p.i('c.fsdsp', { rs2: 9, imm: 504 }).i('c.fsd', { rs1: s1, rs2: 10, imm: 0 });
    p.halt();
    p.poke64(DATA + 8n, 0x7ff0_0000_0000_0001n).poke64(DATA + 0x200n + 248n, 0xc000_0000_0000_0000n);
    const r = await run(p);
    expectHalt(r);
    expect(r.f(10)).toBe(0x7ff0_0000_0000_0001n);
    expect(r.f(9)).toBe(0xc000_0000_0000_0000n);
    expect(r.read64(DATA + 504n)).toBe(0xc000_0000_0000_0000n);
    expect(r.read64(DATA + 0x200n)).toBe(0x7ff0_0000_0000_0001n);
  });
});

describe('C: control transfer', () => {
  it('c.j, c.beqz, c.bnez (taken and not), c.jr, c.jalr links pc+2', async () => {
    const p = new Asm();
    p.li(a0, 0).li(s0, 0).li(s1, 5);
    p.i('c.j', {}, 'fwd');
    p.i('c.addi', { rd: a0, imm: 1 }); // skipped
    p.label('back').i('c.addi', { rd: a0, imm: 2 }).i('c.j', {}, 'after_back');
    p.label('fwd').i('c.j', {}, 'back');
    p.label('after_back');
    p.i('c.beqz', { rs1: s1 }, 'bad'); // not taken (s1 = 5)
    p.i('c.bnez', { rs1: s0 }, 'bad'); // not taken (s0 = 0)
    p.i('c.beqz', { rs1: s0 }, 'z_ok'); // taken
    p.i('c.addi', { rd: a0, imm: 16 });
    p.label('z_ok').i('c.bnez', { rs1: s1 }, 'nz_ok'); // taken
    p.i('c.addi', { rd: a0, imm: 16 });
    p.label('nz_ok').la(t0, 'jr_target').i('c.jr', { rs1: t0 });
    p.i('c.addi', { rd: a0, imm: 16 });
    p.label('jr_target').la(t1, 'sub');
    p.label('call').i('c.jalr', { rs1: t1 });
    p.label('ret').i('c.addi', { rd: a0, imm: 4 }).halt();
    p.label('sub').mv(a1, R.ra).i('c.jr', { rs1: R.ra });
    p.label('bad').li(a0, 0xbad).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(6n);
    expect(r.x(a1)).toBe(r.addr('call') + 2n);
    expect(r.x(a1)).toBe(r.addr('ret'));
  });
  it('32-bit instructions at 2-byte-aligned addresses, and branches/jumps to them', async () => {
    const p = new Asm();
    const misalign = () => { if (p.here % 4 === 0) p.i('c.addi', { rd: 0, imm: 0 }); };
    misalign();
    p.label('odd0').li(a0, 0x123).i('addi', { rd: a0, rs1: a0, imm: 1 });
    misalign();
    p.label('odd').i('jal', { rd: R.ra }, 'odd_target');
    p.halt();
    misalign();
    p.label('odd_target').i('addi', { rd: a1, rs1: 0, imm: 7 }).i('jalr', { rd: 0, rs1: R.ra, imm: 0 });
    const r = await run(p);
    expectHalt(r);
    expect(r.addr('odd0') % 4n).toBe(2n);
    expect(r.addr('odd') % 4n).toBe(2n);
    expect(r.addr('odd_target') % 4n).toBe(2n);
    expect(r.x(a0)).toBe(0x124n);
    expect(r.x(a1)).toBe(7n);
    expect(r.x(R.ra)).toBe(r.addr('odd') + 4n);
  });
  it('c.ebreak raises a breakpoint with mepc = its address (mtval is 0 or that address)', async () => {
    const p = new Asm();
    p.label('bp').i('c.ebreak', {}).halt();
    const r = await run(p);
    expectTrap(r, { cause: 3, epc: r.addr('bp') });
    expect([0n, r.addr('bp')]).toContain(r.csr(CSR.mtval));
  });
});

describe('C: HINTs execute as no-ops', () => {
  // c.nop with imm != 0, c.li/c.lui/c.mv/c.add/c.slli with rd = x0, c.srli/c.srai with shamt 0
  const hints: [string, number][] = [
    ['c.addi x0, 5', 0x0015], ['c.li x0, -1', 0x507d], ['c.lui x0, 1', 0x6005], ['c.mv x0, a0', 0x802a],
    ['c.add x0, a0', 0x902a], ['c.slli x0, 1', 0x0006], ['c.srli s0, 0', 0x8001], ['c.srai s0, 0', 0x8401],
  ];
  it.each(hints.map(([d, h]) => [`${d} (0x${h.toString(16).padStart(4, '0')})`, h] as [string, number]))('%s', async (_, h) => {
    const p = new Asm();
    p.li(a0, 0x55).li(s0, 0x77);
    p.half(h).i('c.addi', { rd: 0, imm: 0 }).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(0)).toBe(0n);
    expect(r.x(a0)).toBe(0x55n);
    expect(r.x(s0)).toBe(0x77n);
  });
});

describe('C: reserved encodings are illegal instructions with mtval = the 16-bit instruction', () => {
  const reserved: [string, number][] = [
    ['all zeros', 0x0000],
    ['c.addi4spn with nzuimm = 0', 0x0004],
    ['c.addiw with rd = 0', 0x2005],
    ['c.addiw with rd = 0, imm 0', 0x2001],
    ['c.lwsp with rd = 0', 0x4006],
    ['c.ldsp with rd = 0', 0x6006],
    ['c.jr with rs1 = 0', 0x8002],
    ['c.addi16sp with nzimm = 0', 0x6101],
    ['c.lui with nzimm = 0 (rd = ra)', 0x6081],
    ['c.lui with nzimm = 0 (rd = t0)', 0x6281],
    ['quadrant 0, funct3 = 4', 0x8000],
    ['quadrant 0, funct3 = 4, other bits set', 0x9ffc],
  ];
  it.each(reserved.map(([d, h]) => [`${d} (0x${h.toString(16).padStart(4, '0')})`, h] as [string, number]))('%s', async (_, h) => {
    const p = new Asm();
    p.li(R.sp, DATA).li(a0, 0x55);
    // the halfword after it is not zero: mtval must not include it
    p.label('bad').half(h).half(0xffff).halt();
    const r = await run(p);
    expectTrap(r, { cause: 2, epc: r.addr('bad'), tval: h });
    expect(r.x(a0)).toBe(0x55n);
    expect(r.x(R.sp)).toBe(DATA);
  });
});
