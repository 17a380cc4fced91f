// The host's SBI implementation (RISC-V SBI spec v2.0): with no firmware in M-mode, an ECALL
// from S-mode is answered here, in the core, and never becomes a trap. Extensions: BASE, TIME,
// IPI, RFENCE, HSM, SRST, DBCN and the legacy calls (chapters 4-10, 12, 5 "Legacy").
// One hart (hartid 0). The S-mode timer is driven directly: sbiTimecmp sets mip.STIP.
import { getX, setX, csrRaw, csrRawSet, setPriv, PRV_S, MIP_SSIP, MIP_VSSIP, MSTATUS_MPP, MIP_VS_ALL } from './hart/state';
import { hExt } from './hart/csr';
import {
  CSR_MEDELEG, CSR_MIDELEG, CSR_MCOUNTEREN, CSR_PMPCFG0, CSR_PMPADDR0, CSR_MSTATUS, CSR_MIP,
  CSR_MVENDORID, CSR_MARCHID, CSR_MIMPID, CSR_VSTIMECMP, CSR_HVIP,
} from './hart/opcodes.gen';
import { pmpRecount } from './mmu/pmp';
import { tlbFlushAll, tlbFlushVirt, updateViews } from './mmu/tlb';
import { isRam, ramHost } from './mmu/walk';
import { ringPush, ringPop, ringUsed } from './devices/ring';
import { requestStop } from './hart/counters';
import { fvSetSoftIrq, fvRemoteFence } from './vmm/full';
import { requestExit } from './exit';
import { UART_TX_RING, UART_RX_RING, RING_SIZE, EXIT_CONSOLE, EXIT_POWEROFF, EXIT_RESET, PC_ADDR } from './memmap';

/** Answer S-mode ECALLs here (no firmware) instead of trapping to M-mode. */
export let sbiHost: bool = false;
/** The S-mode timer compare value set by sbi_set_timer (SBI 6.1). */
export let sbiTimecmp: u64 = 0xffff_ffff_ffff_ffff;
export let sbiCalls: u64 = 0;

// extension ids (SBI spec chapters 3-10)
const EXT_LEGACY_MAX: u64 = 0x0f;
const EXT_BASE: u64 = 0x10;
const EXT_TIME: u64 = 0x5449_4d45;
const EXT_IPI: u64 = 0x73_5049;
const EXT_RFENCE: u64 = 0x5246_4e43;
const EXT_HSM: u64 = 0x48_534d;
const EXT_SRST: u64 = 0x5352_5354;
const EXT_DBCN: u64 = 0x4442_434e;

// legacy extension ids (SBI 5): the eid is the function
const LEGACY_SET_TIMER: u64 = 0;
const LEGACY_PUTCHAR: u64 = 1;
const LEGACY_GETCHAR: u64 = 2;
const LEGACY_CLEAR_IPI: u64 = 3;
const LEGACY_SEND_IPI: u64 = 4;
const LEGACY_REMOTE_FENCE_I: u64 = 5;
const LEGACY_REMOTE_SFENCE_VMA: u64 = 6;
const LEGACY_REMOTE_SFENCE_VMA_ASID: u64 = 7;
const LEGACY_SHUTDOWN: u64 = 8;

// error codes (SBI 3.2)
const SBI_SUCCESS: i64 = 0;
const SBI_ERR_FAILED: i64 = -1;
const SBI_ERR_NOT_SUPPORTED: i64 = -2;
const SBI_ERR_INVALID_PARAM: i64 = -3;
const SBI_ERR_ALREADY_AVAILABLE: i64 = -6;

const SPEC_VERSION: u64 = 2 << 24; // v2.0
/** Implementation id: not one registered in SBI 4.9; "wv". */
export const SBI_IMPL_ID: u64 = 0x7776;
const IMPL_VERSION: u64 = 1;

const HSM_STARTED: u64 = 0;
const SRST_SHUTDOWN: u64 = 0;
const SRST_COLD_REBOOT: u64 = 1;
const SRST_WARM_REBOOT: u64 = 2;

const A0: u32 = 10, A1: u32 = 11, A2: u32 = 12, A6: u32 = 16, A7: u32 = 17;

let err: i64 = 0;

// Who is calling. The host's own S-mode kernel (native); the hw-assist VMM's guest in
// VS-mode (vmm/hwassist.ts), whose calls are answered as KVM answers its guests': its timer is
// vstimecmp (Sstc for VS-mode drives VSTIP), its IPI is hvip.VSSIP, its fences concern its own
// translations; or the full-virtualization VMM's guest (vmm/full.ts), deprivileged in U-mode:
// its timer is the S-timer the VMM forwards, its IPI and fences are the VMM's to emulate.
// A guest's buffers must lie in its own RAM.
const CALLER_HOST: u32 = 0;
const CALLER_VS: u32 = 1;
const CALLER_FULL: u32 = 2;
let caller: u32 = CALLER_HOST;
let guestRamEnd: u64 = 0;
/** Answer the SBI call of a VS-mode guest whose RAM ends at physical `ramEnd`. */
export function sbiGuestCall(ramEnd: u64): void {
  caller = CALLER_VS;
  guestRamEnd = ramEnd;
  sbiCall();
  caller = CALLER_HOST;
}
/** Answer the SBI call of the full-virtualization VMM's guest, whose RAM ends at `ramEnd`. */
export function sbiFullGuestCall(ramEnd: u64): void {
  caller = CALLER_FULL;
  guestRamEnd = ramEnd;
  sbiCall();
  caller = CALLER_HOST;
}

/** Does the hart mask (SBI 3.3) include hart 0, and only harts that exist? */
function maskValid(mask: u64, base: u64): bool {
  if (base == 0xffff_ffff_ffff_ffff) return true; // all harts
  return base == 0 && mask == 1;
}

function setTimer(t: u64): void {
  if (caller == CALLER_VS) csrRawSet(CSR_VSTIMECMP, t);
  else sbiTimecmp = t;
  requestStop(); // the run loop recomputes mip.STIP (VSTIP) and its chunk bound
}

/** The S-mode timer compare value, for a VMM that programs it for its guest (vmm/). */
export function sbiSetTimecmp(t: u64): void {
  setTimer(t);
}

/** The host is the firmware: its S-timer drives mip.STIP (hart/trap.ts). */
export function sbiEnableHost(): void {
  sbiHost = true;
  sbiTimecmp = 0xffff_ffff_ffff_ffff;
}

function sendIpi(): void {
  if (caller == CALLER_FULL) fvSetSoftIrq(true);
  else if (caller == CALLER_VS) csrRawSet(CSR_HVIP, csrRaw(CSR_HVIP) | MIP_VSSIP);
  else csrRawSet(CSR_MIP, csrRaw(CSR_MIP) | MIP_SSIP);
  requestStop();
}
function clearIpi(): void {
  if (caller == CALLER_FULL) fvSetSoftIrq(false);
  else if (caller == CALLER_VS) csrRawSet(CSR_HVIP, csrRaw(CSR_HVIP) & ~MIP_VSSIP);
  else csrRawSet(CSR_MIP, csrRaw(CSR_MIP) & ~MIP_SSIP);
}
/** The guest's remote SFENCE.VMA: with the guest's (V=1) translations, or the caller's own. */
function fenceVma(): void {
  if (caller == CALLER_FULL) fvRemoteFence();
  else if (caller == CALLER_VS) tlbFlushVirt();
  else tlbFlushAll();
}

function putchar(b: u8): bool {
  if (!ringPush(UART_TX_RING, b)) return false;
  if (ringUsed(UART_TX_RING) >= (RING_SIZE >> 1)) requestExit(EXIT_CONSOLE, 0);
  return true;
}

/** Write RAM [pa, pa+n) to the console; the bytes taken (fewer when the ring is full). */
export function consoleWrite(pa: u64, n: u64): u64 {
  const h = ramHost(pa);
  let done: u64 = 0;
  while (done < n && putchar(load<u8>(h + <u32>done))) done++;
  return done;
}

/** DBCN write/read (SBI 12): physical buffer [lo | hi << 32, +n) in RAM. */
function dbcn(fid: u64, n: u64, lo: u64, hi: u64): u64 {
  const pa = lo | (hi << 32);
  // [pa, pa+n) in RAM, and in the guest's own for a guest; an n that wraps around is no buffer
  const end = pa + n;
  if (n != 0 && (!isRam(pa) || end < pa || !isRam(end - 1) || (caller != CALLER_HOST && end > guestRamEnd))) { err = SBI_ERR_INVALID_PARAM; return 0; }
  if (fid == 0) return consoleWrite(pa, n);
  const h = ramHost(pa);
  let done: u64 = 0;
  {
    for (; done < n; done++) {
      const b = ringPop(UART_RX_RING);
      if (b < 0) break;
      store<u8>(h + <u32>done, <u8>b);
    }
  }
  return done;
}

function probe(eid: u64): u64 {
  if (eid <= LEGACY_SHUTDOWN) return 1;
  return eid == EXT_BASE || eid == EXT_TIME || eid == EXT_IPI || eid == EXT_RFENCE ||
    eid == EXT_HSM || eid == EXT_SRST || eid == EXT_DBCN ? 1 : 0;
}

function shutdown(type: u64, reason: u64): void {
  if (type == SRST_SHUTDOWN) requestExit(EXIT_POWEROFF, reason == 0 ? 0 : 1);
  else if (type == SRST_COLD_REBOOT || type == SRST_WARM_REBOOT) requestExit(EXIT_RESET, 0);
  else err = SBI_ERR_INVALID_PARAM;
}

/** Execute the SBI call in a7/a6/a0..a5; sets a0 (error) and a1 (value), as SBI 3.1 says. */
export function sbiCall(): void {
  sbiCalls++;
  const eid = getX(A7), fid = getX(A6);
  const a0 = getX(A0), a1 = getX(A1), a2 = getX(A2);
  err = SBI_SUCCESS;
  let value: u64 = 0;
  if (eid <= EXT_LEGACY_MAX) {
    // legacy calls (SBI 5) return their value in a0 only
    let ret: i64 = 0;
    switch (<u32>eid) {
      case <u32>LEGACY_SET_TIMER: setTimer(a0); break;
      case <u32>LEGACY_PUTCHAR: putchar(<u8>a0); break;
      case <u32>LEGACY_GETCHAR: ret = ringPop(UART_RX_RING); break;
      case <u32>LEGACY_CLEAR_IPI: clearIpi(); break;
      case <u32>LEGACY_SEND_IPI: sendIpi(); break;
      case <u32>LEGACY_REMOTE_FENCE_I: break;
      case <u32>LEGACY_REMOTE_SFENCE_VMA: case <u32>LEGACY_REMOTE_SFENCE_VMA_ASID: fenceVma(); break;
      case <u32>LEGACY_SHUTDOWN: shutdown(SRST_SHUTDOWN, 0); break;
      default: ret = SBI_ERR_NOT_SUPPORTED;
    }
    setX(A0, <u64>ret);
    return;
  }
  if (eid == EXT_BASE) {
    switch (<u32>fid) {
      case 0: value = SPEC_VERSION; break;
      case 1: value = SBI_IMPL_ID; break;
      case 2: value = IMPL_VERSION; break;
      case 3: value = probe(a0); break;
      case 4: value = csrRaw(CSR_MVENDORID); break;
      case 5: value = csrRaw(CSR_MARCHID); break;
      case 6: value = csrRaw(CSR_MIMPID); break;
      default: err = SBI_ERR_NOT_SUPPORTED;
    }
  } else if (eid == EXT_TIME) {
    if (fid == 0) setTimer(a0);
    else err = SBI_ERR_NOT_SUPPORTED;
  } else if (eid == EXT_IPI) {
    if (fid != 0) err = SBI_ERR_NOT_SUPPORTED;
    else if (!maskValid(a0, a1)) err = SBI_ERR_INVALID_PARAM;
    else sendIpi();
  } else if (eid == EXT_RFENCE) {
    // 0 remote_fence_i (decoded code is kept coherent with stores already), 1-2 sfence.vma;
    // 3-6 the H-extension fences (hfence.gvma/vvma), for a hypervisor in HS-mode only
    if (fid > 6 || (fid > 2 && (!hExt || caller != CALLER_HOST))) err = SBI_ERR_NOT_SUPPORTED;
    else if (!maskValid(a0, a1)) err = SBI_ERR_INVALID_PARAM;
    else if (fid > 2) tlbFlushVirt();
    else if (fid != 0) fenceVma();
  } else if (eid == EXT_HSM) {
    switch (<u32>fid) {
      case 0: err = a0 == 0 ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM; break; // hart_start
      case 1: err = SBI_ERR_FAILED; break; // hart_stop: the only hart cannot stop
      case 2: if (a0 == 0) value = HSM_STARTED; else err = SBI_ERR_INVALID_PARAM; break;
      default: err = SBI_ERR_NOT_SUPPORTED; // hart_suspend: no suspend states
    }
  } else if (eid == EXT_SRST) {
    if (fid == 0 && a0 <= 0xffff_ffff && a1 <= 0xffff_ffff) shutdown(a0, a1);
    else err = fid == 0 ? SBI_ERR_INVALID_PARAM : SBI_ERR_NOT_SUPPORTED;
  } else if (eid == EXT_DBCN) {
    if (fid <= 1) value = dbcn(fid, a0, a1, a2);
    else if (fid == 2) putchar(<u8>a0);
    else err = SBI_ERR_NOT_SUPPORTED;
  } else {
    err = SBI_ERR_NOT_SUPPORTED;
  }
  setX(A0, <u64>err);
  if (err == SBI_SUCCESS) setX(A1, value);
}

/**
 * Boot the hart as SBI firmware would leave it (SBI 4.x "Boot"; Linux boot protocol for
 * RISC-V): S-mode at `entry`, a0 = hartid, a1 = the device tree's physical address, traps and
 * interrupts S-mode handles delegated, counters readable, PMP open.
 */
export function sbiBoot(entry: u64, dtb: u64): void {
  sbiEnableHost();
  // every exception S-mode can handle (not the ECALLs from S/M, which are ours: table 3.6);
  // with H also the VS-mode ECALL, guest-page faults and virtual instructions (as OpenSBI),
  // and mideleg's VS-level bits are read-only one
  csrRawSet(CSR_MEDELEG, 0xb1ff | (hExt ? (1 << 10) | (0xf << 20) : 0));
  csrRawSet(CSR_MIDELEG, (1 << 1) | (1 << 5) | (1 << 9) | (hExt ? MIP_VS_ALL : 0));
  csrRawSet(CSR_MCOUNTEREN, 7); // cycle, time, instret
  // one NAPOT region over all of memory, RWX (3.7.1)
  csrRawSet(CSR_PMPADDR0, 0x003f_ffff_ffff_ffff);
  csrRawSet(CSR_PMPCFG0, 0x1f);
  pmpRecount();
  csrRawSet(CSR_MSTATUS, csrRaw(CSR_MSTATUS) & ~MSTATUS_MPP);
  setPriv(PRV_S);
  updateViews();
  tlbFlushAll();
  setX(A0, 0);
  setX(A1, dtb);
  store<u64>(PC_ADDR, entry);
}

export function resetSbi(): void {
  sbiHost = false;
  sbiTimecmp = 0xffff_ffff_ffff_ffff;
  sbiCalls = 0;
}
