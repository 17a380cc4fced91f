/* The user programs' view of the kernel: system call wrappers (syscall.h has the list),
 * the counters of the Zicntr extension, printf. */
#ifndef USER_H
#define USER_H
#include "../types.h"
#include "../lib.h"
#include "../layout.h"
#include "../syscall.h"

/* ecall with the number in a7, arguments in a0..a2, the result in a0 */
static inline i64 syscall3(u64 n, u64 a0, u64 a1, u64 a2) {
    register u64 r0 __asm__("a0") = a0;
    register u64 r1 __asm__("a1") = a1;
    register u64 r2 __asm__("a2") = a2;
    register u64 r7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return (i64)r0;
}

static inline __attribute__((noreturn)) void exit(int status) {
    syscall3(SYS_exit, (u64)status, 0, 0);
    __builtin_unreachable();
}
static inline i64 write(int fd, const void *buf, size_t n) { return syscall3(SYS_write, (u64)fd, (u64)buf, n); }
static inline int spawn(const char *name, u64 arg) { return (int)syscall3(SYS_spawn, (u64)name, arg, 0); }
static inline int wait(int *status) { return (int)syscall3(SYS_wait, (u64)status, 0, 0); }
static inline void yield(void) { syscall3(SYS_yield, 0, 0, 0); }
static inline int getpid(void) { return (int)syscall3(SYS_getpid, 0, 0, 0); }
static inline u64 time_ns(void) { return (u64)syscall3(SYS_time, 0, 0, 0); }
static inline i64 map(u64 va, u64 npages) { return syscall3(SYS_map, va, npages, 0); }
static inline i64 unmap(u64 va, u64 npages) { return syscall3(SYS_unmap, va, npages, 0); }
static inline i64 alarm(u64 ticks, volatile int *flag) { return syscall3(SYS_alarm, ticks, (u64)flag, 0); }
static inline i64 ioread(u64 offset) { return syscall3(SYS_ioread, offset, 0, 0); }
static inline i64 blkread(u64 sector, void *buf) { return syscall3(SYS_blkread, sector, (u64)buf, 0); }
static inline i64 blkinfo(void) { return syscall3(SYS_blkinfo, 0, 0, 0); }
static inline i64 hypercall(void) { return syscall3(SYS_hypercall, 0, 0, 0); }
static inline i64 cmdline(char *buf, size_t n) { return syscall3(SYS_cmdline, (u64)buf, n, 0); }

/* The counters U-mode may read when the kernel allows it in scounteren */
static inline u64 rdcycle(void) { u64 v; __asm__ volatile("csrr %0, cycle" : "=r"(v)); return v; }
static inline u64 rdinstret(void) { u64 v; __asm__ volatile("csrr %0, instret" : "=r"(v)); return v; }
static inline u64 rdtime(void) { u64 v; __asm__ volatile("csrr %0, time" : "=r"(v)); return v; }

int printf(const char *fmt, ...);
int main(u64 arg);

#endif
