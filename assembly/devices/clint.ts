// CLINT/ACLINT (QEMU virt: 0x0200_0000): msip at +0, mtimecmp at +0x4000, mtime at +0xbff8.
// mtime counts in timebase ticks (10 MHz in the device tree). By default it is derived from
// instructions retired (ticksPerInsn...) so runs are deterministic; WFI fast-forwards it.
import { instret } from '../hart/counters';

export const CLINT_BASE: u64 = 0x0200_0000;
export const CLINT_SIZE: u64 = 0x10000;

/** Instructions per timebase tick. */
export let insnsPerTick: u64 = 10;
/** Ticks added by idle periods (WFI) and by writes to mtime. */
export let mtimeOffset: u64 = 0;
export let mtimecmp: u64 = 0xffff_ffff_ffff_ffff;
export let msip: u32 = 0;

export function mtime(): u64 {
  return instret / insnsPerTick + mtimeOffset;
}

export function setInsnsPerTick(n: u64): void {
  const now = mtime();
  insnsPerTick = n == 0 ? 1 : n;
  mtimeOffset = now - instret / insnsPerTick;
}

/** Instructions until mtime reaches `t` (0 if it already has). */
export function insnsUntil(t: u64): u64 {
  const now = mtime();
  if (now >= t) return 0;
  const d = t - now;
  // saturate: a far-off compare value must not overflow
  if (d > 0xffff_ffff_ffff_ffff / insnsPerTick) return 0xffff_ffff_ffff_ffff;
  return d * insnsPerTick - instret % insnsPerTick;
}

/** Let time pass while the hart idles. */
export function advanceTime(ticks: u64): void {
  mtimeOffset += ticks;
}

export function clintRead(off: u32, size: u32): u64 {
  if (off == 0 && size == 4) return msip;
  if (off >= 0x4000 && off < 0x4008) return mtimecmp >> ((off - 0x4000) << 3);
  if (off >= 0xbff8 && off < 0xc000) return mtime() >> ((off - 0xbff8) << 3);
  return 0;
}

/** Returns true if the interrupt state may have changed. */
export function clintWrite(off: u32, size: u32, v: u64): void {
  if (off == 0) {
    msip = <u32>v & 1;
  } else if (off >= 0x4000 && off < 0x4008) {
    mtimecmp = merge(mtimecmp, off - 0x4000, size, v);
  } else if (off >= 0xbff8 && off < 0xc000) {
    const t = merge(mtime(), off - 0xbff8, size, v);
    mtimeOffset = t - instret / insnsPerTick;
  }
}

function merge(old: u64, off: u32, size: u32, v: u64): u64 {
  const shift = <u64>off << 3;
  const mask = size == 8 ? 0xffff_ffff_ffff_ffff : ((<u64>1 << (<u64>size << 3)) - 1);
  return (old & ~(mask << shift)) | ((v & mask) << shift);
}

export function resetClint(): void {
  mtimeOffset = 0;
  mtimecmp = 0xffff_ffff_ffff_ffff;
  msip = 0;
}
