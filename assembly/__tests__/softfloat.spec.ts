// Hand-computed cases for assembly/hart/softfloat.ts (RISC-V F/D, IEEE 754-2019). The bulk
// check against a C oracle is tests/softfloat/softfloat.test.ts (vitest).
import * as sf from "../hart/softfloat";
import {
  FLAG_NX, FLAG_UF, FLAG_OF, FLAG_DZ, FLAG_NV,
  f32_add, f32_sub, f32_mul, f32_div, f32_sqrt, f32_mulAdd, f32_min, f32_max,
  f32_eq, f32_lt, f32_le, f32_classify, f32_to_i32, f32_to_u32, f32_to_i64, f32_to_u64,
  i32_to_f32, u32_to_f32, i64_to_f32, u64_to_f32,
  f64_add, f64_sub, f64_mul, f64_div, f64_sqrt, f64_mulAdd, f64_min, f64_max,
  f64_eq, f64_lt, f64_le, f64_classify, f64_to_i32, f64_to_u32, f64_to_i64, f64_to_u64,
  i32_to_f64, u32_to_f64, i64_to_f64, u64_to_f64, f32_to_f64, f64_to_f32,
} from "../hart/softfloat";

const RNE: u32 = 0, RTZ: u32 = 1, RDN: u32 = 2, RUP: u32 = 3, RMM: u32 = 4;
const NX = FLAG_NX, UF = FLAG_UF, OF = FLAG_OF, DZ = FLAG_DZ, NV = FLAG_NV;
const QNAN32: u32 = 0x7fc00000;
const QNAN64: u64 = 0x7ff8000000000000;

function takeFlags(): u32 {
  const f = sf.sfFlags;
  sf.sfFlags = 0;
  return f;
}
/** Checks a result computed just before the call, and the flags it raised. */
function is32(got: u32, want: u32, flags: u32, what: string): void {
  const f = takeFlags();
  expect<u32>(got).toBe(want, what);
  expect<u32>(f).toBe(flags, what + " (flags)");
}
function is64(got: u64, want: u64, flags: u32, what: string): void {
  const f = takeFlags();
  expect<u64>(got).toBe(want, what);
  expect<u32>(f).toBe(flags, what + " (flags)");
}

describe("softfloat: basic arithmetic", () => {
  it("adds, subtracts, multiplies, divides", () => {
    is32(f32_add(0x3fc00000, 0x40100000, RNE), 0x40700000, 0, "1.5 + 2.25 = 3.75");
    is32(f32_sub(0x3f800000, 0x3f800001, RNE), 0xb4000000, 0, "1 - (1+ulp) = -2^-23");
    is32(f32_mul(0x40400000, 0xc0000000, RNE), 0xc0c00000, 0, "3 * -2 = -6");
    is32(f32_div(0x3f800000, 0x40400000, RNE), 0x3eaaaaab, NX, "1/3 RNE");
    is32(f32_div(0x3f800000, 0x40400000, RTZ), 0x3eaaaaaa, NX, "1/3 RTZ");
    is64(f64_div(0x3ff0000000000000, 0x4008000000000000, RNE), 0x3fd5555555555555, NX, "1/3 f64");
    is64(f64_div(0x3ff0000000000000, 0x4008000000000000, RUP), 0x3fd5555555555556, NX, "1/3 f64 RUP");
    is64(f64_mul(0x3ff0000000000001, 0x3ff0000000000001, RNE), 0x3ff0000000000002, NX, "(1+u)^2");
    is64(f64_mul(0x3ff0000000000001, 0x3ff0000000000001, RUP), 0x3ff0000000000003, NX, "(1+u)^2 RUP");
    is64(f64_add(0x0000000000000001, 0x000fffffffffffff, RNE), 0x0010000000000000, 0, "subnormals carry to normal");
  });
  it("gives x - x = +0, but -0 when rounding down (IEEE 754-2019 6.3)", () => {
    is32(f32_sub(0x3f800000, 0x3f800000, RNE), 0x00000000, 0, "1 - 1 RNE");
    is32(f32_sub(0x3f800000, 0x3f800000, RDN), 0x80000000, 0, "1 - 1 RDN");
    is64(f64_add(0x8000000000000000, 0x8000000000000000, RNE), 0x8000000000000000, 0, "-0 + -0");
    is64(f64_add(0x8000000000000000, 0x0000000000000000, RUP), 0x0000000000000000, 0, "-0 + +0 RUP");
    is64(f64_add(0x8000000000000000, 0x0000000000000000, RDN), 0x8000000000000000, 0, "-0 + +0 RDN");
  });
  it("divides by zero with DZ only for finite nonzero dividends", () => {
    is32(f32_div(0x3f800000, 0x80000000, RNE), 0xff800000, DZ, "1 / -0");
    is32(f32_div(0x00000000, 0x00000000, RNE), QNAN32, NV, "0 / 0");
    is32(f32_div(0x7f800000, 0x00000000, RNE), 0x7f800000, 0, "inf / 0");
    is64(f64_div(0x7ff0000000000000, 0x7ff0000000000000, RNE), QNAN64, NV, "inf / inf");
    is64(f64_div(0x3ff0000000000000, 0x7ff0000000000000, RNE), 0, 0, "1 / inf");
  });
});

describe("softfloat: overflow and underflow", () => {
  it("overflows to infinity or the largest finite number by rounding mode", () => {
    is32(f32_mul(0x7f7fffff, 0x40000000, RNE), 0x7f800000, OF | NX, "max*2 RNE");
    is32(f32_mul(0x7f7fffff, 0x40000000, RTZ), 0x7f7fffff, OF | NX, "max*2 RTZ");
    is32(f32_mul(0x7f7fffff, 0x40000000, RDN), 0x7f7fffff, OF | NX, "max*2 RDN");
    is32(f32_mul(0x7f7fffff, 0x40000000, RUP), 0x7f800000, OF | NX, "max*2 RUP");
    is32(f32_mul(0x7f7fffff, 0x40000000, RMM), 0x7f800000, OF | NX, "max*2 RMM");
    is32(f32_mul(0xff7fffff, 0x40000000, RDN), 0xff800000, OF | NX, "-max*2 RDN");
    is32(f32_mul(0xff7fffff, 0x40000000, RUP), 0xff7fffff, OF | NX, "-max*2 RUP");
    is64(f64_add(0x7fefffffffffffff, 0x7c90000000000000, RNE), 0x7ff0000000000000, OF | NX, "max + ulp/2");
    is64(f64_add(0x7fefffffffffffff, 0x7c8fffffffffffff, RNE), 0x7fefffffffffffff, NX, "max + <ulp/2");
  });
  it("raises UF only for tiny AND inexact results, tininess after rounding", () => {
    is32(f32_mul(0x00800000, 0x3f000000, RNE), 0x00400000, 0, "exact subnormal");
    is32(f32_mul(0x00800001, 0x3f000000, RNE), 0x00400000, UF | NX, "inexact subnormal");
    is32(f32_mul(0x3f7fffff, 0x00800000, RNE), 0x00800000, UF | NX, "rounds to min normal, tiny");
    is32(f64_to_f32(0x380fffffff000000, RNE), 0x00800000, NX, "2^-126 (1-2^-29): not tiny after rounding");
    is32(f64_to_f32(0x380fffffff000000, RTZ), 0x007fffff, UF | NX, "same, RTZ: tiny");
    is64(f64_mul(0x0010000000000000, 0x3ca0000000000000, RUP), 0x0000000000000001, UF | NX, "min normal * 2^-53 RUP");
    is64(f64_mul(0x0010000000000000, 0x3ca0000000000000, RNE), 0, UF | NX, "min normal * 2^-53 RNE");
  });
});

describe("softfloat: round to nearest, ties to max magnitude (RMM)", () => {
  it("rounds exact ties away from zero", () => {
    is32(f32_add(0x3f800000, 0x33800000, RMM), 0x3f800001, NX, "1 + 2^-24 RMM");
    is32(f32_add(0x3f800000, 0x33800000, RNE), 0x3f800000, NX, "1 + 2^-24 RNE");
    is32(f32_add(0xbf800000, 0xb3800000, RMM), 0xbf800001, NX, "-1 - 2^-24 RMM");
    is32(f32_mul(0x3f800800, 0x3f800800, RMM), 0x3f801001, NX, "(1+2^-12)^2 RMM");
    is32(f32_mul(0x00000001, 0x3f000000, RMM), 0x00000001, UF | NX, "2^-150 RMM");
    is32(f32_div(0x00000005, 0x40000000, RMM), 0x00000003, UF | NX, "2.5 units RMM");
    is32(f32_mulAdd(0x3f800001, 0x3f000000, 0x3f800000, RMM, 0), 0x3fc00001, NX, "fma 1.5+2^-24 RMM");
    is64(f64_add(0x3ff0000000000000, 0x3ca0000000000000, RMM), 0x3ff0000000000001, NX, "1 + 2^-53 RMM");
    is32(i64_to_f32(16777217, RMM), 0x4b800001, NX, "2^24+1 RMM");
    is64(u64_to_f64(0x20000000000001, RMM), 0x4340000000000001, NX, "2^53+1 RMM");
    is32(f64_to_f32(0x3ff0000010000000, RMM), 0x3f800001, NX, "f64 1+2^-24 RMM");
    expect<i32>(f32_to_i32(0x40200000, RMM)).toBe(3, "2.5 RMM");
    expect<i32>(f32_to_i32(0xc0200000, RMM)).toBe(-3, "-2.5 RMM");
    expect<i32>(f32_to_i32(0x40200000, RNE)).toBe(2, "2.5 RNE");
    takeFlags();
    expect<i32>(f64_to_i32(0xc1e0000000100000, RMM)).toBe(i32.MIN_VALUE, "-2^31-0.5 RMM");
    expect<u32>(takeFlags()).toBe(NV, "-2^31-0.5 RMM is out of range");
  });
});

describe("softfloat: fused multiply-add", () => {
  it("rounds once and handles the four sign variants", () => {
    // (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly: a separate multiply would give 0.
    is32(f32_mulAdd(0x3f800001, 0x3f7ffffe, 0x3f800000, RNE, 1), 0xa8800000, 0, "fmsub");
    is32(f32_mulAdd(0x40000000, 0x40400000, 0x3f800000, RNE, 0), 0x40e00000, 0, "2*3+1");
    is32(f32_mulAdd(0x40000000, 0x40400000, 0x3f800000, RNE, 1), 0x40a00000, 0, "2*3-1");
    is32(f32_mulAdd(0x40000000, 0x40400000, 0x3f800000, RNE, 2), 0xc0a00000, 0, "-(2*3)+1");
    is32(f32_mulAdd(0x40000000, 0x40400000, 0x3f800000, RNE, 3), 0xc0e00000, 0, "-(2*3)-1");
    is64(f64_mulAdd(0x3ff0000000000000, 0x3ff0000000000000, 0x3ff0000000000000, RDN, 2), 0x8000000000000000, 0, "-(1*1)+1 RDN = -0");
    is64(f64_mulAdd(0x3ff0000000000000, 0x3ff0000000000000, 0x3ff0000000000000, RNE, 2), 0, 0, "-(1*1)+1 RNE = +0");
    is64(f64_mulAdd(0, 0x3ff0000000000000, 0x8000000000000000, RDN, 0), 0x8000000000000000, 0, "+0*1 + -0 RDN");
    is64(f64_mulAdd(0, 0x3ff0000000000000, 0, RNE, 3), 0x8000000000000000, 0, "-(0*1) - 0");
    is64(f64_mulAdd(0, 0x3ff0000000000000, 0x0000000000000001, RNE, 0), 0x0000000000000001, 0, "0*1 + subnormal: exact");
  });
  it("raises NV for inf*0 even when the addend is a quiet NaN", () => {
    is32(f32_mulAdd(0x7f800000, 0x00000000, 0x7fc00000, RNE, 0), QNAN32, NV, "inf*0+qNaN");
    is32(f32_mulAdd(0x7fc00000, 0x00000000, 0x3f800000, RNE, 0), QNAN32, 0, "qNaN*0+1");
    is32(f32_mulAdd(0x7f800000, 0x3f800000, 0xff800000, RNE, 0), QNAN32, NV, "inf - inf");
    is64(f64_mulAdd(0x7ff0000000000000, 0x3ff0000000000000, 0x7ff0000000000000, RNE, 1), QNAN64, NV, "inf*1 - inf");
    is64(f64_mulAdd(0x3ff0000000000000, 0x3ff0000000000000, 0x7ff0000000000001, RNE, 0), QNAN64, NV, "1*1 + sNaN");
  });
});

describe("softfloat: square root", () => {
  it("is correctly rounded with exact flags", () => {
    is32(f32_sqrt(0x40000000, RNE), 0x3fb504f3, NX, "sqrt 2");
    is32(f32_sqrt(0x40000000, RTZ), 0x3fb504f3, NX, "sqrt 2 RTZ");
    is32(f32_sqrt(0x40000000, RUP), 0x3fb504f4, NX, "sqrt 2 RUP");
    is64(f64_sqrt(0x4000000000000000, RNE), 0x3ff6a09e667f3bcd, NX, "sqrt 2 f64");
    is64(f64_sqrt(0x4000000000000000, RDN), 0x3ff6a09e667f3bcc, NX, "sqrt 2 f64 RDN");
    is64(f64_sqrt(0x4010000000000000, RUP), 0x4000000000000000, 0, "sqrt 4");
    is32(f32_sqrt(0x00000001, RNE), 0x1a3504f3, NX, "sqrt min subnormal");
    is32(f32_sqrt(0x80000000, RNE), 0x80000000, 0, "sqrt -0 = -0");
    is32(f32_sqrt(0xbf800000, RNE), QNAN32, NV, "sqrt -1");
    is64(f64_sqrt(0xfff0000000000000, RNE), QNAN64, NV, "sqrt -inf");
    is64(f64_sqrt(0x7ff0000000000000, RNE), 0x7ff0000000000000, 0, "sqrt inf");
  });
});

describe("softfloat: NaNs, min/max, compares, classify", () => {
  it("returns the canonical NaN, NV for signaling NaNs", () => {
    is32(f32_add(0x7f800001, 0x3f800000, RNE), QNAN32, NV, "sNaN + 1");
    is32(f32_add(0xffc12345, 0x3f800000, RNE), QNAN32, 0, "qNaN + 1: no payload");
    is64(f32_to_f64(0x7f800001), QNAN64, NV, "f32 sNaN -> f64");
    is64(f32_to_f64(0xffc00000), QNAN64, 0, "f32 qNaN -> f64");
    is32(f64_to_f32(0x7ff0000000000001, RNE), QNAN32, NV, "f64 sNaN -> f32");
  });
  it("implements minimumNumber/maximumNumber", () => {
    is32(f32_min(0x00000000, 0x80000000), 0x80000000, 0, "min(+0, -0)");
    is32(f32_max(0x80000000, 0x00000000), 0x00000000, 0, "max(-0, +0)");
    is32(f32_min(0x7fc00000, 0x3f800000), 0x3f800000, 0, "min(qNaN, 1)");
    is32(f32_max(0x7f800001, 0x3f800000), 0x3f800000, NV, "max(sNaN, 1)");
    is32(f32_min(0x7fc00000, 0x7fc00001), QNAN32, 0, "min(qNaN, qNaN)");
    is64(f64_min(0xbff0000000000000, 0x3ff0000000000000), 0xbff0000000000000, 0, "min(-1, 1)");
    is64(f64_max(0xc000000000000000, 0xbff0000000000000), 0xbff0000000000000, 0, "max(-2, -1)");
  });
  it("compares: FEQ quiet, FLT/FLE signaling", () => {
    expect<bool>(f32_eq(0x7fc00000, 0x7fc00000)).toBe(false);
    expect<u32>(takeFlags()).toBe(0, "feq qNaN");
    expect<bool>(f32_eq(0x7f800001, 0x3f800000)).toBe(false);
    expect<u32>(takeFlags()).toBe(NV, "feq sNaN");
    expect<bool>(f32_lt(0x7fc00000, 0x3f800000)).toBe(false);
    expect<u32>(takeFlags()).toBe(NV, "flt qNaN");
    expect<bool>(f64_eq(0x8000000000000000, 0)).toBe(true, "-0 == +0");
    expect<bool>(f64_lt(0x8000000000000000, 0)).toBe(false, "-0 < +0 is false");
    expect<bool>(f64_le(0x8000000000000000, 0)).toBe(true, "-0 <= +0");
    expect<bool>(f64_lt(0xc000000000000000, 0xbff0000000000000)).toBe(true, "-2 < -1");
    expect<bool>(f32_le(0x3f800001, 0x3f800000)).toBe(false, "1+u <= 1");
    expect<u32>(takeFlags()).toBe(0);
  });
  it("classifies (FCLASS bits)", () => {
    expect<u32>(f32_classify(0xff800000)).toBe(1 << 0);
    expect<u32>(f32_classify(0xbf800000)).toBe(1 << 1);
    expect<u32>(f32_classify(0x80000001)).toBe(1 << 2);
    expect<u32>(f32_classify(0x80000000)).toBe(1 << 3);
    expect<u32>(f32_classify(0x00000000)).toBe(1 << 4);
    expect<u32>(f64_classify(0x000fffffffffffff)).toBe(1 << 5);
    expect<u32>(f64_classify(0x3ff0000000000000)).toBe(1 << 6);
    expect<u32>(f64_classify(0x7ff0000000000000)).toBe(1 << 7);
    expect<u32>(f64_classify(0x7ff0000000000001)).toBe(1 << 8);
    expect<u32>(f64_classify(0xfff8000000000000)).toBe(1 << 9);
    expect<u32>(takeFlags()).toBe(0);
  });
});

describe("softfloat: integer conversions", () => {
  it("saturates and raises NV (not NX) when out of range", () => {
    expect<i32>(f32_to_i32(0x7fc00000, RNE)).toBe(i32.MAX_VALUE, "NaN");
    expect<i32>(f32_to_i32(0xffc00000, RNE)).toBe(i32.MAX_VALUE, "-NaN");
    expect<u32>(f32_to_u32(0xffc00000, RNE)).toBe(u32.MAX_VALUE, "NaN u32");
    expect<i64>(f64_to_i64(0xfff0000000000000, RNE)).toBe(i64.MIN_VALUE, "-inf");
    expect<u64>(f64_to_u64(0xfff0000000000000, RNE)).toBe(0, "-inf u64");
    expect<u64>(f64_to_u64(0x43f0000000000000, RNE)).toBe(u64.MAX_VALUE, "2^64");
    expect<i32>(f32_to_i32(0x4f000000, RNE)).toBe(i32.MAX_VALUE, "2^31");
    expect<i32>(f64_to_i32(0x41dfffffffe00000, RNE)).toBe(i32.MAX_VALUE, "2^31-0.5 ties up to 2^31");
    expect<u32>(f64_to_u32(0xbff0000000000000, RTZ)).toBe(0, "-1 u32");
    expect<u32>(takeFlags()).toBe(NV);
  });
  it("is exact for integers, inexact otherwise", () => {
    expect<i64>(f64_to_i64(0xc3e0000000000000, RNE)).toBe(i64.MIN_VALUE, "-2^63");
    expect<u64>(f32_to_u64(0x5f7fffff, RNE)).toBe(0xffffff0000000000, "largest f32 below 2^64");
    expect<i32>(f64_to_i32(0xc1e0000000000000, RNE)).toBe(i32.MIN_VALUE, "-2^31");
    expect<u32>(takeFlags()).toBe(0);
    expect<u32>(f64_to_u32(0xbfd3333333333333, RNE)).toBe(0, "-0.3 u32");
    expect<u32>(takeFlags()).toBe(NX, "-0.3 -> 0 is only inexact");
    expect<i64>(f32_to_i64(0xbfc00000, RDN)).toBe(-2, "-1.5 RDN");
    expect<i64>(f32_to_i64(0xbfc00000, RUP)).toBe(-1, "-1.5 RUP");
    expect<i64>(f32_to_i64(0xbfc00000, RTZ)).toBe(-1, "-1.5 RTZ");
    expect<u32>(takeFlags()).toBe(NX);
  });
  it("converts integers to floats", () => {
    is32(i32_to_f32(16777216, RNE), 0x4b800000, 0, "2^24");
    is32(i32_to_f32(16777217, RNE), 0x4b800000, NX, "2^24+1");
    is32(i32_to_f32(16777217, RUP), 0x4b800001, NX, "2^24+1 RUP");
    is32(i32_to_f32(-1, RNE), 0xbf800000, 0, "-1");
    is32(u32_to_f32(0xffffffff, RTZ), 0x4f7fffff, NX, "2^32-1 RTZ");
    is32(u64_to_f32(0xffffffffffffffff, RNE), 0x5f800000, NX, "2^64-1");
    is32(i64_to_f32(i64.MIN_VALUE, RNE), 0xdf000000, 0, "-2^63");
    is64(i32_to_f64(i32.MIN_VALUE, RNE), 0xc1e0000000000000, 0, "-2^31");
    is64(u32_to_f64(0xffffffff, RNE), 0x41efffffffe00000, 0, "2^32-1");
    is64(i64_to_f64(0x7fffffffffffffff, RDN), 0x43dfffffffffffff, NX, "2^63-1 RDN");
    is64(u64_to_f64(0xffffffffffffffff, RTZ), 0x43efffffffffffff, NX, "2^64-1 RTZ");
    is64(i64_to_f64(0, RDN), 0, 0, "0 is +0");
  });
  it("converts between formats", () => {
    is64(f32_to_f64(0x00000001), 0x36a0000000000000, 0, "min subnormal f32 is normal in f64");
    is64(f32_to_f64(0xff800000), 0xfff0000000000000, 0, "-inf");
    is32(f64_to_f32(0x3fb999999999999a, RNE), 0x3dcccccd, NX, "0.1");
    is32(f64_to_f32(0x3fb999999999999a, RTZ), 0x3dcccccc, NX, "0.1 RTZ");
    is32(f64_to_f32(0x47effffff0000000, RNE), 0x7f800000, OF | NX, "max f32 + ulp/2: tie to inf");
    is32(f64_to_f32(0x47effffff0000000, RTZ), 0x7f7fffff, NX, "max f32 + ulp/2 RTZ: no overflow (7.4)");
    is32(f64_to_f32(0x47efffffe0000000, RUP), 0x7f7fffff, 0, "max f32 exactly");
    is32(f64_to_f32(0x0000000000000001, RUP), 0x00000001, UF | NX, "f64 subnormal RUP");
    is32(f64_to_f32(0x8000000000000001, RNE), 0x80000000, UF | NX, "-f64 subnormal RNE");
  });
});
