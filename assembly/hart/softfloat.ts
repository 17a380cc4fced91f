// IEEE 754-2019 binary32 / binary64 arithmetic in integer code, for the RISC-V F and D
// extensions (RISC-V Unprivileged ISA, chapters "F" and "D"). Results and fflags are
// bit-exact with Berkeley SoftFloat 3 (specialization RISCV), which QEMU matches:
//  - tininess is detected AFTER rounding (F chapter, "fflags": RISC-V requires it);
//  - every NaN result is the canonical NaN, payloads are never propagated (F chapter,
//    "NaN Generation and Propagation");
//  - float->int conversions saturate as in the F chapter's fcvt table.
// WebAssembly's own f32/f64 round to nearest only and raise no flags, so all of this is done
// on the bit patterns with u64 arithmetic. No function allocates.
//
// Shared helpers are generic over a format tag T: u32 = binary32, u64 = binary64. The tag only
// selects compile-time constants; values are always handled as u64 bit patterns.

// fflags bits (F chapter, "Floating-Point Control and Status Register").
export const FLAG_NX: u32 = 1; // inexact
export const FLAG_UF: u32 = 2; // underflow
export const FLAG_OF: u32 = 4; // overflow
export const FLAG_DZ: u32 = 8; // divide by zero
export const FLAG_NV: u32 = 16; // invalid operation

/** Accrued exceptions: every operation ORs its flags in; the hart reads and clears it. */
export let sfFlags: u32 = 0;

// Rounding modes (F chapter, "Rounding mode encoding"; IEEE 754-2019 4.3).
const RNE: u32 = 0; // to nearest, ties to even
const RTZ: u32 = 1; // toward zero
const RDN: u32 = 2; // toward -inf
const RUP: u32 = 3; // toward +inf
const RMM: u32 = 4; // to nearest, ties to max magnitude (IEEE roundTiesToAway)

// ---------------------------------------------------------------------------------------------
// Format constants and field access (IEEE 754-2019 3.4, binary interchange encoding)

/** Trailing significand field width: 23 or 52. */
@inline function FB<T>(): i32 { return sizeof<T>() == 4 ? 23 : 52; }
/** Biased exponent of infinities and NaNs: 0xFF or 0x7FF. */
@inline function EMAX<T>(): i32 { return sizeof<T>() == 4 ? 0xFF : 0x7FF; }
/** Exponent bias: 127 or 1023. */
@inline function BIAS<T>(): i32 { return sizeof<T>() == 4 ? 127 : 1023; }
/** Position of the sign bit: 31 or 63. */
@inline function SGN<T>(): i32 { return sizeof<T>() == 4 ? 31 : 63; }
/** The canonical NaN (F chapter, "NaN Generation and Propagation"). */
@inline function defaultNaN<T>(): u64 { return sizeof<T>() == 4 ? 0x7FC00000 : 0x7FF8000000000000; }
/** The implicit leading significand bit, at position FB. */
@inline function HIDDEN<T>(): u64 { return (<u64>1) << FB<T>(); }

@inline function signOf<T>(a: u64): u64 { return (a >> SGN<T>()) & 1; }
@inline function expOf<T>(a: u64): i32 { return <i32>(a >> FB<T>()) & EMAX<T>(); }
@inline function fracOf<T>(a: u64): u64 { return a & (HIDDEN<T>() - 1); }

/** Packs by ADDING the fields, so a significand carrying its hidden bit bumps the exponent. */
@inline function pack<T>(sign: u64, exp: i32, sig: u64): u64 {
  return (sign << SGN<T>()) + ((<u64>exp) << FB<T>()) + sig;
}

@inline function isNaN<T>(a: u64): bool {
  return expOf<T>(a) == EMAX<T>() && fracOf<T>(a) != 0;
}
/** Signaling NaN: quiet bit (the fraction MSB) clear (IEEE 754-2019 6.2.1). */
@inline function isSNaN<T>(a: u64): bool {
  return isNaN<T>(a) && (a & (HIDDEN<T>() >> 1)) == 0;
}

/** Any NaN operand: the result is the canonical NaN, NV if an operand is signaling. */
function propagateNaN<T>(a: u64, b: u64): u64 {
  if (isSNaN<T>(a) || isSNaN<T>(b)) sfFlags |= FLAG_NV;
  return defaultNaN<T>();
}

@inline function invalid<T>(): u64 {
  sfFlags |= FLAG_NV;
  return defaultNaN<T>();
}

/** Normalization shift of a nonzero subnormal fraction (moves its MSB to bit FB). */
@inline function subnormShift<T>(frac: u64): i32 {
  return <i32>clz<u64>(frac) - (63 - FB<T>());
}

// ---------------------------------------------------------------------------------------------
// Wide integer helpers

/** a >> dist, ORing every bit shifted out into bit 0 ("sticky"), for any dist >= 0. */
@inline function shiftRightJam(a: u64, dist: i32): u64 {
  if (dist <= 0) return a;
  return dist < 64 ? (a >> dist) | <u64>((a << (64 - dist)) != 0) : <u64>(a != 0);
}

/** Low half of the last wide result (mul64To128, shiftRightJam128). */
let wideLo: u64 = 0;

/** Full 64x64 -> 128 product: returns the high 64 bits, low 64 bits in wideLo. */
@inline function mul64To128(a: u64, b: u64): u64 {
  const aL = a & 0xFFFFFFFF, aH = a >> 32;
  const bL = b & 0xFFFFFFFF, bH = b >> 32;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >> 32) + (lh & 0xFFFFFFFF) + (hl & 0xFFFFFFFF);
  wideLo = (mid << 32) | (ll & 0xFFFFFFFF);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** (hi:lo) >> dist with sticky, dist >= 0: returns the high half, low half in wideLo. */
function shiftRightJam128(hi: u64, lo: u64, dist: i32): u64 {
  if (dist == 0) {
    wideLo = lo;
    return hi;
  }
  if (dist < 64) {
    wideLo = (hi << (64 - dist)) | (lo >> dist) | <u64>((lo << (64 - dist)) != 0);
    return hi >> dist;
  }
  wideLo = (dist < 128 ? shiftRightJam(hi, dist - 64) : <u64>(hi != 0)) | <u64>(lo != 0);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Rounding (IEEE 754-2019 4.3 rounding-direction attributes, 7.4 overflow, 7.5 underflow,
// 7.6 inexact). The one place where results are rounded, for both formats.

/**
 * Rounds and packs sign * sig * 2^(exp + 1 - BIAS - 62). A normalized sig has its leading bit at
 * bit 62, and exp is then the biased exponent minus one (pack adds the leading bit to it); the
 * low 62 - FB bits are rounding bits, with every lower nonzero bit ORed into bit 0 ("sticky").
 * Subnormal results come in with exp < 0. Raises NX, OF (with NX), and UF when the result is
 * tiny after rounding AND inexact (F chapter, fflags; IEEE 754-2019 7.5).
 */
function roundPack<T>(sign: u64, exp: i32, sig: u64, rm: u32): u64 {
  const R = 62 - FB<T>(); // number of round bits: 39 (binary32) or 10 (binary64)
  const mask: u64 = ((<u64>1) << R) - 1;
  const half: u64 = (<u64>1) << (R - 1);
  let inc: u64 = 0; // added before truncation
  if (rm == RNE || rm == RMM) inc = half;
  else if (rm == (sign != 0 ? RDN : RUP)) inc = mask;
  let roundBits = sig & mask;
  const top = EMAX<T>() - 2;
  if (<u32>exp >= <u32>top) {
    if (exp < 0) {
      // Tiny iff rounding to full precision with unbounded exponent stays below 2^emin
      // (exp == -1 with a carry to bit 63 reaches it).
      const tiny = exp < -1 || sig + inc < 0x8000000000000000;
      sig = shiftRightJam(sig, -exp);
      exp = 0;
      roundBits = sig & mask;
      if (tiny && roundBits != 0) sfFlags |= FLAG_UF;
    } else if (exp > top || sig + inc >= 0x8000000000000000) {
      // Overflow: infinity, or the largest finite number when rounding toward zero.
      sfFlags |= FLAG_OF | FLAG_NX;
      return pack<T>(sign, EMAX<T>(), 0) - <u64>(inc == 0);
    }
  }
  sig = (sig + inc) >> R;
  if (roundBits != 0) sfFlags |= FLAG_NX;
  if (roundBits == half && rm == RNE) sig &= ~(<u64>1); // tie: to even
  if (sig == 0) exp = 0;
  return pack<T>(sign, exp, sig);
}

/** roundPack for any nonzero sig (leading bit anywhere, bit 63 allowed). */
function normRoundPack<T>(sign: u64, exp: i32, sig: u64, rm: u32): u64 {
  if (sig >> 63) return roundPack<T>(sign, exp + 1, (sig >> 1) | (sig & 1), rm);
  const s = <i32>clz<u64>(sig) - 1;
  return roundPack<T>(sign, exp - s, sig << s, rm);
}

// ---------------------------------------------------------------------------------------------
// Addition and subtraction (IEEE 754-2019 5.4.1, 6.3 for the sign of exact zero sums)

function add<T>(a: u64, b: u64, rm: u32): u64 {
  const sign = signOf<T>(a);
  return sign == signOf<T>(b) ? addMags<T>(a, b, sign, rm) : subMags<T>(a, b, sign, rm);
}

/** |a| + |b| with sign `sign`. */
function addMags<T>(a: u64, b: u64, sign: u64, rm: u32): u64 {
  const F = FB<T>(), EM = EMAX<T>();
  const expA = expOf<T>(a), expB = expOf<T>(b);
  let sigA = fracOf<T>(a), sigB = fracOf<T>(b);
  const expDiff = expA - expB;
  let expZ: i32, sigZ: u64;
  if (expDiff == 0) {
    if (expA == 0) return a + sigB; // two subnormals: exact; a carry makes it normal
    if (expA == EM) return (sigA | sigB) != 0 ? propagateNaN<T>(a, b) : a;
    expZ = expA;
    sigZ = ((HIDDEN<T>() << 1) + sigA + sigB) << (61 - F); // both hidden bits: sum in [2, 4)
  } else {
    const H: u64 = (<u64>1) << 61; // hidden bit position while aligning
    sigA <<= 61 - F;
    sigB <<= 61 - F;
    if (expDiff < 0) {
      if (expB == EM) return sigB != 0 ? propagateNaN<T>(a, b) : pack<T>(sign, EM, 0);
      expZ = expB;
      sigA = shiftRightJam(expA != 0 ? sigA + H : sigA << 1, -expDiff);
    } else {
      if (expA == EM) return sigA != 0 ? propagateNaN<T>(a, b) : a;
      expZ = expA;
      sigB = shiftRightJam(expB != 0 ? sigB + H : sigB << 1, expDiff);
    }
    sigZ = H + sigA + sigB;
    if (sigZ < (H << 1)) {
      expZ--;
      sigZ <<= 1;
    }
  }
  return roundPack<T>(sign, expZ, sigZ, rm);
}

/** |a| - |b|, the result taking sign `sign` if |a| >= |b|. */
function subMags<T>(a: u64, b: u64, sign: u64, rm: u32): u64 {
  const F = FB<T>(), EM = EMAX<T>();
  let expA = expOf<T>(a);
  const expB = expOf<T>(b);
  let sigA = fracOf<T>(a), sigB = fracOf<T>(b);
  const expDiff = expA - expB;
  if (expDiff == 0) {
    if (expA == EM) return (sigA | sigB) != 0 ? propagateNaN<T>(a, b) : invalid<T>(); // inf - inf
    let diff = <i64>sigA - <i64>sigB; // same binade: the difference is exact
    if (diff == 0) return pack<T>(<u64>(rm == RDN), 0, 0); // x - x = +0, or -0 under RDN (6.3)
    if (expA != 0) expA--;
    if (diff < 0) {
      sign ^= 1;
      diff = -diff;
    }
    let shift = <i32>clz<u64>(diff) - (63 - F);
    let expZ = expA - shift;
    if (expZ < 0) {
      shift = expA;
      expZ = 0;
    }
    return pack<T>(sign, expZ, (<u64>diff) << shift);
  }
  const H: u64 = (<u64>1) << 62;
  sigA <<= 62 - F;
  sigB <<= 62 - F;
  let expZ: i32, sigZ: u64;
  if (expDiff < 0) {
    sign ^= 1;
    if (expB == EM) return sigB != 0 ? propagateNaN<T>(a, b) : pack<T>(sign, EM, 0);
    sigA = shiftRightJam(expA != 0 ? sigA + H : sigA << 1, -expDiff);
    expZ = expB;
    sigZ = (sigB | H) - sigA;
  } else {
    if (expA == EM) return sigA != 0 ? propagateNaN<T>(a, b) : a;
    sigB = shiftRightJam(expB != 0 ? sigB + H : sigB << 1, expDiff);
    expZ = expA;
    sigZ = (sigA | H) - sigB;
  }
  return normRoundPack<T>(sign, expZ - 1, sigZ, rm);
}

// ---------------------------------------------------------------------------------------------
// Multiplication (IEEE 754-2019 5.4.1, 7.2 invalid for 0 * inf)

function mul<T>(a: u64, b: u64, rm: u32): u64 {
  const F = FB<T>(), EM = EMAX<T>();
  const sign = signOf<T>(a) ^ signOf<T>(b);
  let expA = expOf<T>(a), expB = expOf<T>(b);
  let sigA = fracOf<T>(a), sigB = fracOf<T>(b);
  if (expA == EM || expB == EM) {
    if (isNaN<T>(a) || isNaN<T>(b)) return propagateNaN<T>(a, b);
    const other = expA == EM ? <u64>expB | sigB : <u64>expA | sigA;
    return other == 0 ? invalid<T>() : pack<T>(sign, EM, 0);
  }
  if (expA == 0) {
    if (sigA == 0) return pack<T>(sign, 0, 0);
    const s = subnormShift<T>(sigA);
    expA = 1 - s;
    sigA <<= s;
  }
  if (expB == 0) {
    if (sigB == 0) return pack<T>(sign, 0, 0);
    const s = subnormShift<T>(sigB);
    expB = 1 - s;
    sigB <<= s;
  }
  let expZ = expA + expB - BIAS<T>();
  // Product of the significands in [1, 4): the top 64 of 128 bits, with sticky.
  let sigZ = mulSigs128<T>(sigA | HIDDEN<T>(), sigB | HIDDEN<T>());
  sigZ |= <u64>(wideLo != 0);
  if (sigZ < (<u64>1 << 62)) {
    expZ--; // product of significands in [1, 2)
    sigZ <<= 1;
  }
  return roundPack<T>(sign, expZ, sigZ, rm);
}

/**
 * Exact product of two normalized significands (leading bits at FB) as the 128-bit number
 * sigA * sigB * 2^(125 - 2 FB), whose leading bit is at 126 or 125: returns the high 64 bits,
 * the low 64 bits in wideLo.
 */
@inline function mulSigs128<T>(sigA: u64, sigB: u64): u64 {
  if (sizeof<T>() == 4) {
    wideLo = 0; // 24 x 24 bits fit in a u64
    return (sigA * sigB) << (61 - 2 * FB<T>());
  }
  return mul64To128(sigA << (62 - FB<T>()), sigB << (63 - FB<T>()));
}

// ---------------------------------------------------------------------------------------------
// Division (IEEE 754-2019 5.4.1; 7.2 invalid for 0/0 and inf/inf; 7.3 divideByZero)

function div<T>(a: u64, b: u64, rm: u32): u64 {
  const F = FB<T>(), EM = EMAX<T>();
  const sign = signOf<T>(a) ^ signOf<T>(b);
  let expA = expOf<T>(a), expB = expOf<T>(b);
  let sigA = fracOf<T>(a), sigB = fracOf<T>(b);
  if (expA == EM) {
    if (sigA != 0 || (expB == EM && sigB != 0)) return propagateNaN<T>(a, b);
    return expB == EM ? invalid<T>() : pack<T>(sign, EM, 0); // inf/inf, inf/x
  }
  if (expB == EM) return sigB != 0 ? propagateNaN<T>(a, b) : pack<T>(sign, 0, 0); // x/inf = 0
  if (expB == 0) {
    if (sigB == 0) {
      if ((<u64>expA | sigA) == 0) return invalid<T>(); // 0/0
      sfFlags |= FLAG_DZ; // finite nonzero / 0
      return pack<T>(sign, EM, 0);
    }
    const s = subnormShift<T>(sigB);
    expB = 1 - s;
    sigB <<= s;
  }
  if (expA == 0) {
    if (sigA == 0) return pack<T>(sign, 0, 0);
    const s = subnormShift<T>(sigA);
    expA = 1 - s;
    sigA <<= s;
  }
  let expZ = expA - expB + BIAS<T>() - 1;
  sigA |= HIDDEN<T>();
  sigB |= HIDDEN<T>();
  if (sigA < sigB) {
    expZ--;
    sigA <<= 1;
  }
  // Long division, C quotient bits per step: the remainder stays below sigB < 2^(F+1),
  // so rem << C fits in 64 bits. Until F+2 quotient bits follow the leading one (the last
  // ones and the remainder decide rounding): 1 step for binary32, 5 for binary64.
  const C = 63 - F;
  const STEPS = (F + 2 + C - 1) / C;
  let q: u64 = 1;
  let rem = sigA - sigB;
  for (let i = 0; i < STEPS; i++) {
    rem <<= C;
    const d = rem / sigB;
    rem -= d * sigB;
    q = (q << C) | d;
  }
  const sigZ = (q << (62 - STEPS * C)) | <u64>(rem != 0);
  return roundPack<T>(sign, expZ, sigZ, rm);
}

// ---------------------------------------------------------------------------------------------
// Square root (IEEE 754-2019 5.4.1: sqrt(-0) = -0, sqrt(x < 0) invalid)

function sqrt<T>(a: u64, rm: u32): u64 {
  const F = FB<T>(), EM = EMAX<T>();
  const sign = signOf<T>(a);
  let exp = expOf<T>(a);
  let sig = fracOf<T>(a);
  if (exp == EM) {
    if (sig != 0) return propagateNaN<T>(a, 0);
    return sign == 0 ? a : invalid<T>();
  }
  if ((<u64>exp | sig) == 0) return a; // +-0
  if (sign != 0) return invalid<T>();
  if (exp == 0) {
    const s = subnormShift<T>(sig);
    exp = 1 - s;
    sig <<= s;
  }
  // Value = sigN * 2^e with e even and sigN in [2^N, 2^(N+2)), N = F rounded up to even.
  const N = (F + 1) & ~1;
  let sigN = (sig | HIDDEN<T>()) << (N - F);
  let e = exp - BIAS<T>() - N;
  if (e & 1) {
    sigN <<= 1;
    e--;
  }
  // q = floor(sqrt(X)), X = sigN * 2^K, so that q is in [2^M, 2^(M+1)): F+2 bits after the
  // leading one plus the remainder's sticky bit decide rounding (sqrt is never a tie).
  const M = F + 2;
  const K = 2 * M - N; // even
  // Estimate from native f64 sqrt (sigN is exactly representable), then correct exactly with
  // the remainder r = X - q^2 computed mod 2^64: |r| < 2^63 because the estimate is within a
  // few units of q, so correctness does not depend on the native result's rounding.
  let q = <u64>(Math.sqrt(<f64>sigN) * <f64>((<u64>1) << (K >> 1)));
  let r = <i64>((sigN << K) - q * q);
  while (r < 0) {
    q--;
    r += <i64>(2 * q + 1);
  }
  while (r > <i64>(2 * q)) {
    r -= <i64>(2 * q + 1);
    q++;
  }
  const expZ = M + ((e - K) >> 1) + BIAS<T>() - 1;
  return roundPack<T>(0, expZ, (q << (62 - M)) | <u64>(r != 0), rm);
}

// ---------------------------------------------------------------------------------------------
// Fused multiply-add (IEEE 754-2019 5.4.1 fusedMultiplyAdd; F chapter "Single-Precision
// Floating-Point Fused Multiply-Add": one rounding; inf*0 is invalid even if the addend is a
// quiet NaN). op bit 0 negates c, op bit 1 negates the product:
// 0 a*b+c (fmadd), 1 a*b-c (fmsub), 2 -(a*b)+c (fnmsub), 3 -(a*b)-c (fnmadd).

function mulAdd<T>(a: u64, b: u64, c: u64, rm: u32, op: u32): u64 {
  const EM = EMAX<T>(), F = FB<T>();
  const signP = signOf<T>(a) ^ signOf<T>(b) ^ <u64>((op >> 1) & 1);
  const signC = signOf<T>(c) ^ <u64>(op & 1);
  let expA = expOf<T>(a), expB = expOf<T>(b), expC = expOf<T>(c);
  let sigA = fracOf<T>(a), sigB = fracOf<T>(b), sigC = fracOf<T>(c);
  const zeroA = (<u64>expA | sigA) == 0, zeroB = (<u64>expB | sigB) == 0;
  if (expA == EM || expB == EM || expC == EM) {
    const infTimesZero = (expA == EM && sigA == 0 && zeroB) || (expB == EM && sigB == 0 && zeroA);
    if (isNaN<T>(a) || isNaN<T>(b) || isNaN<T>(c)) {
      if (infTimesZero || isSNaN<T>(a) || isSNaN<T>(b) || isSNaN<T>(c)) sfFlags |= FLAG_NV;
      return defaultNaN<T>();
    }
    if (infTimesZero) return invalid<T>();
    if (expA == EM || expB == EM) {
      if (expC == EM && signC != signP) return invalid<T>(); // inf - inf
      return pack<T>(signP, EM, 0);
    }
    return pack<T>(signC, EM, 0);
  }
  const zeroC = (<u64>expC | sigC) == 0;
  if (zeroA || zeroB) {
    // Exact zero product: the result is c, exactly (zero + zero per 6.3).
    if (!zeroC) return c ^ (<u64>(op & 1) << SGN<T>());
    return pack<T>(signP == signC ? signP : <u64>(rm == RDN), 0, 0);
  }
  if (expA == 0) {
    const s = subnormShift<T>(sigA);
    expA = 1 - s;
    sigA <<= s;
  }
  if (expB == 0) {
    const s = subnormShift<T>(sigB);
    expB = 1 - s;
    sigB <<= s;
  }
  // Exact product P, 128 bits, normalized to its leading bit at 126.
  let expZ = expA + expB - BIAS<T>();
  let pHi = mulSigs128<T>(sigA | HIDDEN<T>(), sigB | HIDDEN<T>());
  let pLo = wideLo;
  if (pHi < (<u64>1 << 62)) {
    expZ--;
    pHi = (pHi << 1) | (pLo >> 63);
    pLo <<= 1;
  }
  if (zeroC) return roundPack<T>(signP, expZ, pHi | <u64>(pLo != 0), rm);
  if (expC == 0) {
    const s = subnormShift<T>(sigC);
    expC = 1 - s;
    sigC <<= s;
  }
  // Addend C with its leading bit at 126 too; align the smaller one with sticky. Bits are
  // only lost when the shift exceeds the other's trailing zeros, and then at most one bit
  // cancels, so the sticky bit stays far below the rounding position.
  let cHi = (sigC | HIDDEN<T>()) << (62 - F);
  let cLo: u64 = 0;
  const expDiff = expZ - (expC - 1);
  if (expDiff > 0) {
    cHi = shiftRightJam128(cHi, cLo, expDiff);
    cLo = wideLo;
  } else if (expDiff < 0) {
    pHi = shiftRightJam128(pHi, pLo, -expDiff);
    pLo = wideLo;
    expZ = expC - 1;
  }
  let zHi: u64, zLo: u64, signZ = signP;
  if (signP == signC) {
    zLo = pLo + cLo;
    zHi = pHi + cHi + <u64>(zLo < pLo);
    if (zHi >> 63) {
      zLo = (zHi << 63) | (zLo >> 1) | (zLo & 1);
      zHi >>= 1;
      expZ++;
    }
  } else {
    if (pHi == cHi && pLo == cLo) return pack<T>(<u64>(rm == RDN), 0, 0); // exact cancellation
    if (pHi > cHi || (pHi == cHi && pLo > cLo)) {
      zLo = pLo - cLo;
      zHi = pHi - cHi - <u64>(pLo < cLo);
    } else {
      zLo = cLo - pLo;
      zHi = cHi - pHi - <u64>(cLo < pLo);
      signZ = signC;
    }
    // Renormalize after cancellation: leading bit back to 126.
    if (zHi == 0) {
      zHi = zLo >> 1;
      zLo <<= 63;
      expZ -= 63;
    }
    const s = <i32>clz<u64>(zHi) - 1;
    if (s > 0) {
      zHi = (zHi << s) | (zLo >> (64 - s));
      zLo <<= s;
      expZ -= s;
    }
  }
  return roundPack<T>(signZ, expZ, zHi | <u64>(zLo != 0), rm);
}

// ---------------------------------------------------------------------------------------------
// Minimum / maximum: F/D v2.2 semantics = IEEE 754-2019 minimumNumber / maximumNumber
// (9.6): -0 < +0; one NaN -> the other operand; both NaN -> canonical NaN; sNaN -> NV.

/** a < b in the total order of non-NaN values with -0 < +0. */
@inline function lessSigned<T>(a: u64, b: u64): bool {
  const sA = signOf<T>(a);
  return sA != signOf<T>(b) ? sA != 0 : a != b && ((sA != 0) != (a < b));
}

function minMax<T>(a: u64, b: u64, wantMax: bool): u64 {
  const nA = isNaN<T>(a), nB = isNaN<T>(b);
  if (nA || nB) {
    if (isSNaN<T>(a) || isSNaN<T>(b)) sfFlags |= FLAG_NV;
    if (nA && nB) return defaultNaN<T>();
    return nA ? b : a;
  }
  return lessSigned<T>(a, b) != wantMax ? a : b;
}

// ---------------------------------------------------------------------------------------------
// Comparisons (F chapter "Floating-Point Compare": FEQ is a quiet comparison, NV only for
// sNaN; FLT and FLE are signaling, NV for any NaN; IEEE 754-2019 5.11)

function eq<T>(a: u64, b: u64): bool {
  if (isNaN<T>(a) || isNaN<T>(b)) {
    if (isSNaN<T>(a) || isSNaN<T>(b)) sfFlags |= FLAG_NV;
    return false;
  }
  return a == b || ((a | b) & ~(<u64>1 << SGN<T>())) == 0; // +0 == -0
}

function lt<T>(a: u64, b: u64): bool {
  if (isNaN<T>(a) || isNaN<T>(b)) {
    sfFlags |= FLAG_NV;
    return false;
  }
  const sA = signOf<T>(a);
  if (sA != signOf<T>(b)) return sA != 0 && ((a | b) & ~(<u64>1 << SGN<T>())) != 0;
  return a != b && ((sA != 0) != (a < b));
}

function le<T>(a: u64, b: u64): bool {
  if (isNaN<T>(a) || isNaN<T>(b)) {
    sfFlags |= FLAG_NV;
    return false;
  }
  const sA = signOf<T>(a);
  if (sA != signOf<T>(b)) return sA != 0 || ((a | b) & ~(<u64>1 << SGN<T>())) == 0;
  return a == b || ((sA != 0) != (a < b));
}

// ---------------------------------------------------------------------------------------------
// Classification (F chapter "Single-Precision Floating-Point Classify Instruction", FCLASS)

function classify<T>(a: u64): u32 {
  const sign = signOf<T>(a) != 0;
  const exp = expOf<T>(a), frac = fracOf<T>(a);
  if (exp == EMAX<T>()) {
    if (frac == 0) return sign ? 1 << 0 : 1 << 7; // -inf / +inf
    return isSNaN<T>(a) ? 1 << 8 : 1 << 9; // signaling / quiet NaN
  }
  if (exp != 0) return sign ? 1 << 1 : 1 << 6; // normal
  if (frac != 0) return sign ? 1 << 2 : 1 << 5; // subnormal
  return sign ? 1 << 3 : 1 << 4; // zero
}

// ---------------------------------------------------------------------------------------------
// Float -> integer (IEEE 754-2019 5.8 convertToInteger with the rounding mode; F chapter
// "Single-Precision Floating-Point Conversion" table: NaN -> largest positive, out of range
// -> saturate by sign, invalid raises NV and not NX).

/** Returns the integer bits (a signed 32-bit result in its low 32 bits). */
function toInt<T>(a: u64, rm: u32, is64: bool, signed: bool): u64 {
  const F = FB<T>();
  const sign = signOf<T>(a);
  const exp = expOf<T>(a);
  const frac = fracOf<T>(a);
  const maxPos: u64 = signed ? (is64 ? 0x7FFFFFFFFFFFFFFF : 0x7FFFFFFF) : (is64 ? u64.MAX_VALUE : 0xFFFFFFFF);
  const maxNeg: u64 = signed ? (is64 ? 0x8000000000000000 : 0x80000000) : 0;
  if (exp == EMAX<T>() && frac != 0) {
    sfFlags |= FLAG_NV;
    return maxPos;
  }
  // |a| = whole + extra / 2^64
  let whole: u64 = 0, extra: u64 = 0;
  if (exp == 0) {
    extra = <u64>(frac != 0); // |a| < 2^-126: a sticky fraction only
  } else {
    const e = exp - BIAS<T>();
    if (e >= 64) {
      sfFlags |= FLAG_NV; // also +-inf
      return sign != 0 ? maxNeg : maxPos;
    }
    const sig = (frac | HIDDEN<T>()) << (63 - F); // leading bit at 63
    if (e < 0) {
      extra = shiftRightJam(sig, -e - 1);
    } else {
      whole = sig >> (63 - e);
      extra = e == 63 ? 0 : sig << (e + 1);
    }
  }
  const half: u64 = 0x8000000000000000;
  let up = false;
  if (rm == RNE) up = extra > half || (extra == half && (whole & 1) != 0);
  else if (rm == RMM) up = extra >= half;
  else if (rm == RDN) up = sign != 0 && extra != 0;
  else if (rm == RUP) up = sign == 0 && extra != 0;
  const mag = whole + <u64>up; // cannot wrap: whole < 2^53 whenever extra != 0
  let ok: bool;
  if (signed) {
    const lim: u64 = is64 ? 0x8000000000000000 : 0x80000000;
    ok = sign != 0 ? mag <= lim : mag < lim;
  } else {
    ok = sign != 0 ? mag == 0 : is64 || mag <= 0xFFFFFFFF;
  }
  if (!ok) {
    sfFlags |= FLAG_NV;
    return sign != 0 ? maxNeg : maxPos;
  }
  if (extra != 0) sfFlags |= FLAG_NX;
  return sign != 0 ? 0 - mag : mag;
}

// Integer -> float (IEEE 754-2019 5.4.1 convertFromInt; exact results raise nothing).

function fromInt<T>(sign: u64, mag: u64, rm: u32): u64 {
  if (mag == 0) return 0;
  return normRoundPack<T>(sign, BIAS<T>() + 61, mag, rm);
}

// =============================================================================================
// Exported binary32 operations (u32 bit patterns)

export function f32_add(a: u32, b: u32, rm: u32): u32 { return <u32>add<u32>(a, b, rm); }
export function f32_sub(a: u32, b: u32, rm: u32): u32 { return <u32>add<u32>(a, b ^ 0x80000000, rm); }
export function f32_mul(a: u32, b: u32, rm: u32): u32 { return <u32>mul<u32>(a, b, rm); }
export function f32_div(a: u32, b: u32, rm: u32): u32 { return <u32>div<u32>(a, b, rm); }
export function f32_sqrt(a: u32, rm: u32): u32 { return <u32>sqrt<u32>(a, rm); }
export function f32_mulAdd(a: u32, b: u32, c: u32, rm: u32, op: u32): u32 {
  return <u32>mulAdd<u32>(a, b, c, rm, op);
}
export function f32_min(a: u32, b: u32): u32 { return <u32>minMax<u32>(a, b, false); }
export function f32_max(a: u32, b: u32): u32 { return <u32>minMax<u32>(a, b, true); }
export function f32_eq(a: u32, b: u32): bool { return eq<u32>(a, b); }
export function f32_lt(a: u32, b: u32): bool { return lt<u32>(a, b); }
export function f32_le(a: u32, b: u32): bool { return le<u32>(a, b); }
export function f32_classify(a: u32): u32 { return classify<u32>(a); }
export function f32_to_i32(a: u32, rm: u32): i32 { return <i32>toInt<u32>(a, rm, false, true); }
export function f32_to_u32(a: u32, rm: u32): u32 { return <u32>toInt<u32>(a, rm, false, false); }
export function f32_to_i64(a: u32, rm: u32): i64 { return <i64>toInt<u32>(a, rm, true, true); }
export function f32_to_u64(a: u32, rm: u32): u64 { return toInt<u32>(a, rm, true, false); }
export function i32_to_f32(a: i32, rm: u32): u32 {
  return <u32>fromInt<u32>(<u64>(a < 0), <u64>(a < 0 ? -a : a) & 0xFFFFFFFF, rm);
}
export function u32_to_f32(a: u32, rm: u32): u32 { return <u32>fromInt<u32>(0, a, rm); }
export function i64_to_f32(a: i64, rm: u32): u32 {
  return <u32>fromInt<u32>(<u64>(a < 0), <u64>(a < 0 ? -a : a), rm);
}
export function u64_to_f32(a: u64, rm: u32): u32 { return <u32>fromInt<u32>(0, a, rm); }

// Exported binary64 operations (u64 bit patterns)

export function f64_add(a: u64, b: u64, rm: u32): u64 { return add<u64>(a, b, rm); }
export function f64_sub(a: u64, b: u64, rm: u32): u64 { return add<u64>(a, b ^ 0x8000000000000000, rm); }
export function f64_mul(a: u64, b: u64, rm: u32): u64 { return mul<u64>(a, b, rm); }
export function f64_div(a: u64, b: u64, rm: u32): u64 { return div<u64>(a, b, rm); }
export function f64_sqrt(a: u64, rm: u32): u64 { return sqrt<u64>(a, rm); }
export function f64_mulAdd(a: u64, b: u64, c: u64, rm: u32, op: u32): u64 {
  return mulAdd<u64>(a, b, c, rm, op);
}
export function f64_min(a: u64, b: u64): u64 { return minMax<u64>(a, b, false); }
export function f64_max(a: u64, b: u64): u64 { return minMax<u64>(a, b, true); }
export function f64_eq(a: u64, b: u64): bool { return eq<u64>(a, b); }
export function f64_lt(a: u64, b: u64): bool { return lt<u64>(a, b); }
export function f64_le(a: u64, b: u64): bool { return le<u64>(a, b); }
export function f64_classify(a: u64): u32 { return classify<u64>(a); }
export function f64_to_i32(a: u64, rm: u32): i32 { return <i32>toInt<u64>(a, rm, false, true); }
export function f64_to_u32(a: u64, rm: u32): u32 { return <u32>toInt<u64>(a, rm, false, false); }
export function f64_to_i64(a: u64, rm: u32): i64 { return <i64>toInt<u64>(a, rm, true, true); }
export function f64_to_u64(a: u64, rm: u32): u64 { return toInt<u64>(a, rm, true, false); }
export function i32_to_f64(a: i32, rm: u32): u64 {
  return fromInt<u64>(<u64>(a < 0), <u64>(a < 0 ? -a : a) & 0xFFFFFFFF, rm);
}
export function u32_to_f64(a: u32, rm: u32): u64 { return fromInt<u64>(0, a, rm); }
export function i64_to_f64(a: i64, rm: u32): u64 {
  return fromInt<u64>(<u64>(a < 0), <u64>(a < 0 ? -a : a), rm);
}
export function u64_to_f64(a: u64, rm: u32): u64 { return fromInt<u64>(0, a, rm); }

// Between formats (D chapter "Double-Precision Floating-Point Conversion": FCVT.D.S is exact,
// FCVT.S.D rounds; NaNs become the canonical NaN, sNaN raises NV).

export function f32_to_f64(a: u32): u64 {
  const sign = signOf<u32>(a);
  let exp = expOf<u32>(a);
  let frac = fracOf<u32>(a);
  if (exp == 0xFF) {
    if (frac == 0) return pack<u64>(sign, 0x7FF, 0);
    if (isSNaN<u32>(a)) sfFlags |= FLAG_NV;
    return defaultNaN<u64>();
  }
  if (exp == 0) {
    if (frac == 0) return pack<u64>(sign, 0, 0);
    const s = subnormShift<u32>(frac);
    exp = 1 - s;
    frac = (frac << s) & 0x7FFFFF;
  }
  return pack<u64>(sign, exp + (1023 - 127), frac << 29);
}

export function f64_to_f32(a: u64, rm: u32): u32 {
  const sign = signOf<u64>(a);
  const exp = expOf<u64>(a);
  const frac = fracOf<u64>(a);
  if (exp == 0x7FF) {
    if (frac != 0) {
      if (isSNaN<u64>(a)) sfFlags |= FLAG_NV;
      return 0x7FC00000;
    }
    return <u32>pack<u32>(sign, 0xFF, 0);
  }
  if ((<u64>exp | frac) == 0) return <u32>pack<u32>(sign, 0, 0);
  // Leading bit to 62 (a subnormal binary64 is far below binary32's range: only sticky).
  const sig = (exp != 0 ? frac | HIDDEN<u64>() : frac) << 10;
  return <u32>roundPack<u32>(sign, (exp != 0 ? exp : 1) - (1023 - 127) - 1, sig, rm);
}
