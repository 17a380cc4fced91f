// Devices modelled by the host (virtio-mmio transports, in TypeScript). Each has a register
// window in linear memory (HOSTDEV_BASE + slot * HOSTDEV_WINDOW) that the host keeps
// current: the hart's loads read it directly, without leaving the core. Stores are posted:
// they are queued at MMIO_QUEUE and run() returns EXIT_MMIO after the storing instruction,
// so the host applies them before the guest executes anything else (as a KVM_EXIT_MMIO
// write does). Reads therefore never exit; registers whose reads have side effects cannot
// be host devices (the UART, PLIC, CLINT and RTC are modelled in the core).
import {
  HOSTDEV_BASE, HOSTDEV_SLOTS, HOSTDEV_WINDOW, MMIO_QUEUE, MMIO_QUEUE_ENTRIES, MMIO_ENTRY_SIZE, EXIT_MMIO,
} from '../memmap';
import { requestExit } from '../exit';

const windowPa = new StaticArray<u64>(HOSTDEV_SLOTS);
const windowSize = new StaticArray<u64>(HOSTDEV_SLOTS);

export let mmioExits: u64 = 0;
export let mmioDropped: u64 = 0;

/** Map host window `slot` at guest physical [pa, pa+size) (size 0 unmaps). */
export function mapHostWindow(slot: u32, pa: u64, size: u64): bool {
  if (slot >= HOSTDEV_SLOTS || size > HOSTDEV_WINDOW) return false;
  windowPa[slot] = pa;
  windowSize[slot] = size;
  return true;
}

/** The window slot claiming `pa`, or -1. */
export function hostWindowAt(pa: u64): i32 {
  for (let i: u32 = 0; i < HOSTDEV_SLOTS; i++) {
    if (pa - windowPa[i] < windowSize[i]) return i;
  }
  return -1;
}

export function hostRead(slot: u32, pa: u64, size: u32): u64 {
  const off = <u32>(pa - windowPa[slot]);
  if (off + size > <u32>windowSize[slot]) return 0;
  const a = HOSTDEV_BASE + slot * HOSTDEV_WINDOW + off;
  if (size == 8) return load<u64>(a);
  if (size == 4) return load<u32>(a);
  if (size == 2) return load<u16>(a);
  return load<u8>(a);
}

/**
 * Queue a store for the host: entry = pa u64, value u64, size u32, slot u32.
 * MMIO_QUEUE holds the count (u32) followed by the entries.
 */
export function hostWrite(slot: u32, pa: u64, size: u32, v: u64): void {
  const n = load<u32>(MMIO_QUEUE);
  if (n >= MMIO_QUEUE_ENTRIES) {
    mmioDropped++;
  } else {
    const e = MMIO_QUEUE + 8 + n * MMIO_ENTRY_SIZE;
    store<u64>(e, pa);
    store<u64>(e, v, 8);
    store<u32>(e, size, 16);
    store<u32>(e, slot, 20);
    store<u32>(MMIO_QUEUE, n + 1);
  }
  if (n == 0) mmioExits++;
  requestExit(EXIT_MMIO, 0);
}

export function resetHostWindows(): void {
  store<u32>(MMIO_QUEUE, 0);
  mmioExits = 0;
  mmioDropped = 0;
}
