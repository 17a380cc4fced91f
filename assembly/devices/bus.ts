// The physical address map outside RAM (QEMU virt board), dispatching to device models.
// An address no device claims is an access fault for the hart (busOk = false).
import { CLINT_BASE, CLINT_SIZE, clintRead, clintWrite } from './clint';
import { UART_BASE, UART_SIZE, uartRead, uartWrite } from './uart';
import { TEST_BASE, TEST_SIZE, testWrite } from './sifive_test';
import { requestStop } from '../hart/counters';

export let busOk: bool = true;
export let mmioReads: u64 = 0;
export let mmioWrites: u64 = 0;

@inline function within(pa: u64, base: u64, size: u64): bool {
  return pa - base < size;
}

export function busRead(pa: u64, size: u32): u64 {
  busOk = true;
  mmioReads++;
  if (within(pa, UART_BASE, UART_SIZE)) return uartRead(<u32>(pa - UART_BASE));
  if (within(pa, CLINT_BASE, CLINT_SIZE)) return clintRead(<u32>(pa - CLINT_BASE), size);
  if (within(pa, TEST_BASE, TEST_SIZE)) return 0;
  busOk = false;
  return 0;
}

export function busWrite(pa: u64, size: u32, v: u64): void {
  busOk = true;
  mmioWrites++;
  if (within(pa, UART_BASE, UART_SIZE)) {
    uartWrite(<u32>(pa - UART_BASE), <u8>v);
  } else if (within(pa, CLINT_BASE, CLINT_SIZE)) {
    clintWrite(<u32>(pa - CLINT_BASE), size, v);
  } else if (within(pa, TEST_BASE, TEST_SIZE)) {
    testWrite(<u32>(pa - TEST_BASE), v);
  } else {
    busOk = false;
    return;
  }
  // a device write may raise or clear an interrupt: re-check before the next instruction
  requestStop();
}
