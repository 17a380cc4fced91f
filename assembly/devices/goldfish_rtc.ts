// Goldfish RTC (QEMU virt: 0x0010_1000, IRQ 11), Android goldfish "goldfish-rtc" device:
// nanoseconds since the Unix epoch. Reading TIME_LOW latches TIME_HIGH. The clock is the
// host's time at power-on plus mtime (so it advances with the guest's own time base).
import { mtime } from './clint';

export const RTC_BASE: u64 = 0x0010_1000;
export const RTC_SIZE: u64 = 0x1000;
export const RTC_IRQ: u32 = 11;

// registers (QEMU hw/rtc/goldfish_rtc.c)
const TIME_LOW: u32 = 0x00;
const TIME_HIGH: u32 = 0x04;
const ALARM_LOW: u32 = 0x08;
const ALARM_HIGH: u32 = 0x0c;
const IRQ_ENABLED: u32 = 0x10;
const CLEAR_ALARM: u32 = 0x14;
const ALARM_STATUS: u32 = 0x18;
const CLEAR_INTERRUPT: u32 = 0x1c;

/** Nanoseconds per mtime tick (the 10 MHz time base). */
const NS_PER_TICK: u64 = 100;

let epochNs: u64 = 0; // RTC value at mtime 0
let latchedHigh: u32 = 0;
let alarmNs: u64 = 0;
let alarmArmed: bool = false;
let irqEnabled: bool = false;
let irqPending: bool = false;

function now(): u64 {
  return epochNs + mtime() * NS_PER_TICK;
}

/** Set the wall-clock time (ns since the epoch) that mtime 0 corresponds to. */
export function rtcSetEpoch(ns: u64): void {
  epochNs = ns;
}

/** The RTC's interrupt line: the alarm fired and is enabled. Polled by the PLIC sync. */
export function rtcIrq(): bool {
  if (alarmArmed && now() >= alarmNs) {
    alarmArmed = false;
    irqPending = true;
  }
  return irqPending && irqEnabled;
}

export function rtcRead(off: u32): u64 {
  switch (off) {
    case TIME_LOW: {
      const t = now();
      latchedHigh = <u32>(t >> 32);
      return <u32>t;
    }
    case TIME_HIGH: return latchedHigh;
    case ALARM_LOW: return <u32>alarmNs;
    case ALARM_HIGH: return <u32>(alarmNs >> 32);
    case IRQ_ENABLED: return irqEnabled ? 1 : 0;
    case ALARM_STATUS: return alarmArmed ? 1 : 0;
  }
  return 0;
}

export function rtcWrite(off: u32, v: u32): void {
  switch (off) {
    case TIME_LOW: {
      // setting the time moves the epoch so that now() reads the new value
      const t = (<u64>latchedHigh << 32) | v;
      epochNs = t - mtime() * NS_PER_TICK;
      break;
    }
    case TIME_HIGH: latchedHigh = v; break;
    case ALARM_LOW:
      // writing the low half arms the alarm
      alarmNs = (alarmNs & 0xffff_ffff_0000_0000) | v;
      alarmArmed = true;
      break;
    case ALARM_HIGH: alarmNs = (alarmNs & 0xffff_ffff) | (<u64>v << 32); break;
    case IRQ_ENABLED: irqEnabled = (v & 1) != 0; break;
    case CLEAR_ALARM: alarmArmed = false; break;
    case CLEAR_INTERRUPT: irqPending = false; break;
  }
}

export function resetRtc(): void {
  latchedHigh = 0;
  alarmNs = 0;
  alarmArmed = false;
  irqEnabled = false;
  irqPending = false;
}
