// The virtio-mmio transport, version 2 (virtio v1.2 §4.2). The register window is a DataView
// the hart's loads read directly, so every readable register is kept current in it; guest
// stores are not applied to it but handed to write(), which updates the state and the window.
import { Virtqueue, type GuestMemory, type QueueHooks } from './queue.js';

/** §4.2.2 MMIO device register layout (offsets in the window). */
export const VIRTIO_MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** §4.2.2 fixed register values: "virt", version 2 (non-legacy), vendor "QEMU". */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
export const VIRTIO_MMIO_VERSION = 2;
export const VIRTIO_MMIO_VENDOR = 0x554d4551;
export const VIRTIO_MMIO_WINDOW = 0x1000;

/** §4.2.2 InterruptStatus bits. */
export const VIRTIO_MMIO_INT = { VRING: 1, CONFIG: 2 } as const;

/** §2.1 device status field. */
export const VIRTIO_CONFIG_S = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** §6 reserved (device-independent) feature bits. */
export const VIRTIO_F = {
  INDIRECT_DESC: 28,
  RING_EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
  IN_ORDER: 35,
  NOTIFICATION_DATA: 38,
  RING_RESET: 40,
} as const;

/** §5 device IDs. */
export const VIRTIO_ID = { NET: 1, BLOCK: 2, CONSOLE: 3, RNG: 4 } as const;

/** The feature mask of bit `n`. */
export const bit = (n: number): bigint => 1n << BigInt(n);

/** Features the transport adds to every device's own. */
const TRANSPORT_FEATURES = bit(VIRTIO_F.VERSION_1) | bit(VIRTIO_F.INDIRECT_DESC);

/** What a transport offers the device model plugged into it. */
export interface VirtioHost {
  readonly mem: GuestMemory;
  /** Features the driver accepted (0 before FEATURES_OK). */
  readonly features: bigint;
  /** Virtqueue `index` (one per entry of the device's queueSizes). */
  queue(index: number): Virtqueue;
  /** The device changed its config space: bump ConfigGeneration, notify the driver. */
  configChanged(): void;
  /** A fatal device error: set DEVICE_NEEDS_RESET and stop every queue. */
  fail(message: string): void;
  /** A non-fatal error (a backend I/O failure): count and report it. */
  error(message: string): void;
}

/** A device model (virtio-blk, -console, ...) behind a transport. */
export interface VirtioDevice {
  readonly deviceId: number;
  /** name used in error messages */
  readonly name: string;
  /** device-specific feature bits (the transport adds VERSION_1 and INDIRECT_DESC) */
  readonly features: bigint;
  /** QueueNumMax of each virtqueue */
  readonly queueSizes: readonly number[];
  /** the device config space (window offset 0x100); change it, then call host.configChanged() */
  readonly config: Uint8Array;
  attach(host: VirtioHost): void;
  /** The driver notified queue `index` (QueueNotify). */
  notify(index: number): void;
  /** The driver set DRIVER_OK: the queues may be used. */
  activate?(): void;
  /** The driver wrote the config space (offset relative to 0x100). */
  writeConfig?(offset: number, size: number, value: number): void;
  /** Device reset: forget driver-visible state (queues are reset by the transport). */
  reset?(): void;
}

/** Common plumbing of the device models. */
export abstract class VirtioDeviceBase implements VirtioDevice {
  readonly config: Uint8Array;
  protected readonly cfg: DataView;
  protected host: VirtioHost | null = null;

  constructor(
    readonly deviceId: number,
    readonly name: string,
    readonly features: bigint,
    readonly queueSizes: readonly number[],
    configSize: number,
  ) {
    this.config = new Uint8Array(configSize);
    this.cfg = new DataView(this.config.buffer);
  }

  attach(host: VirtioHost): void {
    if (this.host) throw new Error(`${this.name} is already attached to a transport`);
    this.host = host;
  }

  abstract notify(index: number): void;

  /** Queue `index`, or null when not attached. */
  protected queue(index: number): Virtqueue | null {
    return this.host ? this.host.queue(index) : null;
  }
}

export interface VirtioStats {
  /** QueueNotify writes */
  notifies: number;
  /** interrupts raised (InterruptStatus bits going from 0 to 1) */
  interrupts: number;
  /** descriptor chains taken from the available rings */
  requests: number;
  /** faults (bad chains, DEVICE_NEEDS_RESET) and backend I/O errors */
  errors: number;
}

/** §4.2 virtio-mmio transport. */
export class VirtioMmio implements VirtioHost {
  readonly stats: VirtioStats = { notifies: 0, interrupts: 0, requests: 0, errors: 0 };
  /** Called with every fault and I/O error. */
  onError?: (message: string) => void;
  /** Called after asynchronous activity (a completion, an interrupt raised outside write()). */
  onActivity?: () => void;
  /** All feature bits offered. */
  readonly offered: bigint;

  private readonly queues: Virtqueue[];
  private status = 0;
  private interruptStatus = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private generation = 0;
  private level = false;
  private inWrite = 0;

  constructor(
    private regs: DataView,
    readonly mem: GuestMemory,
    private readonly irq: (level: boolean) => void,
    readonly device: VirtioDevice | null,
  ) {
    if (regs.byteLength < VIRTIO_MMIO_WINDOW) throw new RangeError(`virtio-mmio: register window of ${regs.byteLength} bytes (need ${VIRTIO_MMIO_WINDOW})`);
    this.offered = device ? device.features | TRANSPORT_FEATURES : 0n;
    const hooks: QueueHooks = {
      fault: (m) => this.fail(m),
      popped: () => void this.stats.requests++,
      used: (interrupt) => {
        if (interrupt) this.raise(VIRTIO_MMIO_INT.VRING);
        else if (!this.inWrite) this.onActivity?.();
      },
    };
    this.queues = (device?.queueSizes ?? []).map((max, i) => new Virtqueue(i, max, mem, hooks));
    new Uint8Array(regs.buffer, regs.byteOffset, VIRTIO_MMIO_WINDOW).fill(0);
    device?.attach(this);
    this.syncConfig();
    this.refresh();
  }

  /** Negotiated features (after FEATURES_OK). */
  get features(): bigint {
    return this.status & VIRTIO_CONFIG_S.FEATURES_OK ? this.driverFeatures : 0n;
  }

  queue(index: number): Virtqueue {
    const q = this.queues[index];
    if (!q) throw new RangeError(`${this.name}: no virtqueue ${index}`);
    return q;
  }

  /** Requests in flight (taken from a ring, not yet completed). */
  pending(): number {
    let n = 0;
    for (const q of this.queues) n += q.inflight;
    return n;
  }

  /** Move the register window (e.g. the Wasm memory grew and the old view is detached). */
  remap(regs: DataView): void {
    this.regs = regs;
    new Uint8Array(regs.buffer, regs.byteOffset, VIRTIO_MMIO_WINDOW).fill(0);
    this.syncConfig();
    this.refresh();
  }

  /** Device reset (§2.4; Status = 0, or a machine reset). */
  reset(): void {
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.interruptStatus = 0;
    this.updateIrq();
    for (const q of this.queues) q.reset();
    this.device?.reset?.();
    this.syncConfig();
    this.refresh();
  }

  /** A guest store to the window (offset within it), applied before its next instruction. */
  write(offset: number, size: number, value: number): void {
    if (!this.device) return;
    this.inWrite++;
    try {
      if (offset >= VIRTIO_MMIO.CONFIG) this.writeConfig(offset - VIRTIO_MMIO.CONFIG, size, value);
      // §4.2.2.2: control registers are accessed 32 bits wide and aligned
      else if (size === 4 && (offset & 3) === 0) this.writeRegister(offset, value >>> 0);
    } finally {
      this.inWrite--;
    }
    this.refresh();
  }

  private get name(): string {
    return this.device?.name ?? 'virtio-mmio';
  }

  private writeRegister(offset: number, v: number): void {
    const M = VIRTIO_MMIO;
    const q = this.queues[this.queueSel];
    // queue layout may only change while the queue is not ready (§4.2.3.2)
    const setup = q && !q.ready ? q : undefined;
    switch (offset) {
      case M.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        break;
      case M.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        break;
      case M.DRIVER_FEATURES:
        // §3.1.1: features are fixed once FEATURES_OK is set
        if (!(this.status & VIRTIO_CONFIG_S.FEATURES_OK) && this.driverFeaturesSel < 2) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
        }
        break;
      case M.QUEUE_SEL:
        this.queueSel = v;
        break;
      case M.QUEUE_NUM:
        if (setup) setup.num = v;
        break;
      case M.QUEUE_READY:
        if (!q) break;
        if (v & 1) {
          if (!q.ready) q.enable();
        } else q.disable();
        break;
      case M.QUEUE_DESC_LOW:
      case M.QUEUE_DESC_HIGH:
        if (setup) setup.desc = half(setup.desc, offset === M.QUEUE_DESC_HIGH, v);
        break;
      case M.QUEUE_DRIVER_LOW:
      case M.QUEUE_DRIVER_HIGH:
        if (setup) setup.driver = half(setup.driver, offset === M.QUEUE_DRIVER_HIGH, v);
        break;
      case M.QUEUE_DEVICE_LOW:
      case M.QUEUE_DEVICE_HIGH:
        if (setup) setup.device = half(setup.device, offset === M.QUEUE_DEVICE_HIGH, v);
        break;
      case M.QUEUE_NOTIFY:
        this.notify(v & 0xffff);
        break;
      case M.INTERRUPT_ACK:
        this.interruptStatus &= ~v;
        this.updateIrq();
        break;
      case M.STATUS:
        this.writeStatus(v & 0xff);
        break;
      default:
        break; // read-only or unknown: ignored
    }
  }

  /** §2.1, §3.1.1 the driver's status writes. */
  private writeStatus(v: number): void {
    const S = VIRTIO_CONFIG_S;
    if (v === 0) return this.reset();
    // DEVICE_NEEDS_RESET belongs to the device
    let s = (v & ~S.DEVICE_NEEDS_RESET) | (this.status & S.DEVICE_NEEDS_RESET);
    const rising = s & ~this.status;
    if (rising & S.FEATURES_OK) {
      // §6.1: VERSION_1 is required; nothing may be accepted that was not offered
      const f = this.driverFeatures;
      if ((f & ~this.offered) !== 0n || (f & bit(VIRTIO_F.VERSION_1)) === 0n) s &= ~S.FEATURES_OK;
    }
    this.status = s;
    const live = (s & S.DRIVER_OK) !== 0 && (s & S.FEATURES_OK) !== 0 && (s & S.DEVICE_NEEDS_RESET) === 0;
    const indirect = (this.features & bit(VIRTIO_F.INDIRECT_DESC)) !== 0n;
    for (const q of this.queues) {
      q.live = live;
      q.indirect = indirect;
    }
    if (live && rising & S.DRIVER_OK) this.guard(() => this.device?.activate?.());
  }

  private notify(index: number): void {
    this.stats.notifies++;
    const q = this.queues[index];
    if (q && q.ready && q.live) this.guard(() => this.device!.notify(index));
  }

  private writeConfig(offset: number, size: number, value: number): void {
    const len = this.device!.config.length;
    if ((size !== 1 && size !== 2 && size !== 4) || offset + size > len) return;
    this.guard(() => this.device!.writeConfig?.(offset, size, size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1)));
    this.syncConfig();
  }

  /** Run device code; a host exception from it is a device fault, not an emulator crash. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  configChanged(): void {
    this.generation = (this.generation + 1) >>> 0;
    this.syncConfig();
    // §2.5.1 / §4.2.3.3: configuration change notification once the driver is up
    if (this.status & VIRTIO_CONFIG_S.DRIVER_OK) this.raise(VIRTIO_MMIO_INT.CONFIG);
    this.refresh();
  }

  fail(message: string): void {
    this.error(message);
    if (this.status & VIRTIO_CONFIG_S.DEVICE_NEEDS_RESET) return;
    this.status |= VIRTIO_CONFIG_S.DEVICE_NEEDS_RESET;
    for (const q of this.queues) {
      q.live = false;
      q.drop();
    }
    // §2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a config change notification
    if (this.status & VIRTIO_CONFIG_S.DRIVER_OK) this.raise(VIRTIO_MMIO_INT.CONFIG);
    this.refresh();
  }

  error(message: string): void {
    this.stats.errors++;
    this.onError?.(`${this.name}: ${message}`);
  }

  private raise(bits: number): void {
    if ((this.interruptStatus & bits) !== bits) {
      this.interruptStatus |= bits;
      this.stats.interrupts++;
      this.updateIrq();
      this.regs.setUint32(VIRTIO_MMIO.INTERRUPT_STATUS, this.interruptStatus, true);
    }
    if (!this.inWrite) this.onActivity?.();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.level) {
      this.level = level;
      this.irq(level);
    }
  }

  private syncConfig(): void {
    const config = this.device?.config;
    if (config?.length)
      new Uint8Array(this.regs.buffer, this.regs.byteOffset + VIRTIO_MMIO.CONFIG, Math.min(config.length, VIRTIO_MMIO_WINDOW - VIRTIO_MMIO.CONFIG)).set(
        config.subarray(0, VIRTIO_MMIO_WINDOW - VIRTIO_MMIO.CONFIG),
      );
  }

  /** Write every readable register into the window. */
  private refresh(): void {
    const M = VIRTIO_MMIO;
    const r = this.regs;
    const set = (off: number, v: number) => r.setUint32(off, v >>> 0, true);
    const q = this.queues[this.queueSel];
    const sel = this.deviceFeaturesSel;
    set(M.MAGIC_VALUE, VIRTIO_MMIO_MAGIC);
    set(M.VERSION, VIRTIO_MMIO_VERSION);
    set(M.DEVICE_ID, this.device?.deviceId ?? 0);
    set(M.VENDOR_ID, VIRTIO_MMIO_VENDOR);
    set(M.DEVICE_FEATURES, sel < 2 ? Number((this.offered >> BigInt(32 * sel)) & 0xffffffffn) : 0);
    set(M.QUEUE_NUM_MAX, q?.max ?? 0);
    set(M.QUEUE_READY, q?.ready ? 1 : 0);
    set(M.INTERRUPT_STATUS, this.interruptStatus);
    set(M.STATUS, this.status);
    for (const [lo, addr] of [[M.QUEUE_DESC_LOW, q?.desc], [M.QUEUE_DRIVER_LOW, q?.driver], [M.QUEUE_DEVICE_LOW, q?.device]] as const) {
      set(lo, Number((addr ?? 0n) & 0xffffffffn));
      set(lo + 4, Number((addr ?? 0n) >> 32n));
    }
    // §4.2.2: no shared memory regions: length -1
    set(M.SHM_LEN_LOW, 0xffffffff);
    set(M.SHM_LEN_HIGH, 0xffffffff);
    set(M.CONFIG_GENERATION, this.generation);
  }
}

/** Replace the low or high 32 bits of a 64-bit register pair. */
function half(old: bigint, high: boolean, v: number): bigint {
  return high ? (old & 0xffffffffn) | (BigInt(v) << 32n) : (old & ~0xffffffffn) | BigInt(v);
}
