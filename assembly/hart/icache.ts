// Decoded instructions, cached per physical page (ICACHE_PAGES pages, clock replacement: a page
// the fetch path entered since the hand last passed gets a second chance, so hot code — and
// the regions compiled from it — stays while code run once cycles through).
// A slot per halfword holds one decoded instruction (memmap.ts: SLOT_*); op 0 means "not
// decoded yet", so a page is decoded lazily, slot by slot, as it executes.
// Coherence: a page with decoded code is never in the write TLB, so every store to it takes
// the slow path (invalidateCode): a store to the page that is executing clears the slots it
// overlaps (all of the page's code if compiled code covers them: jit.ts); a store to any
// other page unmaps that page from the cache. Host writes into guest RAM (DMA, loaders)
// unmap the pages they touch.
import {
  ICACHE_PAGES, ICACHE_TAGS, ICACHE_MAP, ICACHE_BASE, ICACHE_PAGE_BYTES, ICACHE_REF, SLOT_SIZE, RAM_PHYS,
} from '../memmap';
import { tlbDropWritable, invalidateFetch, fetchVpn, fetchHost, NO_FETCH_PAGE } from '../mmu/tlb';
import { ramHost } from '../mmu/walk';
import { jitResetPage, jitCodeWritten, jitForgetPage } from './jit';

let victim: u32 = 0;
export let icacheMisses: u64 = 0;
export let icacheFlushes: u64 = 0;

@inline function mapEntry(pa: u64): u32 {
  return ICACHE_MAP + (<u32>((pa - RAM_PHYS) >> 12) << 1);
}

/** Does the RAM page of `pa` hold decoded instructions? */
@inline export function pageHasCode(pa: u64): bool {
  return load<u16>(mapEntry(pa)) != 0;
}

/** The slot array of the RAM page holding `pa`, allocating (and evicting) if needed. */
export function icachePage(pa: u64): u32 {
  const m = mapEntry(pa);
  const idx = <u32>load<u16>(m);
  if (idx != 0) {
    store<u8>(ICACHE_REF + idx - 1, 1);
    return ICACHE_BASE + (idx - 1) * ICACHE_PAGE_BYTES;
  }
  icacheMisses++;
  // the clock's hand passes referenced pages, clearing their bit (all referenced: a full turn)
  let v = victim;
  while (load<u8>(ICACHE_REF + v) != 0) {
    store<u8>(ICACHE_REF + v, 0);
    v = (v + 1) % ICACHE_PAGES;
  }
  victim = (v + 1) % ICACHE_PAGES;
  const old = load<u32>(ICACHE_TAGS + (v << 2));
  if (old != 0) {
    store<u16>(ICACHE_MAP + ((old - 1) << 1), 0);
    invalidateFetch();
  }
  const page = <u32>((pa - RAM_PHYS) >> 12);
  store<u32>(ICACHE_TAGS + (v << 2), page + 1);
  store<u16>(m, <u16>(v + 1));
  const slots = ICACHE_BASE + v * ICACHE_PAGE_BYTES;
  memory.fill(slots, 0, ICACHE_PAGE_BYTES);
  // unreferenced until entered again: code run once goes before code that comes back
  store<u8>(ICACHE_REF + v, 0);
  jitResetPage(v);
  tlbDropWritable(ramHost(pa & ~<u64>0xfff));
  return slots;
}

/**
 * A store of `size` bytes at RAM address `pa`: forget every instruction it overlaps. If the
 * page is not the one executing, forget the whole page instead (as QEMU does), so its later
 * stores take the TLB fast path again: code pages written while not executing are mostly
 * pages reused for data (freed init code, a finished process's pages).
 */
export function invalidateCode(pa: u64, size: u32): void {
  const idx = <u32>load<u16>(mapEntry(pa));
  if (idx == 0) return;
  if (fetchVpn == NO_FETCH_PAGE || ramHost(pa & ~<u64>0xfff) != fetchHost) {
    forgetPage(mapEntry(pa), idx - 1);
    return;
  }
  const off = <u32>pa & 0xfff;
  if (jitCodeWritten(idx - 1, off, size)) return; // the whole page was forgotten
  const slots = ICACHE_BASE + (idx - 1) * ICACHE_PAGE_BYTES;
  // a 4-byte instruction starting one halfword earlier overlaps the first byte
  const first = off >= 2 ? (off >> 1) - 1 : 0;
  const last = (off + size - 1) >> 1;
  memory.fill(slots + first * SLOT_SIZE, 0, (min(last, 2047) - first + 1) * SLOT_SIZE);
}

/** Unmap decoded page `v` (map entry at `m`): its slots are cleared when it is reused. */
function forgetPage(m: u32, v: u32): void {
  store<u16>(m, 0);
  store<u32>(ICACHE_TAGS + (v << 2), 0);
  store<u8>(ICACHE_REF + v, 0);
  jitForgetPage(v);
}

/** Forget all decoded code (FENCE.I; reset; a host write of unknown extent). */
export function icacheFlush(): void {
  for (let v: u32 = 0; v < ICACHE_PAGES; v++) {
    const old = load<u32>(ICACHE_TAGS + (v << 2));
    if (old != 0) store<u16>(ICACHE_MAP + ((old - 1) << 1), 0);
    store<u32>(ICACHE_TAGS + (v << 2), 0);
    store<u8>(ICACHE_REF + v, 0);
  }
  invalidateFetch();
  icacheFlushes++;
}

/** Host writes into guest RAM (loaders, DMA) of [pa, pa+len). */
export function invalidateCodeRange(pa: u64, len: u64): void {
  if (len == 0) return;
  let p = pa & ~<u64>0xfff;
  const end = pa + len;
  while (p < end) {
    const m = mapEntry(p);
    const idx = <u32>load<u16>(m);
    if (idx != 0) {
      forgetPage(m, idx - 1);
      invalidateFetch();
    }
    p += 4096;
  }
}
