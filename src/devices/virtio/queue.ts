// Split virtqueues (virtio v1.2 §2.7). The descriptor table, the available ring (driver area)
// and the used ring (device area) live in guest RAM and are written by the guest, so every
// value read from them is checked before it is used: a bad one faults the queue (the
// transport then sets DEVICE_NEEDS_RESET) and is never a host exception or an endless loop.

/** Guest RAM as the devices see it. */
export interface GuestMemory {
  /** Linear offset in `bytes()` of guest physical [pa, pa+len), or -1 when any of it is outside RAM. */
  locate(pa: bigint, len: number): number;
  /** The current view of the whole memory (re-fetch on every use: the Wasm memory can grow). */
  bytes(): Uint8Array;
  /** The host wrote guest RAM [pa, pa+len): the emulator must drop decoded code there. */
  written(pa: bigint, len: number): void;
}

/** §2.7.5 struct virtq_desc: flags. */
export const VIRTQ_DESC_F = {
  /** the buffer continues via the next field */
  NEXT: 1,
  /** the buffer is device write-only (otherwise device read-only) */
  WRITE: 2,
  /** the buffer holds a table of descriptors (§2.7.5.3) */
  INDIRECT: 4,
} as const;

/** §2.7.6 struct virtq_avail: flags. */
export const VIRTQ_AVAIL_F = { NO_INTERRUPT: 1 } as const;

/** §2.7.8 struct virtq_used: flags. */
export const VIRTQ_USED_F = { NO_NOTIFY: 1 } as const;

/** §2.7 "Virtqueue Part Alignment / Size" for a queue of `n` entries (event fields included). */
export const VIRTQ_AREAS = {
  desc: { align: 16, size: (n: number) => 16 * n },
  driver: { align: 2, size: (n: number) => 6 + 2 * n },
  device: { align: 4, size: (n: number) => 6 + 8 * n },
} as const;

/** §2.7: split-queue sizes are powers of two up to 32768. */
export const VIRTQ_MAX_SIZE = 32768;
/** Longest indirect table accepted: QEMU's VIRTQUEUE_MAX_SIZE (or the queue size if larger). */
export const VIRTQ_MAX_INDIRECT = 1024;

const DESC_SIZE = 16;
/** §2.7.4.1: a chain must not describe more than 2^32 bytes. */
const MAX_CHAIN_BYTES = 2 ** 32;

/** A guest buffer: guest physical address and length. */
export interface Segment {
  readonly pa: bigint;
  readonly len: number;
}

/** What the transport learns from a queue. */
export interface QueueHooks {
  /** The driver broke the queue's rules: the device must stop (DEVICE_NEEDS_RESET). */
  fault(message: string): void;
  /** A chain was taken from the available ring. */
  popped(): void;
  /** A chain was returned in the used ring; `interrupt` unless the driver suppressed it. */
  used(interrupt: boolean): void;
}

class ChainError extends Error {}

/**
 * One descriptor chain taken from the available ring: device-readable segments followed by
 * device-writable ones (§2.7.4.2), addressed as two byte streams.
 */
export class Chain {
  readonly readable: Segment[] = [];
  readonly writable: Segment[] = [];
  readableLength = 0;
  writableLength = 0;

  constructor(
    readonly queue: Virtqueue,
    /** index of the head descriptor: the id returned in the used ring */
    readonly head: number,
    /** the queue epoch it was taken in: after a reset the chain is dead */
    readonly epoch: number,
  ) {}

  /** Copy device-readable bytes [offset, offset + dest.length) into dest; returns the count copied. */
  read(offset: number, dest: Uint8Array): number {
    return this.copy(this.readable, offset, dest, false);
  }

  /** All device-readable bytes from `offset` on. */
  readAll(offset = 0): Uint8Array {
    const out = new Uint8Array(Math.max(0, this.readableLength - offset));
    return out.subarray(0, this.read(offset, out));
  }

  /** Copy src into the device-writable bytes at `offset`; returns the count written. */
  write(offset: number, src: Uint8Array): number {
    return this.copy(this.writable, offset, src, true);
  }

  /** Still valid: the queue was not reset or disabled since the chain was taken. */
  get alive(): boolean {
    return this.epoch === this.queue.epoch;
  }

  /** @internal Append a descriptor's buffer, enforcing readable-before-writable and RAM bounds. */
  add(pa: bigint, len: number, writable: boolean, mem: GuestMemory): void {
    if (len === 0) return;
    if (!writable && this.writable.length > 0)
      throw new ChainError(`chain ${this.head}: device-readable buffer after a device-writable one`);
    if (mem.locate(pa, len) < 0)
      throw new ChainError(`chain ${this.head}: buffer 0x${pa.toString(16)} (+0x${len.toString(16)}) is outside RAM`);
    if (this.readableLength + this.writableLength + len > MAX_CHAIN_BYTES)
      throw new ChainError(`chain ${this.head}: longer than 2^32 bytes`);
    if (writable) {
      this.writable.push({ pa, len });
      this.writableLength += len;
    } else {
      this.readable.push({ pa, len });
      this.readableLength += len;
    }
  }

  /** The one scatter/gather copy between guest buffers and a host array. */
  private copy(segs: Segment[], offset: number, data: Uint8Array, toGuest: boolean): number {
    if (!this.alive) return 0;
    const mem = this.queue.mem;
    let done = 0;
    let skip = offset;
    for (const s of segs) {
      if (done >= data.length) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, data.length - done);
      const pa = s.pa + BigInt(skip);
      const at = mem.locate(pa, n);
      if (at < 0) {
        this.queue.fault(`chain ${this.head}: buffer 0x${pa.toString(16)} left RAM`);
        return done;
      }
      const bytes = mem.bytes();
      if (toGuest) {
        bytes.set(data.subarray(done, done + n), at);
        mem.written(pa, n);
      } else {
        data.set(bytes.subarray(at, at + n), done);
      }
      done += n;
      skip = 0;
    }
    return done;
  }
}

/** A split virtqueue as the device sees it (the transport holds one per queue). */
export class Virtqueue {
  /** QueueNum: the size the driver chose */
  num: number;
  /** QueueReady */
  ready = false;
  /** QueueDesc, QueueDriver, QueueDevice */
  desc = 0n;
  driver = 0n;
  device = 0n;
  /** The transport's verdict: DRIVER_OK and not DEVICE_NEEDS_RESET. */
  live = false;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  indirect = false;
  /** Chains taken and not yet returned. */
  inflight = 0;
  /** Bumped whenever outstanding chains become invalid (reset, queue disabled, fault). */
  epoch = 0;

  private lastAvail = 0;
  private usedIdx = 0;
  private view: DataView | null = null;
  private shared = false;

  constructor(
    readonly index: number,
    /** QueueNumMax */
    readonly max: number,
    readonly mem: GuestMemory,
    private readonly hooks: QueueHooks,
  ) {
    this.num = max;
  }

  /** Device reset (§2.4): back to the initial state; outstanding chains are dropped. */
  reset(): void {
    this.num = this.max;
    this.ready = false;
    this.desc = this.driver = this.device = 0n;
    this.live = this.indirect = false;
    this.drop();
  }

  /** Invalidate outstanding chains: their completions will not reach the guest. */
  drop(): void {
    this.epoch++;
    this.inflight = 0;
  }

  /** QueueReady = 1: check the driver's layout (§2.7, §4.2.3.2) and start the queue. */
  enable(): boolean {
    const n = this.num;
    if (n === 0 || n > this.max || (n & (n - 1)) !== 0) {
      this.fault(`queue size ${n} is not a power of two in 1..${this.max}`);
      return false;
    }
    for (const [name, addr] of [['desc', this.desc], ['driver', this.driver], ['device', this.device]] as const) {
      const area = VIRTQ_AREAS[name];
      if (addr % BigInt(area.align) !== 0n || this.mem.locate(addr, area.size(n)) < 0) {
        this.fault(`${name} area 0x${addr.toString(16)} is misaligned or outside RAM`);
        return false;
      }
    }
    this.lastAvail = this.usedIdx = 0;
    this.ready = true;
    this.drop();
    return true;
  }

  /** QueueReady = 0: stop using the queue. */
  disable(): void {
    this.ready = false;
    this.drop();
  }

  /** Take the next available chain (§2.7.13), or null when there is none or the queue faulted. */
  pop(): Chain | null {
    const dv = this.ring();
    if (!dv) return null;
    const n = this.num;
    const avail = this.mem.locate(this.driver, VIRTQ_AREAS.driver.size(n));
    const table = this.mem.locate(this.desc, VIRTQ_AREAS.desc.size(n));
    if (avail < 0 || table < 0) return this.fault('rings are outside RAM');
    // §2.7.13.2 the device reads idx, then the ring entries it covers
    const idx = this.load16(dv, avail + 2);
    const ahead = (idx - this.lastAvail) & 0xffff;
    if (ahead === 0) return null;
    if (ahead > n) return this.fault(`avail idx ${idx} is ${ahead} entries ahead of ${this.lastAvail} (queue size ${n})`);
    const head = dv.getUint16(avail + 4 + 2 * (this.lastAvail % n), true);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    let chain: Chain;
    try {
      chain = this.walk(dv, table, head);
    } catch (e) {
      if (e instanceof ChainError) return this.fault(e.message);
      throw e;
    }
    this.inflight++;
    this.hooks.popped();
    return chain;
  }

  /**
   * Return a chain in the used ring with `len` bytes written (§2.7.8, §2.7.14) and notify the
   * driver unless it set VIRTQ_AVAIL_F_NO_INTERRUPT (VIRTIO_F_EVENT_IDX is not offered).
   */
  push(chain: Chain, len: number): void {
    if (!chain.alive || chain.queue !== this) return;
    const dv = this.ring();
    const n = this.num;
    const used = this.mem.locate(this.device, VIRTQ_AREAS.device.size(n));
    const avail = this.mem.locate(this.driver, VIRTQ_AREAS.driver.size(n));
    if (!dv || used < 0 || avail < 0) {
      this.fault('rings are outside RAM');
      return;
    }
    const slot = this.usedIdx % n;
    dv.setUint32(used + 4 + 8 * slot, chain.head, true);
    dv.setUint32(used + 8 + 8 * slot, Math.min(Math.max(0, len), chain.writableLength) >>> 0, true);
    this.mem.written(this.device + BigInt(4 + 8 * slot), 8);
    // §2.7.8.2 the element is written before idx is published (a release store when shared)
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.store16(dv, used + 2, this.usedIdx);
    this.mem.written(this.device + 2n, 2);
    this.inflight--;
    // §2.7.10: flags are read after idx is published
    const flags = this.load16(dv, avail);
    this.hooks.used((flags & VIRTQ_AVAIL_F.NO_INTERRUPT) === 0);
  }

  /** @internal Stop the queue and report (also used by chains whose memory vanished). */
  fault(message: string): null {
    this.drop();
    this.hooks.fault(`virtqueue ${this.index}: ${message}`);
    return null;
  }

  /** The memory view when the queue may be used, else null. */
  private ring(): DataView | null {
    if (!this.ready || !this.live) return null;
    const b = this.mem.bytes();
    if (!this.view || this.view.buffer !== b.buffer || this.view.byteOffset !== b.byteOffset || this.view.byteLength !== b.byteLength) {
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.shared = typeof SharedArrayBuffer !== 'undefined' && b.buffer instanceof SharedArrayBuffer;
    }
    return this.view;
  }

  private load16(dv: DataView, off: number): number {
    const abs = dv.byteOffset + off;
    if (this.shared && (abs & 1) === 0) return Atomics.load(new Uint16Array(dv.buffer, abs, 1), 0);
    return dv.getUint16(off, true);
  }

  private store16(dv: DataView, off: number, v: number): void {
    const abs = dv.byteOffset + off;
    if (this.shared && (abs & 1) === 0) Atomics.store(new Uint16Array(dv.buffer, abs, 1), 0, v);
    else dv.setUint16(off, v, true);
  }

  /**
   * Walk one chain (§2.7.5): direct descriptors, optionally ending in one indirect table
   * (§2.7.5.3.2: "zero or more normal chained descriptors followed by a single descriptor with
   * VIRTQ_DESC_F_INDIRECT"). Each table is walked at most its own size: longer means a loop.
   */
  private walk(dv: DataView, table: number, head: number): Chain {
    const chain = new Chain(this, head, this.epoch);
    let size = this.num;
    let indirect = false;
    if (head >= size) throw new ChainError(`head descriptor ${head} is out of range (queue size ${size})`);
    for (let i = head, count = 1; ; count++) {
      if (count > size)
        throw new ChainError(`chain ${head}: more than ${size} descriptors${indirect ? ' in its indirect table' : ''} (a loop?)`);
      const d = table + DESC_SIZE * i;
      const addr = dv.getBigUint64(d, true);
      const len = dv.getUint32(d + 8, true);
      const flags = dv.getUint16(d + 12, true);
      const next = dv.getUint16(d + 14, true);
      if (flags & VIRTQ_DESC_F.INDIRECT) {
        // §2.7.5.3.1: negotiated, not nested, not combined with NEXT, a whole number of descriptors
        if (indirect) throw new ChainError(`chain ${head}: nested indirect table`);
        if (!this.indirect) throw new ChainError(`chain ${head}: indirect descriptor without VIRTIO_F_INDIRECT_DESC`);
        if (flags & VIRTQ_DESC_F.NEXT) throw new ChainError(`chain ${head}: indirect descriptor with VIRTQ_DESC_F_NEXT`);
        const entries = len / DESC_SIZE;
        if (len === 0 || !Number.isInteger(entries) || entries > Math.max(VIRTQ_MAX_INDIRECT, this.num))
          throw new ChainError(`chain ${head}: bad indirect table length ${len}`);
        const at = this.mem.locate(addr, len);
        if (at < 0) throw new ChainError(`chain ${head}: indirect table 0x${addr.toString(16)} is outside RAM`);
        table = at;
        size = entries;
        indirect = true;
        i = 0;
        count = 0;
        continue;
      }
      chain.add(addr, len, (flags & VIRTQ_DESC_F.WRITE) !== 0, this.mem);
      if (!(flags & VIRTQ_DESC_F.NEXT)) return chain;
      if (next >= size) throw new ChainError(`chain ${head}: next index ${next} is out of range (table size ${size})`);
      i = next;
    }
  }
}
