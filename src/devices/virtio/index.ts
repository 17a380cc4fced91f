// virtio devices over virtio-mmio, independent of the core (Node and Web Workers).
// The Node file backend is not here: import './block-file.js' lazily where node:fs exists.
export {
  VirtioMmio, VirtioDeviceBase, bit,
  VIRTIO_MMIO, VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_VENDOR, VIRTIO_MMIO_WINDOW, VIRTIO_MMIO_INT,
  VIRTIO_CONFIG_S, VIRTIO_F, VIRTIO_ID,
  type VirtioDevice, type VirtioHost, type VirtioStats,
} from './mmio.js';
export {
  Virtqueue, Chain, VIRTQ_DESC_F, VIRTQ_AVAIL_F, VIRTQ_USED_F, VIRTQ_AREAS, VIRTQ_MAX_SIZE, VIRTQ_MAX_INDIRECT,
  type GuestMemory, type Segment,
} from './queue.js';
export {
  BlockDevice, MemoryBackend, OverlayBackend, UrlBackend,
  VIRTIO_BLK_F, VIRTIO_BLK_T, VIRTIO_BLK_S, VIRTIO_BLK_CONFIG, VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_HEADER_SIZE, VIRTIO_BLK_ID_BYTES,
  type BlockBackend, type BlockOptions, type UrlBackendOptions,
} from './block.js';
export { ConsoleDevice, VIRTIO_CONSOLE_F, VIRTIO_CONSOLE_CONFIG, VIRTIO_CONSOLE_Q, type ConsoleOptions } from './console.js';
export { RngDevice, cryptoRandom, seededRandom, VIRTIO_RNG_MAX_REQUEST, type RngOptions, type RandomSource } from './rng.js';
export {
  NetDevice, VIRTIO_NET_F, VIRTIO_NET_S, VIRTIO_NET_CONFIG, VIRTIO_NET_HDR, VIRTIO_NET_HDR_GSO, VIRTIO_NET_Q, VIRTIO_NET_MAX_FRAME,
  type NetOptions,
} from './net.js';
