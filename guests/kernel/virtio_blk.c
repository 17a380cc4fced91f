/* A virtio-blk driver over virtio-mmio version 2 (Virtio 1.2: 4.2 the MMIO transport,
 * 3.1 initialization, 2.7 split virtqueues, 5.2 the block device). One virtqueue of 8
 * descriptors, one request at a time, polled: the driver asks for no interrupts. */
#include "kernel.h"

#define VIRTIO_MMIO_BASE   0x10001000ul  /* QEMU virt: 8 slots, 4 KiB apart */
#define VIRTIO_MMIO_SLOTS  8
#define VIRTIO_MAGIC       0x74726976    /* "virt" */
#define VIRTIO_ID_BLOCK    2

/* 4.2.2 register offsets */
#define MAGIC_VALUE         0x000
#define VERSION             0x004
#define DEVICE_ID           0x008
#define DEVICE_FEATURES     0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES     0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL           0x030
#define QUEUE_NUM_MAX       0x034
#define QUEUE_NUM           0x038
#define QUEUE_READY         0x044
#define QUEUE_NOTIFY        0x050
#define INTERRUPT_STATUS    0x060
#define INTERRUPT_ACK       0x064
#define STATUS              0x070
#define QUEUE_DESC_LOW      0x080
#define QUEUE_DESC_HIGH     0x084
#define QUEUE_DRIVER_LOW    0x090
#define QUEUE_DRIVER_HIGH   0x094
#define QUEUE_DEVICE_LOW    0x0a0
#define QUEUE_DEVICE_HIGH   0x0a4
#define CONFIG_GENERATION   0x0fc
#define CONFIG              0x100       /* virtio-blk: u64 capacity in 512-byte sectors */

/* 2.1 device status bits */
#define S_ACKNOWLEDGE 1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_FAILED      128

/* 2.7 split virtqueue */
#define QSIZE 8
#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2            /* the device writes this buffer */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
struct virtq_desc { u64 addr; u32 len; u16 flags, next; };
struct virtq_avail { u16 flags, idx, ring[QSIZE], used_event; };
struct virtq_used_elem { u32 id, len; };
struct virtq_used { u16 flags, idx; struct virtq_used_elem ring[QSIZE]; u16 avail_event; };

static struct {
    struct virtq_desc desc[QSIZE];      /* 16-byte aligned */
    struct virtq_avail avail;           /* 2-byte aligned */
    struct virtq_used used __attribute__((aligned(4)));
} vq __attribute__((aligned(PAGE_SIZE)));

/* 5.2.6 a request: header (device-readable), data, status byte (device-writable) */
#define VIRTIO_BLK_T_IN 0
static struct { u32 type, reserved; u64 sector; } req;
static volatile u8 req_status;
static u16 used_seen;

i64 blk_state = E_NODEV;
u64 blk_regs = VIRTIO_MMIO_BASE;

static u32 rd(u32 reg) { return arch_mmio_read32(blk_regs + reg); }
static void wr(u32 reg, u32 v) { arch_mmio_write32(blk_regs + reg, v); }

static int fail(void) {
    wr(STATUS, S_FAILED);
    return blk_state = E_IO;
}

/* Find the first block device and bring it up (3.1.1, 4.2.3). Its size, or an error. */
int blk_init(void) {
    int slot;
    for (slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        u64 base = VIRTIO_MMIO_BASE + slot * 0x1000ul;
        if (arch_mmio_read32(base + MAGIC_VALUE) == VIRTIO_MAGIC &&
            arch_mmio_read32(base + DEVICE_ID) == VIRTIO_ID_BLOCK) {
            blk_regs = base;
            break;
        }
    }
    if (slot == VIRTIO_MMIO_SLOTS) return blk_state = E_NODEV;
    if (rd(VERSION) != 2) return blk_state = E_LEGACY;

    wr(STATUS, 0);                                   /* reset */
    wr(STATUS, S_ACKNOWLEDGE);
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER);
    wr(DEVICE_FEATURES_SEL, 1);
    if (!(rd(DEVICE_FEATURES) & 1)) return fail();   /* VIRTIO_F_VERSION_1 (bit 32) */
    wr(DRIVER_FEATURES_SEL, 0);
    wr(DRIVER_FEATURES, 0);                          /* no optional features */
    wr(DRIVER_FEATURES_SEL, 1);
    wr(DRIVER_FEATURES, 1);                          /* VIRTIO_F_VERSION_1 */
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(rd(STATUS) & S_FEATURES_OK)) return fail();

    wr(QUEUE_SEL, 0);
    if (rd(QUEUE_READY) || rd(QUEUE_NUM_MAX) < QSIZE) return fail();
    wr(QUEUE_NUM, QSIZE);
    wr(QUEUE_DESC_LOW, (u32)(u64)vq.desc);
    wr(QUEUE_DESC_HIGH, (u32)((u64)vq.desc >> 32));
    wr(QUEUE_DRIVER_LOW, (u32)(u64)&vq.avail);
    wr(QUEUE_DRIVER_HIGH, (u32)((u64)&vq.avail >> 32));
    wr(QUEUE_DEVICE_LOW, (u32)(u64)&vq.used);
    wr(QUEUE_DEVICE_HIGH, (u32)((u64)&vq.used >> 32));
    vq.avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;     /* we poll */
    wr(QUEUE_READY, 1);
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

    u32 gen, lo, hi;                                 /* 4.2.2: a consistent 64-bit read */
    do {
        gen = rd(CONFIG_GENERATION);
        lo = rd(CONFIG);
        hi = rd(CONFIG + 4);
    } while (gen != rd(CONFIG_GENERATION));
    return blk_state = (i64)((u64)hi << 32 | lo);
}

/* A device register: the 32-bit one at `offset` of the disk's slot (slot 0 without a disk). */
i64 blk_ioread(u64 offset) {
    return offset < 0x100 && offset % 4 == 0 ? (i64)rd((u32)offset) : E_FAULT;
}

/* Read one 512-byte sector into buf (a kernel address, which is also its physical one):
 * a chain of three descriptors, made available (2.7.13), then wait for it to be used. */
int blk_read(u64 sector, void *buf) {
    req.type = VIRTIO_BLK_T_IN;
    req.reserved = 0;
    req.sector = sector;
    req_status = 0xff;
    vq.desc[0] = (struct virtq_desc){ (u64)&req, sizeof req, VIRTQ_DESC_F_NEXT, 1 };
    vq.desc[1] = (struct virtq_desc){ (u64)buf, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2 };
    vq.desc[2] = (struct virtq_desc){ (u64)&req_status, 1, VIRTQ_DESC_F_WRITE, 0 };
    volatile struct virtq_avail *avail = &vq.avail;
    avail->ring[avail->idx % QSIZE] = 0;             /* the chain starts at descriptor 0 */
    mb();                                            /* the ring entry before the index */
    avail->idx = avail->idx + 1;
    mb();                                            /* the index before the notification */
    wr(QUEUE_NOTIFY, 0);
    volatile struct virtq_used *used = &vq.used;
    for (u64 spins = 0; used->idx == used_seen; spins++)
        if (spins == 100000000) return E_IO;         /* the device never answered */
    used_seen++;
    mb();                                            /* the index before the data */
    u32 isr = rd(INTERRUPT_STATUS);                  /* acknowledge an interrupt it raised anyway */
    if (isr) wr(INTERRUPT_ACK, isr);
    return req_status == 0 ? 0 : E_IO;
}
