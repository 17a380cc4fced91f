// Operand values that find bugs: integer boundaries, and IEEE 754 special values (signed zeros,
// infinities, quiet and signalling NaNs with payloads, subnormals, values next to the limits
// of the float-to-integer conversions, rounding ties) in both formats.
import type { Rng } from './prng.js';

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => v & M64;

export const INT_SPECIALS: bigint[] = [
  0n, 1n, 2n, 3n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_8000_0000n, 0xffff_ffff_7fff_ffffn,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x8000_0000_0000_0001n, M64, M64 - 1n,
  31n, 32n, 33n, 63n, 64n, 65n, 127n, 0xffff_ffff_ffff_ffc0n, 0x5555_5555_5555_5555n, 0xaaaa_aaaa_aaaa_aaaan,
];

/** A 64-bit integer: a boundary, a small number, a sign-extended 32-bit or random bits. */
export function int64(r: Rng): bigint {
  switch (r.int(6)) {
    case 0: case 1: return r.pick(INT_SPECIALS);
    case 2: return u64(BigInt(r.range(-2048, 2047)));
    case 3: return u64(BigInt.asIntN(32, BigInt(r.u32())));
    case 4: return u64(r.pick(INT_SPECIALS) + BigInt(r.range(-3, 3)));
    default: return r.u64();
  }
}

const f64buf = new DataView(new ArrayBuffer(8));
export function f64bits(x: number): bigint {
  f64buf.setFloat64(0, x, true);
  return f64buf.getBigUint64(0, true);
}
export function f32bits(x: number): number {
  f64buf.setFloat32(0, x, true);
  return f64buf.getUint32(0, true);
}

const D_SPECIAL: bigint[] = [
  0n, 0x8000_0000_0000_0000n, // ±0
  0x7ff0_0000_0000_0000n, 0xfff0_0000_0000_0000n, // ±inf
  0x7ff8_0000_0000_0000n, 0xfff8_0000_0000_0000n, 0x7ff8_dead_beef_0001n, // quiet NaNs (canonical, negative, payload)
  0x7ff0_0000_0000_0001n, 0x7ff4_0000_0000_0000n, 0xfff7_ffff_ffff_ffffn, // signalling NaNs
  1n, 0x8000_0000_0000_0001n, 0x000f_ffff_ffff_ffffn, 0x8008_0000_0000_0000n, // subnormals
  0x0010_0000_0000_0000n, 0x8010_0000_0000_0000n, // smallest normals
  0x7fef_ffff_ffff_ffffn, 0xffef_ffff_ffff_ffffn, // largest finite
  0x3ca0_0000_0000_0000n, 0x3cb0_0000_0000_0000n, // half ulp of 1, ulp of 1
];
const D_NUMBERS: number[] = [
  1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, 0.49999999999999994, 0.1, -0.1, 1 / 3, 2, 3, 10, 1e-300, 1e300, -1e300,
  2147483647, 2147483647.5, 2147483647.4, 2147483648, 2147483648.5, -2147483648, -2147483648.5, -2147483649, -2147483647.5,
  4294967295, 4294967295.5, 4294967296, -0.9, -0.5, -1.0000001, 4294967296.5,
  2 ** 63, 2 ** 63 - 1024, -(2 ** 63), -(2 ** 63) - 2048, 2 ** 64, 2 ** 64 - 2048, -(2 ** 64), 2 ** 53, 2 ** 53 + 2,
  16777216, 16777217, 3.4028234663852886e38, 3.4028235677973366e38, 1.401298464324817e-45, 1.1754943508222875e-38,
  7.006492321624085e-46, 1.1754942106924411e-38,
];
const S_SPECIAL: number[] = [
  0, 0x8000_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7fc1_2345, 0x7f80_0001, 0x7fa0_0000, 0xffbf_ffff,
  1, 0x8000_0001, 0x007f_ffff, 0x8040_0000, 0x0080_0000, 0x8080_0000, 0x7f7f_ffff, 0xff7f_ffff, 0x3380_0000, 0x3400_0000,
];
const S_NUMBERS: number[] = [
  1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, 1 / 3, 3, 2147483520, 2147483648, -2147483648, -2147483904, 4294967040, 4294967296,
  2 ** 63, -(2 ** 63), 2 ** 64, 9223371487098961920, 18446742974197923840, -0.75, 16777216, 16777218, 8388607.5,
];

/** A double's bits. */
export function f64(r: Rng): bigint {
  switch (r.int(5)) {
    case 0: case 1: return r.pick(D_SPECIAL);
    case 2: return f64bits(r.pick(D_NUMBERS));
    case 3: return f64bits(r.pick(D_NUMBERS)) + BigInt(r.range(-2, 2)) & M64;
    default: return r.chance(0.5) ? r.u64() : f64bits((r.u32() - 2 ** 31) / 2 ** r.int(40));
  }
}

/** A single's bits. */
export function f32(r: Rng): number {
  switch (r.int(5)) {
    case 0: case 1: return r.pick(S_SPECIAL);
    case 2: return f32bits(r.pick(S_NUMBERS));
    case 3: return (f32bits(r.pick(S_NUMBERS)) + r.range(-2, 2)) >>> 0;
    default: return r.chance(0.5) ? r.u32() : f32bits((r.u32() - 2 ** 31) / 2 ** r.int(30));
  }
}

/** A value for an f register: a double, a NaN-boxed single, or a single that is not NaN-boxed. */
export function fReg(r: Rng): bigint {
  const k = r.int(10);
  if (k < 4) return f64(r);
  if (k < 9) return 0xffff_ffff_0000_0000n | BigInt(f32(r));
  // not NaN-boxed: reads as the canonical NaN for single-precision operations
  const hi = r.pick([0n, 0xffff_fffen, 0x7fff_ffffn, BigInt(r.u32())]);
  return (hi << 32n) | BigInt(f32(r));
}
