// The virtio devices driven the way the Linux drivers drive them: a fake guest RAM (a plain
// Uint8Array, guest PA 0x8000_0000 at a nonzero linear offset), registers written through
// VirtioMmio.write() and read from the DataView, rings built by hand in the fake RAM.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  VirtioMmio, BlockDevice, ConsoleDevice, RngDevice, NetDevice, MemoryBackend, OverlayBackend, UrlBackend,
  VIRTIO_MMIO as M, VIRTIO_CONFIG_S as S, VIRTIO_F, VIRTIO_ID, VIRTIO_MMIO_INT, VIRTQ_DESC_F as DF, VIRTQ_AVAIL_F,
  VIRTIO_BLK_F, VIRTIO_BLK_T, VIRTIO_BLK_S, VIRTIO_CONSOLE_CONFIG, VIRTIO_NET_CONFIG, VIRTIO_NET_S, bit,
  type BlockBackend, type GuestMemory, type VirtioDevice,
} from '../src/devices/virtio/index.js';
import { openFileBackend } from '../src/devices/virtio/block-file.js';

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 1 << 20;
const LINEAR = 0x1000; // where RAM starts in bytes()

class FakeMemory implements GuestMemory {
  readonly buf = new Uint8Array(LINEAR + RAM_SIZE);
  readonly writes: [bigint, number][] = [];
  locate(pa: bigint, len: number): number {
    if (pa < RAM_BASE || len < 0 || pa + BigInt(len) > RAM_BASE + BigInt(RAM_SIZE)) return -1;
    return LINEAR + Number(pa - RAM_BASE);
  }
  bytes(): Uint8Array {
    return this.buf;
  }
  written(pa: bigint, len: number): void {
    this.writes.push([pa, len]);
  }
  /** was [pa, pa+len) reported as written? */
  covered(pa: bigint, len: number): boolean {
    return this.writes.some(([p, l]) => p <= pa && pa + BigInt(len) <= p + BigInt(l));
  }
}

interface Ring {
  num: number;
  desc: bigint;
  avail: bigint;
  used: bigint;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

/** A buffer of a chain: readable contents, or a writable length. */
type Buf = Uint8Array | number;

/** Plays the Linux virtio-mmio driver. */
class Driver {
  readonly mem = new FakeMemory();
  readonly regs = new DataView(new ArrayBuffer(0x1000));
  readonly dev: VirtioMmio;
  readonly irqCalls: boolean[] = [];
  readonly errors: string[] = [];
  activity = 0;
  irq = false;
  rings: Ring[] = [];
  private brk = RAM_BASE + 0x1000n;

  constructor(device: VirtioDevice | null) {
    this.dev = new VirtioMmio(this.regs, this.mem, (l) => {
      this.irq = l;
      this.irqCalls.push(l);
    }, device);
    this.dev.onError = (m) => this.errors.push(m);
    this.dev.onActivity = () => this.activity++;
  }

  r(off: number): number {
    return this.regs.getUint32(off, true);
  }
  w(off: number, v: number, size = 4): void {
    this.dev.write(off, size, v);
  }
  get status(): number {
    return this.r(M.STATUS);
  }
  offered(): bigint {
    this.w(M.DEVICE_FEATURES_SEL, 1);
    const hi = BigInt(this.r(M.DEVICE_FEATURES));
    this.w(M.DEVICE_FEATURES_SEL, 0);
    return (hi << 32n) | BigInt(this.r(M.DEVICE_FEATURES));
  }

  /** Steps of §3.1.1 up to FEATURES_OK; returns whether the device accepted the features. */
  negotiate(accept: (offered: bigint) => bigint = (f) => f): boolean {
    this.w(M.STATUS, 0);
    this.w(M.STATUS, S.ACKNOWLEDGE);
    this.w(M.STATUS, S.ACKNOWLEDGE | S.DRIVER);
    const f = accept(this.offered());
    this.w(M.DRIVER_FEATURES_SEL, 1);
    this.w(M.DRIVER_FEATURES, Number(f >> 32n));
    this.w(M.DRIVER_FEATURES_SEL, 0);
    this.w(M.DRIVER_FEATURES, Number(f & 0xffffffffn));
    this.w(M.STATUS, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    return (this.status & S.FEATURES_OK) !== 0;
  }

  /** Full bring-up: features, every queue (like vm_setup_vq), DRIVER_OK. */
  init(num = 16, accept?: (offered: bigint) => bigint): void {
    expect(this.negotiate(accept)).toBe(true);
    this.rings = [];
    for (let i = 0; ; i++) {
      this.w(M.QUEUE_SEL, i);
      const max = this.r(M.QUEUE_NUM_MAX);
      if (max === 0) break;
      expect(this.r(M.QUEUE_READY)).toBe(0);
      this.rings.push(this.setupQueue(i, Math.min(num, max)));
    }
    this.w(M.STATUS, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
  }

  setupQueue(i: number, num: number, desc = this.alloc(16 * num, 16)): Ring {
    const ring: Ring = { num, desc, avail: this.alloc(6 + 2 * num, 2), used: this.alloc(6 + 8 * num, 4), nextDesc: 0, availIdx: 0, lastUsed: 0 };
    this.w(M.QUEUE_SEL, i);
    this.w(M.QUEUE_NUM, num);
    for (const [lo, a] of [[M.QUEUE_DESC_LOW, ring.desc], [M.QUEUE_DRIVER_LOW, ring.avail], [M.QUEUE_DEVICE_LOW, ring.used]] as const) {
      this.w(lo, Number(a & 0xffffffffn));
      this.w(lo + 4, Number(a >> 32n));
    }
    this.w(M.QUEUE_READY, 1);
    return ring;
  }

  alloc(len: number, align = 8): bigint {
    const a = (this.brk + BigInt(align - 1)) & ~BigInt(align - 1);
    this.brk = a + BigInt(len);
    if (this.brk > RAM_BASE + BigInt(RAM_SIZE)) throw new Error('test RAM exhausted');
    return a;
  }
  view(): DataView {
    return new DataView(this.mem.buf.buffer);
  }
  at(pa: bigint): number {
    return this.mem.locate(pa, 0);
  }
  read(pa: bigint, len: number): Uint8Array {
    return this.mem.buf.slice(this.at(pa), this.at(pa) + len);
  }
  put(pa: bigint, bytes: Uint8Array): void {
    this.mem.buf.set(bytes, this.at(pa));
  }

  /** Write descriptor `i` of a table at `table`. */
  desc(table: bigint, i: number, addr: bigint, len: number, flags: number, next = 0): void {
    const v = this.view();
    const d = this.at(table) + 16 * i;
    v.setBigUint64(d, addr, true);
    v.setUint32(d + 8, len, true);
    v.setUint16(d + 12, flags, true);
    v.setUint16(d + 14, next, true);
  }

  /** Put `head` in queue q's available ring (§2.7.13). */
  publish(q: number, head: number): void {
    const ring = this.rings[q];
    const v = this.view();
    v.setUint16(this.at(ring.avail) + 4 + 2 * (ring.availIdx % ring.num), head, true);
    ring.availIdx = (ring.availIdx + 1) & 0xffff;
    v.setUint16(this.at(ring.avail) + 2, ring.availIdx, true);
  }

  /** Allocate buffers for `bufs`, build a chain (direct or via one indirect table), make it available. */
  submit(q: number, bufs: Buf[], indirect = false): { head: number; pas: bigint[] } {
    const ring = this.rings[q];
    const pas = bufs.map((b) => {
      const pa = this.alloc(typeof b === 'number' ? b : b.length);
      if (typeof b !== 'number') this.put(pa, b);
      return pa;
    });
    const entry = (b: Buf, k: number) => [pas[k], typeof b === 'number' ? b : b.length, typeof b === 'number' ? DF.WRITE : 0] as const;
    const head = ring.nextDesc;
    if (indirect) {
      const table = this.alloc(16 * bufs.length, 16);
      bufs.forEach((b, k) => {
        const [pa, len, flags] = entry(b, k);
        this.desc(table, k, pa, len, flags | (k < bufs.length - 1 ? DF.NEXT : 0), k + 1);
      });
      this.desc(ring.desc, head, table, 16 * bufs.length, DF.INDIRECT);
      ring.nextDesc = (head + 1) % ring.num;
    } else {
      bufs.forEach((b, k) => {
        const [pa, len, flags] = entry(b, k);
        const i = (head + k) % ring.num;
        this.desc(ring.desc, i, pa, len, flags | (k < bufs.length - 1 ? DF.NEXT : 0), (i + 1) % ring.num);
      });
      ring.nextDesc = (head + bufs.length) % ring.num;
    }
    this.publish(q, head);
    return { head, pas };
  }

  kick(q: number): void {
    this.w(M.QUEUE_NOTIFY, q);
  }

  /** Used elements added since the last call. */
  used(q: number): { id: number; len: number }[] {
    const ring = this.rings[q];
    const v = this.view();
    const base = this.at(ring.used);
    const out = [];
    for (const idx = v.getUint16(base + 2, true); ring.lastUsed !== idx; ring.lastUsed = (ring.lastUsed + 1) & 0xffff) {
      const e = base + 4 + 8 * (ring.lastUsed % ring.num);
      out.push({ id: v.getUint32(e, true), len: v.getUint32(e + 4, true) });
    }
    return out;
  }

  /** The vm_interrupt handler: read InterruptStatus, acknowledge it. */
  ack(): number {
    const s = this.r(M.INTERRUPT_STATUS);
    this.w(M.INTERRUPT_ACK, s);
    return s;
  }
}

const SECTOR = 512;

/** A virtio-blk request: header, data, status. Returns the status and data PAs. */
function blk(d: Driver, type: number, sector: number, data: { out?: Uint8Array; inLen?: number } = {}, indirect = false) {
  const header = new Uint8Array(16);
  new DataView(header.buffer).setUint32(0, type, true);
  new DataView(header.buffer).setBigUint64(8, BigInt(sector), true);
  const bufs: Buf[] = [header];
  if (data.out) bufs.push(data.out);
  if (data.inLen) bufs.push(data.inLen);
  bufs.push(1);
  const { head, pas } = d.submit(0, bufs, indirect);
  return { head, status: () => d.read(pas[pas.length - 1], 1)[0], data: () => d.read(pas[pas.length - 2], data.inLen ?? 0) };
}

function pattern(len: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed * 13) & 0xff);
}

function blkDriver(backend: BlockBackend, opts?: ConstructorParameters<typeof BlockDevice>[1]) {
  const d = new Driver(new BlockDevice(backend, opts));
  d.init();
  return d;
}

describe('virtio-mmio transport', () => {
  it('presents the version 2 registers and reads them back', () => {
    const d = new Driver(new BlockDevice(new MemoryBackend(64 * SECTOR)));
    expect(d.r(M.MAGIC_VALUE)).toBe(0x74726976);
    expect(d.r(M.VERSION)).toBe(2);
    expect(d.r(M.DEVICE_ID)).toBe(VIRTIO_ID.BLOCK);
    expect(d.r(M.VENDOR_ID)).toBe(0x554d4551);
    expect(d.r(M.SHM_LEN_LOW)).toBe(0xffffffff);
    expect(d.r(M.SHM_LEN_HIGH)).toBe(0xffffffff);
    // config space: capacity in sectors (le64 read as two words, as Linux does)
    expect(d.r(M.CONFIG)).toBe(64);
    expect(d.r(M.CONFIG + 4)).toBe(0);
    expect(d.regs.getUint8(M.CONFIG)).toBe(64);
    // QueueNumMax of the selected queue; a queue that does not exist has 0
    expect(d.r(M.QUEUE_NUM_MAX)).toBe(256);
    d.w(M.QUEUE_SEL, 1);
    expect(d.r(M.QUEUE_NUM_MAX)).toBe(0);
    // stores to read-only registers do not change them
    d.w(M.MAGIC_VALUE, 0);
    d.w(M.QUEUE_NUM_MAX, 5);
    expect(d.r(M.MAGIC_VALUE)).toBe(0x74726976);
    d.w(M.QUEUE_SEL, 0);
    expect(d.r(M.QUEUE_NUM_MAX)).toBe(256);
    // queue addresses read back for the selected queue
    d.negotiate();
    const ring = d.setupQueue(0, 8);
    expect(d.r(M.QUEUE_READY)).toBe(1);
    expect(BigInt(d.r(M.QUEUE_DESC_LOW)) | (BigInt(d.r(M.QUEUE_DESC_HIGH)) << 32n)).toBe(ring.desc);
    expect(BigInt(d.r(M.QUEUE_DRIVER_LOW))).toBe(ring.avail);
    expect(BigInt(d.r(M.QUEUE_DEVICE_LOW))).toBe(ring.used);
    d.w(M.QUEUE_SEL, 3);
    expect([d.r(M.QUEUE_READY), d.r(M.QUEUE_DESC_LOW)]).toEqual([0, 0]);
    // layout writes are ignored while the queue is ready
    d.w(M.QUEUE_SEL, 0);
    d.w(M.QUEUE_DESC_LOW, 0x1234);
    expect(BigInt(d.r(M.QUEUE_DESC_LOW))).toBe(ring.desc);
  });

  it('offers VERSION_1 and INDIRECT_DESC but not EVENT_IDX, selected 32 bits at a time', () => {
    const d = new Driver(new BlockDevice(new MemoryBackend(4096)));
    d.w(M.DEVICE_FEATURES_SEL, 1);
    expect(d.r(M.DEVICE_FEATURES)).toBe(1); // bit 32 = VERSION_1
    d.w(M.DEVICE_FEATURES_SEL, 2);
    expect(d.r(M.DEVICE_FEATURES)).toBe(0);
    const f = d.offered();
    expect(f & bit(VIRTIO_F.INDIRECT_DESC)).not.toBe(0n);
    expect(f & bit(VIRTIO_F.RING_EVENT_IDX)).toBe(0n);
    for (const b of [VIRTIO_BLK_F.SEG_MAX, VIRTIO_BLK_F.FLUSH, VIRTIO_BLK_F.BLK_SIZE]) expect(f & bit(b)).not.toBe(0n);
    expect(f & bit(VIRTIO_BLK_F.RO)).toBe(0n);
  });

  it('fails FEATURES_OK without VERSION_1 or with features not offered', () => {
    const d = new Driver(new RngDevice());
    expect(d.negotiate((f) => f & ~bit(VIRTIO_F.VERSION_1))).toBe(false);
    expect(d.status).toBe(S.ACKNOWLEDGE | S.DRIVER);
    expect(d.negotiate((f) => f | bit(VIRTIO_F.RING_EVENT_IDX))).toBe(false);
    expect(d.negotiate((f) => f & ~bit(VIRTIO_F.INDIRECT_DESC))).toBe(true);
    expect(d.dev.features).toBe(bit(VIRTIO_F.VERSION_1));
    // features are frozen once FEATURES_OK is set
    d.w(M.DRIVER_FEATURES, 1 << VIRTIO_F.INDIRECT_DESC);
    expect(d.dev.features).toBe(bit(VIRTIO_F.VERSION_1));
  });

  it('an empty slot reads DeviceID 0 and ignores stores', () => {
    const d = new Driver(null);
    expect(d.r(M.MAGIC_VALUE)).toBe(0x74726976);
    expect(d.r(M.VERSION)).toBe(2);
    expect(d.r(M.DEVICE_ID)).toBe(0);
    expect(d.r(M.QUEUE_NUM_MAX)).toBe(0);
    d.w(M.STATUS, S.ACKNOWLEDGE);
    expect(d.status).toBe(0);
    expect(d.dev.pending()).toBe(0);
  });

  it('InterruptACK lowers the line; Status = 0 resets queues, features and interrupts', () => {
    const d = new Driver(new RngDevice({ seed: 1 }));
    d.init();
    d.submit(0, [32]);
    d.kick(0);
    expect(d.irq).toBe(true);
    expect(d.r(M.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT.VRING);
    expect(d.dev.stats).toMatchObject({ notifies: 1, requests: 1, interrupts: 1, errors: 0 });
    expect(d.ack()).toBe(VIRTIO_MMIO_INT.VRING);
    expect(d.irq).toBe(false);
    expect(d.r(M.INTERRUPT_STATUS)).toBe(0);
    expect(d.irqCalls).toEqual([true, false]);
    // interrupt pending at reset time is dropped with it
    d.submit(0, [8]);
    d.kick(0);
    expect(d.irq).toBe(true);
    d.w(M.STATUS, 0);
    expect([d.status, d.r(M.INTERRUPT_STATUS), d.irq]).toEqual([0, 0, false]);
    expect(d.r(M.QUEUE_READY)).toBe(0);
    expect(d.dev.features).toBe(0n);
    // and the device comes back up
    d.init();
    d.submit(0, [8]);
    d.kick(0);
    expect(d.used(0)).toHaveLength(1);
  });

  it('honours VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    const d = new Driver(new RngDevice({ seed: 1 }));
    d.init();
    d.view().setUint16(d.at(d.rings[0].avail), VIRTQ_AVAIL_F.NO_INTERRUPT, true);
    d.submit(0, [16]);
    d.kick(0);
    expect(d.used(0)).toHaveLength(1);
    expect(d.irq).toBe(false);
  });

  it('ignores notifies before DRIVER_OK', () => {
    const d = new Driver(new RngDevice({ seed: 1 }));
    d.negotiate();
    d.rings = [d.setupQueue(0, 8)];
    d.submit(0, [16]);
    d.kick(0);
    expect(d.used(0)).toHaveLength(0);
    d.w(M.STATUS, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    d.kick(0);
    expect(d.used(0)).toHaveLength(1);
  });

  it('reports every byte range it writes into guest RAM', () => {
    const d = new Driver(new RngDevice({ seed: 1 }));
    d.init();
    const { pas } = d.submit(0, [100]);
    d.kick(0);
    const ring = d.rings[0];
    expect(d.mem.covered(pas[0], 100)).toBe(true);
    expect(d.mem.covered(ring.used + 2n, 2)).toBe(true);
    expect(d.mem.covered(ring.used + 4n, 8)).toBe(true);
  });
});

describe('virtqueue faults', () => {
  /** Each case breaks one rule; the device must set NEEDS_RESET, count it, and not throw. */
  const cases: [string, (d: Driver) => void, RegExp][] = [
    ['head descriptor index out of range', (d) => d.publish(0, 99), /head descriptor 99 is out of range/],
    ['next index out of range', (d) => {
      const buf = d.alloc(16);
      d.desc(d.rings[0].desc, 0, buf, 16, DF.NEXT, 40);
      d.publish(0, 0);
    }, /next index 40 is out of range/],
    ['a loop in a chain', (d) => {
      const buf = d.alloc(16);
      d.desc(d.rings[0].desc, 0, buf, 16, DF.NEXT | DF.WRITE, 1);
      d.desc(d.rings[0].desc, 1, buf, 16, DF.NEXT | DF.WRITE, 0);
      d.publish(0, 0);
    }, /more than 16 descriptors .*loop/],
    ['a buffer outside RAM', (d) => {
      d.desc(d.rings[0].desc, 0, RAM_BASE + BigInt(RAM_SIZE) - 8n, 16, DF.WRITE);
      d.publish(0, 0);
    }, /outside RAM/],
    ['nested indirect tables', (d) => {
      const inner = d.alloc(16, 16);
      const outer = d.alloc(16, 16);
      d.desc(inner, 0, d.alloc(16), 16, DF.WRITE);
      d.desc(outer, 0, inner, 16, DF.INDIRECT);
      d.desc(d.rings[0].desc, 0, outer, 16, DF.INDIRECT);
      d.publish(0, 0);
    }, /nested indirect/],
    ['an indirect table of 20 bytes', (d) => {
      d.desc(d.rings[0].desc, 0, d.alloc(32, 16), 20, DF.INDIRECT);
      d.publish(0, 0);
    }, /bad indirect table length 20/],
    ['a loop in an indirect table', (d) => {
      const t = d.alloc(32, 16);
      d.desc(t, 0, d.alloc(8), 8, DF.WRITE | DF.NEXT, 1);
      d.desc(t, 1, d.alloc(8), 8, DF.WRITE | DF.NEXT, 0);
      d.desc(d.rings[0].desc, 0, t, 32, DF.INDIRECT);
      d.publish(0, 0);
    }, /indirect table \(a loop/],
    ['a readable buffer after a writable one', (d) => d.submit(0, [8, new Uint8Array(8)]), /readable buffer after a device-writable/],
    ['the avail index running ahead of the ring', (d) => {
      d.view().setUint16(d.at(d.rings[0].avail) + 2, 100, true);
    }, /avail idx 100 is 100 entries ahead/],
  ];

  for (const [name, breakIt, message] of cases) {
    it(`${name} -> DEVICE_NEEDS_RESET, counted, no exception`, () => {
      const d = new Driver(new RngDevice({ seed: 1 }));
      d.init();
      breakIt(d);
      expect(() => d.kick(0)).not.toThrow();
      expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
      expect(d.r(M.INTERRUPT_STATUS) & VIRTIO_MMIO_INT.CONFIG).toBe(VIRTIO_MMIO_INT.CONFIG);
      expect(d.irq).toBe(true);
      expect(d.dev.stats.errors).toBe(1);
      expect(d.errors).toHaveLength(1);
      expect(d.errors[0]).toMatch(/^virtio-rng: virtqueue 0: /);
      expect(d.errors[0]).toMatch(message);
      expect(d.used(0)).toHaveLength(0);
      // the device stays stopped: a later notify does nothing, the driver's status writes keep the bit
      d.submit(0, [8]);
      d.kick(0);
      expect(d.used(0)).toHaveLength(0);
      d.w(M.STATUS, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK | S.FAILED);
      expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
      // until it is reset
      d.init();
      expect(d.status & S.DEVICE_NEEDS_RESET).toBe(0);
      d.submit(0, [8]);
      d.kick(0);
      expect(d.used(0)).toEqual([{ id: d.rings[0].nextDesc - 1, len: 8 }]);
    });
  }

  it('indirect descriptors without VIRTIO_F_INDIRECT_DESC are a fault', () => {
    const d = new Driver(new RngDevice({ seed: 1 }));
    d.init(16, (f) => f & ~bit(VIRTIO_F.INDIRECT_DESC));
    d.submit(0, [8, 8], true);
    d.kick(0);
    expect(d.errors[0]).toMatch(/without VIRTIO_F_INDIRECT_DESC/);
  });

  it('a misaligned ring at QueueReady is a fault', () => {
    const d = new Driver(new RngDevice());
    d.negotiate();
    d.setupQueue(0, 8, d.alloc(16 * 8 + 8, 16) + 8n);
    expect(d.r(M.QUEUE_READY)).toBe(0);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.irq).toBe(false); // no DRIVER_OK yet: no notification
    expect(d.errors[0]).toMatch(/desc area .* misaligned/);
  });

  it('a queue size that is not a power of two is a fault', () => {
    const d = new Driver(new RngDevice());
    d.negotiate();
    d.setupQueue(0, 12);
    expect(d.errors[0]).toMatch(/queue size 12/);
  });
});

describe('virtio-blk', () => {
  it('reads and writes sectors', () => {
    const disk = new MemoryBackend(pattern(64 * SECTOR));
    const d = blkDriver(disk);
    const data = pattern(2 * SECTOR, 5);
    const w = blk(d, VIRTIO_BLK_T.OUT, 3, { out: data });
    d.kick(0);
    expect(w.status()).toBe(VIRTIO_BLK_S.OK);
    expect(disk.data.subarray(3 * SECTOR, 5 * SECTOR)).toEqual(data);
    expect(d.used(0)).toEqual([{ id: w.head, len: 1 }]);
    expect(d.irq).toBe(true);

    const r = blk(d, VIRTIO_BLK_T.IN, 2, { inLen: 4 * SECTOR });
    d.kick(0);
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    expect(r.data()).toEqual(disk.data.slice(2 * SECTOR, 6 * SECTOR));
    expect(d.used(0)).toEqual([{ id: r.head, len: 4 * SECTOR + 1 }]);
    expect(d.dev.pending()).toBe(0);
  });

  it('flushes, answers GET_ID, and fails unknown requests with UNSUPP', () => {
    let flushes = 0;
    const disk = new MemoryBackend(8 * SECTOR);
    const backend: BlockBackend = {
      size: disk.size,
      readOnly: false,
      read: (o, dst) => disk.read(o, dst),
      write: (o, src) => disk.write(o, src),
      flush: () => void flushes++,
    };
    const d = blkDriver(backend, { serial: 'disk-0' });
    const f = blk(d, VIRTIO_BLK_T.FLUSH, 0);
    const id = blk(d, VIRTIO_BLK_T.GET_ID, 0, { inLen: 20 });
    const bad = blk(d, VIRTIO_BLK_T.DISCARD, 0, { out: new Uint8Array(16) });
    d.kick(0);
    expect([f.status(), id.status(), bad.status()]).toEqual([VIRTIO_BLK_S.OK, VIRTIO_BLK_S.OK, VIRTIO_BLK_S.UNSUPP]);
    expect(flushes).toBe(1);
    expect(new TextDecoder().decode(id.data())).toBe('disk-0'.padEnd(20, '\0'));
    expect(d.used(0).map((u) => u.len)).toEqual([1, 21, 1]);
  });

  it('a read-only disk offers VIRTIO_BLK_F_RO and fails writes with IOERR', () => {
    const disk = new MemoryBackend(pattern(8 * SECTOR));
    const before = disk.data.slice();
    const d = new Driver(new BlockDevice(disk, { readOnly: true }));
    expect(d.offered() & bit(VIRTIO_BLK_F.RO)).not.toBe(0n);
    d.init();
    const w = blk(d, VIRTIO_BLK_T.OUT, 0, { out: new Uint8Array(SECTOR) });
    const r = blk(d, VIRTIO_BLK_T.IN, 1, { inLen: SECTOR });
    d.kick(0);
    expect(w.status()).toBe(VIRTIO_BLK_S.IOERR);
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    expect(disk.data).toEqual(before);
    // a backend that is read-only by itself makes the device read-only too
    expect(new BlockDevice(new MemoryBackend(512, { readOnly: true })).readOnly).toBe(true);
  });

  it('fails out-of-range and misaligned transfers with IOERR', () => {
    const d = blkDriver(new MemoryBackend(8 * SECTOR));
    const past = blk(d, VIRTIO_BLK_T.IN, 7, { inLen: 2 * SECTOR });
    const huge = blk(d, VIRTIO_BLK_T.OUT, 2 ** 60, { out: new Uint8Array(SECTOR) });
    const odd = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: 100 });
    const last = blk(d, VIRTIO_BLK_T.IN, 7, { inLen: SECTOR });
    d.kick(0);
    expect([past.status(), huge.status(), odd.status(), last.status()]).toEqual([
      VIRTIO_BLK_S.IOERR, VIRTIO_BLK_S.IOERR, VIRTIO_BLK_S.IOERR, VIRTIO_BLK_S.OK,
    ]);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('a request without a status byte is a device fault', () => {
    const d = blkDriver(new MemoryBackend(8 * SECTOR));
    d.submit(0, [new Uint8Array(16)]);
    d.kick(0);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.errors[0]).toMatch(/virtio-blk: request 0 has no header or no status byte/);
  });

  it('serves requests through indirect tables, also after direct descriptors', () => {
    const disk = new MemoryBackend(pattern(16 * SECTOR));
    const d = blkDriver(disk);
    const r = blk(d, VIRTIO_BLK_T.IN, 4, { inLen: 2 * SECTOR }, true);
    d.kick(0);
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    expect(r.data()).toEqual(disk.data.slice(4 * SECTOR, 6 * SECTOR));
    // header as a direct descriptor chained to an indirect table holding data + status (§2.7.5.3.2)
    const ring = d.rings[0];
    const header = d.alloc(16);
    d.view().setUint32(d.at(header), VIRTIO_BLK_T.IN, true);
    d.view().setBigUint64(d.at(header) + 8, 1n, true);
    const data = d.alloc(SECTOR);
    const status = d.alloc(1);
    const table = d.alloc(32, 16);
    d.desc(table, 0, data, SECTOR, DF.WRITE | DF.NEXT, 1);
    d.desc(table, 1, status, 1, DF.WRITE);
    d.desc(ring.desc, 5, header, 16, DF.NEXT, 6);
    d.desc(ring.desc, 6, table, 32, DF.INDIRECT | DF.WRITE); // WRITE on the table descriptor is ignored
    d.publish(0, 5);
    d.kick(0);
    expect(d.used(0).at(-1)).toEqual({ id: 5, len: SECTOR + 1 });
    expect(d.read(status, 1)[0]).toBe(VIRTIO_BLK_S.OK);
    expect(d.read(data, SECTOR)).toEqual(disk.data.slice(SECTOR, 2 * SECTOR));
  });

  it('the overlay takes the writes and leaves the base untouched', async () => {
    const base = new MemoryBackend(pattern(32 * SECTOR), { readOnly: true });
    const before = base.data.slice();
    const overlay = new OverlayBackend(base);
    const d = blkDriver(overlay);
    expect(d.offered() & bit(VIRTIO_BLK_F.RO)).toBe(0n);
    const data = pattern(SECTOR, 9);
    blk(d, VIRTIO_BLK_T.OUT, 9, { out: data }); // one sector inside the second 4 KiB block
    blk(d, VIRTIO_BLK_T.OUT, 16, { out: pattern(8 * SECTOR, 3) }); // whole blocks
    const r = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: 32 * SECTOR });
    d.kick(0);
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    const expected = before.slice();
    expected.set(data, 9 * SECTOR);
    expected.set(pattern(8 * SECTOR, 3), 16 * SECTOR);
    expect(r.data()).toEqual(expected);
    expect(base.data).toEqual(before);
    expect(overlay.dirtyBlocks).toBe(2);
  });

  it('an overlay over an asynchronous base copies partial blocks before writing', async () => {
    const inner = new MemoryBackend(pattern(16 * SECTOR));
    const base: BlockBackend = { size: inner.size, readOnly: true, read: async (o, dst) => inner.read(o, dst), write: () => {} };
    const overlay = new OverlayBackend(base);
    await overlay.write(SECTOR, pattern(SECTOR, 4));
    const out = new Uint8Array(16 * SECTOR);
    await overlay.read(0, out);
    const expected = inner.data.slice();
    expected.set(pattern(SECTOR, 4), SECTOR);
    expect(out).toEqual(expected);
  });

  it('completes asynchronous backend I/O later: pending(), then the interrupt', async () => {
    const disk = new MemoryBackend(pattern(16 * SECTOR));
    const resolvers: (() => void)[] = [];
    const slow: BlockBackend = {
      size: disk.size,
      readOnly: false,
      read: (o, dst) => new Promise<void>((res) => resolvers.push(() => (disk.read(o, dst), res()))),
      write: (o, src) => disk.write(o, src),
    };
    const d = blkDriver(slow);
    const r1 = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: SECTOR });
    const r2 = blk(d, VIRTIO_BLK_T.IN, 1, { inLen: SECTOR });
    d.kick(0);
    expect(d.dev.pending()).toBe(2);
    expect(d.used(0)).toHaveLength(0);
    expect(d.irq).toBe(false);
    expect(resolvers).toHaveLength(1); // requests run in order, one at a time
    resolvers[0]();
    await new Promise((res) => setTimeout(res, 0));
    expect(d.used(0)).toEqual([{ id: r1.head, len: SECTOR + 1 }]);
    expect(r1.data()).toEqual(disk.data.slice(0, SECTOR));
    expect(d.irq).toBe(true);
    expect(d.activity).toBeGreaterThan(0);
    expect(d.dev.pending()).toBe(1);
    resolvers[1]();
    await new Promise((res) => setTimeout(res, 0));
    expect(d.used(0)).toEqual([{ id: r2.head, len: SECTOR + 1 }]);
    expect(d.dev.pending()).toBe(0);
  });

  /** A read-only backend whose reads complete only when release() is called. */
  function heldBackend() {
    let done = () => {};
    const slow: BlockBackend = {
      size: 8 * SECTOR,
      readOnly: true,
      read: (_o, dst) => new Promise<void>((res) => (done = () => (dst.fill(0xaa), res()))),
      write: () => {},
    };
    return { slow, release: () => done() };
  }

  it('a completion after a reset does not touch guest memory', async () => {
    const { slow, release } = heldBackend();
    const d = blkDriver(slow);
    const r = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: SECTOR });
    d.kick(0);
    expect(d.dev.pending()).toBe(1);
    d.w(M.STATUS, 0);
    expect(d.dev.pending()).toBe(0);
    release();
    await new Promise((res) => setTimeout(res, 0));
    expect(r.data()).toEqual(new Uint8Array(SECTOR));
    expect(r.status()).toBe(0); // never written
    expect(d.irq).toBe(false);
  });

  it('a fault while requests are in flight drops them and is counted once', async () => {
    const { slow, release } = heldBackend();
    const d = blkDriver(slow);
    const r1 = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: SECTOR });
    blk(d, VIRTIO_BLK_T.IN, 1, { inLen: SECTOR });
    d.kick(0);
    expect(d.dev.pending()).toBe(2);
    d.publish(0, 200);
    d.kick(0);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.dev.pending()).toBe(0);
    release();
    await new Promise((res) => setTimeout(res, 0));
    expect(d.used(0)).toHaveLength(0);
    expect(r1.data()).toEqual(new Uint8Array(SECTOR));
    expect(d.dev.stats.errors).toBe(1);
  });

  it('a failing backend answers IOERR and reports the error', async () => {
    const failing: BlockBackend = {
      size: 8 * SECTOR,
      readOnly: false,
      read: () => Promise.reject(new Error('network down')),
      write: () => {
        throw new Error('disk full');
      },
    };
    const d = blkDriver(failing);
    const r = blk(d, VIRTIO_BLK_T.IN, 0, { inLen: SECTOR });
    const w = blk(d, VIRTIO_BLK_T.OUT, 0, { out: new Uint8Array(SECTOR) });
    d.kick(0);
    await new Promise((res) => setTimeout(res, 0));
    expect([r.status(), w.status()]).toEqual([VIRTIO_BLK_S.IOERR, VIRTIO_BLK_S.IOERR]);
    expect(d.errors).toEqual(['virtio-blk: I/O error: network down', 'virtio-blk: I/O error: disk full']);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(0);
  });
});

describe('block backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-virtio-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('FileBackend reads, writes and flushes a file; read-only refuses writes', () => {
    const path = join(dir, 'disk.img');
    writeFileSync(path, pattern(8 * SECTOR));
    const f = openFileBackend(path);
    expect([f.size, f.readOnly]).toEqual([8 * SECTOR, false]);
    const d = blkDriver(f);
    blk(d, VIRTIO_BLK_T.OUT, 2, { out: pattern(SECTOR, 7) });
    const r = blk(d, VIRTIO_BLK_T.IN, 1, { inLen: 2 * SECTOR });
    blk(d, VIRTIO_BLK_T.FLUSH, 0);
    d.kick(0);
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    expect(r.data().subarray(SECTOR)).toEqual(pattern(SECTOR, 7));
    f.close();
    expect(new Uint8Array(readFileSync(path)).subarray(2 * SECTOR, 3 * SECTOR)).toEqual(pattern(SECTOR, 7));

    const ro = openFileBackend(path, { readOnly: true });
    expect(ro.readOnly).toBe(true);
    expect(() => ro.write(0, new Uint8Array(1))).toThrow(/read-only/);
    ro.close();
  });

  it('openFileBackend explains a missing or unreadable file in one line', () => {
    const missing = join(dir, 'x.img');
    expect(() => openFileBackend(missing)).toThrow(`cannot open disk image '${missing}': ENOENT: no such file or directory`);
    expect(() => openFileBackend(dir)).toThrow(/^cannot open disk image '.*': EISDIR: illegal operation on a directory$/);
    const locked = join(dir, 'locked.img');
    writeFileSync(locked, new Uint8Array(SECTOR));
    chmodSync(locked, 0);
    if (process.getuid?.() !== 0) expect(() => openFileBackend(locked, { readOnly: true })).toThrow(`cannot open disk image '${locked}': EACCES: permission denied`);
  });

  it('UrlBackend reads with Range requests and caches 64 KiB chunks', async () => {
    const image = pattern(300 * 1024);
    const ranges: string[] = [];
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      if (init?.method === 'HEAD') return new Response(null, { headers: { 'content-length': String(image.length) } });
      const range = new Headers(init?.headers).get('range')!;
      ranges.push(range);
      const [, a, b] = /bytes=(\d+)-(\d+)/.exec(range)!.map(Number);
      return new Response(image.slice(a, b + 1), { status: 206 });
    }) as typeof fetch;
    const url = await UrlBackend.open('https://example.test/disk.img', { fetch: fakeFetch });
    expect([url.size, url.readOnly]).toEqual([image.length, true]);
    const out = new Uint8Array(100 * 1024);
    const first = url.read(60 * 1024, out);
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(out).toEqual(image.slice(60 * 1024, 160 * 1024));
    expect(ranges).toEqual([`bytes=0-${3 * 65536 - 1}`]); // chunks 0..2 in one request
    // cached now: answered synchronously
    const again = new Uint8Array(4096);
    expect(url.read(65536, again)).toBeUndefined();
    expect(again).toEqual(image.slice(65536, 65536 + 4096));
    // the short last chunk
    const tail = new Uint8Array(1000);
    await url.read(image.length - 1000, tail);
    expect(tail).toEqual(image.slice(-1000));
    expect(ranges[1]).toBe(`bytes=${4 * 65536}-${image.length - 1}`);
    expect(() => url.write()).toThrow(/read-only/);

    // as a disk: reads through the device complete asynchronously
    const d = blkDriver(url);
    expect(d.offered() & bit(VIRTIO_BLK_F.RO)).not.toBe(0n);
    const r = blk(d, VIRTIO_BLK_T.IN, 400, { inLen: 8 * SECTOR });
    d.kick(0);
    expect(d.dev.pending()).toBe(1);
    await new Promise((res) => setTimeout(res, 0));
    expect(r.status()).toBe(VIRTIO_BLK_S.OK);
    expect(r.data()).toEqual(image.slice(400 * SECTOR, 408 * SECTOR));
  });
});

describe('virtio-console', () => {
  it('sends guest output to onOutput and emerg_wr', () => {
    const out: string[] = [];
    const con = new ConsoleDevice({ onOutput: (b) => out.push(new TextDecoder().decode(b)) });
    const d = new Driver(con);
    d.init();
    d.submit(1, [new TextEncoder().encode('hello, '), new TextEncoder().encode('world')]);
    d.kick(1);
    expect(out).toEqual(['hello, world']);
    expect(d.used(1)).toEqual([{ id: 0, len: 0 }]);
    d.w(M.CONFIG + VIRTIO_CONSOLE_CONFIG.EMERG_WR, 0x21);
    expect(out.at(-1)).toBe('!');
  });

  it('holds input until the guest posts receive buffers', () => {
    const con = new ConsoleDevice();
    con.input('typed early ');
    const d = new Driver(con);
    d.init();
    con.input('and later');
    expect(con.pendingInput).toBe(21);
    const a = d.submit(0, [8]);
    const b = d.submit(0, [64]);
    d.kick(0);
    expect(d.used(0)).toEqual([{ id: a.head, len: 8 }, { id: b.head, len: 13 }]);
    expect(new TextDecoder().decode(d.read(a.pas[0], 8)) + new TextDecoder().decode(d.read(b.pas[0], 13))).toBe('typed early and later');
    expect(con.pendingInput).toBe(0);
    expect(d.irq).toBe(true);
    // buffers posted first, input later: delivered at once (an async event: onActivity)
    d.ack();
    const c = d.submit(0, [16]);
    d.kick(0);
    expect(d.used(0)).toHaveLength(0);
    con.input('x');
    expect(d.used(0)).toEqual([{ id: c.head, len: 1 }]);
    expect(d.irq).toBe(true);
    expect(d.activity).toBe(1);
  });
});

describe('virtio-rng', () => {
  it('fills the buffers it is given', () => {
    const d = new Driver(new RngDevice());
    d.init();
    const { head, pas } = d.submit(0, [256]);
    d.kick(0);
    expect(d.used(0)).toEqual([{ id: head, len: 256 }]);
    expect(d.read(pas[0], 256).some((b) => b !== 0)).toBe(true);
  });

  it('is reproducible with a seed', () => {
    const run = (seed: number) => {
      const d = new Driver(new RngDevice({ seed }));
      d.init();
      const { pas } = d.submit(0, [64, 37], true);
      d.kick(0);
      return [...d.read(pas[0], 64), ...d.read(pas[1], 37)];
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });
});

describe('virtio-net', () => {
  const frame = Uint8Array.from({ length: 60 }, (_, i) => (i < 6 ? 0xff : i));

  it('loops frames the guest sends back to it with a virtio_net_hdr', () => {
    const net = new NetDevice({ mac: '02:00:00:00:00:01' });
    const d = new Driver(net);
    const f = d.offered();
    expect(f & bit(5)).not.toBe(0n); // VIRTIO_NET_F_MAC
    expect(f & bit(16)).not.toBe(0n); // VIRTIO_NET_F_STATUS
    expect([0, 1, 2, 3, 4, 5].map((i) => d.regs.getUint8(M.CONFIG + VIRTIO_NET_CONFIG.MAC + i))).toEqual([2, 0, 0, 0, 0, 1]);
    expect(d.regs.getUint16(M.CONFIG + VIRTIO_NET_CONFIG.STATUS, true)).toBe(VIRTIO_NET_S.LINK_UP);
    d.init();
    const rx = d.submit(0, [12 + 1514]);
    d.kick(0);
    const tx = d.submit(1, [new Uint8Array(12), frame]);
    d.kick(1);
    expect(d.used(1)).toEqual([{ id: tx.head, len: 0 }]);
    expect(d.used(0)).toEqual([{ id: rx.head, len: 12 + frame.length }]);
    const got = d.read(rx.pas[0], 12 + frame.length);
    expect(new DataView(got.buffer).getUint16(10, true)).toBe(1); // num_buffers
    expect(got.subarray(0, 10)).toEqual(new Uint8Array(10));
    expect(got.subarray(12)).toEqual(frame);
    expect(d.irq).toBe(true);
  });

  it('sends to the host callback and queues received frames until buffers arrive', () => {
    const sent: Uint8Array[] = [];
    const net = new NetDevice({ send: (f) => sent.push(f) });
    const d = new Driver(net);
    d.init();
    d.submit(1, [new Uint8Array(12), frame.subarray(0, 30), frame.subarray(30)]);
    d.kick(1);
    expect(sent).toEqual([frame]);
    expect(net.receive(frame)).toBe(true);
    expect(net.receive(new Uint8Array(2000))).toBe(false);
    const rx = d.submit(0, [1526]);
    d.kick(0);
    expect(d.used(0)).toEqual([{ id: rx.head, len: 72 }]);
    expect(net.dropped).toBe(1);
  });

  it('signals a link change as a config change', () => {
    const net = new NetDevice();
    const d = new Driver(net);
    d.init();
    const gen = d.r(M.CONFIG_GENERATION);
    net.setLink(false);
    expect(d.regs.getUint16(M.CONFIG + VIRTIO_NET_CONFIG.STATUS, true)).toBe(0);
    expect(d.r(M.CONFIG_GENERATION)).not.toBe(gen);
    expect(d.r(M.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT.CONFIG);
    expect(d.irq).toBe(true);
  });
});
