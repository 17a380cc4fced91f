// The host's half of the `paravirt` machine (docs/paravirt.md): the VMM itself is in the core
// (assembly/vmm/paravirt.ts); here is the block backend behind its PV block ring. A guest
// queues requests in a ring page and makes one PV_BLK_NOTIFY hypercall per batch; the core
// exits (Exit.PvBlock), serve() completes every queued request, and the hypercall returns
// a0 = 0, a1 = the number completed.
import type { Core } from '../core.js';
import type { BlockBackend } from '../devices/virtio/index.js';

/** The ring page (struct in guests/kernel/blk_pv.c): prod u32, cons u32, then requests. */
export const PV_BLK_RING_SIZE = 64;
const REQ_BASE = 64;
const REQ_BYTES = 32;
const SECTOR = 512;
/** At most this many sectors per request (64 KiB). */
const MAX_SECTORS = 128;

export const PV_BLK_READ = 0;
export const PV_BLK_WRITE = 1;
/** Request status codes (negative; the kernel's E_* numbers where one fits). */
export const PV_BLK_OK = 0;
export const PV_BLK_EFAULT = -1; // a bad request: op, size, sector range, or a buffer not the guest's
export const PV_BLK_EIO = -5; // the backend failed, or a write to a read-only disk

const A0 = 10;
const A1 = 11;
const SBI_ERR_INVALID_PARAM = -3n;

const le32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v | 0, true);
  return b;
};

export interface PvBlockStats {
  notifies: number;
  requests: number;
  errors: number;
}

export class PvBlock {
  readonly stats: PvBlockStats = { notifies: 0, requests: 0, errors: 0 };

  constructor(private readonly core: Core, private readonly backend: BlockBackend, private readonly readOnly: boolean) {}

  get sectors(): bigint {
    return BigInt(Math.floor(this.backend.size / SECTOR));
  }

  /** Complete the requests queued in the guest's ring (the core just exited with Exit.PvBlock). */
  async serve(): Promise<void> {
    const core = this.core;
    this.stats.notifies++;
    const ring = core.ex.pvBlockRing();
    const header = new DataView(core.ram(ring, 8).slice().buffer);
    const prod = header.getUint32(0, true);
    const cons = header.getUint32(4, true);
    const queued = (prod - cons) >>> 0;
    if (queued > PV_BLK_RING_SIZE) {
      // the guest overran its own ring: refuse the notify, touch nothing
      this.stats.errors++;
      core.setX(A0, BigInt.asUintN(64, SBI_ERR_INVALID_PARAM));
      return;
    }
    for (let k = 0; k < queued; k++) {
      const at = ring + BigInt(REQ_BASE + (((cons + k) >>> 0) % PV_BLK_RING_SIZE) * REQ_BYTES);
      const req = new DataView(core.ram(at, REQ_BYTES).slice().buffer);
      const status = await this.request(req.getUint32(0, true), req.getBigUint64(8, true), req.getUint32(16, true), req.getBigUint64(24, true));
      if (status !== PV_BLK_OK) this.stats.errors++;
      this.stats.requests++;
      this.core.writeRam(at + 4n, le32(status));
    }
    core.writeRam(ring + 4n, le32(prod));
    core.setX(A0, 0n);
    core.setX(A1, BigInt(queued));
  }

  private async request(op: number, sector: bigint, count: number, buf: bigint): Promise<number> {
    if ((op !== PV_BLK_READ && op !== PV_BLK_WRITE) || count < 1 || count > MAX_SECTORS) return PV_BLK_EFAULT;
    if (sector + BigInt(count) > this.sectors) return PV_BLK_EFAULT;
    const len = count * SECTOR;
    // the VMM decides which guest memory a device may touch: never the page-table pool
    if (!this.core.pvBufferOk(buf, len)) return PV_BLK_EFAULT;
    const offset = Number(sector) * SECTOR;
    try {
      if (op === PV_BLK_READ) {
        const data = new Uint8Array(len);
        await this.backend.read(offset, data);
        this.core.writeRam(buf, data);
      } else {
        if (this.readOnly || this.backend.readOnly) return PV_BLK_EIO;
        await this.backend.write(offset, this.core.ram(buf, len).slice());
      }
    } catch {
      return PV_BLK_EIO;
    }
    return PV_BLK_OK;
  }
}
