// virtio-blk (virtio v1.2 §5.2) and its backends. Requests run one at a time in ring order;
// a backend may answer synchronously or with a Promise (a URL fetch), and the request
// completes (used ring, interrupt) when it settles.
import { VirtioDeviceBase, VIRTIO_ID, bit } from './mmio.js';
import type { Chain } from './queue.js';

/** §5.2.3 feature bits. */
export const VIRTIO_BLK_F = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  GEOMETRY: 4,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
  TOPOLOGY: 10,
  CONFIG_WCE: 11,
  MQ: 12,
  DISCARD: 13,
  WRITE_ZEROES: 14,
} as const;

/** §5.2.6 request types. */
export const VIRTIO_BLK_T = {
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  GET_LIFETIME: 10,
  DISCARD: 11,
  WRITE_ZEROES: 13,
  SECURE_ERASE: 14,
} as const;

/** §5.2.6 request status. */
export const VIRTIO_BLK_S = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

/** §5.2.4 struct virtio_blk_config: offsets of the fields this device fills. */
export const VIRTIO_BLK_CONFIG = {
  CAPACITY: 0, // le64, 512-byte sectors
  SIZE_MAX: 8, // le32
  SEG_MAX: 12, // le32
  BLK_SIZE: 20, // le32
  LENGTH: 0x3c, // through max_secure_erase_seg (fields not offered read as 0)
} as const;

/** §5.2.6: sectors are always 512 bytes; the header is le32 type, le32 reserved, le64 sector. */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
export const VIRTIO_BLK_HEADER_SIZE = 16;
/** §5.2.6: GET_ID answers a 20-byte serial (not NUL-terminated when 20 long). */
export const VIRTIO_BLK_ID_BYTES = 20;

/** Disk contents. `read`/`write`/`flush` may complete synchronously or return a Promise. */
export interface BlockBackend {
  /** bytes */
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, dest: Uint8Array): void | Promise<void>;
  write(offset: number, src: Uint8Array): void | Promise<void>;
  flush?(): void | Promise<void>;
}

export interface BlockOptions {
  /** present a read-only disk even if the backend is writable */
  readOnly?: boolean;
  /** GET_ID serial (at most 20 bytes are used) */
  serial?: string;
  /** QueueNumMax (default 256) */
  queueSize?: number;
  /** VIRTIO_BLK_F_BLK_SIZE: logical block size reported to the driver (default 512) */
  blockSize?: number;
  /** VIRTIO_BLK_F_SIZE_MAX: largest segment, offered when given */
  sizeMax?: number;
}

type Work = void | Promise<void>;

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as Promise<unknown> | undefined)?.then === 'function';
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Throw unless [offset, offset+len) lies inside a backend of `size` bytes. */
function checkRange(what: string, size: number, offset: number, len: number): void {
  if (!(offset >= 0 && len >= 0 && offset + len <= size))
    throw new RangeError(`${what}: access at ${offset} (+${len}) beyond ${size} bytes`);
}

/** §5.2 virtio-blk. */
export class BlockDevice extends VirtioDeviceBase {
  /** capacity in 512-byte sectors */
  readonly capacity: number;
  readonly readOnly: boolean;
  private readonly serial: Uint8Array;
  private backlog: Chain[] = [];
  private busy = false;
  private generation = 0;

  constructor(
    readonly backend: BlockBackend,
    opts: BlockOptions = {},
  ) {
    const F = VIRTIO_BLK_F;
    const queueSize = opts.queueSize ?? 256;
    const readOnly = !!opts.readOnly || backend.readOnly;
    const features =
      bit(F.SEG_MAX) | bit(F.BLK_SIZE) | bit(F.FLUSH) | (readOnly ? bit(F.RO) : 0n) | (opts.sizeMax ? bit(F.SIZE_MAX) : 0n);
    super(VIRTIO_ID.BLOCK, 'virtio-blk', features, [queueSize], VIRTIO_BLK_CONFIG.LENGTH);
    this.readOnly = readOnly;
    this.capacity = Math.floor(backend.size / VIRTIO_BLK_SECTOR_SIZE);
    this.serial = new TextEncoder().encode(opts.serial ?? 'wasmvisor').subarray(0, VIRTIO_BLK_ID_BYTES);
    const c = this.cfg;
    c.setBigUint64(VIRTIO_BLK_CONFIG.CAPACITY, BigInt(this.capacity), true);
    c.setUint32(VIRTIO_BLK_CONFIG.SIZE_MAX, opts.sizeMax ?? 0, true);
    // as QEMU: the request header and status take two of the queue's descriptors
    c.setUint32(VIRTIO_BLK_CONFIG.SEG_MAX, queueSize - 2, true);
    c.setUint32(VIRTIO_BLK_CONFIG.BLK_SIZE, opts.blockSize ?? VIRTIO_BLK_SECTOR_SIZE, true);
  }

  notify(): void {
    const q = this.queue(0);
    for (let c = q?.pop(); c; c = q!.pop()) this.backlog.push(c);
    this.pump();
  }

  reset(): void {
    // the request in progress (if any) completes into a dead chain; its backend I/O still runs
    this.backlog = [];
    this.busy = false;
    this.generation++;
  }

  /** Run queued requests in order; an asynchronous one holds the rest until it settles. */
  private pump(): void {
    while (!this.busy && this.backlog.length) {
      const c = this.backlog.shift()!;
      if (!c.alive) continue; // dropped by a reset or a fault since it was taken
      const work = this.handle(c);
      if (isPromise(work)) {
        this.busy = true;
        const gen = this.generation;
        const next = () => {
          if (gen !== this.generation) return;
          this.busy = false;
          this.pump();
        };
        work.then(next, (e) => {
          this.host?.fail(`internal error: ${message(e)}`);
          next();
        });
      }
    }
  }

  /** §5.2.6.1 one request: header (readable), data, status byte (last writable byte). */
  private handle(c: Chain): Work {
    const T = VIRTIO_BLK_T;
    const S = VIRTIO_BLK_S;
    const header = new Uint8Array(VIRTIO_BLK_HEADER_SIZE);
    if (c.read(0, header) < header.length || c.writableLength < 1) {
      this.host?.fail(`request ${c.head} has no header or no status byte`);
      return;
    }
    const h = new DataView(header.buffer);
    const type = h.getUint32(0, true);
    const sector = h.getBigUint64(8, true);
    switch (type) {
      case T.IN: {
        const offset = this.offset(sector, c.writableLength - 1);
        if (offset < 0) return this.complete(c, S.IOERR);
        const data = new Uint8Array(c.writableLength - 1);
        return this.io(c, () => this.backend.read(offset, data), () => c.write(0, data));
      }
      case T.OUT: {
        // §5.2.6.2: a read-only device fails writes and writes no data
        if (this.readOnly) return this.complete(c, S.IOERR);
        const data = c.readAll(VIRTIO_BLK_HEADER_SIZE);
        const offset = this.offset(sector, data.length);
        if (offset < 0) return this.complete(c, S.IOERR);
        return this.io(c, () => this.backend.write(offset, data));
      }
      case T.FLUSH:
        return this.io(c, () => this.backend.flush?.());
      case T.GET_ID: {
        const id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
        id.set(this.serial);
        return this.complete(c, S.OK, c.write(0, id.subarray(0, Math.min(id.length, c.writableLength - 1))));
      }
      default:
        return this.complete(c, S.UNSUPP);
    }
  }

  /** Byte offset of a transfer of `len` bytes at `sector`, or -1 when it is out of range. */
  private offset(sector: bigint, len: number): number {
    const SS = VIRTIO_BLK_SECTOR_SIZE;
    if (len % SS !== 0 || sector > BigInt(this.capacity) || Number(sector) * SS + len > this.capacity * SS) return -1;
    return Number(sector) * SS;
  }

  /** Start backend work; on success `after` (the bytes it wrote to the guest) then OK, else IOERR. */
  private io(c: Chain, start: () => Work, after?: () => number): Work {
    const ok = () => this.complete(c, VIRTIO_BLK_S.OK, after ? after() : 0);
    const bad = (e: unknown) => {
      this.host?.error(`I/O error: ${message(e)}`);
      this.complete(c, VIRTIO_BLK_S.IOERR);
    };
    let work: Work;
    try {
      work = start();
    } catch (e) {
      return bad(e);
    }
    if (isPromise(work)) return work.then(ok, bad);
    ok();
  }

  /** Write the status byte and return the chain: `written` data bytes plus the status. */
  private complete(c: Chain, status: number, written = 0): void {
    c.write(c.writableLength - 1, Uint8Array.of(status));
    c.queue.push(c, written + 1);
  }
}

/** A disk in host memory (the array is used as is, not copied). */
export class MemoryBackend implements BlockBackend {
  readonly data: Uint8Array;
  readonly readOnly: boolean;

  /** `data`: the contents, or a size in bytes for a zeroed disk. */
  constructor(data: ArrayBuffer | Uint8Array | number, opts: { readOnly?: boolean } = {}) {
    this.data = typeof data === 'number' ? new Uint8Array(data) : data instanceof Uint8Array ? data : new Uint8Array(data);
    this.readOnly = !!opts.readOnly;
  }

  get size(): number {
    return this.data.length;
  }

  read(offset: number, dest: Uint8Array): void {
    checkRange('memory disk', this.size, offset, dest.length);
    dest.set(this.data.subarray(offset, offset + dest.length));
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('memory disk is read-only');
    checkRange('memory disk', this.size, offset, src.length);
    this.data.set(src, offset);
  }
}

/**
 * Copy-on-write over any backend: writes land in a sparse map of 4 KiB blocks in memory and
 * the base is never modified. Callers must not overlap a write with other I/O to the same
 * block (virtio-blk runs its requests one at a time).
 */
export class OverlayBackend implements BlockBackend {
  static readonly BLOCK = 4096;
  readonly readOnly = false;
  private readonly blocks = new Map<number, Uint8Array>();

  constructor(readonly base: BlockBackend) {}

  get size(): number {
    return this.base.size;
  }

  /** Blocks written so far (4 KiB each). */
  get dirtyBlocks(): number {
    return this.blocks.size;
  }

  read(offset: number, dest: Uint8Array): Work {
    checkRange('overlay', this.size, offset, dest.length);
    const B = OverlayBackend.BLOCK;
    const waits: Promise<void>[] = [];
    for (let pos = 0; pos < dest.length; ) {
      const at = offset + pos;
      const block = this.blocks.get(Math.floor(at / B));
      if (block) {
        const n = Math.min(B - (at % B), dest.length - pos);
        dest.set(block.subarray(at % B, (at % B) + n), pos);
        pos += n;
        continue;
      }
      // the run of blocks not in the overlay comes from the base in one read
      let end = Math.min(pos + B - (at % B), dest.length);
      while (end < dest.length && !this.blocks.has(Math.floor((offset + end) / B))) end = Math.min(end + B, dest.length);
      const r = this.base.read(at, dest.subarray(pos, end));
      if (isPromise(r)) waits.push(r);
      pos = end;
    }
    if (waits.length) return Promise.all(waits).then(() => {});
  }

  write(offset: number, src: Uint8Array): Work {
    checkRange('overlay', this.size, offset, src.length);
    const B = OverlayBackend.BLOCK;
    const waits: Promise<void>[] = [];
    for (let pos = 0; pos < src.length; ) {
      const at = offset + pos;
      const index = Math.floor(at / B);
      const within = at % B;
      const n = Math.min(B - within, src.length - pos);
      const piece = src.slice(pos, pos + n);
      pos += n;
      const block = this.blocks.get(index);
      if (block) {
        block.set(piece, within);
        continue;
      }
      if (n === B) {
        this.blocks.set(index, piece);
        continue;
      }
      // a partial block: copy it from the base first
      const fresh = new Uint8Array(B);
      const apply = () => {
        const now = this.blocks.get(index);
        if (now) now.set(piece, within);
        else {
          fresh.set(piece, within);
          this.blocks.set(index, fresh);
        }
      };
      const r = this.base.read(index * B, fresh.subarray(0, Math.min(B, this.size - index * B)));
      if (isPromise(r)) waits.push(r.then(apply));
      else apply();
    }
    if (waits.length) return Promise.all(waits).then(() => {});
  }

  flush(): void {}
}

export interface UrlBackendOptions {
  /** the fetch to use (default: globalThis.fetch) */
  fetch?: typeof fetch;
  /** image size in bytes (default: from a HEAD request, or a Range probe) */
  size?: number;
  /** bytes per cached chunk (default 64 KiB) */
  chunkSize?: number;
  /** chunks kept (least recently used dropped first; default 1024 = 64 MiB) */
  cacheChunks?: number;
}

/** A read-only disk image over HTTP(S): Range requests, cached in 64 KiB chunks. */
export class UrlBackend implements BlockBackend {
  readonly readOnly = true;
  readonly chunkSize: number;
  /** Range requests made */
  requests = 0;
  private readonly cacheChunks: number;
  private readonly fetch: typeof fetch;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly loading = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly url: string,
    readonly size: number,
    opts: UrlBackendOptions = {},
  ) {
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.chunkSize = opts.chunkSize ?? 64 * 1024;
    this.cacheChunks = Math.max(1, opts.cacheChunks ?? 1024);
  }

  /** Open `url`, learning its size unless given. */
  static async open(url: string, opts: UrlBackendOptions = {}): Promise<UrlBackend> {
    if (opts.size !== undefined) return new UrlBackend(url, opts.size, opts);
    const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
    const head = await f(url, { method: 'HEAD' });
    let size = Number(head.headers.get('content-length') ?? NaN);
    if (!head.ok || !Number.isSafeInteger(size)) {
      // Content-Range: bytes 0-0/SIZE
      const probe = await f(url, { headers: { Range: 'bytes=0-0' } });
      await probe.arrayBuffer();
      size = Number(/\/(\d+)\s*$/.exec(probe.headers.get('content-range') ?? '')?.[1] ?? NaN);
      if (probe.status !== 206 || !Number.isSafeInteger(size))
        throw new Error(`cannot open disk image '${url}': HTTP ${probe.status}, size unknown`);
    }
    return new UrlBackend(url, size, opts);
  }

  read(offset: number, dest: Uint8Array): Work {
    checkRange(this.url, this.size, offset, dest.length);
    if (dest.length === 0) return;
    const C = this.chunkSize;
    const first = Math.floor(offset / C);
    const last = Math.floor((offset + dest.length - 1) / C);
    const parts: (Uint8Array | Promise<Uint8Array>)[] = [];
    for (let i = first; i <= last; ) {
      const hit = this.cache.get(i);
      if (hit) {
        this.cache.delete(i); // most recently used goes last
        this.cache.set(i, hit);
        parts.push(hit);
        i++;
        continue;
      }
      const loading = this.loading.get(i);
      if (loading) {
        parts.push(loading);
        i++;
        continue;
      }
      // a run of chunks neither cached nor loading: one Range request
      const from = i;
      let j = i;
      while (j < last && !this.cache.has(j + 1) && !this.loading.has(j + 1)) j++;
      const run = this.fetchRange(from * C, Math.min((j + 1) * C, this.size));
      for (let k = from; k <= j; k++) {
        const chunk = run.then((b) => b.slice((k - from) * C, (k - from + 1) * C));
        this.loading.set(k, chunk);
        chunk.then(
          (b) => {
            this.loading.delete(k);
            this.remember(k, b);
          },
          () => this.loading.delete(k),
        );
        parts.push(chunk);
      }
      i = j + 1;
    }
    const copy = (chunks: Uint8Array[]) => {
      chunks.forEach((chunk, n) => {
        const base = (first + n) * C; // chunk start in the image
        const from = Math.max(offset, base);
        const to = Math.min(offset + dest.length, base + chunk.length);
        if (to > from) dest.set(chunk.subarray(from - base, to - base), from - offset);
      });
    };
    if (parts.every((p): p is Uint8Array => p instanceof Uint8Array)) return copy(parts);
    return Promise.all(parts).then(copy);
  }

  write(): void {
    throw new Error(`${this.url} is read-only`);
  }

  private remember(index: number, chunk: Uint8Array): void {
    this.cache.set(index, chunk);
    while (this.cache.size > this.cacheChunks) this.cache.delete(this.cache.keys().next().value!);
  }

  private async fetchRange(start: number, end: number): Promise<Uint8Array> {
    this.requests++;
    const res = await this.fetch(this.url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 206) throw new Error(`${this.url}: HTTP ${res.status} for a Range request`);
    if (body.length < end - start) throw new Error(`${this.url}: short read (${body.length} of ${end - start} bytes at ${start})`);
    return body;
  }
}
