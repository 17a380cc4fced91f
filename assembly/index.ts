// The core's narrow ABI: set up, reset, run(budget) -> EXIT_*, and fixed linear-memory
// offsets (memmap.ts, re-exported as Wasm globals) that the host reads through typed views.
import {
  HART_BASE, RAM_BASE, RAM_MAX, PC_ADDR, TLB_BASE, TLB_SIZE, ICACHE_TAGS, ICACHE_MAP,
  ICACHE_PAGES, ICACHE_REF, STATS_BASE, STATS_SIZE, UART_TX_RING, UART_RX_RING, CSR_END, SCRATCH_SLOT,
  HOSTDEV_BASE, HOSTDEV_SLOTS, HOSTDEV_WINDOW,
} from './memmap';
import { setPriv, setVirt, PRV_M, trapPending } from './hart/state';
import { initCsrs, csrPeek, misa, setHExt } from './hart/csr';
import { setRamSize, ramSize } from './mmu/ram';
import { tlbFlushAll, updateViews, tlbHits, tlbMisses, tlbFlushes } from './mmu/tlb';
import { icacheFlush, invalidateCodeRange as invalidate, icacheMisses, icacheFlushes } from './hart/icache';
import { resetExecution, setIdleSkip as setSkip } from './hart/execute';
import { decodeInto, OP_ILLEGAL_SLOT } from './hart/decode';
import { instret } from './hart/counters';
import { fflagsSet, setFrm } from './hart/fpstate';
import { resetClint, setInsnsPerTick, mtime as clintMtime } from './devices/clint';
import { resetUart } from './devices/uart';
import { ringReset } from './devices/ring';
import { trapsTaken, interruptsTaken } from './hart/trap';
import { pageWalks, walkRefs, walks2d, walkRefs2d } from './mmu/walk';
import { mmioReads, mmioWrites } from './devices/bus';
import { exitValue as exitVal } from './exit';
import { resetPlic, plicSetLevel, plicClaims, PLIC_SOURCES } from './devices/plic';
import { resetRtc, rtcSetEpoch } from './devices/goldfish_rtc';
import { resetHostWindows, mapHostWindow as mapWindow, mmioExits } from './devices/hostdev';
import { resetSbi, sbiBoot, sbiCalls } from './sbi';
import { resetPv, pvBoot } from './vmm/paravirt';
import { resetHv, hvBoot } from './vmm/hwassist';
import { resetFv, fvBoot } from './vmm/full';
import { resetKvm } from './vmm/kvm';
import { ticksToNextTimer as ticksToTimer } from './hart/trap';
import { advanceTime as advance } from './devices/clint';
import * as ST from './stats';
import { jitPagesDropped, jitRetired, jitCalls, setJit as setJitMode } from './hart/jit';

export {
  HART_BASE, X_BASE, F_BASE, PC_ADDR, PRIV_ADDR, VIRT_ADDR, CSR_BASE, STATS_BASE, STATS_SIZE,
  UART_TX_RING, UART_RX_RING, RING_SIZE, RAM_BASE, RAM_PHYS, RAM_MAX, SCRATCH_SLOT, X_SINK, LAST_INSN_ADDR,
  SLOT_OP, SLOT_RD, SLOT_RS1, SLOT_RS2, SLOT_RS3, SLOT_LEN, SLOT_RM, SLOT_IMM, SLOT_RAW,
  EXIT_BUDGET, EXIT_POWEROFF, EXIT_RESET, EXIT_FAIL, EXIT_CONSOLE, EXIT_WFI, EXIT_HOST_CALL,
  EXIT_MMIO, EXIT_M_TRAP, EXIT_JIT, EXIT_PV_BLOCK, EXIT_PV_CRASH, EXIT_HV_CRASH, EXIT_KVM, KVM_RUN, HOSTDEV_BASE, HOSTDEV_SLOTS, HOSTDEV_WINDOW, MMIO_QUEUE, MMIO_QUEUE_ENTRIES,
  MMIO_ENTRY_SIZE,
} from './memmap';
export {
  STAT_INSTRET, STAT_TRAPS, STAT_INTERRUPTS, STAT_TLB_HITS, STAT_TLB_MISSES, STAT_PAGE_WALKS,
  STAT_WALK_REFS, STAT_ICACHE_MISSES, STAT_ICACHE_FLUSHES, STAT_MMIO_READS, STAT_MMIO_WRITES,
  STAT_TLB_FLUSHES, STAT_WFI, STAT_SBI_CALLS, STAT_MMIO_EXITS, STAT_PLIC_CLAIMS, STAT_JIT_PAGES_DROPPED, STAT_JIT_RETIRED, STAT_JIT_CALLS,
  STAT_PV_HYPERCALLS, STAT_PV_REFLECTED, STAT_PV_PRIV_FAULTS, STAT_PV_REFUSED, STAT_PV_MMU_OPS, STAT_PV_HOST_EXITS,
  STAT_WALKS_2D, STAT_WALK_REFS_2D, STAT_HV_EXITS, STAT_HV_SBI, STAT_HV_MMIO, STAT_HV_INJECTED, STAT_HV_REFLECTED,
  STAT_FV_BASE, STAT_EXC_BASE, STAT_IRQ_BASE, STAT_COUNT,
} from './stats';
export { run, runSteps } from './hart/execute';

// ---- for compiled blocks (src/jit/): the hart state they read and write, the memory slow
// paths they call, and the host's half of the JIT protocol (hart/jit.ts)
export { instret, stopAt } from './hart/counters';
export { trapPending } from './hart/state';
export { tlbRead, tlbWrite, tlbGen, tlbHits } from './mmu/tlb';
export { jitDecode, jitInstall, jitReject, jitClaim, jitFlushAll, jitRetired } from './hart/jit';
export { OP_JIT } from './hart/decode';
export {
  JIT_QUEUE, JIT_QUEUE_ENTRIES, JIT_MAP, JIT_COVER, JIT_COVER_BYTES, ICACHE_BASE, ICACHE_PAGE_BYTES, SLOT_SIZE, TLB_ENTRIES,
} from './memmap';

/** Error codes of setup(). */
export const SETUP_OK: i32 = 0;
export const SETUP_BAD_SIZE: i32 = -1;
export const SETUP_NO_MEMORY: i32 = -2;

/**
 * Size the guest RAM (a multiple of 4 KiB, at most RAM_MAX) and reset the machine.
 * Returns SETUP_OK, or an error code (nothing is changed then).
 */
export function setup(ramBytes: u64): i32 {
  if (ramBytes == 0 || (ramBytes & 0xfff) != 0 || ramBytes > RAM_MAX) return SETUP_BAD_SIZE;
  const needPages = <i32>((<u64>RAM_BASE + ramBytes + 0xffff) >> 16);
  const have = memory.size();
  if (needPages > have && memory.grow(needPages - have) < 0) return SETUP_NO_MEMORY;
  setRamSize(ramBytes);
  // grown pages are zero already: clear only RAM that existed before
  const old = (<u64>have << 16) - <u64>RAM_BASE;
  if (<i64>old > 0) memory.fill(RAM_BASE, 0, <usize>min(old, ramBytes));
  reset(0x8000_0000);
  return SETUP_OK;
}

/** Power-on reset of the hart and devices (RAM is kept); execution starts at `pc` in M-mode. */
export function reset(pc: u64): void {
  memory.fill(HART_BASE, 0, CSR_END - HART_BASE);
  memory.fill(STATS_BASE, 0, STATS_SIZE);
  memory.fill(ICACHE_TAGS, 0, ICACHE_PAGES * 4);
  memory.fill(ICACHE_REF, 0, ICACHE_PAGES);
  memory.fill(ICACHE_MAP, 0, <usize>((ramSize >> 12) << 1));
  ringReset(UART_TX_RING);
  ringReset(UART_RX_RING);
  initCsrs(0);
  setPriv(PRV_M);
  setVirt(false);
  store<u64>(PC_ADDR, pc);
  fflagsSet(0);
  setFrm(0);
  instret = 0;
  trapPending = false;
  resetExecution();
  resetClint();
  resetUart();
  resetPlic();
  resetRtc();
  resetHostWindows();
  memory.fill(HOSTDEV_BASE, 0, HOSTDEV_SLOTS * HOSTDEV_WINDOW);
  resetSbi();
  resetPv();
  resetHv();
  resetFv();
  resetKvm();
  tlbFlushAll();
  icacheFlush();
  updateViews();
}

/** Copy the hot counters into the stats region (call after run(), before reading it). */
export function flushStats(): void {
  ST.statSet(ST.STAT_INSTRET, instret);
  ST.statSet(ST.STAT_TRAPS, trapsTaken);
  ST.statSet(ST.STAT_INTERRUPTS, interruptsTaken);
  ST.statSet(ST.STAT_TLB_HITS, tlbHits);
  ST.statSet(ST.STAT_TLB_MISSES, tlbMisses);
  ST.statSet(ST.STAT_PAGE_WALKS, pageWalks);
  ST.statSet(ST.STAT_WALK_REFS, walkRefs);
  ST.statSet(ST.STAT_WALKS_2D, walks2d);
  ST.statSet(ST.STAT_WALK_REFS_2D, walkRefs2d);
  ST.statSet(ST.STAT_ICACHE_MISSES, icacheMisses);
  ST.statSet(ST.STAT_ICACHE_FLUSHES, icacheFlushes);
  ST.statSet(ST.STAT_MMIO_READS, mmioReads);
  ST.statSet(ST.STAT_MMIO_WRITES, mmioWrites);
  ST.statSet(ST.STAT_TLB_FLUSHES, tlbFlushes);
  ST.statSet(ST.STAT_SBI_CALLS, sbiCalls);
  ST.statSet(ST.STAT_MMIO_EXITS, mmioExits);
  ST.statSet(ST.STAT_PLIC_CLAIMS, plicClaims);
  ST.statSet(ST.STAT_JIT_PAGES_DROPPED, jitPagesDropped);
  ST.statSet(ST.STAT_JIT_RETIRED, jitRetired);
  ST.statSet(ST.STAT_JIT_CALLS, jitCalls);
}

/** The host wrote guest RAM [pa, pa+len) (loader, DMA): drop decoded code there. */
export function invalidateCodeRange(pa: u64, len: u64): void {
  invalidate(pa, len);
}

/** A CSR's value as the hart sees it, without privilege checks (for the host API). */
export function readCsr(num: u32): u64 {
  return csrPeek(num);
}

export function exitValue(): u32 {
  return exitVal;
}

export function setTimebaseDivider(insnsPerTick: u64): void {
  setInsnsPerTick(insnsPerTick);
}

export function mtime(): u64 {
  return clintMtime();
}

/** Decode instruction bits as the hart does: the op id (0 illegal), operands in SCRATCH_SLOT. */
export function decodeOp(insn: u32): u32 {
  const op = <u32>decodeInto(SCRATCH_SLOT, insn);
  return op == OP_ILLEGAL_SLOT ? 0 : op;
}

export function getMisa(): u64 {
  return misa;
}

/** Give the hart the H extension or not (-cpu rv64,h=on|off); takes effect at the next reset. */
export function setHypervisorExtension(on: bool): void {
  setHExt(on);
}

/** Drive PLIC input `src` (1..95) from a host device (virtio-mmio slots use 1..8). */
export function setIrq(src: u32, high: bool): void {
  if (src < PLIC_SOURCES) plicSetLevel(src, high);
}

/** Map host-device register window `slot` at guest physical [pa, pa+size); false if invalid. */
export function mapHostWindow(slot: u32, pa: u64, size: u64): bool {
  return mapWindow(slot, pa, size);
}

/**
 * Start the hart in S-mode at `entry` with a0 = 0 (hartid), a1 = `dtb`, the host answering
 * SBI calls (sbi.ts) — the state SBI firmware hands to a kernel.
 */
export function bootSupervisor(entry: u64, dtb: u64): void {
  sbiBoot(entry, dtb);
}

/**
 * Start a paravirtual guest kernel under the paravirt VMM (vmm/paravirt.ts): guest RAM is the
 * first `guestBytes` of RAM (a multiple of 2 MiB, at most 1 GiB, 8 KiB less than RAM at most),
 * the rest is the VMM's; `diskSectors` is the PV block device's size (0: none). False if the
 * sizes do not allow it.
 */
export function bootParavirt(entry: u64, dtb: u64, guestBytes: u64, diskSectors: u64): bool {
  return pvBoot(entry, dtb, guestBytes, diskSectors);
}
export { pvBufferOk, pvBlockRing } from './vmm/paravirt';

/**
 * Start an unmodified guest kernel in VS-mode under the hw-assist VMM (vmm/hwassist.ts): its
 * RAM is the first `guestBytes` of RAM (a multiple of 2 MiB), the VMM keeps HV_VMM_BYTES above.
 * False if the sizes do not allow it or the hart lacks the H extension.
 */
export function bootHwAssist(entry: u64, dtb: u64, guestBytes: u64): bool {
  return hvBoot(entry, dtb, guestBytes);
}
export { HV_VMM_BYTES } from './vmm/hwassist';

/**
 * Start an unmodified guest kernel in its S-mode, paging off, under the full-virtualization VMM
 * (vmm/full.ts): deprivileged in U-mode, on shadow page tables. Its RAM is the first
 * `guestBytes` of RAM; the VMM keeps fvVmmBytes(guestBytes) above. `technique`: 0
 * trap-and-emulate, 1 binary translation; `shadow`: 0 lazy, 1 trace. False if the sizes or
 * options do not allow it.
 */
export function bootFull(entry: u64, dtb: u64, guestBytes: u64, technique: u32, shadow: u32): bool {
  return fvBoot(entry, dtb, guestBytes, technique, shadow);
}
export { fvVmmBytes } from './vmm/full';

/** Wall-clock time (ns since the Unix epoch) the goldfish RTC shows at mtime 0. */
export function setRtcEpoch(ns: u64): void {
  rtcSetEpoch(ns);
}

/** Timebase ticks until the next timer event (all ones: none is armed). */
export function ticksToNextTimer(): u64 {
  return ticksToTimer();
}

/** Let `ticks` of time pass without executing (the host idled the hart in WFI). */
export function advanceTime(ticks: u64): void {
  advance(ticks);
}

/** Idle policy for WFI with a timer armed: skip time forward (1) or exit to the host (0). */
export function setIdleSkip(on: bool): void {
  setSkip(on);
}

/**
 * Let the run loop call compiled blocks, queue blocks whose leader was reached `threshold`
 * times, and return EXIT_JIT when `batch` are queued.
 */
export function setJit(on: bool, threshold: u32, batch: u32): void {
  setJitMode(on, threshold, batch);
}

// ---- the kvm machine's in-kernel part (vmm/kvm.ts): the calls behind src/kvm/'s ioctls
export {
  kvmCreate, kvmSetUserMemoryRegion, kvmDirtyWord, kvmIrqLine, kvmEnter, kvmGetOneReg, kvmSetOneReg, kvmError,
  kvmUserBytes, KVM_RUN_SIZE, KVM_MEM_SLOTS, KVM_GPA_BITS,
} from './vmm/kvm';
