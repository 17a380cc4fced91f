// Event counters, u64 each, at STATS_BASE in linear memory (read by src/stats.ts).
// Hot counters live in Wasm globals while run() executes and are written back here
// when it returns (flushStats), so reading them costs the hot path nothing.
import { STATS_BASE } from './memmap';

export const STAT_INSTRET: u32 = 0;
export const STAT_TRAPS: u32 = 1;
export const STAT_INTERRUPTS: u32 = 2;
export const STAT_TLB_HITS: u32 = 3;
export const STAT_TLB_MISSES: u32 = 4;
export const STAT_PAGE_WALKS: u32 = 5;
export const STAT_WALK_REFS: u32 = 6;
export const STAT_ICACHE_MISSES: u32 = 7;
export const STAT_ICACHE_FLUSHES: u32 = 8;
export const STAT_MMIO_READS: u32 = 9;
export const STAT_MMIO_WRITES: u32 = 10;
export const STAT_TLB_FLUSHES: u32 = 11;
export const STAT_WFI: u32 = 12;
export const STAT_SBI_CALLS: u32 = 13;
export const STAT_MMIO_EXITS: u32 = 14;
export const STAT_PLIC_CLAIMS: u32 = 15;
/** Decoded pages whose compiled blocks were dropped because their code was written. */
export const STAT_JIT_PAGES_DROPPED: u32 = 16;
/** Instructions retired inside compiled blocks (part of STAT_INSTRET). */
export const STAT_JIT_RETIRED: u32 = 17;
/** Calls of compiled blocks. */
export const STAT_JIT_CALLS: u32 = 18;
// The paravirt VMM (vmm/paravirt.ts)
/** Hypercalls: ECALLs from the guest kernel. */
export const STAT_PV_HYPERCALLS: u32 = 19;
/** Traps and interrupts the VMM delivered to the guest kernel's vector. */
export const STAT_PV_REFLECTED: u32 = 20;
/** Privileged instructions the guest kernel tried anyway (each an illegal-instruction trap). */
export const STAT_PV_PRIV_FAULTS: u32 = 21;
/** Hypercalls and page-table requests refused by validation. */
export const STAT_PV_REFUSED: u32 = 22;
/** Page-table requests applied (PV_MMU_UPDATE entries). */
export const STAT_PV_MMU_OPS: u32 = 23;
/** Hypercalls that exit to the host (PV_BLK_NOTIFY: the block backend is the host's). */
export const STAT_PV_HOST_EXITS: u32 = 24;
// The H extension (mmu/walk.ts)
/** Translations with V=1: a VS-stage walk over G-stage walks (2-D walks). */
export const STAT_WALKS_2D: u32 = 25;
/** PTE reads and writes of those walks, both stages (at most 15 for Sv39 over Sv39x4). */
export const STAT_WALK_REFS_2D: u32 = 26;
// The hw-assist VMM (vmm/hwassist.ts)
/** Exits: the guest's traps that entered HS-mode (the VMM). */
export const STAT_HV_EXITS: u32 = 27;
/** SBI calls of the guest (ECALLs from VS-mode), answered by the VMM. */
export const STAT_HV_SBI: u32 = 28;
/** Guest loads and stores to devices, emulated on guest-page faults. */
export const STAT_HV_MMIO: u32 = 29;
/** Virtual interrupts injected through hvip (VSSIP, VSEIP rising). */
export const STAT_HV_INJECTED: u32 = 30;
/** Exceptions the VMM delivered into the guest (unmapped guest physical memory, virtual instructions). */
export const STAT_HV_REFLECTED: u32 = 31;
/** Exceptions by cause: STAT_EXC_BASE + cause (causes 0..31). */
export const STAT_EXC_BASE: u32 = 32;
/** Interrupts by cause: STAT_IRQ_BASE + cause (causes 0..31). */
export const STAT_IRQ_BASE: u32 = 64;
// The full-virtualization VMM (vmm/full.ts)
/** Traps of the guest that entered the VMM (everything the deprivileged guest may not do). */
export const STAT_FV_TRAPS: u32 = 96;
/** Privileged instructions of the guest kernel emulated (trapped, or called by translated code). */
export const STAT_FV_EMULATED: u32 = 97;
/** SBI calls of the guest kernel, answered by the VMM. */
export const STAT_FV_SBI: u32 = 98;
/** Exceptions delivered into the guest: its true page faults, its processes' system calls... */
export const STAT_FV_REFLECTED: u32 = 99;
/** Virtual interrupts delivered into the guest. */
export const STAT_FV_INJECTED: u32 = 100;
/** Hidden page faults: a shadow entry missing or read-only for D, filled from the guest's tables. */
export const STAT_FV_HIDDEN: u32 = 101;
/** Shadow syncs: the guest's SFENCE.VMAs (and SBI remote fences) the lazy policy acted on. */
export const STAT_FV_SYNCS: u32 = 102;
/** Page-table writes trapped, emulated and applied (trace policy). */
export const STAT_FV_PT_WRITES: u32 = 103;
/** Guest loads and stores to devices, emulated. */
export const STAT_FV_MMIO: u32 = 104;
/** Shadow-table pages in use now (a gauge, not a count). */
export const STAT_FV_SHADOW_PAGES: u32 = 105;
/** Times every shadow was dropped because the pool ran dry. */
export const STAT_FV_SHADOW_RESETS: u32 = 106;
/** Binary translation: blocks of guest-kernel code translated. */
export const STAT_FV_BT_BLOCKS: u32 = 107;
/** Binary translation: sensitive instructions rewritten into calls of the VMM. */
export const STAT_FV_BT_REWRITTEN: u32 = 108;
/** True page faults: the guest's own tables forbid the access (reflected; part of STAT_FV_REFLECTED). */
export const STAT_FV_GUEST_FAULTS: u32 = 109;
/** The first of these counters (src/core.ts names them in this order). */
export const STAT_FV_BASE: u32 = STAT_FV_TRAPS;
export const STAT_COUNT: u32 = 110;

@inline export function statAdd(i: u32, n: u64 = 1): void {
  const a = STATS_BASE + (i << 3);
  store<u64>(a, load<u64>(a) + n);
}

@inline export function statSet(i: u32, v: u64): void {
  store<u64>(STATS_BASE + (i << 3), v);
}
