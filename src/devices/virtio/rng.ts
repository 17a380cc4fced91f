// virtio-rng, the entropy device (virtio v1.2 §5.4): one requestq whose device-writable
// buffers are filled with random bytes.
import { VirtioDeviceBase, VIRTIO_ID } from './mmio.js';

/** Bytes given per request at most (a device may return fewer than asked, §5.4.6). */
export const VIRTIO_RNG_MAX_REQUEST = 64 * 1024;

export interface RngOptions {
  /** a seed for a deterministic stream (reproducible runs); default: crypto.getRandomValues */
  seed?: number | bigint;
  /** QueueNumMax (default 64) */
  queueSize?: number;
}

/** Fill `dest` with random bytes. */
export type RandomSource = (dest: Uint8Array) => void;

/** The platform's cryptographic generator (at most 65536 bytes per getRandomValues call). */
export const cryptoRandom: RandomSource = (dest) => {
  for (let i = 0; i < dest.length; i += 65536) globalThis.crypto.getRandomValues(dest.subarray(i, i + 65536));
};

/** A deterministic xoshiro128** stream, its state expanded from the seed by splitmix32. */
export function seededRandom(seed: number | bigint): RandomSource {
  const s64 = BigInt.asUintN(64, BigInt(seed));
  let x = Number(s64 & 0xffffffffn) ^ Number(s64 >> 32n);
  const splitmix32 = () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = Uint32Array.of(splitmix32(), splitmix32(), splitmix32(), splitmix32());
  const next = () => {
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  };
  return (dest) => {
    for (let i = 0; i < dest.length; i += 4) {
      const r = next();
      for (let k = 0; k < 4 && i + k < dest.length; k++) dest[i + k] = r >>> (8 * k);
    }
  };
}

const rotl = (v: number, n: number) => (v << n) | (v >>> (32 - n));

export class RngDevice extends VirtioDeviceBase {
  private readonly random: RandomSource;

  constructor(opts: RngOptions = {}) {
    super(VIRTIO_ID.RNG, 'virtio-rng', 0n, [opts.queueSize ?? 64], 0);
    this.random = opts.seed === undefined ? cryptoRandom : seededRandom(opts.seed);
  }

  notify(): void {
    const q = this.queue(0);
    for (let c = q?.pop(); c; c = q!.pop()) {
      const bytes = new Uint8Array(Math.min(c.writableLength, VIRTIO_RNG_MAX_REQUEST));
      this.random(bytes);
      q!.push(c, c.write(0, bytes));
    }
  }
}
