// virtio-console (virtio v1.2 §5.3) with a single port: receiveq 0 carries host -> guest
// bytes, transmitq 1 guest -> host bytes.
import { VirtioDeviceBase, VIRTIO_ID, bit } from './mmio.js';

/** §5.3.3 feature bits. */
export const VIRTIO_CONSOLE_F = { SIZE: 0, MULTIPORT: 1, EMERG_WRITE: 2 } as const;

/** §5.3.4 struct virtio_console_config. */
export const VIRTIO_CONSOLE_CONFIG = {
  COLS: 0, // le16
  ROWS: 2, // le16
  MAX_NR_PORTS: 4, // le32
  EMERG_WR: 8, // le32, write-only
  LENGTH: 12,
} as const;

/** §5.3.2 virtqueues of port 0. */
export const VIRTIO_CONSOLE_Q = { RECEIVE: 0, TRANSMIT: 1 } as const;

export interface ConsoleOptions {
  /** guest output (transmitq and emerg_wr) */
  onOutput?: (bytes: Uint8Array) => void;
  /** QueueNumMax (default 128) */
  queueSize?: number;
  /** host input held while the guest has no buffers posted, at most (default 1 MiB) */
  maxBuffered?: number;
}

export class ConsoleDevice extends VirtioDeviceBase {
  onOutput?: (bytes: Uint8Array) => void;
  /** input bytes dropped because the buffer was full */
  dropped = 0;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private readonly maxBuffered: number;

  constructor(opts: ConsoleOptions = {}) {
    const n = opts.queueSize ?? 128;
    super(VIRTIO_ID.CONSOLE, 'virtio-console', bit(VIRTIO_CONSOLE_F.EMERG_WRITE), [n, n], VIRTIO_CONSOLE_CONFIG.LENGTH);
    this.onOutput = opts.onOutput;
    this.maxBuffered = opts.maxBuffered ?? 1 << 20;
  }

  /** Host -> guest bytes: delivered now if the guest posted buffers, else when it does. */
  input(bytes: Uint8Array | string): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes.slice();
    const room = Math.max(0, this.maxBuffered - this.bufferedBytes);
    if (data.length > room) this.dropped += data.length - room;
    if (room > 0 && data.length > 0) {
      this.buffered.push(data.subarray(0, room));
      this.bufferedBytes += Math.min(room, data.length);
    }
    this.deliver();
  }

  /** Input bytes waiting for guest buffers. */
  get pendingInput(): number {
    return this.bufferedBytes;
  }

  notify(index: number): void {
    if (index === VIRTIO_CONSOLE_Q.RECEIVE) return this.deliver();
    const q = this.queue(VIRTIO_CONSOLE_Q.TRANSMIT);
    for (let c = q?.pop(); c; c = q!.pop()) {
      const bytes = c.readAll();
      q!.push(c, 0);
      if (bytes.length) this.onOutput?.(bytes);
    }
  }

  activate(): void {
    this.deliver();
  }

  writeConfig(offset: number, _size: number, value: number): void {
    // §5.3.4: a write to emerg_wr outputs one character
    if (offset === VIRTIO_CONSOLE_CONFIG.EMERG_WR) this.onOutput?.(Uint8Array.of(value & 0xff));
  }

  /** Fill posted receive buffers from the input held. */
  private deliver(): void {
    const q = this.queue(VIRTIO_CONSOLE_Q.RECEIVE);
    while (this.bufferedBytes > 0) {
      const c = q?.pop();
      if (!c) return;
      let n = 0;
      while (n < c.writableLength && this.buffered.length) {
        const head = this.buffered[0];
        const k = c.write(n, head.subarray(0, c.writableLength - n));
        if (k === 0) break;
        n += k;
        this.bufferedBytes -= k;
        if (k === head.length) this.buffered.shift();
        else this.buffered[0] = head.subarray(k);
      }
      q!.push(c, n);
    }
  }
}
