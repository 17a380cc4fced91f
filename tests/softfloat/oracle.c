/*
 * Test-vector oracle for assembly/hart/softfloat.ts, built with the host gcc on x86-64.
 *
 *   oracle --ops                    print the op names, one a line, in op-id order
 *   oracle SEED N OUTFILE           write test vectors (N random ones per op and rounding mode,
 *                                   plus all pairs of special values) to OUTFILE
 *
 * Results and flags come from the x86-64 SSE unit under <fenv.h> rounding modes (RNE, RTZ, RDN,
 * RUP, exact IEEE flags, tininess detected after rounding like RISC-V) and from glibc's correctly
 * rounded fma()/fmaf(). Where x86 and RISC-V legitimately differ, the RISC-V rule is applied here:
 *   - NaN results are the canonical NaN (x86 propagates payloads / returns its negative default);
 *   - fma(inf, 0, qNaN) raises NV on RISC-V, not on x86;
 *   - float->int conversions saturate (RISC-V F chapter fcvt table) where x86 returns 0x80..0;
 *     these are computed from nearbyintl()/roundl() and range checks, and cross-checked against
 *     the SSE cvt instructions wherever those are defined;
 *   - FMIN/FMAX (IEEE 754-2019 minimumNumber/maximumNumber) and FCLASS follow the spec text.
 * RMM (ties to max magnitude) has no hardware mode: its result is the RNE result except at an
 * exact tie, found by computing the operation exactly in a wider format (x87 long double or
 * __float128, exactness from the inexact flag); its flags equal the RNE flags (a tie is inexact
 * either way, and ties never decide overflow or tininess).
 *
 * Record (40 bytes, little endian): u8 op, u8 rm, u8 flags, u8[5] 0, u64 a, b, c, expected.
 * f32 values and 32-bit integers sit in the low 32 bits.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(X)                                                                                   \
  X(f32_add) X(f32_sub) X(f32_mul) X(f32_div) X(f32_sqrt)                                        \
  X(f32_madd) X(f32_msub) X(f32_nmsub) X(f32_nmadd)                                              \
  X(f32_min) X(f32_max) X(f32_eq) X(f32_lt) X(f32_le) X(f32_classify)                            \
  X(f32_to_i32) X(f32_to_u32) X(f32_to_i64) X(f32_to_u64)                                        \
  X(i32_to_f32) X(u32_to_f32) X(i64_to_f32) X(u64_to_f32)                                        \
  X(f64_add) X(f64_sub) X(f64_mul) X(f64_div) X(f64_sqrt)                                        \
  X(f64_madd) X(f64_msub) X(f64_nmsub) X(f64_nmadd)                                              \
  X(f64_min) X(f64_max) X(f64_eq) X(f64_lt) X(f64_le) X(f64_classify)                            \
  X(f64_to_i32) X(f64_to_u32) X(f64_to_i64) X(f64_to_u64)                                        \
  X(i32_to_f64) X(u32_to_f64) X(i64_to_f64) X(u64_to_f64)                                        \
  X(f32_to_f64) X(f64_to_f32)

#define ENUM(n) OP_##n,
enum { OPS(ENUM) NOPS };
#define NAME(n) #n,
static const char *opNames[] = {OPS(NAME)};

typedef struct {
  uint8_t op, rm, flags, pad[5];
  uint64_t a, b, c, r;
} Rec;

enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };
static const int feModes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
typedef __float128 quad;

/* ---- random numbers (splitmix64) ---- */
static uint64_t rngState;
static uint64_t rnd(void) {
  uint64_t z = (rngState += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static int below(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- bit casts and formats (d = 0: binary32, 1: binary64) ---- */
static float F(uint64_t u) { uint32_t x = (uint32_t)u; float f; memcpy(&f, &x, 4); return f; }
static uint64_t UF32(float f) { uint32_t x; memcpy(&x, &f, 4); return x; }
static double D(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static uint64_t UD(double f) { uint64_t x; memcpy(&x, &f, 8); return x; }
static int FB(int d) { return d ? 52 : 23; }
static uint64_t EMAX(int d) { return d ? 0x7FF : 0xFF; }
static int BIAS(int d) { return d ? 1023 : 127; }
static uint64_t FMASK(int d) { return (1ull << FB(d)) - 1; }
static uint64_t WMASK(int d) { return d ? ~0ull : 0xFFFFFFFFull; }
static uint64_t SIGNB(int d) { return 1ull << (d ? 63 : 31); }
static uint64_t canon(int d) { return d ? 0x7FF8000000000000ull : 0x7FC00000ull; }
static uint64_t mk(int d, uint64_t s, uint64_t e, uint64_t f) {
  return (s ? SIGNB(d) : 0) | (e << FB(d)) | (f & FMASK(d));
}
static int isNaNb(int d, uint64_t a) { return ((a >> FB(d)) & EMAX(d)) == EMAX(d) && (a & FMASK(d)); }
static int isSNaNb(int d, uint64_t a) { return isNaNb(d, a) && !(a & (1ull << (FB(d) - 1))); }
static uint64_t fromD(int d, double x) { return d ? UD(x) : UF32((float)x); } /* x exact in format */
static long double toLD(int d, uint64_t a) { return d ? (long double)D(a) : (long double)F(a); }

static uint32_t rvFlags(void) {
  int e = fetestexcept(FE_ALL_EXCEPT);
  return (e & FE_INEXACT ? NX : 0) | (e & FE_UNDERFLOW ? UF : 0) | (e & FE_OVERFLOW ? OF : 0) |
         (e & FE_DIVBYZERO ? DZ : 0) | (e & FE_INVALID ? NV : 0);
}
static void begin(int rm) {
  fesetround(feModes[rm == 4 ? 0 : rm]);
  feclearexcept(FE_ALL_EXCEPT);
}
static uint32_t end(void) {
  uint32_t f = rvFlags();
  fesetround(FE_TONEAREST);
  return f;
}

/* ---- RMM from the RNE result: v is the exact result if `exact` ---- */
static long rmmTies; /* RMM vectors whose exact result was a tie */
static uint64_t rmmFix(int d, quad v, int exact, uint64_t rne) {
  if (!exact || v != v || v == 0) return rne;
  quad dn, up;
  uint64_t upBits;
  fesetround(FE_TOWARDZERO);
  if (d) {
    volatile double t = (double)v;
    fesetround(FE_TONEAREST);
    double u = nextafter(t, v < 0 ? -INFINITY : INFINITY);
    if (isinf(t) || isinf(u)) return rne;
    dn = t; up = u; upBits = UD(u);
  } else {
    volatile float t = (float)v;
    fesetround(FE_TONEAREST);
    float u = nextafterf(t, v < 0 ? -INFINITY : INFINITY);
    if (isinf(t) || isinf(u)) return rne;
    dn = t; up = u; upBits = UF32(u);
  }
  if (dn == v) return rne;
  if (v - dn != up - v) return rne; /* exact differences: all within 113 bits */
  rmmTies++;
  return upBits;
}
static int inexactSince(void) { return fetestexcept(FE_INEXACT) != 0; }

/* ---- input generators ---- */
static uint64_t special(int d) {
  int F = FB(d), B = BIAS(d);
  uint64_t s = rnd() & 1, em = EMAX(d), fm = FMASK(d);
  switch (below(24)) {
  case 0: return mk(d, s, 0, 0);
  case 1: return mk(d, s, 0, 1);                      /* min subnormal */
  case 2: return mk(d, s, 0, fm);                     /* max subnormal */
  case 3: return mk(d, s, 1, 0);                      /* min normal */
  case 4: return mk(d, s, em - 1, fm);                /* max normal */
  case 5: return mk(d, s, em, 0);                     /* infinity */
  case 6: return mk(d, s, em, (1ull << (F - 1)) | (rnd() & (below(2) ? fm : 0))); /* qNaN */
  case 7: { uint64_t f = rnd() & (fm >> 1); return mk(d, s, em, f ? f : 1); }     /* sNaN */
  case 8: return mk(d, s, B, 0);                      /* 1 */
  case 9: return mk(d, s, B, 1);                      /* 1 + ulp */
  case 10: return mk(d, s, B, fm);                    /* 2 - ulp */
  case 11: return mk(d, s, B - 1, 0);                 /* 0.5 */
  case 12: return mk(d, s, B - 1, 1ull << (F - 1));   /* 0.75 */
  case 13: return mk(d, s, B + 1, 1ull << (F - 2));   /* 2.5 */
  case 14: return mk(d, s, B, 1ull << (F - 1));       /* 1.5 */
  case 15: { static const int k[] = {31, 32, 63, 64, 24, 53, 52, 23};
             return mk(d, s, B + k[below(8)], 0); }   /* integer limits */
  case 16: { static const int k[] = {31, 32, 63, 64, 24, 53, 52, 23};
             return mk(d, s, B + k[below(8)] - 1, fm); } /* just below them */
  case 17: return mk(d, s, em - 1, rnd());            /* huge */
  case 18: return mk(d, s, 1, rnd());                 /* tiny normal */
  case 19: return mk(d, s, 0, rnd() >> below(64));    /* subnormal */
  case 20: return mk(d, s, em - 1, 0);                /* largest power of two */
  case 21: return mk(d, s, B - F - 1, 0);             /* half an ulp of 1 */
  case 22: return mk(d, s, B + below(8), rnd() & ~(fm >> 3)); /* short significand */
  default: return mk(d, s, 0, 1ull << below(F));      /* subnormal power of two */
  }
}

static uint64_t genFloat(int d) {
  int F = FB(d), B = BIAS(d);
  uint64_t s = rnd() & 1, fm = FMASK(d), em = EMAX(d), f = rnd() & fm;
  switch (below(16)) {
  case 0: case 1: return rnd() & WMASK(d);
  case 2: case 3: return special(d);
  case 4: return mk(d, s, 0, f >> below(F));                         /* subnormal */
  case 5: return mk(d, s, em - 1 - below(4), f);                     /* near overflow */
  case 6: return mk(d, s, 1 + below(4), f);                          /* near underflow */
  case 7: return mk(d, s, B - 20 + below(40), f & ~((1ull << below(F + 1)) - 1)); /* short */
  case 8: return mk(d, s, B - 20 + below(40), f | ((1ull << below(F)) - 1));      /* long ones */
  case 9: return mk(d, s, B - 3 + below(6), below(2) ? (uint64_t)below(8) : fm - below(8));
  default: return mk(d, s, B - 40 + below(80), f);
  }
}

/* b related to a: close in exponent and significand, or a special */
static uint64_t genPartner(int d, uint64_t a) {
  uint64_t fm = FMASK(d);
  switch (below(8)) {
  case 0: case 1: case 2: return genFloat(d);
  case 3: return a ^ (rnd() & SIGNB(d));
  case 4: { /* same exponent region, few ulps apart */
    int64_t delta = (int64_t)below(9) - 4;
    return ((a + (uint64_t)delta) & WMASK(d)) ^ (below(2) ? SIGNB(d) : 0); }
  case 5: { /* exponent within +-(F+3), significand shares high bits */
    int64_t de = (int64_t)below(2 * FB(d) + 7) - FB(d) - 3;
    uint64_t e = (a >> FB(d)) & EMAX(d);
    int64_t ne = (int64_t)e + de;
    if (ne < 0) ne = 0;
    if (ne > (int64_t)EMAX(d) - 1) ne = EMAX(d) - 1;
    uint64_t f = (a & fm) ^ (rnd() & (fm >> below(FB(d) + 1)));
    return mk(d, rnd() & 1, (uint64_t)ne, f); }
  case 6: return special(d);
  default: return mk(d, rnd() & 1, (a >> FB(d)) & EMAX(d), rnd());
  }
}

static uint64_t genInt(void) {
  static const uint64_t lim[] = {0x7FFFFFFFull, 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull,
                                 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, ~0ull,
                                 1ull << 24, 1ull << 53, (1ull << 24) + 1, (1ull << 53) + 1};
  uint64_t x;
  switch (below(8)) {
  case 0: x = rnd(); break;
  case 1: x = rnd() >> below(64); break;
  case 2: x = lim[below(11)] + (uint64_t)(below(9) - 4); break;
  case 3: x = ((rnd() & ((1ull << 26) - 1)) | 1) << below(39); break; /* 26 significant bits */
  case 4: x = ((rnd() & ((1ull << 55) - 1)) | 1) << below(10); break; /* 55 significant bits */
  case 5: x = (uint64_t)below(64); break;
  case 6: x = (rnd() >> 32) >> below(32); break;
  default: x = (1ull << below(64)) + ((below(2) ? 1 : -1) * (uint64_t)below(3)); break;
  }
  return below(4) == 0 ? -x : x;
}

/* inputs for float -> integer conversions: near the limits, at halves, small negatives */
static uint64_t genConvIn(int d) {
  static const double lims[] = {2147483648.0, 4294967296.0, 9223372036854775808.0,
                                18446744073709551616.0, 1.0, 0.0, 2.0, 4503599627370496.0};
  double x;
  switch (below(6)) {
  case 0: return genFloat(d);
  case 1: { /* a few ulps around a limit */
    uint64_t b = fromD(d, lims[below(8)]);
    b = (b + (uint64_t)(below(9) - 4)) & WMASK(d) & ~SIGNB(d);
    return b | (below(2) ? SIGNB(d) : 0); }
  case 2: x = (double)(below(64) - 32) + (double)below(4) * 0.25; return fromD(d, x);
  case 3: x = (double)(int64_t)(rnd() >> below(64)) + 0.5; if (below(2)) x = -x;
          return fromD(d, d ? x : (double)(float)x);
  case 4: return mk(d, rnd() & 1, BIAS(d) - 2 + below(68), rnd());
  default: return special(d);
  }
}

/* ---- reference operations ---- */
static uint64_t canonIf(int d, uint64_t r) { return isNaNb(d, r) ? canon(d) : r; }

static void arith(int d, int kind, int rm, uint64_t a, uint64_t b, uint64_t c, Rec *o) {
  uint64_t r;
  quad v = 0;
  int exact = 0;
  if (d) {
    volatile double x = D(a), y = D(b), z = D(c), res = 0;
    begin(rm);
    switch (kind) {
    case 0: res = x + y; break;
    case 1: res = x - y; break;
    case 2: res = x * y; break;
    case 3: res = x / y; break;
    case 4: res = sqrt(x); break;
    default: res = fma(x, y, z); break;
    }
    o->flags = end();
    r = UD(res);
  } else {
    volatile float x = F(a), y = F(b), z = F(c), res = 0;
    begin(rm);
    switch (kind) {
    case 0: res = x + y; break;
    case 1: res = x - y; break;
    case 2: res = x * y; break;
    case 3: res = x / y; break;
    case 4: res = sqrtf(x); break;
    default: res = fmaf(x, y, z); break;
    }
    o->flags = end();
    r = UF32(res);
  }
  r = canonIf(d, r);
  if (kind == 5) {
    /* RISC-V: inf * 0 is invalid even when the addend is a quiet NaN */
    int nan = isNaNb(d, a) || isNaNb(d, b) || isNaNb(d, c);
    long double x = toLD(d, a), y = toLD(d, b);
    int infZero = (isinf(x) && y == 0) || (isinf(y) && x == 0);
    if (nan && infZero && !isNaNb(d, a) && !isNaNb(d, b)) o->flags |= NV;
  }
  if (rm == 4 && !isNaNb(d, r)) {
    volatile quad qx = (quad)toLD(d, a), qy = (quad)toLD(d, b), qz = (quad)toLD(d, c);
    feclearexcept(FE_ALL_EXCEPT);
    switch (kind) {
    case 0: v = qx + qy; break;
    case 1: v = qx - qy; break;
    case 2: v = qx * qy; break;
    case 3: v = qx / qy; break;
    case 4: { volatile long double s = sqrtl(toLD(d, a)); v = s; break; }
    default: v = qx * qy + qz; break; /* the product is exact in quad */
    }
    exact = !inexactSince();
    r = rmmFix(d, v, exact, r);
  }
  o->r = r;
}

static void fma4(int d, int rm, uint64_t a, uint64_t b, uint64_t c, int variant, Rec *o) {
  /* op bit 0 negates c, bit 1 negates the product: flip the sign of a instead (exact) */
  uint64_t aa = (variant & 2) ? a ^ SIGNB(d) : a;
  uint64_t cc = (variant & 1) ? c ^ SIGNB(d) : c;
  arith(d, 5, rm, aa, b, cc, o);
}

static uint64_t minMax(int d, uint64_t a, uint64_t b, int isMax, uint8_t *flags) {
  int na = isNaNb(d, a), nb = isNaNb(d, b);
  if (isSNaNb(d, a) || isSNaNb(d, b)) *flags |= NV;
  if (na && nb) return canon(d);
  if (na) return b;
  if (nb) return a;
  long double x = toLD(d, a), y = toLD(d, b);
  if (x == y) { /* equal, or +-0: -0 < +0 */
    int negA = (a & SIGNB(d)) != 0, negB = (b & SIGNB(d)) != 0;
    if (negA == negB) return a;
    return (negA != isMax) ? a : b;
  }
  return ((x < y) != isMax) ? a : b;
}

static void compare(int d, int kind, uint64_t a, uint64_t b, Rec *o) {
  int res;
  if (d) {
    volatile double x = D(a), y = D(b);
    begin(0);
    res = kind == 0 ? x == y : kind == 1 ? x < y : x <= y; /* ucomisd / comisd */
    o->flags = end();
  } else {
    volatile float x = F(a), y = F(b);
    begin(0);
    res = kind == 0 ? x == y : kind == 1 ? x < y : x <= y;
    o->flags = end();
  }
  o->r = (uint64_t)res;
}

static uint64_t classify(int d, uint64_t a) {
  int neg = (a & SIGNB(d)) != 0;
  uint64_t e = (a >> FB(d)) & EMAX(d), f = a & FMASK(d);
  if (e == EMAX(d)) return f == 0 ? (neg ? 1 << 0 : 1 << 7) : isSNaNb(d, a) ? 1 << 8 : 1 << 9;
  if (e) return neg ? 1 << 1 : 1 << 6;
  if (f) return neg ? 1 << 2 : 1 << 5;
  return neg ? 1 << 3 : 1 << 4;
}

/* kind: 0 i32, 1 u32, 2 i64, 3 u64 */
static void toInt(int d, int kind, int rm, uint64_t a, Rec *o) {
  static const long double lo[] = {-2147483648.0L, 0, -9223372036854775808.0L, 0};
  static const long double hi[] = {2147483647.0L, 4294967295.0L, 9223372036854775807.0L,
                                   18446744073709551615.0L};
  static const uint64_t maxPos[] = {0x7FFFFFFF, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFFull, ~0ull};
  static const uint64_t maxNeg[] = {0x80000000, 0, 0x8000000000000000ull, 0};
  o->flags = 0;
  if (isNaNb(d, a)) {
    o->flags = NV;
    o->r = maxPos[kind];
    return;
  }
  long double x = toLD(d, a), r;
  fesetround(feModes[rm == 4 ? 0 : rm]);
  r = rm == 4 ? roundl(x) : nearbyintl(x);
  fesetround(FE_TONEAREST);
  if (r < lo[kind] || r > hi[kind]) {
    o->flags = NV;
    o->r = x < 0 ? maxNeg[kind] : maxPos[kind];
  } else {
    o->r = (kind & 1) ? (uint64_t)r : (uint64_t)(int64_t)r;
    if (kind < 2) o->r &= 0xFFFFFFFF;
    if (r != x) o->flags = NX;
  }
  /* cross-check the signed ones with the SSE converter (defined where it does not say invalid) */
  if ((kind & 1) == 0 && rm < 4) {
    int64_t hw;
    begin(rm);
    if (d) {
      __m128d v = _mm_set_sd(D(a));
      hw = kind == 0 ? (int64_t)(uint32_t)_mm_cvtsd_si32(v) : _mm_cvtsd_si64(v);
    } else {
      __m128 v = _mm_set_ss(F(a));
      hw = kind == 0 ? (int64_t)(uint32_t)_mm_cvtss_si32(v) : _mm_cvtss_si64(v);
    }
    uint32_t hf = end();
    if (hf & NV ? !(o->flags & NV) : ((uint64_t)hw != o->r || hf != o->flags)) {
      fprintf(stderr, "oracle self-check failed: %s rm %d input %016llx: hw %016llx/%x, ref %016llx/%x\n", opNames[o->op], rm,
              (unsigned long long)a, (unsigned long long)hw, hf, (unsigned long long)o->r, o->flags);
      exit(3);
    }
  }
}

/* kind: 0 i32, 1 u32, 2 i64, 3 u64 */
static void fromInt(int d, int kind, int rm, uint64_t a, Rec *o) {
  quad v;
  uint64_t r;
  if (kind < 2) a &= 0xFFFFFFFF;
  if (d) {
    volatile double res = 0;
    volatile int32_t i32 = (int32_t)a; volatile uint32_t u32 = (uint32_t)a;
    volatile int64_t i64 = (int64_t)a; volatile uint64_t u64 = a;
    begin(rm);
    switch (kind) {
    case 0: res = i32; break;
    case 1: res = u32; break;
    case 2: res = i64; break;
    default: res = u64; break;
    }
    o->flags = end();
    r = UD(res);
  } else {
    volatile float res = 0;
    volatile int32_t i32 = (int32_t)a; volatile uint32_t u32 = (uint32_t)a;
    volatile int64_t i64 = (int64_t)a; volatile uint64_t u64 = a;
    begin(rm);
    switch (kind) {
    case 0: res = i32; break;
    case 1: res = u32; break;
    case 2: res = i64; break;
    default: res = u64; break;
    }
    o->flags = end();
    r = UF32(res);
  }
  switch (kind) {
  case 0: v = (int32_t)a; break;
  case 1: v = (uint32_t)a; break;
  case 2: v = (int64_t)a; break;
  default: v = a; break;
  }
  o->r = rm == 4 ? rmmFix(d, v, 1, r) : r;
}

static void compute(Rec *o) {
  int op = o->op, rm = o->rm;
  int d = op >= OP_f64_add && op <= OP_u64_to_f64;
  int base = d ? op - OP_f64_add : op; /* f32 and f64 blocks have the same layout */
  uint64_t a = o->a, b = o->b, c = o->c;
  o->flags = 0;
  if (op == OP_f32_to_f64) {
    volatile float x = F(a);
    volatile double res;
    begin(0);
    res = x;
    o->flags = end();
    o->r = canonIf(1, UD(res));
    return;
  }
  if (op == OP_f64_to_f32) {
    volatile double x = D(a);
    volatile float res;
    begin(rm);
    res = (float)x;
    o->flags = end();
    o->r = canonIf(0, UF32(res));
    if (rm == 4 && !isNaNb(1, a)) o->r = rmmFix(0, (quad)D(a), 1, o->r);
    return;
  }
  switch (base) {
  case OP_f32_add: case OP_f32_sub: case OP_f32_mul: case OP_f32_div: case OP_f32_sqrt:
    arith(d, base - OP_f32_add, rm, a, b, c, o); break;
  case OP_f32_madd: case OP_f32_msub: case OP_f32_nmsub: case OP_f32_nmadd:
    fma4(d, rm, a, b, c, base - OP_f32_madd, o); break;
  case OP_f32_min: case OP_f32_max:
    o->r = minMax(d, a, b, base == OP_f32_max, &o->flags); break;
  case OP_f32_eq: case OP_f32_lt: case OP_f32_le:
    compare(d, base - OP_f32_eq, a, b, o); break;
  case OP_f32_classify: o->r = classify(d, a); break;
  case OP_f32_to_i32: case OP_f32_to_u32: case OP_f32_to_i64: case OP_f32_to_u64:
    toInt(d, base - OP_f32_to_i32, rm, a, o); break;
  default:
    fromInt(d, base - OP_i32_to_f32, rm, a, o); break;
  }
}

static int rmIndependent(int op) {
  int base = op >= OP_f64_add && op <= OP_u64_to_f64 ? op - OP_f64_add : op;
  return op == OP_f32_to_f64 || (base >= OP_f32_min && base <= OP_f32_classify);
}
static int arity(int op) {
  int base = op >= OP_f64_add && op <= OP_u64_to_f64 ? op - OP_f64_add : op;
  if (op == OP_f32_to_f64 || op == OP_f64_to_f32) return 1;
  if (base == OP_f32_sqrt || base == OP_f32_classify || base >= OP_f32_to_i32) return 1;
  if (base >= OP_f32_madd && base <= OP_f32_nmadd) return 3;
  return 2;
}
static int inputIs64(int op) { /* float operand format */
  if (op == OP_f32_to_f64) return 0;
  if (op == OP_f64_to_f32) return 1;
  return op >= OP_f64_add && op <= OP_u64_to_f64;
}
static int inputIsInt(int op) {
  int base = op >= OP_f64_add && op <= OP_u64_to_f64 ? op - OP_f64_add : op;
  return op != OP_f32_to_f64 && op != OP_f64_to_f32 && base >= OP_i32_to_f32 && base <= OP_u64_to_f32;
}
static int inputIsConv(int op) {
  int base = op >= OP_f64_add && op <= OP_u64_to_f64 ? op - OP_f64_add : op;
  return op != OP_f32_to_f64 && op != OP_f64_to_f32 && base >= OP_f32_to_i32 && base <= OP_f32_to_u64;
}

/* a short list of specials, all combinations of which are tested */
static uint64_t fixedSpecial(int d, int i) {
  uint64_t em = EMAX(d), fm = FMASK(d);
  int B = BIAS(d), F = FB(d);
  static const int n = 12;
  uint64_t s = i >= n;
  switch (i % n) {
  case 0: return mk(d, s, 0, 0);
  case 1: return mk(d, s, 0, 1);
  case 2: return mk(d, s, 0, fm);
  case 3: return mk(d, s, 1, 0);
  case 4: return mk(d, s, em - 1, fm);
  case 5: return mk(d, s, em, 0);
  case 6: return mk(d, s, em, 1ull << (F - 1));
  case 7: return mk(d, s, em, 1);
  case 8: return mk(d, s, B, 0);
  case 9: return mk(d, s, B, fm);
  case 10: return mk(d, s, B - 1, 1);
  default: return mk(d, s, B + 1, 1ull << (F - 1));
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--ops")) {
    for (int i = 0; i < NOPS; i++) puts(opNames[i]);
    return 0;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: oracle --ops | oracle SEED N OUTFILE\n");
    return 2;
  }
  rngState = strtoull(argv[1], 0, 0);
  long n = strtol(argv[2], 0, 0);
  FILE *out = fopen(argv[3], "wb");
  if (!out) { perror(argv[3]); return 2; }
  long total = 0;
  for (int op = 0; op < NOPS; op++) {
    int d = inputIs64(op), ar = arity(op);
    for (int rm = 0; rm < 5; rm++) {
      if (rmIndependent(op) && rm) break;
      Rec rec;
      /* all combinations of the fixed specials (24 of them), then random inputs */
      /* (fma: a and c positive only; the four op variants supply their signs) */
      long nSpecial = ar == 1 ? 24 : ar == 2 ? 24 * 24 : 12 * 24 * 12;
      if (inputIsInt(op)) nSpecial = 0;
      long count = nSpecial + (rmIndependent(op) ? 4 * n : n);
      for (long i = 0; i < count; i++) {
        memset(&rec, 0, sizeof rec);
        rec.op = (uint8_t)op;
        rec.rm = (uint8_t)rm;
        if (i < nSpecial) {
          if (ar == 3) {
            rec.a = fixedSpecial(d, (int)(i % 12));
            rec.b = fixedSpecial(d, (int)(i / 12 % 24));
            rec.c = fixedSpecial(d, (int)(i / 288));
          } else {
            rec.a = fixedSpecial(d, (int)(i % 24));
            rec.b = fixedSpecial(d, (int)(i / 24 % 24));
          }
        } else if (inputIsInt(op)) {
          rec.a = genInt();
        } else if (inputIsConv(op)) {
          rec.a = genConvIn(d);
        } else {
          rec.a = genFloat(d);
          rec.b = genPartner(d, rec.a);
          rec.c = genFloat(d);
          if (ar == 3 && below(2)) {
            /* addend close to -(a*b): cancellation, exact zeros */
            volatile double p;
            int m = below(4);
            fesetround(feModes[m]);
            if (d) p = D(rec.a) * D(rec.b); else p = (float)(F(rec.a) * F(rec.b));
            fesetround(FE_TONEAREST);
            rec.c = fromD(d, (double)p);
            if (below(2)) rec.c ^= SIGNB(d);
            if (!isNaNb(d, rec.c) && below(2)) rec.c = (rec.c + (uint64_t)(below(5) - 2)) & WMASK(d);
          }
        }
        if (ar < 3) rec.c = 0;
        if (ar < 2) rec.b = 0;
        compute(&rec);
        fwrite(&rec, sizeof rec, 1, out);
        total++;
      }
    }
  }
  fclose(out);
  fprintf(stderr, "oracle: %ld vectors, %ld of them RMM ties\n", total, rmmTies);
  return 0;
}
