// ns16550a UART (QEMU virt: 0x1000_0000, IRQ 10; reg-shift 0). Transmit is instantaneous:
// bytes go to the TX ring the host drains; received bytes come from the RX ring.
// Registers as in the 8250/16550 data sheet and Linux's 8250 driver.
import { UART_TX_RING, UART_RX_RING, RING_SIZE, EXIT_CONSOLE } from '../memmap';
import { ringPush, ringPop, ringUsed } from './ring';
import { requestExit } from '../exit';

export const UART_BASE: u64 = 0x1000_0000;
export const UART_SIZE: u64 = 0x100;
export const UART_IRQ: u32 = 10;

const LSR_DR: u8 = 0x01;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
const IER_ERBFI: u8 = 0x01; // receive data available
const IER_ETBEI: u8 = 0x02; // transmit holding register empty
const LCR_DLAB: u8 = 0x80;
const IIR_NONE: u8 = 0x01;
const IIR_THRE: u8 = 0x02;
const IIR_RDA: u8 = 0x04;
const IIR_FIFO: u8 = 0xc0;

let ier: u8 = 0;
let lcr: u8 = 0;
let mcr: u8 = 0;
let scr: u8 = 0;
let fcr: u8 = 0;
let dll: u8 = 0;
let dlm: u8 = 0;
let thrIntPending: bool = false;

@inline function rxReady(): bool {
  return ringUsed(UART_RX_RING) != 0;
}

/** The UART's interrupt line (to the PLIC). */
export function uartIrq(): bool {
  return ((ier & IER_ERBFI) != 0 && rxReady()) || ((ier & IER_ETBEI) != 0 && thrIntPending);
}

function iir(): u8 {
  const fifo = (fcr & 1) != 0 ? IIR_FIFO : 0;
  if ((ier & IER_ERBFI) != 0 && rxReady()) return IIR_RDA | fifo;
  if ((ier & IER_ETBEI) != 0 && thrIntPending) {
    thrIntPending = false; // reading IIR clears the THRE interrupt
    return IIR_THRE | fifo;
  }
  return IIR_NONE | fifo;
}

export function uartRead(off: u32): u64 {
  const dlab = (lcr & LCR_DLAB) != 0;
  switch (off) {
    case 0: {
      if (dlab) return dll;
      const b = ringPop(UART_RX_RING);
      return b < 0 ? 0 : <u64>b;
    }
    case 1: return dlab ? dlm : ier;
    case 2: return iir();
    case 3: return lcr;
    case 4: return mcr;
    case 5: return LSR_THRE | LSR_TEMT | (rxReady() ? LSR_DR : 0);
    case 6: return 0xb0; // DCD, DSR, CTS
    case 7: return scr;
  }
  return 0;
}

export function uartWrite(off: u32, v: u8): void {
  const dlab = (lcr & LCR_DLAB) != 0;
  switch (off) {
    case 0:
      if (dlab) { dll = v; break; }
      ringPush(UART_TX_RING, v);
      thrIntPending = true;
      // let the host drain well before the ring fills
      if (ringUsed(UART_TX_RING) >= (RING_SIZE >> 1)) requestExit(EXIT_CONSOLE, 0);
      break;
    case 1:
      if (dlab) { dlm = v; break; }
      if ((v & IER_ETBEI) != 0 && (ier & IER_ETBEI) == 0) thrIntPending = true;
      ier = v & 0x0f;
      break;
    case 2: fcr = v; break;
    case 3: lcr = v; break;
    case 4: mcr = v; break;
    case 7: scr = v; break;
  }
}

export function resetUart(): void {
  ier = 0; lcr = 0; mcr = 0; scr = 0; fcr = 0; dll = 0; dlm = 0;
  thrIntPending = false;
}
