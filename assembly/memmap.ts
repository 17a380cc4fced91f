// The linear-memory map of the core: the one source of truth for every fixed offset.
// assembly/index.ts exports each constant as a Wasm global, and the TypeScript side reads
// them from the instance (src/core.ts), so no offset is written twice.
//
//   0x0000_0000  AssemblyScript static data (must end below HART_BASE)
//   0x0010_0000  hart state: x0..x31 (+ a write sink), f0..f31, pc, CSR file
//   0x0011_0000  event counters (u64 each)
//   0x0011_1000  struct kvm_run of the kvm machine's vCPU
//   0x0011_8000  console rings (UART TX / RX)
//   0x0012_0000  software TLB
//   0x0018_0000  register windows of host-modelled devices (virtio-mmio)
//   0x0018_8000  queue of stores to those windows, applied by the host (EXIT_MMIO)
//   0x0018_9000  queue of hot blocks for the host's compiler (JIT), and per-page JIT flags
//   0x0019_0000  decoded-instruction cache tags
//   0x0019_1000  which halfwords of each decoded page compiled code covers
//   0x0020_0000  physical RAM page -> decoded-cache page map
//   0x0040_0000  decoded-instruction cache
//   0x0240_0000  per-slot JIT state (hotness counter or compiled block)
//   0x0400_0000  guest RAM

export const HART_BASE: u32 = 0x0010_0000;
/** x registers, 8 bytes each; index 32 is the sink that writes to x0 are decoded to. */
export const X_BASE: u32 = HART_BASE;
export const X_SINK: u32 = 32;
/** f registers, 8 bytes each (single-precision values NaN-boxed). */
export const F_BASE: u32 = HART_BASE + 0x200;
export const PC_ADDR: u32 = HART_BASE + 0x400;
export const PRIV_ADDR: u32 = HART_BASE + 0x408;
/** The H extension's virtualization mode V (u32: 0 or 1). */
export const VIRT_ADDR: u32 = HART_BASE + 0x40c;
/** A slot for instructions that are decoded but not cached (page-crossing, partial PMP). */
export const SCRATCH_SLOT: u32 = HART_BASE + 0x800;
/** Raw bits of the last instruction run() executed or trapped on (0: it trapped on fetch). */
export const LAST_INSN_ADDR: u32 = HART_BASE + 0x810;
/** Backing store of the CSR file: 4096 u64 slots indexed by CSR number. */
export const CSR_BASE: u32 = HART_BASE + 0x1000;
export const CSR_END: u32 = CSR_BASE + 4096 * 8;

export const STATS_BASE: u32 = 0x0011_0000;
export const STATS_SIZE: u32 = 0x1000;

/** The kvm machine's struct kvm_run (vmm/kvm.ts, include/uapi/linux/kvm.h): one page. */
export const KVM_RUN: u32 = 0x0011_1000;

/** Console rings: [head u32][tail u32][data RING_SIZE]; the core writes TX, the host RX. */
export const UART_TX_RING: u32 = 0x0011_8000;
export const UART_RX_RING: u32 = 0x0011_c000;
export const RING_SIZE: u32 = 0x3000;

/** TLB: TLB_VIEWS privilege views x 3 access types x TLB_ENTRIES entries of 16 bytes. */
export const TLB_BASE: u32 = 0x0012_0000;
export const TLB_ENTRIES: u32 = 2048;
export const TLB_VIEWS: u32 = 4;
export const TLB_SIZE: u32 = TLB_VIEWS * 3 * TLB_ENTRIES * 16; // 384 KiB: ends at 0x0018_0000

/** Register windows of devices the host models (hostdev.ts): HOSTDEV_SLOTS of HOSTDEV_WINDOW bytes. */
export const HOSTDEV_BASE: u32 = 0x0018_0000;
export const HOSTDEV_SLOTS: u32 = 8;
export const HOSTDEV_WINDOW: u32 = 0x1000;
/** Stores to host windows: [count u32][pad u32] then entries (pa u64, value u64, size u32, slot u32). */
export const MMIO_QUEUE: u32 = 0x0018_8000;
export const MMIO_QUEUE_ENTRIES: u32 = 16;
export const MMIO_ENTRY_SIZE: u32 = 24;

/**
 * Hot blocks waiting for the host's compiler (hart/jit.ts, src/jit/): [count u32][pad u32]
 * then JIT_QUEUE_ENTRIES slot addresses (u32). JIT_PAGES: one flag byte per decoded page.
 */
export const JIT_QUEUE: u32 = 0x0018_9000;
export const JIT_QUEUE_ENTRIES: u32 = 256;
export const JIT_PAGES: u32 = 0x0018_a000;
/** A "referenced" byte per decoded page, set when the fetch path enters it (icache.ts: clock replacement). */
export const ICACHE_REF: u32 = JIT_PAGES + 0x400;

/** Decoded-instruction cache: ICACHE_PAGES pages of 2048 slots (one per halfword). */
export const ICACHE_PAGES: u32 = 1024;
export const ICACHE_TAGS: u32 = 0x0019_0000;
/** Per decoded page, a bit per halfword covered by compiled code (hart/jit.ts): 256 bytes each. */
export const JIT_COVER: u32 = 0x0019_1000;
export const JIT_COVER_BYTES: u32 = 256;
export const ICACHE_MAP: u32 = 0x0020_0000;
export const ICACHE_BASE: u32 = 0x0040_0000;
export const SLOT_SIZE: u32 = 16;
export const ICACHE_PAGE_BYTES: u32 = 2048 * SLOT_SIZE;
/** One u32 per decoded slot (hart/jit.ts): JIT_MAP + (slot - ICACHE_BASE) / 4. */
export const JIT_MAP: u32 = ICACHE_BASE + ICACHE_PAGES * ICACHE_PAGE_BYTES;
export const JIT_MAP_BYTES: u32 = ICACHE_PAGES * ICACHE_PAGE_BYTES / 4;

/** Guest RAM starts here in linear memory; guest physical RAM_PHYS maps to it. */
export const RAM_BASE: u32 = 0x0400_0000;
/** QEMU virt: DRAM at 0x8000_0000. */
export const RAM_PHYS: u64 = 0x8000_0000;
/** The most guest RAM the 4 GiB Wasm memory leaves room for. */
export const RAM_MAX: u64 = 0x1_0000_0000 - <u64>RAM_BASE;

// Decoded slot layout (SLOT_SIZE bytes): op u16 (0 = not decoded yet), rd, rs1, rs2, rs3,
// length in bytes, rm; imm i32; raw instruction bits u32.
export const SLOT_OP: u32 = 0;
export const SLOT_RD: u32 = 2;
export const SLOT_RS1: u32 = 3;
export const SLOT_RS2: u32 = 4;
export const SLOT_RS3: u32 = 5;
export const SLOT_LEN: u32 = 6;
export const SLOT_RM: u32 = 7;
export const SLOT_IMM: u32 = 8;
export const SLOT_RAW: u32 = 12;

// Why run() returned.
export const EXIT_BUDGET: u32 = 0;
export const EXIT_POWEROFF: u32 = 1;
export const EXIT_RESET: u32 = 2;
export const EXIT_FAIL: u32 = 3;
export const EXIT_CONSOLE: u32 = 4;
export const EXIT_WFI: u32 = 5;
export const EXIT_HOST_CALL: u32 = 6;
/** Stores to host-device windows are queued at MMIO_QUEUE. */
export const EXIT_MMIO: u32 = 7;
/** With the host's SBI as firmware, a trap reached M-mode, where nothing handles it (value: mcause). */
export const EXIT_M_TRAP: u32 = 8;
/** Hot blocks are queued for the host's compiler (handled inside Core.run(); any other exit wins). */
export const EXIT_JIT: u32 = 9;
/** A paravirtual guest notified its block ring (PV_BLK_NOTIFY): the host serves it, sets a0/a1. */
export const EXIT_PV_BLOCK: u32 = 10;
/**
 * A paravirtual guest took a trap it cannot take: no trap vector yet, or a fault at the vector
 * itself (value: cause, bit 31 = interrupt, bit 30 = the fault was at the vector).
 */
export const EXIT_PV_CRASH: u32 = 11;
/**
 * The hw-assist VMM got a trap it cannot give its guest: one that reached M-mode, or an
 * S-level interrupt of its own (value: cause, bit 31 = interrupt).
 */
export const EXIT_HV_CRASH: u32 = 12;
/**
 * The kvm machine's in-kernel part (vmm/kvm.ts) exits to userspace: struct kvm_run at KVM_RUN
 * says why (value: its exit_reason).
 */
export const EXIT_KVM: u32 = 13;
