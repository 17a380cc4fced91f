// Instruction fetch: from a pc to the decoded slot to execute. The run loop handles the
// common case inline (pc in the page it fetched from last); these are the other cases.
import { SCRATCH_SLOT, RAM_BASE, RAM_PHYS } from '../memmap';
import { raise, priv, virt, trapPending, ACCESS_EXEC, CAUSE_FETCH_ACCESS } from './state';
import { translate, isRam, ramHost } from '../mmu/walk';
import { pmpCheck, pmpPageUniform } from '../mmu/pmp';
import {
  setFetchPage, fetchHost, countTlbMiss, countTlbHit, tlbSlot, tlbTag, tlbExec, tlbInsert,
} from '../mmu/tlb';
import { icachePage } from './icache';
import { decodeInto } from './decode';

/** Translate and check a fetch of `size` bytes at `va`; returns the physical address. */
function fetchPa(va: u64, size: u32): u64 {
  const pa = translate(va, ACCESS_EXEC, priv, virt);
  if (trapPending) return 0;
  if (!isRam(pa) || !pmpCheck(pa, size, ACCESS_EXEC, priv)) {
    raise(CAUSE_FETCH_ACCESS, va);
    return 0;
  }
  return pa;
}

/** pc left the cached fetch page: find (or start) the decoded page for it. 0 on a fault. */
export function fetchSlow(pc: u64): u32 {
  // the fetch TLB of the current view maps the page to its host page (RAM, uniform PMP)
  const e = tlbSlot(tlbExec, pc);
  if (load<u64>(e) == tlbTag(pc)) {
    countTlbHit();
    const host = <u32>(load<u64>(e, 8) + (pc & ~<u64>0xfff));
    return enterPage(pc, <u64>(host - RAM_BASE) + RAM_PHYS, host);
  }
  countTlbMiss();
  const pa = fetchPa(pc, 2);
  if (trapPending) return 0;
  const page = pa & ~<u64>0xfff;
  if (pmpPageUniform(page)) {
    tlbInsert(ACCESS_EXEC, pc, ramHost(page));
    return enterPage(pc, page, ramHost(page));
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

/** Make the page of pc (physical `page`, host address `host`) the fetch path's page. */
function enterPage(pc: u64, page: u64, host: u32): u32 {
  const slots = icachePage(page);
  setFetchPage(pc >> 12, slots, host);
  return slots + ((<u32>pc & 0xfff) << 3);
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
