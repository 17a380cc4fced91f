// Instruction fetch: from a pc to the decoded slot to execute. The run loop handles the
// common case inline (pc in the page it fetched from last); these are the other cases.
import { SCRATCH_SLOT } from '../memmap';
import { raise, priv, trapPending, ACCESS_EXEC, CAUSE_FETCH_ACCESS } from './state';
import { translate, isRam, ramHost } from '../mmu/walk';
import { pmpCheck, pmpPageUniform } from '../mmu/pmp';
import { setFetchPage, fetchHost, countTlbMiss } from '../mmu/tlb';
import { icachePage } from './icache';
import { decodeInto } from './decode';

/** Translate and check a fetch of `size` bytes at `va`; returns the physical address. */
function fetchPa(va: u64, size: u32): u64 {
  const pa = translate(va, ACCESS_EXEC, priv);
  if (trapPending) return 0;
  if (!isRam(pa) || !pmpCheck(pa, size, ACCESS_EXEC, priv)) {
    raise(CAUSE_FETCH_ACCESS, va);
    return 0;
  }
  return pa;
}

/** pc left the cached fetch page: find (or start) the decoded page for it. 0 on a fault. */
export function fetchSlow(pc: u64): u32 {
  countTlbMiss();
  const pa = fetchPa(pc, 2);
  if (trapPending) return 0;
  const page = pa & ~<u64>0xfff;
  if (pmpPageUniform(page)) {
    const slots = icachePage(pa);
    setFetchPage(pc >> 12, slots, ramHost(page));
    return slots + ((<u32>pc & 0xfff) << 3);
  }
  // PMP treats parts of this page differently: decode each time, cache nothing
  const lo = <u32>load<u16>(ramHost(pa));
  if ((lo & 3) != 3) {
    decodeInto(SCRATCH_SLOT, lo);
    return SCRATCH_SLOT;
  }
  const hiPa = fetchPa(pc + 2, 2);
  if (trapPending) return 0;
  decodeInto(SCRATCH_SLOT, lo | (<u32>load<u16>(ramHost(hiPa)) << 16));
  return SCRATCH_SLOT;
}

/** Decode the instruction at pc (in the cached fetch page) into its slot. 0 on a fault. */
export function decodeAt(slot: u32, pc: u64): u32 {
  const off = <u32>pc & 0xfff;
  const host = fetchHost + off;
  const lo = <u32>load<u16>(host);
  if ((lo & 3) != 3) {
    decodeInto(slot, lo);
    return slot;
  }
  if (off != 0xffe) {
    decodeInto(slot, load<u32>(host));
    return slot;
  }
  // a 32-bit instruction crossing into the next page: never cached
  const hiPa = fetchPa(pc + 2, 2);
  if (trapPending) return 0;
  decodeInto(SCRATCH_SLOT, lo | (<u32>load<u16>(ramHost(hiPa)) << 16));
  return SCRATCH_SLOT;
}
