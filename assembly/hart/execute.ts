// The interpreter: run(budget) executes up to `budget` steps (instructions retired plus
// exceptions taken) and returns an EXIT_* code (memmap.ts). Semantics follow the
// unprivileged spec chapter by chapter (RV64I, M, A, Zicsr, Zifencei) and the privileged
// spec for xRET, WFI, SFENCE.VMA and traps; F and D are in fpu.ts.
import * as O from './opcodes.gen';
import {
  PC_ADDR, SLOT_OP, SLOT_RD, SLOT_RS1, SLOT_RS2, SLOT_LEN, SLOT_IMM, SLOT_RAW, X_SINK,
  EXIT_BUDGET, EXIT_WFI, LAST_INSN_ADDR,
} from '../memmap';
import {
  getX, setX, priv, virt, raise, trapPending, trapCause, trapTval, trapTinst, setTrapTinst, PRV_M, PRV_S, PRV_U,
  csrRaw, ACCESS_READ, ACCESS_WRITE, MSTATUS_TW, MSTATUS_TSR, MSTATUS_TVM,
  HSTATUS_VTSR, HSTATUS_VTW, HSTATUS_VTVM, HSTATUS_HU, HSTATUS_SPVP,
  CAUSE_ILLEGAL_INSTRUCTION, CAUSE_BREAKPOINT, CAUSE_USER_ECALL, CAUSE_VS_ECALL, CAUSE_MISALIGNED_STORE,
  CAUSE_VIRTUAL_INSTRUCTION, CAUSE_LOAD_GUEST_PAGE_FAULT, CAUSE_STORE_GUEST_PAGE_FAULT,
} from './state';
import { CSR_MSTATUS, CSR_HSTATUS } from './opcodes.gen';
import { instret, stopAt, requestStop } from './counters';
import { csrAccess, csrFault, hExt } from './csr';
import {
  trapEnter, pendingInterrupt, wfiWake, updateTimerIrqs, insnsToNextTimer, ticksToNextTimer, doMret, doSret,
  setHlvActive,
} from './trap';
import { fetchVpn, fetchSlots, tlbFlushAll, tlbFlushPage, tlbFlushVirt, tlbFlushAsid } from '../mmu/tlb';
import { setReadNeedsExec } from '../mmu/walk';
import { transformedInsn } from './tinst';
import { fetchSlow, decodeAt } from './fetch';
import { OP_ILLEGAL_SLOT, OP_JIT, OP_FV_CALL } from './decode';
import { fvTranslate, fvTranslateBlock, fvCall } from '../vmm/full';
import { jitEnabled, jitCountLeader, jitBlockOf, jitOriginal, countJitCall } from './jit';
import {
  read, write, atomicHost, lastAtomicPa, hyperRead, hyperWrite,
} from '../mmu/memory';
import { invalidateCode } from './icache';
import { execFloat } from './fpu';
import { advanceTime } from '../devices/clint';
import { exitReason, clearExit, requestExit } from '../exit';
import { sbiHost, sbiCall } from '../sbi';
import { syncDeviceIrqs } from '../devices/bus';

// ---- helpers for M (unprivileged spec, "M" chapter)

/** High 64 bits of the unsigned 128-bit product. */
export function mulhu(a: u64, b: u64): u64 {
  const aL = a & 0xffff_ffff, aH = a >> 32, bL = b & 0xffff_ffff, bH = b >> 32;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >> 32) + (lh & 0xffff_ffff) + (hl & 0xffff_ffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}
@inline function mulh(a: u64, b: u64): u64 {
  return mulhu(a, b) - (<i64>a < 0 ? b : 0) - (<i64>b < 0 ? a : 0);
}
@inline function mulhsu(a: u64, b: u64): u64 {
  return mulhu(a, b) - (<i64>a < 0 ? b : 0);
}
// Division by zero and overflow produce the results of the spec's table, never a trap.
@inline function div64(a: u64, b: u64): u64 {
  if (b == 0) return 0xffff_ffff_ffff_ffff;
  if (a == 0x8000_0000_0000_0000 && b == 0xffff_ffff_ffff_ffff) return a;
  return <u64>(<i64>a / <i64>b);
}
@inline function rem64(a: u64, b: u64): u64 {
  if (b == 0) return a;
  if (a == 0x8000_0000_0000_0000 && b == 0xffff_ffff_ffff_ffff) return 0;
  return <u64>(<i64>a % <i64>b);
}
@inline function divw(a: u64, b: u64): u64 {
  const x = <i32>a, y = <i32>b;
  if (y == 0) return 0xffff_ffff_ffff_ffff;
  if (x == i32.MIN_VALUE && y == -1) return <u64><i64>x;
  return <u64><i64>(x / y);
}
@inline function remw(a: u64, b: u64): u64 {
  const x = <i32>a, y = <i32>b;
  if (y == 0) return <u64><i64>x;
  if (x == i32.MIN_VALUE && y == -1) return 0;
  return <u64><i64>(x % y);
}
@inline function divuw(a: u64, b: u64): u64 {
  const x = <u32>a, y = <u32>b;
  if (y == 0) return 0xffff_ffff_ffff_ffff;
  return <u64><i64><i32>(x / y);
}
@inline function remuw(a: u64, b: u64): u64 {
  const x = <u32>a, y = <u32>b;
  if (y == 0) return <u64><i64><i32>x;
  return <u64><i64><i32>(x % y);
}
@inline function sext32(v: u64): u64 {
  return <u64><i64><i32>v;
}

// ---- A: the reservation of LR/SC ("A" chapter, 8.2). Like QEMU, SC succeeds only if the
// reservation is for the same address and memory still holds the value LR read.
let resValid: bool = false;
let resVa: u64 = 0;
let resValue: u64 = 0;

function amo(op: u32, va: u64, src: u64, word: bool): u64 {
  const size: u32 = word ? 4 : 8;
  const h = atomicHost(va, size, ACCESS_WRITE);
  if (trapPending) return 0;
  const old: u64 = word ? sext32(load<u32>(h)) : load<u64>(h);
  let v: u64;
  switch (op) {
    case O.OP_AMOSWAP_W: case O.OP_AMOSWAP_D: v = src; break;
    case O.OP_AMOADD_W: case O.OP_AMOADD_D: v = old + src; break;
    case O.OP_AMOXOR_W: case O.OP_AMOXOR_D: v = old ^ src; break;
    case O.OP_AMOAND_W: case O.OP_AMOAND_D: v = old & src; break;
    case O.OP_AMOOR_W: case O.OP_AMOOR_D: v = old | src; break;
    case O.OP_AMOMIN_W: v = <i32>old < <i32>src ? old : src; break;
    case O.OP_AMOMAX_W: v = <i32>old > <i32>src ? old : src; break;
    case O.OP_AMOMINU_W: v = <u32>old < <u32>src ? old : src; break;
    case O.OP_AMOMAXU_W: v = <u32>old > <u32>src ? old : src; break;
    case O.OP_AMOMIN_D: v = <i64>old < <i64>src ? old : src; break;
    case O.OP_AMOMAX_D: v = <i64>old > <i64>src ? old : src; break;
    case O.OP_AMOMINU_D: v = old < src ? old : src; break;
    default: v = old > src ? old : src; break; // amomaxu.d
  }
  if (word) store<u32>(h, <u32>v);
  else store<u64>(h, v);
  invalidateCode(lastAtomicPa, size);
  return old;
}

function loadReserved(va: u64, word: bool): u64 {
  const h = atomicHost(va, word ? 4 : 8, ACCESS_READ);
  if (trapPending) return 0;
  const v: u64 = word ? sext32(load<u32>(h)) : load<u64>(h);
  resValid = true;
  resVa = va;
  resValue = v;
  return v;
}

function storeConditional(va: u64, src: u64, word: bool): u64 {
  const size: u32 = word ? 4 : 8;
  // LR/SC require natural alignment, reservation or not ("A" chapter, LR/SC)
  if ((va & (size - 1)) != 0) {
    raise(CAUSE_MISALIGNED_STORE, va);
    return 0;
  }
  const ok = resValid && resVa == va;
  resValid = false;
  if (!ok) return 1;
  const h = atomicHost(va, size, ACCESS_WRITE);
  if (trapPending) return 0;
  const cur: u64 = word ? sext32(load<u32>(h)) : load<u64>(h);
  if (cur != resValue) return 1;
  if (word) store<u32>(h, <u32>src);
  else store<u64>(h, src);
  invalidateCode(lastAtomicPa, size);
  return 0;
}

/** WFI executed and no interrupt has woken the hart yet (3.3.3). */
let wfiWaiting: bool = false;
/**
 * While the hart waits for a timer: true = jump time forward to it (deterministic, like
 * QEMU's -icount sleep=off); false = return EXIT_WFI (value 1) and let the host wait for it
 * in real time, then advanceTime().
 */
export let idleSkip: bool = true;
export function setIdleSkip(on: bool): void {
  idleSkip = on;
}

@inline function illegal(slot: u32): void {
  raise(CAUSE_ILLEGAL_INSTRUCTION, <u64>load<u32>(slot, SLOT_RAW));
}
/** The virtual-instruction exception (H chapter): V=1 tried what HS-mode could do. */
@inline function virtualInsn(slot: u32): void {
  raise(CAUSE_VIRTUAL_INSTRUCTION, <u64>load<u32>(slot, SLOT_RAW));
}

/** Wait for an interrupt as WFI does (a VMM emulating its guest's WFI: vmm/full.ts). */
export function startWfi(): void {
  wfiWaiting = true;
  requestStop();
}

export function resetExecution(): void {
  resValid = false;
  wfiWaiting = false;
}

/** Steps (instructions retired plus exceptions and interrupts taken) of the last run(). */
export let runSteps: u64 = 0;

export function run(budget: u64): u32 {
  clearExit();
  let pc = load<u64>(PC_ADDR);
  const start = instret;
  let traps: u64 = 0;
  let lastSlot: u32 = 0;
  // the next instruction is the target of a jump, branch or trap (it may start a hot block)
  let leader = true;
  while (exitReason == EXIT_BUDGET && instret - start + traps < budget) {
    // ---- between chunks: time, interrupts, idling
    updateTimerIrqs();
    syncDeviceIrqs();
    const irq = pendingInterrupt();
    if (irq >= 0) {
      wfiWaiting = false;
      pc = trapEnter(pc, <u32>irq, 0, true);
      traps++;
      leader = true;
      continue;
    }
    if (wfiWaiting) {
      if (wfiWake()) {
        wfiWaiting = false;
      } else {
        // idle until the next timer event; with none, the host must supply an event
        const t = ticksToNextTimer();
        if (t == 0xffff_ffff_ffff_ffff || !idleSkip) {
          requestExit(EXIT_WFI, t == 0xffff_ffff_ffff_ffff ? 0 : 1);
          break;
        }
        advanceTime(t);
        continue;
      }
    }
    const left = budget - (instret - start + traps);
    stopAt = instret + min(left, max<u64>(insnsToNextTimer(), 1));

    // ---- the hot loop
    while (instret < stopAt) {
      let slot: u32;
      if (pc >> 12 == fetchVpn) {
        slot = fetchSlots + ((<u32>pc & 0xfff) << 3);
      } else {
        slot = fetchSlow(pc);
        if (trapPending) { traps++; pc = takeTrap(pc); leader = true; continue; }
        leader = true; // falling into another page also starts a block
      }
      let op = <u32>load<u16>(slot, SLOT_OP);
      if (op == 0) {
        slot = decodeAt(slot, pc);
        if (trapPending) { traps++; pc = takeTrap(pc); leader = true; continue; }
        // the full machine's binary translator rewrites guest-kernel code as it is decoded
        if (fvTranslate) fvTranslateBlock(slot, pc);
        op = <u32>load<u16>(slot, SLOT_OP);
      }
      if (leader) {
        leader = false;
        if (jitEnabled) jitCountLeader(slot);
      }
      if (op == OP_JIT) {
        // a compiled block (hart/jit.ts), if the budget it needs fits before stopAt
        const b = jitBlockOf(slot);
        lastSlot = slot;
        if (jitEnabled && stopAt - instret >= <u64>(b >> 24)) {
          countJitCall();
          const from = instret;
          const next = call_indirect<u64>(b & 0xff_ffff, pc);
          // nothing retired, back at its entry: a memory access there missed the TLB, so the
          // interpreter runs that instruction (below)
          if (next != pc || instret != from) {
            pc = next;
            leader = true;
            continue;
          }
        }
        slot = jitOriginal(slot);
        op = <u32>load<u16>(slot, SLOT_OP);
      }
      lastSlot = slot;
      const len = <u64>load<u8>(slot, SLOT_LEN);
      let npc = pc + len;
      switch (op) {
        // ---- RV64I
        case O.OP_LUI: setX(rd(slot), <u64><i64>imm(slot)); break;
        case O.OP_AUIPC: setX(rd(slot), pc + <u64><i64>imm(slot)); break;
        case O.OP_JAL: setX(rd(slot), npc); npc = pc + <u64><i64>imm(slot); break;
        case O.OP_JALR: {
          const t = (getX(rs1(slot)) + <u64><i64>imm(slot)) & ~<u64>1;
          setX(rd(slot), npc);
          npc = t;
          break;
        }
        case O.OP_BEQ: if (getX(rs1(slot)) == getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_BNE: if (getX(rs1(slot)) != getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_BLT: if (<i64>getX(rs1(slot)) < <i64>getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_BGE: if (<i64>getX(rs1(slot)) >= <i64>getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_BLTU: if (getX(rs1(slot)) < getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_BGEU: if (getX(rs1(slot)) >= getX(rs2(slot))) npc = pc + <u64><i64>imm(slot); break;
        case O.OP_LB: { const v = read<u8>(addr(slot)); if (!trapPending) setX(rd(slot), <u64><i64><i8>v); break; }
        case O.OP_LH: { const v = read<u16>(addr(slot)); if (!trapPending) setX(rd(slot), <u64><i64><i16>v); break; }
        case O.OP_LW: { const v = read<u32>(addr(slot)); if (!trapPending) setX(rd(slot), sext32(v)); break; }
        case O.OP_LD: { const v = read<u64>(addr(slot)); if (!trapPending) setX(rd(slot), v); break; }
        case O.OP_LBU: { const v = read<u8>(addr(slot)); if (!trapPending) setX(rd(slot), v); break; }
        case O.OP_LHU: { const v = read<u16>(addr(slot)); if (!trapPending) setX(rd(slot), v); break; }
        case O.OP_LWU: { const v = read<u32>(addr(slot)); if (!trapPending) setX(rd(slot), v); break; }
        case O.OP_SB: write<u8>(addr(slot), getX(rs2(slot))); break;
        case O.OP_SH: write<u16>(addr(slot), getX(rs2(slot))); break;
        case O.OP_SW: write<u32>(addr(slot), getX(rs2(slot))); break;
        case O.OP_SD: write<u64>(addr(slot), getX(rs2(slot))); break;
        case O.OP_ADDI: setX(rd(slot), getX(rs1(slot)) + <u64><i64>imm(slot)); break;
        case O.OP_SLTI: setX(rd(slot), <i64>getX(rs1(slot)) < <i64>imm(slot) ? 1 : 0); break;
        case O.OP_SLTIU: setX(rd(slot), getX(rs1(slot)) < <u64><i64>imm(slot) ? 1 : 0); break;
        case O.OP_XORI: setX(rd(slot), getX(rs1(slot)) ^ <u64><i64>imm(slot)); break;
        case O.OP_ORI: setX(rd(slot), getX(rs1(slot)) | <u64><i64>imm(slot)); break;
        case O.OP_ANDI: setX(rd(slot), getX(rs1(slot)) & <u64><i64>imm(slot)); break;
        case O.OP_SLLI: setX(rd(slot), getX(rs1(slot)) << <u64>imm(slot)); break;
        case O.OP_SRLI: setX(rd(slot), getX(rs1(slot)) >> <u64>imm(slot)); break;
        case O.OP_SRAI: setX(rd(slot), <u64>(<i64>getX(rs1(slot)) >> <i64>imm(slot))); break;
        case O.OP_ADD: setX(rd(slot), getX(rs1(slot)) + getX(rs2(slot))); break;
        case O.OP_SUB: setX(rd(slot), getX(rs1(slot)) - getX(rs2(slot))); break;
        case O.OP_SLL: setX(rd(slot), getX(rs1(slot)) << (getX(rs2(slot)) & 63)); break;
        case O.OP_SLT: setX(rd(slot), <i64>getX(rs1(slot)) < <i64>getX(rs2(slot)) ? 1 : 0); break;
        case O.OP_SLTU: setX(rd(slot), getX(rs1(slot)) < getX(rs2(slot)) ? 1 : 0); break;
        case O.OP_XOR: setX(rd(slot), getX(rs1(slot)) ^ getX(rs2(slot))); break;
        case O.OP_SRL: setX(rd(slot), getX(rs1(slot)) >> (getX(rs2(slot)) & 63)); break;
        case O.OP_SRA: setX(rd(slot), <u64>(<i64>getX(rs1(slot)) >> <i64>(getX(rs2(slot)) & 63))); break;
        case O.OP_OR: setX(rd(slot), getX(rs1(slot)) | getX(rs2(slot))); break;
        case O.OP_AND: setX(rd(slot), getX(rs1(slot)) & getX(rs2(slot))); break;
        case O.OP_ADDIW: setX(rd(slot), sext32(getX(rs1(slot)) + <u64><i64>imm(slot))); break;
        case O.OP_SLLIW: setX(rd(slot), sext32(<u64>(<u32>getX(rs1(slot)) << <u32>imm(slot)))); break;
        case O.OP_SRLIW: setX(rd(slot), sext32(<u64>(<u32>getX(rs1(slot)) >> <u32>imm(slot)))); break;
        case O.OP_SRAIW: setX(rd(slot), <u64><i64>(<i32>getX(rs1(slot)) >> imm(slot))); break;
        case O.OP_ADDW: setX(rd(slot), sext32(getX(rs1(slot)) + getX(rs2(slot)))); break;
        case O.OP_SUBW: setX(rd(slot), sext32(getX(rs1(slot)) - getX(rs2(slot)))); break;
        case O.OP_SLLW: setX(rd(slot), sext32(<u64>(<u32>getX(rs1(slot)) << (<u32>getX(rs2(slot)) & 31)))); break;
        case O.OP_SRLW: setX(rd(slot), sext32(<u64>(<u32>getX(rs1(slot)) >> (<u32>getX(rs2(slot)) & 31)))); break;
        case O.OP_SRAW: setX(rd(slot), <u64><i64>(<i32>getX(rs1(slot)) >> (<i32>getX(rs2(slot)) & 31))); break;
        case O.OP_FENCE: break; // one hart, memory accesses in program order
        case O.OP_FENCE_I: break; // stores already invalidate the decoded instructions they overlap
        case O.OP_ECALL:
          // with no firmware, the host answers (H)S-mode's SBI calls (sbi.ts)
          if (priv == PRV_S && !virt && sbiHost) sbiCall();
          else raise(virt && priv == PRV_S ? CAUSE_VS_ECALL : CAUSE_USER_ECALL + priv, 0);
          break;
        // EBREAK is not a hardware breakpoint: mtval is zero (privileged spec 3.1.16)
        case O.OP_EBREAK: raise(CAUSE_BREAKPOINT, 0); break;

        // ---- Zicsr
        case O.OP_CSRRW: case O.OP_CSRRS: case O.OP_CSRRC:
        case O.OP_CSRRWI: case O.OP_CSRRSI: case O.OP_CSRRCI:
          execCsr(op, slot);
          break;

        // ---- privileged instructions (privileged spec 3.3)
        case O.OP_MRET:
          if (priv != PRV_M) { illegal(slot); break; }
          npc = doMret();
          resValid = false;
          requestStop();
          break;
        // with V=1 (H chapter, "Virtual Instruction Exception"): in VU-mode, and in VS-mode
        // when hstatus VTSR/VTW/VTVM say so, these raise a virtual-instruction exception
        case O.OP_SRET:
          if (virt) {
            if (priv == PRV_U || (csrRaw(CSR_HSTATUS) & HSTATUS_VTSR) != 0) { virtualInsn(slot); break; }
          } else if (priv == PRV_U || (priv == PRV_S && (csrRaw(CSR_MSTATUS) & MSTATUS_TSR) != 0)) { illegal(slot); break; }
          npc = doSret();
          resValid = false;
          requestStop();
          break;
        case O.OP_WFI:
          // U-mode WFI is illegal when S-mode exists; below M, WFI with TW=1 traps (3.1.6.5)
          if (priv != PRV_M && (csrRaw(CSR_MSTATUS) & MSTATUS_TW) != 0) { illegal(slot); break; }
          if (virt) {
            if (priv == PRV_U || (csrRaw(CSR_HSTATUS) & HSTATUS_VTW) != 0) { virtualInsn(slot); break; }
          } else if (priv == PRV_U) { illegal(slot); break; }
          wfiWaiting = true;
          requestStop();
          break;
        case O.OP_SFENCE_VMA: {
          if (virt) {
            if (priv == PRV_U || (csrRaw(CSR_HSTATUS) & HSTATUS_VTVM) != 0) { virtualInsn(slot); break; }
          } else if (priv == PRV_U || (priv == PRV_S && (csrRaw(CSR_MSTATUS) & MSTATUS_TVM) != 0)) { illegal(slot); break; }
          // rs1: one page (in every address space: over-flushing is allowed); else rs2: one
          // ASID, or every address space. With V=1 it is the guest's fence, for its V=1
          // translations only (H chapter: SFENCE.VMA in VS-mode acts on the VS-stage).
          const r1 = load<u8>(slot, SLOT_RS1);
          const r2 = load<u8>(slot, SLOT_RS2);
          if (r1 != 0) tlbFlushPage(getX(r1));
          else if (r2 != 0) tlbFlushAsid(virt, getX(r2));
          else if (virt) tlbFlushVirt();
          else tlbFlushAll();
          break;
        }

        // ---- H (H chapter, "Hypervisor Instructions")
        case O.OP_HFENCE_VVMA: case O.OP_HFENCE_GVMA:
          if (!hExt) { illegal(slot); break; }
          if (virt) { virtualInsn(slot); break; }
          if (priv == PRV_U || (op == O.OP_HFENCE_GVMA && priv == PRV_S && (csrRaw(CSR_MSTATUS) & MSTATUS_TVM) != 0)) {
            illegal(slot);
            break;
          }
          tlbFlushVirt(); // every V=1 translation, whatever the address, ASID or VMID
          break;
        case O.OP_HLV_B: case O.OP_HLV_BU: case O.OP_HLV_H: case O.OP_HLV_HU: case O.OP_HLVX_HU:
        case O.OP_HLV_W: case O.OP_HLV_WU: case O.OP_HLVX_WU: case O.OP_HLV_D:
        case O.OP_HSV_B: case O.OP_HSV_H: case O.OP_HSV_W: case O.OP_HSV_D:
          execHyperAccess(op, slot);
          break;

        // ---- M
        case O.OP_MUL: setX(rd(slot), getX(rs1(slot)) * getX(rs2(slot))); break;
        case O.OP_MULH: setX(rd(slot), mulh(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_MULHSU: setX(rd(slot), mulhsu(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_MULHU: setX(rd(slot), mulhu(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_DIV: setX(rd(slot), div64(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_DIVU: { const b = getX(rs2(slot)); setX(rd(slot), b == 0 ? 0xffff_ffff_ffff_ffff : getX(rs1(slot)) / b); break; }
        case O.OP_REM: setX(rd(slot), rem64(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_REMU: { const b = getX(rs2(slot)); const a = getX(rs1(slot)); setX(rd(slot), b == 0 ? a : a % b); break; }
        case O.OP_MULW: setX(rd(slot), sext32(getX(rs1(slot)) * getX(rs2(slot)))); break;
        case O.OP_DIVW: setX(rd(slot), divw(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_DIVUW: setX(rd(slot), divuw(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_REMW: setX(rd(slot), remw(getX(rs1(slot)), getX(rs2(slot)))); break;
        case O.OP_REMUW: setX(rd(slot), remuw(getX(rs1(slot)), getX(rs2(slot)))); break;

        // ---- A
        case O.OP_LR_W: case O.OP_LR_D: case O.OP_SC_W: case O.OP_SC_D:
        case O.OP_AMOSWAP_W: case O.OP_AMOADD_W: case O.OP_AMOXOR_W: case O.OP_AMOAND_W: case O.OP_AMOOR_W:
        case O.OP_AMOMIN_W: case O.OP_AMOMAX_W: case O.OP_AMOMINU_W: case O.OP_AMOMAXU_W:
        case O.OP_AMOSWAP_D: case O.OP_AMOADD_D: case O.OP_AMOXOR_D: case O.OP_AMOAND_D: case O.OP_AMOOR_D:
        case O.OP_AMOMIN_D: case O.OP_AMOMAX_D: case O.OP_AMOMINU_D: case O.OP_AMOMAXU_D:
          execAtomic(op, slot);
          break;

        case OP_ILLEGAL_SLOT: illegal(slot); break;
        case OP_FV_CALL:
          // binary translation (vmm/full.ts): the VMM's emulation, called instead of trapped
          // into. It retires, and ends a block as the trap it replaces would (what follows may
          // be compiled); interrupts the guest may now take are looked at between chunks.
          pc = fvCall(pc, load<u32>(slot, SLOT_RAW));
          instret++;
          leader = true;
          requestStop();
          continue;
        default:
          // F and D
          execFloat(op, slot);
          break;
      }
      if (trapPending) {
        traps++;
        pc = takeTrap(pc);
        leader = true;
      } else {
        leader = npc != pc + len;
        pc = npc;
        instret++;
      }
    }
  }
  store<u64>(PC_ADDR, pc);
  runSteps = instret - start + traps;
  // a run() that executed nothing (say, the hart still waits in WFI) keeps the last one
  if (instret != start || traps != 0) store<u32>(LAST_INSN_ADDR, lastSlot ? load<u32>(lastSlot, SLOT_RAW) : 0);
  return exitReason;
}

// ---- instructions with more state than registers

/** Zicsr: CSRRW/S/C and their immediate forms. */
function execCsr(op: u32, slot: u32): void {
  const f3 = (load<u32>(slot, SLOT_RAW) >> 12) & 3;
  const r1 = rs1(slot);
  const operand: u64 = op >= O.OP_CSRRWI ? <u64>r1 : getX(r1);
  const d = rd(slot);
  const writes = f3 == 1 || r1 != 0;
  const old = csrAccess(<u32>imm(slot) & 0xfff, f3, operand, d != X_SINK, writes);
  if (csrFault != 0) { raise(csrFault, <u64>load<u32>(slot, SLOT_RAW)); return; }
  setX(d, old);
  if (writes) requestStop(); // a CSR write may enable an interrupt or change translation
}

/** A: LR, SC and the AMOs. */
function execAtomic(op: u32, slot: u32): void {
  // read the operands first: the store may overwrite this very slot (code written)
  const d = rd(slot);
  const a = getX(rs1(slot));
  let v: u64;
  if (op == O.OP_LR_W || op == O.OP_LR_D) v = loadReserved(a, op == O.OP_LR_W);
  else if (op == O.OP_SC_W || op == O.OP_SC_D) v = storeConditional(a, getX(rs2(slot)), op == O.OP_SC_W);
  else v = amo(op, a, getX(rs2(slot)), op <= O.OP_AMOMAXU_W);
  if (!trapPending) setX(d, v);
}

/**
 * H: HLV, HLVX and HSV, from HS-mode (or U-mode with hstatus.HU): a load or store translated
 * as VS/VU-mode would (hstatus.SPVP), two stages, whatever V and MPRV say now.
 */
function execHyperAccess(op: u32, slot: u32): void {
  const hs = csrRaw(CSR_HSTATUS);
  if (!hExt) { illegal(slot); return; }
  if (virt) { virtualInsn(slot); return; }
  if (priv == PRV_U && (hs & HSTATUS_HU) == 0) { illegal(slot); return; }
  const p = (hs & HSTATUS_SPVP) != 0 ? PRV_S : PRV_U;
  const a = getX(rs1(slot));
  setHlvActive(true); // its faults report a guest virtual address (GVA)
  if (op >= O.OP_HSV_B) {
    const v = getX(rs2(slot));
    const size: u32 = op == O.OP_HSV_B ? 1 : op == O.OP_HSV_H ? 2 : op == O.OP_HSV_W ? 4 : 8;
    hyperWrite(a, size, p, v);
  } else {
    const hlvx = op == O.OP_HLVX_HU || op == O.OP_HLVX_WU;
    setReadNeedsExec(hlvx);
    let v: u64;
    switch (op) {
      case O.OP_HLV_B: v = <u64><i64><i8>hyperRead(a, 1, p); break;
      case O.OP_HLV_BU: v = hyperRead(a, 1, p); break;
      case O.OP_HLV_H: v = <u64><i64><i16>hyperRead(a, 2, p); break;
      case O.OP_HLV_HU: case O.OP_HLVX_HU: v = hyperRead(a, 2, p); break;
      case O.OP_HLV_W: v = sext32(hyperRead(a, 4, p)); break;
      case O.OP_HLV_WU: case O.OP_HLVX_WU: v = hyperRead(a, 4, p); break;
      default: v = hyperRead(a, 8, p); break; // hlv.d
    }
    setReadNeedsExec(false);
    if (!trapPending) setX(rd(slot), v);
  }
  if (!trapPending) setHlvActive(false); // else trapEnter reads, then clears it
}

/** Take the exception raised by the instruction at pc; returns the handler's pc. */
function takeTrap(pc: u64): u64 {
  trapPending = false;
  requestStop();
  // a guest-page fault of an explicit load or store reports its transformed instruction
  const cause = <u32>trapCause;
  if ((cause == CAUSE_LOAD_GUEST_PAGE_FAULT || cause == CAUSE_STORE_GUEST_PAGE_FAULT) && trapTinst == 0) {
    setTrapTinst(transformedInsn(pc, trapTval));
  }
  return trapEnter(pc, cause, trapTval, false);
}

@inline function rd(slot: u32): u32 {
  return load<u8>(slot, SLOT_RD);
}
@inline function rs1(slot: u32): u32 {
  return load<u8>(slot, SLOT_RS1);
}
@inline function rs2(slot: u32): u32 {
  return load<u8>(slot, SLOT_RS2);
}
@inline function imm(slot: u32): i32 {
  return load<i32>(slot, SLOT_IMM);
}
@inline function addr(slot: u32): u64 {
  return getX(load<u8>(slot, SLOT_RS1)) + <u64><i64>load<i32>(slot, SLOT_IMM);
}
