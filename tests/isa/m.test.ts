// M extension (unprivileged spec, "M" Extension for Integer Multiplication and Division):
// products' high halves for every sign combination, and the table "Semantics for division by
// zero and division overflow" for the 64-bit and W forms.
import { describe, it, expect } from 'vitest';
import { evalOp } from './harness.js';

const MIN = 0x8000_0000_0000_0000n;
const MAX = 0x7fff_ffff_ffff_ffffn;
const ONES = 0xffff_ffff_ffff_ffffn;
const neg = (v: bigint) => BigInt.asUintN(64, -v);

type Case = [bigint, bigint, bigint];
async function check(name: string, cases: Case[]) {
  const got = await evalOp(name, cases.map(([x, y]) => [x, y]));
  expect(got.map((v) => '0x' + v.toString(16))).toEqual(cases.map(([, , e]) => '0x' + e.toString(16)));
}

describe('M multiplication', () => {
  it('mul: low 64 bits', () => check('mul', [
    [ONES, ONES, 1n], [MIN, ONES, MIN], [3n, ONES, neg(3n)], [0x1234_5678_9abc_def0n, 0xfedc_ba98_7654_3210n, 0x236d_88fe_5618_cf00n], [MAX, MAX, 1n],
  ]));
  it('mulh: signed x signed, high 64 bits', () => check('mulh', [
    [ONES, ONES, 0n], [MIN, MIN, 0x4000_0000_0000_0000n], [MIN, ONES, 0n], [MAX, MIN, 0xc000_0000_0000_0000n],
    [3n, ONES, ONES], [2n, MIN, ONES], [MAX, MAX, 0x3fff_ffff_ffff_ffffn], [0x1234_5678_9abc_def0n, 0xfedc_ba98_7654_3210n, 0xffeb_4992_3cc0_9532n],
  ]));
  it('mulhsu: signed rs1 x unsigned rs2, high 64 bits', () => check('mulhsu', [
    [ONES, ONES, ONES], [MIN, MIN, 0xc000_0000_0000_0000n], [MIN, ONES, MIN], [3n, ONES, 2n],
    [2n, MIN, 1n], [MAX, MIN, 0x3fff_ffff_ffff_ffffn], [ONES, 1n, ONES], [ONES, 0n, 0n],
  ]));
  it('mulhu: unsigned x unsigned, high 64 bits', () => check('mulhu', [
    [ONES, ONES, 0xffff_ffff_ffff_fffen], [MIN, MIN, 0x4000_0000_0000_0000n], [MIN, ONES, MAX], [3n, ONES, 2n], [0x1234_5678_9abc_def0n, 0xfedc_ba98_7654_3210n, 0x121f_a00a_d77d_7422n],
  ]));
  it('mulw: low 32 bits of the product, sign-extended; upper input bits ignored', () => check('mulw', [
    [0x7fff_ffffn, 2n, 0xffff_ffff_ffff_fffen], [0x1_0000_0003n, 0x1_0000_0005n, 15n], [0x1_0000n, 0x1_0000n, 0n],
    [0x8000n, 0x1_0000n, 0xffff_ffff_8000_0000n], [ONES, ONES, 1n],
  ]));
});

describe('M division (rounds toward zero; remainder has the sign of the dividend)', () => {
  it('div, including x/0 = -1 and MIN/-1 = MIN', () => check('div', [
    [7n, 2n, 3n], [neg(7n), 2n, neg(3n)], [7n, neg(2n), neg(3n)], [neg(7n), neg(2n), 3n],
    [42n, 0n, ONES], [0n, 0n, ONES], [MIN, ONES, MIN], [MIN, 1n, MIN], [MIN, 2n, 0xc000_0000_0000_0000n],
  ]));
  it('divu, including x/0 = 2^64-1', () => check('divu', [
    [7n, 2n, 3n], [ONES, 2n, MAX], [42n, 0n, ONES], [MIN, ONES, 0n], [ONES, ONES, 1n],
  ]));
  it('rem, including x%0 = x and MIN%-1 = 0', () => check('rem', [
    [7n, 2n, 1n], [neg(7n), 2n, ONES], [7n, neg(2n), 1n], [neg(7n), neg(2n), ONES],
    [42n, 0n, 42n], [neg(42n), 0n, neg(42n)], [MIN, ONES, 0n], [MIN, 3n, neg(2n)],
  ]));
  it('remu, including x%0 = x', () => check('remu', [
    [7n, 2n, 1n], [ONES, 10n, 5n], [42n, 0n, 42n], [ONES, 0n, ONES], [MIN, ONES, MIN],
  ]));
});

describe('M W division: 32-bit operands, results sign-extended', () => {
  it('divw, including x/0 = -1 and MIN32/-1 = MIN32', () => check('divw', [
    [neg(7n), 2n, neg(3n)], [0x1_0000_0007n, 0xffff_0000_0000_0002n, 3n], [5n, 0n, ONES], [0x1_0000_0000n, 0n, ONES],
    [0x8000_0000n, 0xffff_ffffn, 0xffff_ffff_8000_0000n], [0xffff_ffff_8000_0000n, ONES, 0xffff_ffff_8000_0000n],
    [0x8000_0000n, 2n, 0xffff_ffff_c000_0000n],
  ]));
  it('divuw, including x/0 = 2^32-1 (sign-extended: all ones)', () => check('divuw', [
    [0xffff_fffen, 1n, 0xffff_ffff_ffff_fffen], [0x8000_0000n, 0n, ONES], [0xffff_ffffn, 2n, 0x7fff_ffffn],
    [0x1_0000_0000n, 1n, 0n], [0xffff_ffffn, 0x1_0000_0001n, 0xffff_ffff_ffff_ffffn], [0x8000_0000n, 0xffff_ffffn, 0n],
  ]));
  it('remw, including x%0 = x (sign-extended from bit 31) and MIN32%-1 = 0', () => check('remw', [
    [neg(7n), 2n, ONES], [7n, neg(2n), 1n], [0x1_8000_0001n, 0n, 0xffff_ffff_8000_0001n], [0x1_0000_0005n, 0n, 5n],
    [0x8000_0000n, ONES, 0n], [0x8000_0000n, 3n, neg(2n)],
  ]));
  it('remuw, including x%0 = x (sign-extended from bit 31)', () => check('remuw', [
    [0xffff_ffffn, 0x10n, 0xfn], [0x1_8000_0000n, 0n, 0xffff_ffff_8000_0000n], [0x8000_0005n, 0x8000_0000n, 5n],
    [0xffff_fffen, 0xffff_ffffn, 0xffff_ffff_ffff_fffen], [0x3_0000_0007n, 0x2_0000_0004n, 3n],
  ]));
});
