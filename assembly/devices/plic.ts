// SiFive PLIC (QEMU virt: 0x0c00_0000, 95 sources, 7 priority levels), RISC-V PLIC spec 1.0.0.
// Context 0 is hart 0's M-mode (drives mip.MEIP), context 1 its S-mode (mip.SEIP).
// Sources are level-triggered: a source is pending while its line is high and it is not
// claimed; completing a claim re-arms it (chapter 5 "Interrupt Gateways").
import { setMipHw } from '../hart/csr';
import { MIP_MEIP, MIP_SEIP } from '../hart/state';
import { hvActive, hvSetExternal } from '../vmm/hwassist';

export const PLIC_BASE: u64 = 0x0c00_0000;
export const PLIC_SIZE: u64 = 0x0060_0000;
export const PLIC_SOURCES: u32 = 96; // ids 1..95; 0 means "no interrupt"
const CONTEXTS: u32 = 2;
const PRIORITY_MASK: u32 = 7;

// register map (PLIC spec chapter 3, "Memory Map")
const PENDING_BASE: u32 = 0x1000;
const ENABLE_BASE: u32 = 0x2000;
const ENABLE_STRIDE: u32 = 0x80;
const CONTEXT_BASE: u32 = 0x20_0000;
const CONTEXT_STRIDE: u32 = 0x1000;

const WORDS: u32 = PLIC_SOURCES / 32;
const priority = new StaticArray<u32>(PLIC_SOURCES);
const level = new StaticArray<u32>(WORDS); // input lines
const claimed = new StaticArray<u32>(WORDS); // in service (claimed, not completed)
const enable = new StaticArray<u32>(WORDS * CONTEXTS);
const threshold = new StaticArray<u32>(CONTEXTS);

export let plicClaims: u64 = 0;

@inline function pendingWord(w: u32): u32 {
  // source 0 does not exist
  return (level[w] & ~claimed[w]) & (w == 0 ? 0xffff_fffe : 0xffff_ffff);
}

/** Set the level of interrupt line `src` (1..95). */
export function plicSetLevel(src: u32, high: bool): void {
  if (src == 0 || src >= PLIC_SOURCES) return;
  const w = src >> 5, bit: u32 = 1 << (src & 31);
  const old = level[w];
  level[w] = high ? old | bit : old & ~bit;
  if (old != level[w]) plicUpdate();
}

/** The highest-priority pending, enabled source above the context's threshold, or 0. */
function best(ctx: u32): u32 {
  let id: u32 = 0, prio: u32 = threshold[ctx];
  for (let w: u32 = 0; w < WORDS; w++) {
    let bits = pendingWord(w) & enable[ctx * WORDS + w];
    while (bits != 0) {
      const src = (w << 5) + <u32>ctz(bits);
      bits &= bits - 1;
      // ties go to the lowest id (spec 4.3): strictly greater keeps the first found
      if (priority[src] > prio) { prio = priority[src]; id = src; }
    }
  }
  return id;
}

/** Recompute the external-interrupt bits of mip from the PLIC's state. */
export function plicUpdate(): void {
  setMipHw(MIP_MEIP, best(0) != 0);
  // under the hw-assist VMM the S-mode context is its guest's, injected as VSEIP (hvip)
  if (hvActive) hvSetExternal(best(1) != 0);
  else setMipHw(MIP_SEIP, best(1) != 0);
}

export function plicRead(off: u32): u64 {
  if (off < PENDING_BASE) return off >> 2 < PLIC_SOURCES ? priority[off >> 2] : 0;
  if (off < ENABLE_BASE) {
    const w = (off - PENDING_BASE) >> 2;
    return w < WORDS ? pendingWord(w) : 0;
  }
  if (off < CONTEXT_BASE) {
    const ctx = (off - ENABLE_BASE) / ENABLE_STRIDE, w = ((off - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
    return ctx < CONTEXTS && w < WORDS ? enable[ctx * WORDS + w] : 0;
  }
  const ctx = (off - CONTEXT_BASE) / CONTEXT_STRIDE, reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
  if (ctx >= CONTEXTS) return 0;
  if (reg == 0) return threshold[ctx];
  if (reg == 4) {
    // claim (spec 7.1): the best source stops being pending until completed
    const id = best(ctx);
    if (id != 0) {
      claimed[id >> 5] |= 1 << (id & 31);
      plicClaims++;
      plicUpdate();
    }
    return id;
  }
  return 0;
}

export function plicWrite(off: u32, v: u32): void {
  if (off < PENDING_BASE) {
    if (off >> 2 < PLIC_SOURCES && off >= 4) priority[off >> 2] = v & PRIORITY_MASK;
  } else if (off < ENABLE_BASE) {
    // pending bits are read-only
  } else if (off < CONTEXT_BASE) {
    const ctx = (off - ENABLE_BASE) / ENABLE_STRIDE, w = ((off - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
    if (ctx < CONTEXTS && w < WORDS) enable[ctx * WORDS + w] = w == 0 ? v & ~1 : v;
  } else {
    const ctx = (off - CONTEXT_BASE) / CONTEXT_STRIDE, reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (ctx >= CONTEXTS) return;
    if (reg == 0) threshold[ctx] = v & PRIORITY_MASK;
    // completion (spec 7.2): ignored unless the source is enabled for this context
    else if (reg == 4 && v < PLIC_SOURCES && (enable[ctx * WORDS + (v >> 5)] & (1 << (v & 31))) != 0) {
      claimed[v >> 5] &= ~(1 << (v & 31));
    }
  }
  plicUpdate();
}

export function resetPlic(): void {
  for (let i: u32 = 0; i < PLIC_SOURCES; i++) priority[i] = 0;
  for (let i: u32 = 0; i < WORDS; i++) { level[i] = 0; claimed[i] = 0; }
  for (let i: u32 = 0; i < WORDS * CONTEXTS; i++) enable[i] = 0;
  for (let i: u32 = 0; i < CONTEXTS; i++) threshold[i] = 0;
  plicClaims = 0;
}
