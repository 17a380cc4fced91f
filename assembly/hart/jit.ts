// The core's half of the JIT (docs/jit.md): the host (src/jit/) compiles hot code into Wasm
// functions of the core's table ("blocks" here; the host calls them regions); the core
// finds hot code, runs compiled blocks and forgets them when their code changes.
//
// Each decoded slot has a u32 in JIT_MAP (memmap.ts):
//   0 .. jitThreshold   times a jump, branch or trap has landed on this slot (a leader)
//   JIT_QUEUED          waiting in JIT_QUEUE for the host
//   JIT_NEVER           the host found nothing it can compile here
//   index | len << 24   the slot's op is OP_JIT: table index of the block's function, and
//                       the budget a call needs (compile.ts: its entry basic block's length, or
//                       the longest path through a block without backward jumps)
// A compiled block is called as fn(pc) -> pc: it runs from pc (its code only uses pc
// relative to it, so every virtual alias of the physical page shares it), adds what it
// retired to instret, and returns the next pc. A load or store that misses the TLB (MMIO, a
// page fault, a code page, a page crossing) ends the block before it: the interpreter does
// the access, so compiled code never raises an exception itself. A block that returns its
// own pc having retired nothing (such an access first) has the run loop interpret that one
// instruction.
import { fvTranslate, fvRewrite } from '../vmm/full';
import {
  ICACHE_BASE, ICACHE_PAGE_BYTES, JIT_MAP, JIT_QUEUE, JIT_QUEUE_ENTRIES, JIT_PAGES, SLOT_OP, SLOT_RAW,
  SCRATCH_SLOT, RAM_BASE, ICACHE_TAGS, ICACHE_PAGES, JIT_MAP_BYTES, EXIT_JIT, JIT_COVER, JIT_COVER_BYTES,
} from '../memmap';
import { decodeInto, OP_JIT } from './decode';
import { requestStop } from './counters';
import { requestExit } from '../exit';

export const JIT_QUEUED: u32 = 0xffff_fffe;
export const JIT_NEVER: u32 = 0xffff_ffff;
/** JIT_PAGES flags of a decoded page. */
const PAGE_HAS_BLOCKS: u8 = 1;
/** After this many drops (its code was written while compiled), a page is not compiled again. */
const PAGE_DROP_LIMIT: u32 = 8;

export let jitEnabled: bool = false;
let jitThreshold: u32 = 10000;
/** Queued blocks that make run() return (EXIT_JIT) so the host compiles them now. */
let jitBatch: u32 = 256;
export let jitPagesDropped: u64 = 0;
/** Instructions retired inside compiled blocks (the blocks add to it, and to instret). */
export let jitRetired: u64 = 0;
/** Calls of compiled blocks by the run loop. */
export let jitCalls: u64 = 0;
@inline export function countJitCall(): void {
  jitCalls++;
}

export function setJit(on: bool, threshold: u32, batch: u32): void {
  jitEnabled = on;
  jitThreshold = threshold;
  jitBatch = max<u32>(batch, 1);
}

@inline function entryOf(slot: u32): u32 {
  return JIT_MAP + ((slot - ICACHE_BASE) >> 2);
}
@inline function pageOf(slot: u32): u32 {
  return (slot - ICACHE_BASE) / ICACHE_PAGE_BYTES;
}

/** A jump, branch or trap landed on `slot`: count it, and queue the block when it is hot. */
@inline export function jitCountLeader(slot: u32): void {
  if (slot >= ICACHE_BASE) {
    const e = entryOf(slot);
    const c = load<u32>(e);
    if (c < jitThreshold) store<u32>(e, c + 1);
    else if (c == jitThreshold) enqueue(slot, e);
  }
}

function enqueue(slot: u32, e: u32): void {
  const n = load<u32>(JIT_QUEUE);
  if (n >= JIT_QUEUE_ENTRIES) return; // full: the next landing tries again
  if ((<u32>load<u8>(JIT_PAGES + pageOf(slot)) >> 1) >= PAGE_DROP_LIMIT) {
    store<u32>(e, JIT_NEVER);
    return;
  }
  store<u32>(JIT_QUEUE + 8 + (n << 2), slot);
  store<u32>(JIT_QUEUE, n + 1);
  store<u32>(e, JIT_QUEUED);
  if (n + 1 >= jitBatch) requestExit(EXIT_JIT, 0);
}

/** Table index and pass length of the compiled block at an OP_JIT slot. */
@inline export function jitBlockOf(slot: u32): u32 {
  return load<u32>(entryOf(slot));
}

/** The instruction an OP_JIT slot replaced, decoded into the scratch slot (to run it alone). */
export function jitOriginal(slot: u32): u32 {
  decodeInto(SCRATCH_SLOT, load<u32>(slot, SLOT_RAW));
  return SCRATCH_SLOT;
}

// ---- the host's side (exported by index.ts)

/**
 * Decode the slot `slot` (in a decoded page) from guest RAM if it is not decoded yet, for
 * the compiler reading ahead. Returns its op, or 0 if the instruction runs off the page.
 */
export function jitDecode(slot: u32): u32 {
  const op = <u32>load<u16>(slot, SLOT_OP);
  if (op != 0) return op;
  const v = pageOf(slot);
  const tag = load<u32>(ICACHE_TAGS + (v << 2));
  if (tag == 0) return 0;
  const off = ((slot - ICACHE_BASE) % ICACHE_PAGE_BYTES) >> 3; // byte offset in the page
  const host = RAM_BASE + ((tag - 1) << 12) + off;
  const lo = <u32>load<u16>(host);
  if ((lo & 3) != 3) decodeInto(slot, lo);
  else if (off == 0xffe) return 0;
  else decodeInto(slot, load<u32>(host));
  if (fvTranslate) fvRewrite(slot); // as the run loop's decoding would (vmm/full.ts)
  return <u32>load<u16>(slot, SLOT_OP);
}

/** Install a compiled block at `slot` (its JIT_MAP entry must still be JIT_QUEUED). */
export function jitInstall(slot: u32, index: u32, len: u32): bool {
  const e = entryOf(slot);
  if (load<u32>(e) != JIT_QUEUED || load<u16>(slot, SLOT_OP) == 0) return false;
  store<u32>(e, index | (len << 24));
  store<u16>(slot, OP_JIT, SLOT_OP);
  const f = JIT_PAGES + pageOf(slot);
  store<u8>(f, load<u8>(f) | PAGE_HAS_BLOCKS);
  return true;
}

/**
 * The host wants to compile a block at `slot` too (it follows an instruction that ended a
 * hot block, so execution falls into it): queue-mark it unless it already has a block.
 */
export function jitClaim(slot: u32): bool {
  const op = jitDecode(slot);
  if (op == 0 || op == OP_JIT) return false;
  const e = entryOf(slot);
  const c = load<u32>(e);
  if (c == JIT_QUEUED || c == JIT_NEVER) return false;
  store<u32>(e, JIT_QUEUED);
  return true;
}

/** The host will not compile the block at `slot`. */
export function jitReject(slot: u32): void {
  const e = entryOf(slot);
  if (load<u32>(e) == JIT_QUEUED) store<u32>(e, JIT_NEVER);
}

/** Forget every compiled block and counter (the host recycles its table after this). */
export function jitFlushAll(): void {
  for (let v: u32 = 0; v < ICACHE_PAGES; v++) {
    if ((load<u8>(JIT_PAGES + v) & PAGE_HAS_BLOCKS) != 0) dropPage(v);
  }
  memory.fill(JIT_PAGES, 0, ICACHE_PAGES);
  memory.fill(JIT_MAP, 0, JIT_MAP_BYTES);
  store<u32>(JIT_QUEUE, 0);
}

// ---- coherence (called by icache.ts)

/** Decoded page `v` is being (re)used for another physical page: no counters, no blocks. */
export function jitResetPage(v: u32): void {
  memory.fill(JIT_MAP + v * (ICACHE_PAGE_BYTES >> 2), 0, ICACHE_PAGE_BYTES >> 2);
  memory.fill(JIT_COVER + v * JIT_COVER_BYTES, 0, JIT_COVER_BYTES);
  store<u8>(JIT_PAGES + v, 0);
}

/** Does compiled code cover any halfword of [off, off+size) in decoded page `v`? */
function covered(v: u32, off: u32, size: u32): bool {
  const bits = JIT_COVER + v * JIT_COVER_BYTES;
  for (let h = off >> 1; h <= min<u32>((off + size - 1) >> 1, 2047); h++) {
    if ((load<u8>(bits + (h >> 3)) & (1 << (h & 7))) != 0) return true;
  }
  return false;
}

/** Decoded page `v` was unmapped (its code written, or the host wrote its RAM). */
export function jitForgetPage(v: u32): void {
  if ((load<u8>(JIT_PAGES + v) & PAGE_HAS_BLOCKS) != 0) jitPagesDropped++;
  jitResetPage(v);
}

/**
 * Bytes [off, off+size) of the executing decoded page `v` were written. If compiled code
 * covers them, the page forgets all of its decoded code (a region may include them from
 * any of its slots), and the run loop stops after the storing instruction (requestStop;
 * compiled code never makes such a store: a page with decoded code is never in the write
 * TLB). Stores to data that merely shares the page leave its regions alone.
 */
export function jitCodeWritten(v: u32, off: u32, size: u32): bool {
  const f = load<u8>(JIT_PAGES + v);
  if ((f & PAGE_HAS_BLOCKS) == 0 || !covered(v, off, size)) return false;
  dropPage(v);
  const drops = (<u32>f >> 1) + 1;
  store<u8>(JIT_PAGES + v, <u8>(min<u32>(drops, 127) << 1));
  return true;
}

function dropPage(v: u32): void {
  memory.fill(ICACHE_BASE + v * ICACHE_PAGE_BYTES, 0, ICACHE_PAGE_BYTES);
  memory.fill(JIT_MAP + v * (ICACHE_PAGE_BYTES >> 2), 0, ICACHE_PAGE_BYTES >> 2);
  memory.fill(JIT_COVER + v * JIT_COVER_BYTES, 0, JIT_COVER_BYTES);
  jitPagesDropped++;
  requestStop();
}
