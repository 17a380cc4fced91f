// Physical memory protection (privileged spec 3.7): 16 entries, pmpcfg0/pmpcfg2 on RV64.
import { csrRaw, PRV_M, ACCESS_READ, ACCESS_WRITE } from '../hart/state';
import { CSR_PMPCFG0, CSR_PMPADDR0 } from '../hart/opcodes.gen';

export const PMP_ENTRIES: u32 = 16;
export const PMP_R: u32 = 1;
export const PMP_W: u32 = 2;
export const PMP_X: u32 = 4;
export const PMP_A: u32 = 3 << 3;
export const PMP_L: u32 = 0x80;
const A_OFF: u32 = 0;
const A_TOR: u32 = 1;
const A_NA4: u32 = 2;
const A_NAPOT: u32 = 3;

/** Number of entries whose A field is not OFF (0 means no PMP rule is in force). */
export let pmpActive: u32 = 0;

export function pmpCfg(i: u32): u32 {
  // pmpcfg0 holds entries 0..7, pmpcfg2 entries 8..15 (RV64: odd pmpcfg do not exist)
  return <u32>(csrRaw(CSR_PMPCFG0 + ((i >> 3) << 1)) >> ((i & 7) << 3)) & 0xff;
}

/** Is entry i's address register locked (its own L bit, or the next entry's L with TOR)? */
export function pmpAddrLocked(i: u32): bool {
  if ((pmpCfg(i) & PMP_L) != 0) return true;
  if (i + 1 < PMP_ENTRIES) {
    const n = pmpCfg(i + 1);
    return (n & PMP_L) != 0 && ((n & PMP_A) >> 3) == A_TOR;
  }
  return false;
}

export function pmpRecount(): void {
  let n: u32 = 0;
  for (let i: u32 = 0; i < PMP_ENTRIES; i++) if ((pmpCfg(i) & PMP_A) != 0) n++;
  pmpActive = n;
}

// Bounds of entry i as [lo, hi) byte addresses; computed by pmpRange.
let rangeLo: u64 = 0;
let rangeHi: u64 = 0;

function pmpRange(i: u32): bool {
  const cfg = pmpCfg(i);
  const a = (cfg & PMP_A) >> 3;
  const addr = csrRaw(CSR_PMPADDR0 + i);
  if (a == A_OFF) return false;
  if (a == A_TOR) {
    rangeLo = i == 0 ? 0 : csrRaw(CSR_PMPADDR0 + i - 1) << 2;
    rangeHi = addr << 2;
    // pmpaddr[i-1] >= pmpaddr[i]: the entry matches no address (3.7.1)
    if (rangeLo >= rangeHi) return false;
  } else if (a == A_NA4) {
    rangeLo = addr << 2;
    rangeHi = rangeLo + 4;
  } else {
    // NAPOT: the count of trailing ones gives the size, 2^(t+3) bytes
    const t = ctz<u64>(~addr);
    if (t >= 54) {
      rangeLo = 0;
      rangeHi = 0xffff_ffff_ffff_ffff;
    } else {
      rangeLo = (addr & ~((<u64>1 << t) - 1)) << 2;
      rangeHi = rangeLo + (<u64>1 << (t + 3));
    }
  }
  return true;
}

function permits(cfg: u32, access: u32, p: u32): bool {
  if (p == PRV_M && (cfg & PMP_L) == 0) return true;
  const need = access == ACCESS_READ ? PMP_R : access == ACCESS_WRITE ? PMP_W : PMP_X;
  return (cfg & need) != 0;
}

/**
 * May privilege `p` make an access of `size` bytes at `addr`? The lowest-numbered entry
 * that matches any byte decides, and must match all of them (3.7.1.3).
 */
export function pmpCheck(addr: u64, size: u64, access: u32, p: u32): bool {
  if (pmpActive == 0) return p == PRV_M;
  const last = addr + size - 1;
  for (let i: u32 = 0; i < PMP_ENTRIES; i++) {
    if (!pmpRange(i)) continue;
    const hitLo = addr >= rangeLo && addr < rangeHi;
    const hitHi = last >= rangeLo && last < rangeHi;
    const spans = addr < rangeLo && last >= rangeHi;
    if (!hitLo && !hitHi && !spans) continue;
    if (!(hitLo && hitHi)) return false;
    return permits(pmpCfg(i), access, p);
  }
  return p == PRV_M;
}

/** Does every byte of the 4 KiB page at `page` get the same PMP outcome (so it may be cached)? */
export function pmpPageUniform(page: u64): bool {
  if (pmpActive == 0) return true;
  const last = page + 4095;
  for (let i: u32 = 0; i < PMP_ENTRIES; i++) {
    if (!pmpRange(i)) continue;
    if (rangeHi <= page || rangeLo > last) continue;
    return rangeLo <= page && rangeHi > last;
  }
  return true;
}
