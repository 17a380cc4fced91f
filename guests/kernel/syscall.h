/* The system call interface, shared by the kernel (trap.c) and the user programs (user/user.h).
 *
 * A user program puts the call number in a7 and up to 3 arguments in a0..a2, then executes
 * `ecall`; the trap arrives in the kernel as scause 8, "environment call from U-mode"
 * (privileged spec, table 4.2). The result comes back in a0; negative values are errors. */
#ifndef SYSCALL_H
#define SYSCALL_H

#define SYS_exit     0  /* exit(status): never returns */
#define SYS_write    1  /* write(fd, buf, len) -> len: fd 1 and 2 are the console */
#define SYS_spawn    2  /* spawn(name, arg) -> pid: start program `name` with a0 = arg */
#define SYS_wait     3  /* wait(&status) -> pid of an exited child, -1 if there are no children */
#define SYS_yield    4  /* yield(): let the next runnable process run */
#define SYS_getpid   5  /* getpid() -> pid */
#define SYS_time     6  /* time() -> nanoseconds since boot */
#define SYS_map      7  /* map(va, npages) -> 0: back [va, va + npages pages) with zeroed pages now */
#define SYS_unmap    8  /* unmap(va, npages) -> pages released: give the memory back */
#define SYS_alarm    9  /* alarm(ticks, &flag) -> 0: timer interrupt in `ticks` time units sets flag = 1 */
#define SYS_ioread  10  /* ioread(offset) -> a 32-bit virtio-mmio register of the disk (or slot 0);
                           paravirtual: the disk's size from the VMM (a PV device has no registers) */
#define SYS_blkread 11  /* blkread(sector, buf) -> 0: read one 512-byte sector; -2 if there is no disk */
#define SYS_cmdline 12  /* cmdline(buf, len) -> length: the kernel command line (/chosen/bootargs) */
#define SYS_blkinfo 13  /* blkinfo() -> sectors on the disk, or negative: -2 no disk, -3 legacy device */
#define SYS_hypercall 14 /* hypercall() -> 0: the kernel makes its cheapest call to the layer below
                            (paravirtual: the VMM's PV_NOP; native: the SBI's get_spec_version) */
#define NSYSCALLS   15

/* Errors (returned as negative numbers) */
#define E_FAULT   -1    /* a bad argument: address, size, name */
#define E_NODEV   -2    /* no such device */
#define E_LEGACY  -3    /* the device is a legacy (version 1) virtio-mmio device */
#define E_NOMEM   -4    /* out of memory or process slots */
#define E_IO      -5    /* the device reported an error */

#endif
