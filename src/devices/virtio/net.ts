// virtio-net (virtio v1.2 §5.1) with one queue pair and no offloads: receiveq 0, transmitq 1.
// Every buffer starts with a 12-byte struct virtio_net_hdr (VIRTIO_F_VERSION_1 layout).
import { VirtioDeviceBase, VIRTIO_ID, bit } from './mmio.js';

/** §5.1.3 feature bits (those this device offers, and the common offloads it does not). */
export const VIRTIO_NET_F = {
  CSUM: 0,
  GUEST_CSUM: 1,
  MTU: 3,
  MAC: 5,
  GUEST_TSO4: 7,
  HOST_TSO4: 11,
  MRG_RXBUF: 15,
  STATUS: 16,
  CTRL_VQ: 17,
  MQ: 22,
} as const;

/** §5.1.4 status field. */
export const VIRTIO_NET_S = { LINK_UP: 1, ANNOUNCE: 2 } as const;

/** §5.1.4 struct virtio_net_config. */
export const VIRTIO_NET_CONFIG = {
  MAC: 0, // u8[6]
  STATUS: 6, // le16
  MAX_VIRTQUEUE_PAIRS: 8, // le16
  MTU: 10, // le16
  LENGTH: 12,
} as const;

/** §5.1.6 struct virtio_net_hdr: flags u8, gso_type u8, hdr_len, gso_size, csum_start, csum_offset, num_buffers (le16). */
export const VIRTIO_NET_HDR = { FLAGS: 0, GSO_TYPE: 1, NUM_BUFFERS: 10, SIZE: 12 } as const;
export const VIRTIO_NET_HDR_GSO = { NONE: 0 } as const;

/** §5.1.2 virtqueues of the single pair. */
export const VIRTIO_NET_Q = { RECEIVE: 0, TRANSMIT: 1 } as const;

/** Largest frame delivered: Ethernet 1514 bytes + an 802.1Q tag (no GSO offered). */
export const VIRTIO_NET_MAX_FRAME = 1518;

export interface NetOptions {
  /** "52:54:00:12:34:56" or 6 bytes (default QEMU's first NIC address) */
  mac?: string | Uint8Array;
  /** guest -> host frames (without the header); default: loopback to receive() */
  send?: (frame: Uint8Array) => void;
  /** QueueNumMax (default 256) */
  queueSize?: number;
  /** frames held for the guest while it has no receive buffers, at most (default 256) */
  maxQueued?: number;
}

export class NetDevice extends VirtioDeviceBase {
  send: (frame: Uint8Array) => void;
  readonly mac: Uint8Array;
  /** frames dropped: too big, no room in the queue, or a receive buffer too small */
  dropped = 0;
  private frames: Uint8Array[] = [];
  private readonly maxQueued: number;

  constructor(opts: NetOptions = {}) {
    const n = opts.queueSize ?? 256;
    super(VIRTIO_ID.NET, 'virtio-net', bit(VIRTIO_NET_F.MAC) | bit(VIRTIO_NET_F.STATUS), [n, n], VIRTIO_NET_CONFIG.LENGTH);
    this.mac = parseMac(opts.mac ?? '52:54:00:12:34:56');
    this.send = opts.send ?? ((frame) => this.receive(frame));
    this.maxQueued = opts.maxQueued ?? 256;
    this.config.set(this.mac, VIRTIO_NET_CONFIG.MAC);
    this.cfg.setUint16(VIRTIO_NET_CONFIG.STATUS, VIRTIO_NET_S.LINK_UP, true);
  }

  /** Host -> guest frame (no header). Returns false when it was dropped. */
  receive(frame: Uint8Array): boolean {
    if (frame.length > VIRTIO_NET_MAX_FRAME || this.frames.length >= this.maxQueued) {
      this.dropped++;
      return false;
    }
    this.frames.push(frame.slice());
    this.deliver();
    return true;
  }

  /** Link state (VIRTIO_NET_S_LINK_UP), signalled by a config change. */
  setLink(up: boolean): void {
    this.cfg.setUint16(VIRTIO_NET_CONFIG.STATUS, up ? VIRTIO_NET_S.LINK_UP : 0, true);
    this.host?.configChanged();
  }

  notify(index: number): void {
    if (index === VIRTIO_NET_Q.RECEIVE) return this.deliver();
    const q = this.queue(VIRTIO_NET_Q.TRANSMIT);
    for (let c = q?.pop(); c; c = q!.pop()) {
      if (c.readableLength < VIRTIO_NET_HDR.SIZE) {
        this.host?.fail(`transmit chain ${c.head} is shorter than the virtio_net_hdr`);
        return;
      }
      const frame = c.readAll(VIRTIO_NET_HDR.SIZE);
      q!.push(c, 0);
      this.send(frame);
    }
  }

  activate(): void {
    this.deliver();
  }

  reset(): void {
    this.frames = [];
  }

  /** Fill posted receive buffers with the frames held (§5.1.6.4). */
  private deliver(): void {
    const q = this.queue(VIRTIO_NET_Q.RECEIVE);
    while (this.frames.length) {
      const c = q?.pop();
      if (!c) return;
      const frame = this.frames.shift()!;
      if (c.writableLength < VIRTIO_NET_HDR.SIZE + frame.length) {
        this.dropped++;
        q!.push(c, 0);
        continue;
      }
      const hdr = new Uint8Array(VIRTIO_NET_HDR.SIZE);
      // no checksum or GSO offloads: flags 0, GSO_NONE; num_buffers 1 (no MRG_RXBUF)
      new DataView(hdr.buffer).setUint16(VIRTIO_NET_HDR.NUM_BUFFERS, 1, true);
      c.write(0, hdr);
      q!.push(c, VIRTIO_NET_HDR.SIZE + c.write(VIRTIO_NET_HDR.SIZE, frame));
    }
  }
}

function parseMac(mac: string | Uint8Array): Uint8Array {
  const bytes = typeof mac === 'string' ? Uint8Array.from(mac.split(/[:-]/), (h) => parseInt(h, 16)) : mac.slice();
  if (bytes.length !== 6 || (typeof mac === 'string' && !/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(mac)))
    throw new Error(`bad MAC address '${String(mac)}'`);
  return bytes;
}
