/* Reading the flattened device tree (Devicetree Specification v0.4, chapter 5): a header,
 * then a stream of big-endian tokens: BEGIN_NODE name, PROP (len, name offset, value),
 * END_NODE, ..., END. We walk it once and keep the few properties the kernel needs. */
#include "kernel.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

struct bootinfo boot;

static u32 be32(const void *p) {
    const u8 *b = p;
    return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static u64 cells(const u8 *p, u32 n) {        /* a 1- or 2-cell number */
    return n == 2 ? (u64)be32(p) << 32 | be32(p + 4) : be32(p);
}

int fdt_parse(const void *dtb) {
    const u8 *base = dtb;
    if (be32(base) != FDT_MAGIC) return -1;
    boot.dtb_start = (u64)dtb;
    boot.dtb_end = (u64)dtb + be32(base + 4);
    const u8 *p = base + be32(base + 8);        /* off_dt_struct */
    const char *strings = (const char *)base + be32(base + 12);
    u32 addr_cells = 2, size_cells = 2;         /* the root's #address-cells, #size-cells */
    const char *node = "";                      /* the child of the root we are in */
    int depth = 0;
    for (;;) {
        u32 token = be32(p);
        p += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            if (++depth == 2) node = name;
            p += ALIGN_UP(strlen(name) + 1, 4);
        } else if (token == FDT_END_NODE) {
            depth--;
        } else if (token == FDT_PROP) {
            u32 len = be32(p);
            const char *prop = strings + be32(p + 4);
            const u8 *val = p + 8;
            p = val + ALIGN_UP(len, 4);
            if (depth == 1 && !strcmp(prop, "#address-cells")) addr_cells = be32(val);
            if (depth == 1 && !strcmp(prop, "#size-cells")) size_cells = be32(val);
            if (depth != 2) continue;
            if (!strcmp(node, "chosen") && !strcmp(prop, "bootargs")) {
                memcpy(boot.bootargs, val, MIN(len, sizeof boot.bootargs - 1));
            } else if (!strncmp(node, "memory", 6) && !strcmp(prop, "reg") && !boot.ram_size) {
                boot.ram_base = cells(val, addr_cells);
                boot.ram_size = cells(val + 4 * addr_cells, size_cells);
            } else if (!strcmp(node, "cpus") && !strcmp(prop, "timebase-frequency")) {
                boot.timebase = cells(val, len == 8 ? 2 : 1);
            }
        } else if (token == FDT_NOP) {
            continue;
        } else {
            break;                              /* FDT_END, or something we do not know */
        }
    }
    return boot.ram_size && boot.timebase ? 0 : -1;
}
