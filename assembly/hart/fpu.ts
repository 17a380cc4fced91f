// F and D instructions (unprivileged spec, "F" and "D" chapters): operand unboxing,
// rounding-mode resolution, fflags accumulation and mstatus.FS; the arithmetic itself is
// softfloat.ts.
import * as O from './opcodes.gen';
import { SLOT_RD, SLOT_RS1, SLOT_RS2, SLOT_RS3, SLOT_RM, SLOT_IMM, SLOT_RAW } from '../memmap';
import { getX, setX, getF, setF, csrRaw, raise, trapPending, MSTATUS_FS, CAUSE_ILLEGAL_INSTRUCTION } from './state';
import { CSR_MSTATUS } from './opcodes.gen';
import { frm, fflags } from './fpstate';
import { markFsDirty, fpOff } from './csr';
import { read, write } from '../mmu/memory';
import * as S from './softfloat';

const BOX: u64 = 0xffff_ffff_0000_0000;
const CANONICAL_NAN_S: u32 = 0x7fc0_0000;
const SIGN_S: u32 = 0x8000_0000;
const SIGN_D: u64 = 0x8000_0000_0000_0000;

/** A single-precision operand: a value not NaN-boxed reads as the canonical NaN (D 13.2). */
@inline function fs(r: u32): u32 {
  const v = getF(r);
  return (v & BOX) == BOX ? <u32>v : CANONICAL_NAN_S;
}
@inline function setFs(r: u32, v: u32): void {
  setF(r, BOX | v);
  markFsDirty();
}
@inline function setFd(r: u32, v: u64): void {
  setF(r, v);
  markFsDirty();
}
@inline function sext32(v: u32): u64 {
  return <u64><i64><i32>v;
}

function illegal(slot: u32): void {
  raise(CAUSE_ILLEGAL_INSTRUCTION, <u64>load<u32>(slot, SLOT_RAW));
}

/** Does this op take a rounding mode from its rm field? */
function usesRm(op: u32): bool {
  return (op >= O.OP_FMADD_S && op <= O.OP_FSQRT_S) || (op >= O.OP_FMADD_D && op <= O.OP_FSQRT_D) ||
    (op >= O.OP_FCVT_W_S && op <= O.OP_FCVT_LU_S) || (op >= O.OP_FCVT_S_W && op <= O.OP_FCVT_S_LU) ||
    op == O.OP_FCVT_S_D || op == O.OP_FCVT_D_S ||
    (op >= O.OP_FCVT_W_D && op <= O.OP_FCVT_LU_D) || (op >= O.OP_FCVT_D_W && op <= O.OP_FCVT_D_LU);
}

/** Execute an F or D instruction (op ids from the F/D rows of the encoding table). */
export function execFloat(op: u32, slot: u32): void {
  // with mstatus.FS = Off (or, with V=1, vsstatus.FS = Off) every F/D instruction is illegal
  // (3.1.6.6; H chapter, vsstatus)
  if (fpOff() || op < O.OP_FLW || op > O.OP_FMV_D_X) {
    illegal(slot);
    return;
  }
  const rd = <u32>load<u8>(slot, SLOT_RD);
  const r1 = <u32>load<u8>(slot, SLOT_RS1);
  const r2 = <u32>load<u8>(slot, SLOT_RS2);
  let rm = <u32>load<u8>(slot, SLOT_RM);
  if (usesRm(op)) {
    if (rm == 7) rm = frm; // DYN
    if (rm > 4) {
      illegal(slot);
      return;
    }
  }
  S.sfFlags = 0;
  switch (op) {
    // ---- loads and stores move bits unchanged (single: NaN-boxed on load)
    case O.OP_FLW: case O.OP_FLD: {
      const a = getX(r1) + <u64><i64>load<i32>(slot, SLOT_IMM);
      if (op == O.OP_FLW) { const v = read<u32>(a); if (!trapPending) setFs(rd, <u32>v); }
      else { const v = read<u64>(a); if (!trapPending) setFd(rd, v); }
      return;
    }
    case O.OP_FSW: write<u32>(getX(r1) + <u64><i64>load<i32>(slot, SLOT_IMM), getF(r2)); return;
    case O.OP_FSD: write<u64>(getX(r1) + <u64><i64>load<i32>(slot, SLOT_IMM), getF(r2)); return;

    // ---- single precision
    case O.OP_FMADD_S: case O.OP_FMSUB_S: case O.OP_FNMSUB_S: case O.OP_FNMADD_S:
      setFs(rd, S.f32_mulAdd(fs(r1), fs(r2), fs(load<u8>(slot, SLOT_RS3)), rm, op - O.OP_FMADD_S)); break;
    case O.OP_FADD_S: setFs(rd, S.f32_add(fs(r1), fs(r2), rm)); break;
    case O.OP_FSUB_S: setFs(rd, S.f32_sub(fs(r1), fs(r2), rm)); break;
    case O.OP_FMUL_S: setFs(rd, S.f32_mul(fs(r1), fs(r2), rm)); break;
    case O.OP_FDIV_S: setFs(rd, S.f32_div(fs(r1), fs(r2), rm)); break;
    case O.OP_FSQRT_S: setFs(rd, S.f32_sqrt(fs(r1), rm)); break;
    case O.OP_FSGNJ_S: setFs(rd, (fs(r1) & ~SIGN_S) | (fs(r2) & SIGN_S)); break;
    case O.OP_FSGNJN_S: setFs(rd, (fs(r1) & ~SIGN_S) | (~fs(r2) & SIGN_S)); break;
    case O.OP_FSGNJX_S: setFs(rd, fs(r1) ^ (fs(r2) & SIGN_S)); break;
    case O.OP_FMIN_S: setFs(rd, S.f32_min(fs(r1), fs(r2))); break;
    case O.OP_FMAX_S: setFs(rd, S.f32_max(fs(r1), fs(r2))); break;
    case O.OP_FCVT_W_S: setX(rd, <u64><i64>S.f32_to_i32(fs(r1), rm)); break;
    case O.OP_FCVT_WU_S: setX(rd, sext32(S.f32_to_u32(fs(r1), rm))); break;
    case O.OP_FCVT_L_S: setX(rd, <u64>S.f32_to_i64(fs(r1), rm)); break;
    case O.OP_FCVT_LU_S: setX(rd, S.f32_to_u64(fs(r1), rm)); break;
    case O.OP_FMV_X_W: setX(rd, sext32(<u32>getF(r1))); break;
    case O.OP_FCLASS_S: setX(rd, S.f32_classify(fs(r1))); break;
    case O.OP_FEQ_S: setX(rd, S.f32_eq(fs(r1), fs(r2)) ? 1 : 0); break;
    case O.OP_FLT_S: setX(rd, S.f32_lt(fs(r1), fs(r2)) ? 1 : 0); break;
    case O.OP_FLE_S: setX(rd, S.f32_le(fs(r1), fs(r2)) ? 1 : 0); break;
    case O.OP_FCVT_S_W: setFs(rd, S.i32_to_f32(<i32>getX(r1), rm)); break;
    case O.OP_FCVT_S_WU: setFs(rd, S.u32_to_f32(<u32>getX(r1), rm)); break;
    case O.OP_FCVT_S_L: setFs(rd, S.i64_to_f32(<i64>getX(r1), rm)); break;
    case O.OP_FCVT_S_LU: setFs(rd, S.u64_to_f32(getX(r1), rm)); break;
    case O.OP_FMV_W_X: setFs(rd, <u32>getX(r1)); break;

    // ---- double precision
    case O.OP_FMADD_D: case O.OP_FMSUB_D: case O.OP_FNMSUB_D: case O.OP_FNMADD_D:
      setFd(rd, S.f64_mulAdd(getF(r1), getF(r2), getF(load<u8>(slot, SLOT_RS3)), rm, op - O.OP_FMADD_D)); break;
    case O.OP_FADD_D: setFd(rd, S.f64_add(getF(r1), getF(r2), rm)); break;
    case O.OP_FSUB_D: setFd(rd, S.f64_sub(getF(r1), getF(r2), rm)); break;
    case O.OP_FMUL_D: setFd(rd, S.f64_mul(getF(r1), getF(r2), rm)); break;
    case O.OP_FDIV_D: setFd(rd, S.f64_div(getF(r1), getF(r2), rm)); break;
    case O.OP_FSQRT_D: setFd(rd, S.f64_sqrt(getF(r1), rm)); break;
    case O.OP_FSGNJ_D: setFd(rd, (getF(r1) & ~SIGN_D) | (getF(r2) & SIGN_D)); break;
    case O.OP_FSGNJN_D: setFd(rd, (getF(r1) & ~SIGN_D) | (~getF(r2) & SIGN_D)); break;
    case O.OP_FSGNJX_D: setFd(rd, getF(r1) ^ (getF(r2) & SIGN_D)); break;
    case O.OP_FMIN_D: setFd(rd, S.f64_min(getF(r1), getF(r2))); break;
    case O.OP_FMAX_D: setFd(rd, S.f64_max(getF(r1), getF(r2))); break;
    case O.OP_FCVT_S_D: setFs(rd, S.f64_to_f32(getF(r1), rm)); break;
    case O.OP_FCVT_D_S: setFd(rd, S.f32_to_f64(fs(r1))); break;
    case O.OP_FEQ_D: setX(rd, S.f64_eq(getF(r1), getF(r2)) ? 1 : 0); break;
    case O.OP_FLT_D: setX(rd, S.f64_lt(getF(r1), getF(r2)) ? 1 : 0); break;
    case O.OP_FLE_D: setX(rd, S.f64_le(getF(r1), getF(r2)) ? 1 : 0); break;
    case O.OP_FCLASS_D: setX(rd, S.f64_classify(getF(r1))); break;
    case O.OP_FCVT_W_D: setX(rd, <u64><i64>S.f64_to_i32(getF(r1), rm)); break;
    case O.OP_FCVT_WU_D: setX(rd, sext32(S.f64_to_u32(getF(r1), rm))); break;
    case O.OP_FCVT_L_D: setX(rd, <u64>S.f64_to_i64(getF(r1), rm)); break;
    case O.OP_FCVT_LU_D: setX(rd, S.f64_to_u64(getF(r1), rm)); break;
    case O.OP_FMV_X_D: setX(rd, getF(r1)); break;
    case O.OP_FCVT_D_W: setFd(rd, S.i32_to_f64(<i32>getX(r1), rm)); break;
    case O.OP_FCVT_D_WU: setFd(rd, S.u32_to_f64(<u32>getX(r1), rm)); break;
    case O.OP_FCVT_D_L: setFd(rd, S.i64_to_f64(<i64>getX(r1), rm)); break;
    case O.OP_FCVT_D_LU: setFd(rd, S.u64_to_f64(getX(r1), rm)); break;
    case O.OP_FMV_D_X: setFd(rd, getX(r1)); break;
    default: illegal(slot); return;
  }
  if (S.sfFlags != 0) {
    fflags |= S.sfFlags;
    markFsDirty();
  }
}
