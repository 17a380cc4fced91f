/* The kernel's entry in C: read the device tree, set up memory, traps, the timer and the
 * disk, start the first user program ("bench") and run it. */
#include "kernel.h"

extern char _end[];                     /* the end of the kernel image (kernel.ld) */

void kprintf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    arch_console_write(buf, (size_t)n);
}

void panic(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kprintf("wvkernel: panic: %s\n", buf);
    arch_shutdown(1);
}

void kmain(u64 hartid, const void *dtb) {
    arch_init();
    if (fdt_parse(dtb)) panic("no usable device tree at %p", dtb);
    u64 ram_end = boot.ram_base + boot.ram_size;
    /* free RAM: from the end of the kernel to the device tree (QEMU and wasmvisor put it at
     * the top of RAM) or the end of RAM */
    u64 free_end = boot.dtb_start > (u64)_end && boot.dtb_start < ram_end ? boot.dtb_start : ram_end;
    if (free_end > USER_BASE) free_end = USER_BASE;   /* the kernel maps RAM below 4 GiB only */
    mm_init((u64)_end, free_end);
    vm_init();                          /* paging on: Sv39, the kernel's identity map */
    arch_trap_init();
    timer_init();
    blk_init();
    kprintf("wvkernel: hart %lu, %lu MiB RAM, %lu free pages, timebase %lu Hz, console %s\n", hartid,
            boot.ram_size >> 20, mm_pages_free(), boot.timebase, arch_console_name);
#ifdef PARAVIRT
    if (blk_state >= 0) kprintf("wvkernel: paravirtual block device, %ld sectors\n", blk_state);
#else
    if (blk_state >= 0) kprintf("wvkernel: virtio-blk at %p, %ld sectors\n", blk_regs, blk_state);
#endif
    else if (blk_state == E_LEGACY) kprintf("wvkernel: virtio-blk at %p is a legacy (v1) device: not used\n", blk_regs);
    if (boot.bootargs[0]) kprintf("wvkernel: command line \"%s\"\n", boot.bootargs);

    if (proc_spawn("bench", 0, NULL) < 0) panic("cannot start bench");
    schedule();
    return_to_user();
}
