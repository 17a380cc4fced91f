// Software TLB. Direct-mapped, TLB_ENTRIES entries per (privilege view, access type).
// An entry maps one 4 KiB virtual page of guest RAM to linear memory:
//   tag    u64  va >> 12 in bits 51:0, the generation of its address space in bits 63:52 (0: empty)
//   addend u64  host linear address of the page minus the page's va (host = addend + va)
// Only RAM pages whose whole 4 KiB has one PMP outcome are entered; MMIO and partial-PMP
// pages always take the slow path. Permission checks are done when an entry is filled, so
// each view holds the entries valid for one combination of effective privilege and SUM:
//   view 0: M-mode (no translation)   view 1: S, SUM=0   view 2: S, SUM=1   view 3: U
//
// Entries are tagged by address space (privileged spec 4.2.1, ASIDs; H chapter, VMIDs and
// HFENCE): each context (V, VMID, ASID) with its root tables has a generation, and tlbGen is
// the current context's. A satp, vsatp or hgatp write, or a change between V=0 and V=1,
// selects a context: one seen before keeps its entries. SFENCE.VMA with an ASID drops only
// that context; HFENCE.VVMA/GVMA only V=1 contexts; a full flush (SFENCE.VMA x0, x0 at V=0,
// a change of MXR or PMP) bumps an epoch that retires every context, in O(1) however large
// the TLB is. A flush by address drops the page in every context (over-flushing is allowed).
// The arrays are cleared only when the 12-bit generation wraps.
import { TLB_BASE, TLB_ENTRIES, TLB_SIZE, TLB_VIEWS } from '../memmap';
import {
  csrRaw, priv, virt, PRV_M, PRV_S, MSTATUS_MPRV, MSTATUS_MPP, MSTATUS_MPV, MSTATUS_SUM, MPP_SHIFT, ACCESS_EXEC,
} from '../hart/state';
import { CSR_MSTATUS, CSR_VSSTATUS, CSR_SATP, CSR_VSATP, CSR_HGATP } from '../hart/opcodes.gen';

/** fetchVpn when the fetch path has no page (va >> 12 never has all bits set). */
export const NO_FETCH_PAGE: u64 = 0xffff_ffff_ffff_ffff;
const GEN_ONE: u64 = <u64>1 << 52;
const VPN_MASK: u64 = GEN_ONE - 1;
/** The current context's generation, in tag position. */
export let tlbGen: u64 = GEN_ONE;
/** The last generation handed out (0: none since the arrays were cleared). */
let lastGen: u64 = 0;

/** The tag a hit for `va` must find. */
@inline export function tlbTag(va: u64): u64 {
  return (va >> 12) | tlbGen;
}
const VIEW_BYTES: u32 = 3 * TLB_ENTRIES * 16;

/** Base of the read, write and fetch TLB arrays of the current views. */
export let tlbRead: u32 = TLB_BASE;
export let tlbWrite: u32 = TLB_BASE + TLB_ENTRIES * 16;
export let tlbExec: u32 = TLB_BASE + 2 * TLB_ENTRIES * 16;
/** Effective privilege of loads and stores (mstatus.MPRV applies MPP in M-mode). */
export let dataPriv: u32 = PRV_M;
/** Loads and stores are translated with V=1 (V=1, or in M-mode MPRV with MPV: H chapter). */
export let dataVirt: bool = false;
/** The regime of the translations views 1-3 hold: V=1 (true) or V=0. */
let regimeVirt: bool = false;

export let tlbHits: u64 = 0;
export let tlbMisses: u64 = 0;
export let tlbFlushes: u64 = 0;

function viewOf(p: u32, sum: bool): u32 {
  if (p == PRV_M) return 0;
  if (p == PRV_S) return sum ? 2 : 1;
  return 3;
}

/** Recompute the current views; call after any change of priv or of mstatus MPRV/MPP/SUM. */
export function updateViews(): void {
  const ms = csrRaw(CSR_MSTATUS);
  let dp = priv;
  let dv = virt;
  let regime = regimeVirt; // M-mode without MPRV uses view 0 only: keep what views 1-3 hold
  if (priv == PRV_M) {
    if ((ms & MSTATUS_MPRV) != 0) {
      dp = <u32>((ms & MSTATUS_MPP) >> MPP_SHIFT);
      dv = dp != PRV_M && (ms & MSTATUS_MPV) != 0;
      regime = dv;
    }
  } else regime = virt;
  dataPriv = dp;
  dataVirt = dv;
  if (regime != regimeVirt) {
    // the other regime's context: its entries are still there (tagged by V)
    regimeVirt = regime;
    tlbSelectContext();
  }
  const sum = ((dv ? csrRaw(CSR_VSSTATUS) : ms) & MSTATUS_SUM) != 0;
  const dview = TLB_BASE + viewOf(dp, sum) * VIEW_BYTES;
  tlbRead = dview;
  tlbWrite = dview + TLB_ENTRIES * 16;
  const xv = TLB_BASE + viewOf(priv, false) * VIEW_BYTES + 2 * TLB_ENTRIES * 16;
  if (xv != tlbExec) invalidateFetch();
  tlbExec = xv;
}

/** Page (va >> 12) the fetch path has cached, or NO_FETCH_PAGE. */
export let fetchVpn: u64 = NO_FETCH_PAGE;
/** Decoded-slot array of that page, and the host address of its bytes. */
export let fetchSlots: u32 = 0;
export let fetchHost: u32 = 0;

export function setFetchPage(vpn: u64, slots: u32, host: u32): void {
  fetchVpn = vpn;
  fetchSlots = slots;
  fetchHost = host;
}

/** Forget the fetch path's cached page (after a flush, a privilege change, an eviction). */
export function invalidateFetch(): void {
  fetchVpn = NO_FETCH_PAGE;
}

// Entries are per 4 KiB page even when a superpage maps them, so a flush by address must
// also drop the other pages of the superpage that maps it: the superpages entries came from
// since the last full flush are remembered (up to SUPER_MAX; beyond that, any flush by
// address flushes everything).
const SUPER_MAX: u32 = 16;
const superVpn = new StaticArray<u64>(SUPER_MAX);
const superShift = new StaticArray<u64>(SUPER_MAX);
let superCount: u32 = 0;

/** A walk found a leaf at `level` > 0 (privileged spec 4.3.2: a superpage) for `va`. */
export function tlbNoteSuperpage(va: u64, level: u32): void {
  const shift: u64 = 12 + 9 * <u64>level;
  const vpn = va >> shift;
  for (let k: u32 = 0; k < min(superCount, SUPER_MAX); k++) {
    if (unchecked(superVpn[k]) == vpn && unchecked(superShift[k]) == shift) return;
  }
  if (superCount < SUPER_MAX) {
    unchecked(superVpn[superCount] = vpn);
    unchecked(superShift[superCount] = shift);
  }
  superCount++; // past SUPER_MAX: too many to track
}

// ---- address-space contexts: a small direct-mapped table of (V, VMID, ASID) -> generation.
// A context also remembers its root tables (satp or vsatp MODE and PPN, and hgatp's for V=1):
// reusing an ASID for other tables without a fence (which the spec would require) starts a
// fresh generation rather than finding the old tables' entries.
const CTX_SLOTS_LOG2: u32 = 6;
const CTX_SLOTS: u32 = 1 << CTX_SLOTS_LOG2;
const ctxKey = new StaticArray<u64>(CTX_SLOTS); // 0: free
const ctxRoot = new StaticArray<u64>(CTX_SLOTS);
const ctxGroot = new StaticArray<u64>(CTX_SLOTS);
const ctxGen = new StaticArray<u64>(CTX_SLOTS);
const ctxEpoch = new StaticArray<u32>(CTX_SLOTS);
const ctxVirtEpoch = new StaticArray<u32>(CTX_SLOTS); // V=1 contexts
/** Bumped by a full flush: every context's entries are gone. */
let epoch: u32 = 1;
/** Bumped by a flush of V=1 translations: every V=1 context's entries are gone. */
let virtEpoch: u32 = 1;
const ATP_ID_MASK: u64 = <u64>0xffff << 44; // satp ASID (16 bits), hgatp VMID (14 of them)
const CTX_VALID: u64 = <u64>1 << 62;
const CTX_V: u64 = <u64>1 << 63;

/** The context key of address space `asid` at V=0, or at V=1 (with hgatp's VMID). */
function ctxKeyOf(v: bool, asid: u64): u64 {
  if (!v) return CTX_VALID | asid;
  return CTX_V | CTX_VALID | (((csrRaw(CSR_HGATP) & ATP_ID_MASK) >> 44) << 16) | asid;
}
/** A multiplicative (Fibonacci) hash: VMID and ASID patterns such as (1, 1) and (2, 2) spread. */
@inline function ctxSlot(key: u64): u32 {
  return <u32>((key * 0x9e37_79b9_7f4a_7c15) >> (64 - CTX_SLOTS_LOG2));
}

/** A generation no entry has: the next one, or after a wrap, empty arrays and contexts. */
function newGen(): u64 {
  lastGen += GEN_ONE;
  if (lastGen == 0) {
    memory.fill(TLB_BASE, 0, TLB_SIZE);
    for (let i: u32 = 0; i < CTX_SLOTS; i++) unchecked(ctxKey[i] = 0);
    superCount = 0;
    lastGen = GEN_ONE;
  }
  return lastGen;
}

/**
 * Make the context of the current regime (satp, or vsatp over hgatp) the one the TLB looks
 * up and fills: after a write of satp, vsatp or hgatp, a change of regime, or a flush.
 */
export function tlbSelectContext(): void {
  const atp = csrRaw(regimeVirt ? CSR_VSATP : CSR_SATP);
  const key = ctxKeyOf(regimeVirt, (atp & ATP_ID_MASK) >> 44);
  const root = atp & ~ATP_ID_MASK;
  const groot = regimeVirt ? csrRaw(CSR_HGATP) & ~ATP_ID_MASK : 0;
  const ve = regimeVirt ? virtEpoch : 0;
  const i = ctxSlot(key);
  let gen: u64;
  if (unchecked(ctxKey[i]) == key && unchecked(ctxRoot[i]) == root && unchecked(ctxGroot[i]) == groot &&
      unchecked(ctxEpoch[i]) == epoch && unchecked(ctxVirtEpoch[i]) == ve) {
    gen = unchecked(ctxGen[i]);
  } else {
    gen = newGen();
    unchecked(ctxKey[i] = key);
    unchecked(ctxRoot[i] = root);
    unchecked(ctxGroot[i] = groot);
    unchecked(ctxGen[i] = gen);
    unchecked(ctxEpoch[i] = epoch);
    unchecked(ctxVirtEpoch[i] = ve);
  }
  if (gen != tlbGen) {
    tlbGen = gen;
    invalidateFetch();
  }
}

/** Forget every translation, of every context. */
export function tlbFlushAll(): void {
  epoch++;
  superCount = 0;
  tlbFlushes++;
  tlbSelectContext(); // a new generation, so the fetch path forgets its page too
}

/** Forget V=1 translations (vsstatus.MXR changed; HFENCE.VVMA/GVMA; a guest's fences). */
export function tlbFlushVirt(): void {
  virtEpoch++;
  tlbFlushes++;
  if (regimeVirt) tlbSelectContext();
}

/**
 * SFENCE.VMA x0, rs2 (4.2.1): forget the translations of address space `asid`, at V=0 or
 * (a guest's fence) at V=1 for the guest's current VMID.
 */
export function tlbFlushAsid(v: bool, asid: u64): void {
  const key = ctxKeyOf(v, asid & 0xffff);
  const i = ctxSlot(key);
  if (unchecked(ctxKey[i]) == key) unchecked(ctxKey[i] = 0);
  tlbFlushes++;
  tlbSelectContext(); // the current context, if it was this one, starts afresh
}

/**
 * SFENCE.VMA with rs1 != x0 (4.2.1): forget the translations of the page of `va` in every
 * view and every context (for an SFENCE.VMA naming one ASID this over-flushes, as allowed).
 * If a cached superpage covers `va`, its other pages sit at other indexes: flush all.
 */
export function tlbFlushPage(va: u64): void {
  if (superCount > SUPER_MAX) {
    tlbFlushAll();
    return;
  }
  for (let k: u32 = 0; k < superCount; k++) {
    if (va >> unchecked(superShift[k]) == unchecked(superVpn[k])) {
      tlbFlushAll();
      return;
    }
  }
  // every context's entry for the page (its slot is the same in each)
  const vpn = (va >> 12) & VPN_MASK;
  for (let v: u32 = 0; v < TLB_VIEWS * 3; v++) {
    const e = tlbSlot(TLB_BASE + v * TLB_ENTRIES * 16, va);
    if ((load<u64>(e) & VPN_MASK) == vpn) store<u64>(e, 0);
  }
  invalidateFetch();
  tlbFlushes++;
}

@inline export function tlbSlot(base: u32, va: u64): u32 {
  return base + ((<u32>(va >> 12) & (TLB_ENTRIES - 1)) << 4);
}

/** Enter a translation into the TLB of the current view for `access`. */
export function tlbInsert(access: u32, va: u64, hostPage: u32): void {
  const base = access == ACCESS_EXEC ? tlbExec : access == 0 ? tlbRead : tlbWrite;
  const e = tlbSlot(base, va);
  store<u64>(e, tlbTag(va));
  store<u64>(e, <u64>hostPage - (va & ~<u64>0xfff), 8);
}

/** Remove every writable mapping of a host page (it now holds decoded code: stores must see it). */
export function tlbDropWritable(hostPage: u32): void {
  for (let v: u32 = 0; v < 4; v++) {
    let e = TLB_BASE + v * VIEW_BYTES + TLB_ENTRIES * 16;
    for (let i: u32 = 0; i < TLB_ENTRIES; i++, e += 16) {
      const tag = load<u64>(e);
      // of any context: another address space may be selected again
      if (tag != 0 && <u32>(load<u64>(e, 8) + ((tag & VPN_MASK) << 12)) == hostPage) store<u64>(e, 0);
    }
  }
}

@inline export function countTlbHit(): void {
  tlbHits++;
}
@inline export function countTlbMiss(): void {
  tlbMisses++;
}
