// Loads and stores of the executing hart: a TLB hit is a few Wasm instructions; everything
// else (misses, page-crossing accesses, MMIO, faults) goes to the slow paths below.
// Misaligned loads and stores are done in hardware, as QEMU does; atomics must be aligned.
import {
  raise, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, trapPending,
} from '../hart/state';
import { tlbRead, tlbWrite, tlbSlot, tlbTag, tlbInsert, dataPriv, dataVirt, countTlbHit, countTlbMiss } from './tlb';
import { translate, isRam, ramHost, accessFaultCause, readNeedsExec } from './walk';
import { pmpCheck, pmpPageUniform } from './pmp';
import { busRead, busWrite, busOk } from '../devices/bus';
import { invalidateCode, pageHasCode } from '../hart/icache';

// ---- fast paths

@inline function hit(e: u32, va: u64, size: u32): bool {
  return load<u64>(e) == tlbTag(va) && (<u32>va & 0xfff) <= 4096 - size;
}

/** Load a T (u8, u16, u32, u64) at `va`, zero-extended; on a fault trapPending is set. */
@inline export function read<T>(va: u64): u64 {
  const size = <u32>sizeof<T>();
  const e = tlbSlot(tlbRead, va);
  if (hit(e, va, size)) { countTlbHit(); return <u64>load<T>(<usize>(load<u64>(e, 8) + va)); }
  return readSlow(va, size);
}

/** Store the low bytes of `v` as a T at `va`; on a fault trapPending is set. */
@inline export function write<T>(va: u64, v: u64): void {
  const size = <u32>sizeof<T>();
  const e = tlbSlot(tlbWrite, va);
  if (hit(e, va, size)) { countTlbHit(); store<T>(<usize>(load<u64>(e, 8) + va), <T>v); return; }
  writeSlow(va, size, v);
}

// ---- slow paths

@inline function hostLoad(h: u32, size: u32): u64 {
  if (size == 8) return load<u64>(h);
  if (size == 4) return load<u32>(h);
  if (size == 2) return load<u16>(h);
  return load<u8>(h);
}

@inline function hostStore(h: u32, size: u32, v: u64): void {
  if (size == 8) store<u64>(h, v);
  else if (size == 4) store<u32>(h, <u32>v);
  else if (size == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

/** An HLV/HSV is executing (>= 0): the privilege it translates with, as V=1; else -1. */
let hyperPriv: i32 = -1;

/**
 * Translate and check one access that stays within a page. Returns the physical address
 * (trapPending on a fault) and fills the TLB where the page allows it.
 */
function resolve(va: u64, size: u32, access: u32): u64 {
  countTlbMiss();
  const hyper = hyperPriv >= 0;
  const p = hyper ? <u32>hyperPriv : dataPriv;
  const pa = translate(va, access, p, hyper || dataVirt);
  if (trapPending) return 0;
  // HLVX: the physical memory attributes must grant execute as well as read (H chapter, HLVX)
  if (!pmpCheck(pa, size, access, p) || (hyper && readNeedsExec && !pmpCheck(pa, size, ACCESS_EXEC, p))) {
    raise(accessFaultCause(access), va);
    return 0;
  }
  // HLV/HSV translations belong to no view: they never enter the TLB
  if (isRam(pa) && !hyper) {
    const page = pa & ~<u64>0xfff;
    if (isRam(page + 4095) && pmpPageUniform(page)) {
      // a page holding decoded code never enters the write TLB: its stores must invalidate
      if (access != ACCESS_WRITE || !pageHasCode(pa)) tlbInsert(access, va, ramHost(page));
    }
  }
  return pa;
}

function readOne(va: u64, size: u32): u64 {
  const pa = resolve(va, size, ACCESS_READ);
  if (trapPending) return 0;
  if (isRam(pa) && isRam(pa + size - 1)) return hostLoad(ramHost(pa), size);
  const v = busRead(pa, size);
  if (!busOk) raise(accessFaultCause(ACCESS_READ), va);
  return v;
}

export function readSlow(va: u64, size: u32): u64 {
  if ((<u32>va & 0xfff) + size <= 4096) return readOne(va, size);
  // crosses a page: byte by byte, little-endian
  let v: u64 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const b = readOne(va + i, 1);
    if (trapPending) return 0;
    v |= b << (<u64>i << 3);
  }
  return v;
}

function writeOne(pa: u64, va: u64, size: u32, v: u64): void {
  if (isRam(pa) && isRam(pa + size - 1)) {
    hostStore(ramHost(pa), size, v);
    invalidateCode(pa, size);
    return;
  }
  busWrite(pa, size, v);
  if (!busOk) raise(accessFaultCause(ACCESS_WRITE), va);
}

export function writeSlow(va: u64, size: u32, v: u64): void {
  if ((<u32>va & 0xfff) + size <= 4096) {
    const pa = resolve(va, size, ACCESS_WRITE);
    if (!trapPending) writeOne(pa, va, size, v);
    return;
  }
  // crosses a page: check both pages before writing anything
  const split: u32 = 4096 - (<u32>va & 0xfff);
  const pa0 = resolve(va, split, ACCESS_WRITE);
  if (trapPending) return;
  const pa1 = resolve(va + split, size - split, ACCESS_WRITE);
  if (trapPending) return;
  for (let i: u32 = 0; i < size; i++) {
    const pa = i < split ? pa0 + i : pa1 + (i - split);
    writeOne(pa, va + i, 1, (v >> (<u64>i << 3)) & 0xff);
    if (trapPending) return;
  }
}

/**
 * HLV, HLVX and HSV (H chapter, "Hypervisor Virtual-Machine Load and Store Instructions"):
 * an access translated as if V=1 at privilege `p` (hstatus.SPVP), from HS or U-mode.
 */
export function hyperRead(va: u64, size: u32, p: u32): u64 {
  hyperPriv = <i32>p;
  const v = readSlow(va, size);
  hyperPriv = -1;
  return v;
}
export function hyperWrite(va: u64, size: u32, p: u32, v: u64): void {
  hyperPriv = <i32>p;
  writeSlow(va, size, v);
  hyperPriv = -1;
}

/**
 * The host address for an atomic memory operation (A extension): aligned, in RAM,
 * translated for `access` (LR reads; SC and AMOs are stores: privileged spec 3.6.x).
 * Raises and returns 0 on a fault. Stores through it must call invalidateCode.
 */
export function atomicHost(va: u64, size: u32, access: u32): u32 {
  if ((va & (size - 1)) != 0) {
    raise(access == ACCESS_READ ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, va);
    return 0;
  }
  const pa = resolve(va, size, access);
  if (trapPending) return 0;
  if (!isRam(pa)) {
    raise(accessFaultCause(access), va);
    return 0;
  }
  lastAtomicPa = pa;
  return ramHost(pa);
}

/** Physical address of the last atomicHost() (the LR/SC reservation is physical). */
export let lastAtomicPa: u64 = 0;
