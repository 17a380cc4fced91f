// What the paravirt and full VMMs share: a guest kernel run deprivileged, in the hart's U-mode,
// under a VMM that is host code and takes every trap (hart/trap.ts sends them to it).
import { csrRawSet, setPriv, PRV_U } from '../hart/state';
import { CSR_MEDELEG, CSR_MIDELEG, CSR_MCOUNTEREN, CSR_PMPADDR0, CSR_PMPCFG0 } from '../hart/opcodes.gen';
import { pmpRecount } from '../mmu/pmp';
import { updateViews } from '../mmu/tlb';
import { ramSize } from '../mmu/ram';
import { RAM_PHYS } from '../memmap';

/**
 * Put the hart in U-mode with nothing delegated (every trap and interrupt is the VMM's), the
 * counters cycle, time and instret readable (3.1.11), and PMP (3.7) as a second wall: U-mode
 * reaches guest RAM [RAM_PHYS, guestEnd) only; the page walker may read the VMM's RAM above it
 * (its page tables); nothing else, devices included.
 */
export function deprivilege(guestEnd: u64): void {
  csrRawSet(CSR_MEDELEG, 0);
  csrRawSet(CSR_MIDELEG, 0);
  csrRawSet(CSR_MCOUNTEREN, 7);
  csrRawSet(CSR_PMPADDR0, RAM_PHYS >> 2);
  csrRawSet(CSR_PMPADDR0 + 1, guestEnd >> 2);
  csrRawSet(CSR_PMPADDR0 + 2, (RAM_PHYS + ramSize) >> 2);
  csrRawSet(CSR_PMPCFG0, (<u64>(0x08 | 7) << 8) | (<u64>(0x08 | 1) << 16)); // TOR RWX, TOR R
  pmpRecount();
  setPriv(PRV_U);
  updateViews();
}
