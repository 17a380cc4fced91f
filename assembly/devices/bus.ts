// The physical address map outside RAM (QEMU virt board), dispatching to device models.
// An address no device claims is an access fault for the hart (busOk = false).
import { CLINT_BASE, CLINT_SIZE, clintRead, clintWrite } from './clint';
import { UART_BASE, UART_SIZE, UART_IRQ, uartRead, uartWrite, uartIrq } from './uart';
import { TEST_BASE, TEST_SIZE, testWrite } from './sifive_test';
import { PLIC_BASE, PLIC_SIZE, plicRead, plicWrite, plicSetLevel } from './plic';
import { RTC_BASE, RTC_SIZE, RTC_IRQ, rtcRead, rtcWrite, rtcIrq } from './goldfish_rtc';
import { hostWindowAt, hostRead, hostWrite } from './hostdev';
import { requestStop } from '../hart/counters';

export let busOk: bool = true;
export let mmioReads: u64 = 0;
export let mmioWrites: u64 = 0;

@inline function within(pa: u64, base: u64, size: u64): bool {
  return pa - base < size;
}

/** Bring the PLIC's inputs from core-modelled devices up to date (host devices set theirs). */
export function syncDeviceIrqs(): void {
  plicSetLevel(UART_IRQ, uartIrq());
  plicSetLevel(RTC_IRQ, rtcIrq());
}

export function busRead(pa: u64, size: u32): u64 {
  busOk = true;
  mmioReads++;
  let v: u64 = 0;
  if (within(pa, UART_BASE, UART_SIZE)) v = uartRead(<u32>(pa - UART_BASE));
  else if (within(pa, CLINT_BASE, CLINT_SIZE)) return clintRead(<u32>(pa - CLINT_BASE), size);
  else if (within(pa, PLIC_BASE, PLIC_SIZE)) return plicRead(<u32>(pa - PLIC_BASE));
  else if (within(pa, RTC_BASE, RTC_SIZE)) v = rtcRead(<u32>(pa - RTC_BASE));
  else if (within(pa, TEST_BASE, TEST_SIZE)) return 0;
  else {
    const w = hostWindowAt(pa);
    if (w >= 0) return hostRead(<u32>w, pa, size);
    busOk = false;
    return 0;
  }
  // reading the UART (RX, IIR) or RTC can change their interrupt lines
  syncDeviceIrqs();
  return v;
}

export function busWrite(pa: u64, size: u32, v: u64): void {
  busOk = true;
  mmioWrites++;
  if (within(pa, UART_BASE, UART_SIZE)) {
    uartWrite(<u32>(pa - UART_BASE), <u8>v);
    syncDeviceIrqs();
  } else if (within(pa, CLINT_BASE, CLINT_SIZE)) {
    clintWrite(<u32>(pa - CLINT_BASE), size, v);
  } else if (within(pa, PLIC_BASE, PLIC_SIZE)) {
    plicWrite(<u32>(pa - PLIC_BASE), <u32>v);
  } else if (within(pa, RTC_BASE, RTC_SIZE)) {
    rtcWrite(<u32>(pa - RTC_BASE), <u32>v);
    syncDeviceIrqs();
  } else if (within(pa, TEST_BASE, TEST_SIZE)) {
    testWrite(<u32>(pa - TEST_BASE), v);
  } else {
    const w = hostWindowAt(pa);
    if (w < 0) {
      busOk = false;
      return;
    }
    hostWrite(<u32>w, pa, size, v);
  }
  // a device write may raise or clear an interrupt: re-check before the next instruction
  requestStop();
}
