// RV64I (unprivileged spec, "RV32I Base Integer Instruction Set" and "RV64I Base Integer
// Instruction Set"): every ALU op, shifts, W ops, lui/auipc, jumps, branches, loads, stores,
// misaligned accesses, x0.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, run, evalOp, expectHalt, expectTrap } from './harness.js';

const MIN = 0x8000_0000_0000_0000n;
const MAX = 0x7fff_ffff_ffff_ffffn;
const ONES = 0xffff_ffff_ffff_ffffn;
const { a0, a1, a2, a3, a4, a5, a6, a7, s0, s1, t0, t1 } = R;

type Case = [bigint, bigint | number, bigint];
async function check(name: string, cases: Case[], imm = false) {
  const got = await evalOp(name, cases.map(([x, y]) => [x, y]), imm);
  expect(got.map((v) => '0x' + v.toString(16))).toEqual(cases.map(([, , e]) => '0x' + e.toString(16)));
}

describe('RV64I register-register ALU', () => {
  it('add', () => check('add', [
    [1n, 2n, 3n], [ONES, 1n, 0n], [MAX, 1n, MIN], [MIN, MIN, 0n], [0x1234_5678_9abc_def0n, 0x1111_1111_1111_1111n, 0x2345_6789_abcd_f001n],
  ]));
  it('sub', () => check('sub', [
    [3n, 2n, 1n], [0n, 1n, ONES], [MIN, 1n, MAX], [1n, ONES, 2n],
  ]));
  it('sll uses rs2[5:0]', () => check('sll', [
    [1n, 0n, 1n], [1n, 1n, 2n], [1n, 31n, 0x8000_0000n], [1n, 32n, 0x1_0000_0000n], [1n, 63n, MIN],
    [1n, 64n, 1n], [1n, 65n, 2n], [3n, 0xffff_ffff_ffff_ffc1n, 6n], [ONES, 4n, 0xffff_ffff_ffff_fff0n],
  ]));
  it('srl uses rs2[5:0], zero-fills', () => check('srl', [
    [MIN, 63n, 1n], [MIN, 1n, 0x4000_0000_0000_0000n], [ONES, 32n, 0xffff_ffffn], [ONES, 64n, ONES], [ONES, 0x7fn, 1n],
  ]));
  it('sra uses rs2[5:0], sign-fills', () => check('sra', [
    [MIN, 63n, ONES], [MIN, 1n, 0xc000_0000_0000_0000n], [MAX, 62n, 1n], [0xf0n, 4n, 0xfn], [MIN, 64n, MIN], [MIN, 0x41n, 0xc000_0000_0000_0000n],
  ]));
  it('slt is signed', () => check('slt', [
    [ONES, 1n, 1n], [1n, ONES, 0n], [5n, 5n, 0n], [MIN, MAX, 1n], [MAX, MIN, 0n], [ONES, 0n, 1n],
  ]));
  it('sltu is unsigned', () => check('sltu', [
    [ONES, 1n, 0n], [1n, ONES, 1n], [5n, 5n, 0n], [MIN, MAX, 0n], [0n, 1n, 1n], [0n, 0n, 0n],
  ]));
  it('xor, or, and', async () => {
    await check('xor', [[0xff00n, 0x0ff0n, 0xf0f0n], [ONES, 0x5555n, 0xffff_ffff_ffff_aaaan]]);
    await check('or', [[0xff00n, 0x0ff0n, 0xfff0n], [MIN, 1n, MIN | 1n]]);
    await check('and', [[0xff00n, 0x0ff0n, 0x0f00n], [ONES, MIN, MIN]]);
  });
});

describe('RV64I register-immediate ALU (12-bit sign-extended immediates)', () => {
  it('addi', () => check('addi', [[0n, -2048, 0xffff_ffff_ffff_f800n], [0n, 2047, 2047n], [ONES, 1, 0n], [MAX, 1, MIN]], true));
  it('slti', () => check('slti', [[ONES, 0, 1n], [0n, -1, 0n], [MIN, -2048, 1n], [5n, 5, 0n], [4n, 5, 1n]], true));
  it('sltiu compares with the sign-extended immediate as unsigned', () =>
    check('sltiu', [[5n, -1, 1n], [ONES, -1, 0n], [0n, 1, 1n], [1n, 1, 0n], [0xffff_ffff_ffff_f7ffn, -2048, 1n]], true));
  it('xori (xori -1 is not), ori, andi', async () => {
    await check('xori', [[0x1234n, -1, 0xffff_ffff_ffff_edcbn], [0xf0n, 0xff, 0x0fn]], true);
    await check('ori', [[0n, -2048, 0xffff_ffff_ffff_f800n], [0x100n, 1, 0x101n]], true);
    await check('andi', [[ONES, -16, 0xffff_ffff_ffff_fff0n], [0x1234_5678n, 0x7ff, 0x678n], [ONES, 0, 0n]], true);
  });
  it('slli, srli, srai with shamt 0..63', async () => {
    await check('slli', [[1n, 0, 1n], [1n, 31, 0x8000_0000n], [1n, 32, 0x1_0000_0000n], [3n, 63, MIN]], true);
    await check('srli', [[MIN, 63, 1n], [ONES, 32, 0xffff_ffffn], [ONES, 0, ONES], [MIN, 31, 0x1_0000_0000n]], true);
    await check('srai', [[MIN, 63, ONES], [MIN, 32, 0xffff_ffff_8000_0000n], [MAX, 63, 0n], [0x80n, 7, 1n]], true);
  });
});

describe('RV64I W ops: 32-bit operation, result sign-extended from bit 31', () => {
  it('addw, subw', async () => {
    await check('addw', [
      [0x7fff_ffffn, 1n, 0xffff_ffff_8000_0000n], [0x1_0000_0001n, 0x1_0000_0001n, 2n], [0xffff_ffffn, 1n, 0n], [0n, 0x8000_0000n, 0xffff_ffff_8000_0000n],
    ]);
    await check('subw', [[0n, 1n, ONES], [0x8000_0000n, 1n, 0x7fff_ffffn], [0x5_0000_0003n, 0x3_0000_0001n, 2n]]);
  });
  it('sllw, srlw, sraw use rs2[4:0]', async () => {
    await check('sllw', [
      [1n, 31n, 0xffff_ffff_8000_0000n], [1n, 32n, 1n], [1n, 33n, 2n], [0xffff_ffff_0000_0001n, 0n, 1n], [0x4000_0000n, 1n, 0xffff_ffff_8000_0000n],
    ]);
    await check('srlw', [
      [0x8000_0000n, 31n, 1n], [0xffff_ffff_8000_0000n, 1n, 0x4000_0000n], [ONES, 0n, ONES], [0xffff_ffffn, 32n, ONES], [0x1_0000_0010n, 36n, 1n],
    ]);
    await check('sraw', [
      [0x8000_0000n, 31n, ONES], [0x8000_0000n, 33n, 0xffff_ffff_c000_0000n], [0x7fff_ffffn, 30n, 1n], [0x1_8000_0000n, 4n, 0xffff_ffff_f800_0000n],
    ]);
  });
  it('addiw (addiw rd, rs, 0 is sext.w), slliw, srliw, sraiw', async () => {
    await check('addiw', [
      [0x7fff_ffffn, 1, 0xffff_ffff_8000_0000n], [0x1234_5678_8000_0000n, 0, 0xffff_ffff_8000_0000n], [0xffff_ffffn, 0, ONES], [0n, -1, ONES], [0x1_0000_0000n, 0, 0n],
    ], true);
    await check('slliw', [[1n, 31, 0xffff_ffff_8000_0000n], [0x1_0000_0003n, 1, 6n], [0x8000_0001n, 0, 0xffff_ffff_8000_0001n]], true);
    await check('srliw', [[0x8000_0000n, 31, 1n], [ONES, 0, ONES], [ONES, 1, 0x7fff_ffffn], [0xf_0000_0100n, 8, 1n]], true);
    await check('sraiw', [[0x8000_0000n, 31, ONES], [0x8000_0000n, 0, 0xffff_ffff_8000_0000n], [0x7fff_0000n, 16, 0x7fffn], [0x0000_0001_8000_0000n, 1, 0xffff_ffff_c000_0000n]], true);
  });
});

describe('RV64I lui, auipc', () => {
  it('lui places imm[31:12] and sign-extends bit 31', async () => {
    const p = new Asm();
    p.i('lui', { rd: a0, imm: 0x8000_0000 | 0 }).i('lui', { rd: a1, imm: 0x7ffff000 }).i('lui', { rd: a2, imm: -4096 });
    p.i('lui', { rd: a3, imm: 0x12345000 }).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_8000_0000n);
    expect(r.x(a1)).toBe(0x7fff_f000n);
    expect(r.x(a2)).toBe(0xffff_ffff_ffff_f000n);
    expect(r.x(a3)).toBe(0x1234_5000n);
  });
  it('auipc adds the sign-extended upper immediate to its own pc', async () => {
    const p = new Asm();
    p.label('i0').i('auipc', { rd: a0, imm: 0 });
    p.label('i1').i('auipc', { rd: a1, imm: -4096 });
    p.label('i2').i('auipc', { rd: a2, imm: 0x8000_0000 | 0 });
    p.label('i3').i('auipc', { rd: a3, imm: 0x7fff_f000 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(r.addr('i0'));
    expect(r.x(a1)).toBe(r.addr('i1') - 4096n);
    // 0x8000_00xx + (-2^31) = 0x0000_0000_0000_00xx
    expect(r.x(a2)).toBe(r.addr('i2') - 0x8000_0000n);
    expect(r.x(a3)).toBe(r.addr('i3') + 0x7fff_f000n);
  });
});

describe('RV64I jumps', () => {
  it('jal links pc+4 and jumps forward and backward', async () => {
    const p = new Asm();
    p.li(a2, 0);
    p.label('call').i('jal', { rd: R.ra }, 'fwd');
    p.label('ret').i('addi', { rd: a2, rs1: a2, imm: 1 }).j('end');
    p.label('back').i('addi', { rd: a2, rs1: a2, imm: 0x10 }).i('jalr', { rd: 0, rs1: R.ra, imm: 0 });
    p.label('fwd').i('addi', { rd: a2, rs1: a2, imm: 0x100 }).i('jal', { rd: a0 }, 'back');
    p.label('after_back').i('addi', { rd: a2, rs1: a2, imm: 0x7ff }); // never reached: ra returns to 'ret'
    p.label('end').halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(R.ra)).toBe(r.addr('call') + 4n);
    expect(r.x(a0)).toBe(r.addr('after_back'));
    expect(r.x(a2)).toBe(0x111n);
  });
  it('jalr: target = (rs1 + imm) & ~1, link = pc+4, rs1 read before rd is written', async () => {
    const p = new Asm();
    p.la(a0, 'target').i('addi', { rd: a0, rs1: a0, imm: 1 }); // odd address: bit 0 is cleared
    p.li(a3, 0);
    p.label('j1').i('jalr', { rd: a1, rs1: a0, imm: 0 });
    p.li(a3, 0xbad).halt();
    p.label('target').la(a4, 'target2').i('addi', { rd: a4, rs1: a4, imm: 16 });
    p.label('j2').i('jalr', { rd: a4, rs1: a4, imm: -15 }); // rd == rs1; (t2 + 16 - 15) & ~1 = t2
    p.li(a3, 0xbad).halt();
    p.label('target2').halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a3)).toBe(0n);
    expect(r.x(a1)).toBe(r.addr('j1') + 4n);
    expect(r.x(a4)).toBe(r.addr('j2') + 4n);
    expect(r.core.pc).toBeGreaterThan(r.addr('target2'));
  });
});

describe('RV64I branches', () => {
  const cases: [string, bigint, bigint, boolean][] = [
    ['beq', 5n, 5n, true], ['beq', 5n, 6n, false], ['beq', ONES, 0xffff_ffffn, false],
    ['bne', 5n, 6n, true], ['bne', ONES, ONES, false],
    ['blt', ONES, 1n, true], ['blt', 1n, ONES, false], ['blt', 3n, 3n, false], ['blt', MIN, MAX, true],
    ['bge', 1n, ONES, true], ['bge', 3n, 3n, true], ['bge', ONES, 1n, false], ['bge', MIN, MAX, false],
    ['bltu', 1n, ONES, true], ['bltu', ONES, 1n, false], ['bltu', 3n, 3n, false], ['bltu', MAX, MIN, true],
    ['bgeu', ONES, 1n, true], ['bgeu', 3n, 3n, true], ['bgeu', 1n, ONES, false], ['bgeu', MAX, MIN, false],
  ];
  it.each(cases)('%s %s, %s taken: %s (forward and backward)', async (name, x, y, taken) => {
    const p = new Asm();
    p.li(a0, x).li(a1, y).li(a2, 0).li(a3, 0);
    p.i(name, { rs1: a0, rs2: a1 }, 'fwd').li(a2, 1).j('bwd_test');
    p.label('fwd').li(a2, 2).j('bwd_test');
    p.label('bwd_target').li(a3, 2).j('end');
    p.label('bwd_test').i(name, { rs1: a0, rs2: a1 }, 'bwd_target').li(a3, 1);
    p.label('end').halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a2)).toBe(taken ? 2n : 1n);
    expect(r.x(a3)).toBe(taken ? 2n : 1n);
  });
});

describe('RV64I loads and stores', () => {
  const DATA = [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x01, 0x72, 0x03, 0x74, 0x05, 0x06, 0x07, 0x78];
  it('every load width with sign or zero extension, positive and negative offsets', async () => {
    const p = new Asm();
    p.la(s0, 'data');
    p.i('lb', { rd: a0, rs1: s0, imm: 0 }).i('lbu', { rd: a1, rs1: s0, imm: 0 });
    p.i('lh', { rd: a2, rs1: s0, imm: 2 }).i('lhu', { rd: a3, rs1: s0, imm: 2 });
    p.i('lw', { rd: a4, rs1: s0, imm: 4 }).i('lwu', { rd: a5, rs1: s0, imm: 4 });
    p.i('ld', { rd: a6, rs1: s0, imm: 0 }).i('ld', { rd: a7, rs1: s0, imm: 8 });
    p.i('addi', { rd: s1, rs1: s0, imm: 16 });
    p.i('lb', { rd: t0, rs1: s1, imm: -7 }).i('lw', { rd: t1, rs1: s1, imm: -8 });
    p.i('lh', { rd: R.s2, rs1: s1, imm: -8 }).i('lhu', { rd: R.s3, rs1: s1, imm: -2 });
    p.halt().align(8).label('data').bytes(new Uint8Array(DATA));
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0xffff_ffff_ffff_ff80n);
    expect(r.x(a1)).toBe(0x80n);
    expect(r.x(a2)).toBe(0xffff_ffff_ffff_8382n);
    expect(r.x(a3)).toBe(0x8382n);
    expect(r.x(a4)).toBe(0xffff_ffff_8786_8584n);
    expect(r.x(a5)).toBe(0x8786_8584n);
    expect(r.x(a6)).toBe(0x8786_8584_8382_8180n);
    expect(r.x(a7)).toBe(0x7807_0605_7403_7201n);
    expect(r.x(t0)).toBe(0x72n);
    expect(r.x(t1)).toBe(0x7403_7201n);
    expect(r.x(R.s2)).toBe(0x7201n);
    expect(r.x(R.s3)).toBe(0x7807n);
  });
  it('sb, sh, sw, sd write exactly their bytes (low bits of rs2)', async () => {
    const p = new Asm();
    p.la(s0, 'data').li(a0, 0x1122_3344_5566_7788n);
    p.i('sb', { rs1: s0, rs2: a0, imm: 0 });
    p.i('sh', { rs1: s0, rs2: a0, imm: 2 });
    p.i('sw', { rs1: s0, rs2: a0, imm: 4 });
    p.i('sd', { rs1: s0, rs2: a0, imm: 8 });
    p.i('addi', { rd: s1, rs1: s0, imm: 32 }).i('sw', { rs1: s1, rs2: a0, imm: -12 });
    p.halt().align(8).label('data').bytes(new Uint8Array(32).fill(0xee));
    const r = await run(p);
    expectHalt(r);
    expect(r.bytes(r.addr('data'), 32)).toEqual([
      0x88, 0xee, 0x88, 0x77, 0x88, 0x77, 0x66, 0x55,
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
      0xee, 0xee, 0xee, 0xee, 0x88, 0x77, 0x66, 0x55,
      0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
    ]);
  });
  it('misaligned loads and stores are performed (within a page and across pages)', async () => {
    const p = new Asm();
    const PAGE = RAM + 0x10000n;
    p.li(s0, PAGE + 0x11n);
    p.i('lh', { rd: a0, rs1: s0, imm: 0 }).i('lw', { rd: a1, rs1: s0, imm: 0 }).i('ld', { rd: a2, rs1: s0, imm: 0 });
    p.i('lwu', { rd: a3, rs1: s0, imm: 2 });
    p.li(s1, PAGE + 0xffdn).i('ld', { rd: a4, rs1: s1, imm: 0 }); // 3 bytes in one page, 5 in the next
    p.li(t0, 0x0102_0304_0506_0708n);
    p.i('sd', { rs1: s1, rs2: t0, imm: -0x100 }).i('sw', { rs1: s1, rs2: t0, imm: -0x200 + 1 }).i('sh', { rs1: s1, rs2: t0, imm: -0x300 });
    p.li(t1, PAGE + 0x1ffbn).i('sd', { rs1: t1, rs2: t0, imm: 0 }).i('ld', { rd: a5, rs1: t1, imm: 0 });
    p.halt();
    const bytes = new Uint8Array(0x2000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
    p.pokes.push([PAGE, bytes]);
    const r = await run(p);
    expectHalt(r);
    const le = (off: number, n: number) => {
      let v = 0n;
      for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i]);
      return v;
    };
    const sx = (v: bigint, bits: number) => BigInt.asUintN(64, BigInt.asIntN(bits, v));
    expect(r.x(a0)).toBe(sx(le(0x11, 2), 16));
    expect(r.x(a1)).toBe(sx(le(0x11, 4), 32));
    expect(r.x(a2)).toBe(le(0x11, 8));
    expect(r.x(a3)).toBe(le(0x13, 4));
    expect(r.x(a4)).toBe(le(0xffd, 8));
    expect(r.bytes(PAGE + 0xefdn, 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(r.bytes(PAGE + 0xdfen, 4)).toEqual([8, 7, 6, 5]);
    expect(r.bytes(PAGE + 0xcfdn, 2)).toEqual([8, 7]);
    expect(r.bytes(PAGE + 0x1ffbn, 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(r.x(a5)).toBe(0x0102_0304_0506_0708n);
  });
  it('a misaligned store at the end of RAM that leaves it is a store access fault', async () => {
    const ram = 1 << 20;
    const END = RAM + BigInt(ram);
    const p = new Asm();
    p.li(s0, END - 4n).li(a0, -1);
    p.label('st').i('sd', { rs1: s0, rs2: a0, imm: 0 });
    p.halt();
    const r = await run(p, { ram });
    expectTrap(r, { cause: 7, epc: r.addr('st') });
  });
});

describe('RV64I x0', () => {
  it('writes to x0 are ignored (ALU, lui, jal, jalr, loads, csr reads)', async () => {
    const p = new Asm();
    p.la(s0, 'data');
    p.i('addi', { rd: 0, rs1: 0, imm: 5 }).i('add', { rd: a0, rs1: 0, rs2: 0 });
    p.i('lui', { rd: 0, imm: 0x12345000 }).i('add', { rd: a1, rs1: 0, rs2: 0 });
    p.i('ld', { rd: 0, rs1: s0, imm: 0 }).i('addi', { rd: a2, rs1: 0, imm: 0 });
    p.i('jal', { rd: 0 }, 'l1').label('l1').i('or', { rd: a3, rs1: 0, rs2: 0 });
    p.i('csrrs', { rd: 0, rs1: 0, csr: 0xf14 }).i('csrrs', { rd: 0, rs1: 0, csr: 0x301 }).i('sltu', { rd: a4, rs1: 0, rs2: 0 });
    p.i('sd', { rs1: s0, rs2: 0, imm: 8 }); // storing x0 stores zero
    p.halt().align(8).label('data').dword(0x1234n).dword(-1n);
    const r = await run(p);
    expectHalt(r);
    for (const reg of [a0, a1, a2, a3, a4]) expect(r.x(reg)).toBe(0n);
    expect(r.x(0)).toBe(0n);
    expect(r.read64(r.addr('data') + 8n)).toBe(0n);
  });
});

describe('RV64I fence, fence.i', () => {
  it('execute as no-ops for one hart; fence.i makes stored instructions visible', async () => {
    const p = new Asm();
    p.la(s0, 'patch').li(a0, 0);
    // overwrite `addi a0, a0, 1` with `addi a0, a0, 7`, then execute it
    p.li(t0, 0x00750513).i('sw', { rs1: s0, rs2: t0, imm: 0 });
    p.i('fence', { pred: 3, succ: 3 }).i('fence.i');
    p.label('patch').i('addi', { rd: a0, rs1: a0, imm: 1 });
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(7n);
  });
});
