/* Declarations shared by the kernel's C files. */
#ifndef KERNEL_H
#define KERNEL_H
#include "types.h"
#include "lib.h"
#include "arch.h"
#include "layout.h"
#include "syscall.h"

/* main.c */
void kprintf(const char *fmt, ...);
__attribute__((noreturn)) void panic(const char *fmt, ...);

/* fdt.c: what the kernel needs from the device tree */
struct bootinfo {
    u64 ram_base, ram_size;     /* /memory reg */
    u64 timebase;               /* /cpus timebase-frequency (Hz) */
    u64 dtb_start, dtb_end;     /* the device tree itself, to keep out of the page allocator */
    char bootargs[256];         /* /chosen bootargs */
};
extern struct bootinfo boot;
int fdt_parse(const void *dtb);

/* mm.c: physical pages and page tables */
void mm_init(u64 start, u64 end);
void *page_alloc(void);         /* a zeroed 4 KiB page, or NULL */
void page_free(void *page);
u64 mm_pages_free(void);
extern pte_t *kernel_root;
void vm_init(void);
pte_t *as_create(void);
void as_destroy(pte_t *root);
int map_page(pte_t *root, u64 va, u64 pa, pte_t perm);
u64 unmap_page(pte_t *root, u64 va);
int demand_zero(pte_t *root, u64 va);
int in_demand_zero_region(u64 va);
void *user_ptr(pte_t *root, u64 va, int write);
int copy_from_user(pte_t *root, void *dst, u64 src, size_t n);
int copy_to_user(pte_t *root, u64 dst, const void *src, size_t n);
int copy_str_from_user(pte_t *root, char *dst, u64 src, size_t max);

/* proc.c: processes and the scheduler */
#define NPROC 16
enum procstate { UNUSED, RUNNABLE, RUNNING, WAITING, ZOMBIE };
struct proc {
    struct trapframe tf;        /* user registers (first: sscratch points here) */
    enum procstate state;
    int pid;
    const char *name;
    struct proc *parent;
    pte_t *root;                /* this process's Sv39 page table */
    int exit_status;
    u64 wait_status_va;         /* where wait() puts the child's exit status (0: nowhere) */
    u64 alarm_at;               /* SYS_alarm deadline (U64_MAX: none) */
    u64 alarm_flag_va;          /* ... and the flag to set */
};
extern struct proc procs[NPROC];
extern struct proc *current;
int proc_spawn(const char *name, u64 arg, struct proc *parent);
void proc_exit(struct proc *p, int status);
int proc_wait(struct proc *p, u64 status_va);
void schedule(void);
__attribute__((noreturn)) void return_to_user(void);

/* trap.c: traps, system calls, the timer */
void timer_init(void);
void timer_program(void);

/* virtio_blk.c (native) or blk_pv.c (paravirtual) */
int blk_init(void);
int blk_read(u64 sector, void *buf);
i64 blk_ioread(u64 offset);     /* SYS_ioread: a device register */
extern i64 blk_state;           /* sectors, or E_NODEV / E_LEGACY */
extern u64 blk_regs;            /* the device's registers (slot 0 when there is none) */

#endif
