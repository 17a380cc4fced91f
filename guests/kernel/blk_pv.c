/* The paravirtual block device (docs/paravirt.md): requests go into a ring in a page the
 * kernel shares with the VMM, and one PV_BLK_NOTIFY hypercall hands over everything queued.
 * The VMM's host completes them before the hypercall returns. */
#include "kernel.h"

#ifndef PARAVIRT
#error "blk_pv.c is the paravirtual build's; the native build uses virtio_blk.c"
#endif

#define BLK_RING_SIZE 64
#define BLK_OP_READ   0
#define BLK_PENDING   1             /* a status the host has not written yet */
struct blk_request {
    u32 op;                         /* BLK_OP_READ or 1 (write) */
    int status;                     /* 0 done, negative: an error */
    u64 sector;                     /* in 512-byte sectors */
    u32 count;                      /* sectors */
    u32 reserved;
    u64 buf;                        /* guest physical address */
};
static struct {
    u32 prod, cons;                 /* requests queued by us / completed by the host */
    u8 pad[56];
    struct blk_request req[BLK_RING_SIZE];
} ring __attribute__((aligned(PAGE_SIZE)));

i64 blk_state = E_NODEV;
u64 blk_regs;                       /* no registers: devices are hypercall rings */

int blk_init(void) {
    struct hcret r = hypercall(PV_BLK_SETUP, (u64)&ring, 0);
    return blk_state = r.error ? E_NODEV : r.value;
}

int blk_read(u64 sector, void *buf) {
    volatile struct blk_request *q = &ring.req[ring.prod % BLK_RING_SIZE];
    q->op = BLK_OP_READ;
    q->status = BLK_PENDING;
    q->sector = sector;
    q->count = 1;
    q->buf = (u64)buf;
    mb();                           /* the request before the index */
    ring.prod++;
    if (hypercall(PV_BLK_NOTIFY, 0, 0).error) return E_IO;
    mb();
    return q->status == 0 ? 0 : E_IO;
}

/* A "device register" of a paravirtual device is a question to the VMM: the disk's size. */
i64 blk_ioread(u64 offset) {
    (void)offset;
    struct hcret r = hypercall(PV_BLK_INFO, 0, 0);
    return r.error ? r.error : (i64)(u32)r.value;
}
