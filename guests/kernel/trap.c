/* Traps from user mode: system calls, page faults, the timer interrupt (privileged spec
 * 4.1.8, table 4.2 lists the causes). entry.S saved the registers in current->tf. */
#include "kernel.h"

/* ---- The timer: a time slice for preemption, and the alarms of SYS_alarm ---- */
#define TICKS_PER_SECOND 100            /* a 10 ms time slice */
static u64 tick_interval, next_tick;
static int need_resched;

void timer_init(void) {
    tick_interval = boot.timebase / TICKS_PER_SECOND;
    next_tick = arch_time() + tick_interval;
    timer_program();
}

/* Program the SBI timer for the earliest of the next tick and the pending alarms. */
void timer_program(void) {
    u64 deadline = next_tick;
    for (int i = 0; i < NPROC; i++)
        if (procs[i].state != UNUSED && procs[i].alarm_at < deadline) deadline = procs[i].alarm_at;
    arch_set_timer(deadline);
}

static void timer_interrupt(void) {
    u64 now = arch_time();
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state == UNUSED || p->alarm_at > now) continue;
        p->alarm_at = U64_MAX;
        int one = 1;
        copy_to_user(p->root, p->alarm_flag_va, &one, sizeof one);
    }
    if (now >= next_tick) {
        next_tick = now + tick_interval;
        need_resched = 1;               /* time slice over: preempt */
    }
    timer_program();                    /* this also clears sip.STIP */
}

/* ---- System calls ---- */
static i64 sys_write(u64 fd, u64 buf, u64 len) {
    if (fd != 1 && fd != 2) return E_FAULT;
    for (u64 done = 0; done < len;) {
        u64 chunk = MIN(len - done, PAGE_SIZE - ((buf + done) & (PAGE_SIZE - 1)));
        const char *s = user_ptr(current->root, buf + done, 0);
        if (!s) return E_FAULT;
        arch_console_write(s, chunk);
        done += chunk;
    }
    return (i64)len;
}

static i64 sys_spawn(u64 name_va, u64 arg) {
    char name[32];
    if (copy_str_from_user(current->root, name, name_va, sizeof name)) return E_FAULT;
    return proc_spawn(name, arg, current);
}

static int anon_range_ok(u64 va, u64 npages) {
    return va % PAGE_SIZE == 0 && va >= ANON_BASE && va < ANON_END && npages <= (ANON_END - va) / PAGE_SIZE;
}

static i64 sys_map(u64 va, u64 npages) {
    if (!anon_range_ok(va, npages)) return E_FAULT;
    for (u64 i = 0; i < npages; i++) {
        void *page = page_alloc();
        if (!page) return E_NOMEM;
        int err = map_page(current->root, va + i * PAGE_SIZE, (u64)page, PTE_R | PTE_W | PTE_U);
        if (err) { page_free(page); return err; }
    }
    arch_pte_commit();
    for (u64 i = 0; i < npages; i++) arch_tlb_flush_page(va + i * PAGE_SIZE);
    return 0;
}

/* Unmap in batches: clear up to UNMAP_BATCH PTEs, commit them and flush their TLB entries,
 * and only then free the pages (until the flush a stale translation could still reach one). */
#define UNMAP_BATCH 64
static i64 sys_unmap(u64 va, u64 npages) {
    if (!anon_range_ok(va, npages)) return E_FAULT;
    i64 released = 0;
    for (u64 first = 0; first < npages; first += UNMAP_BATCH) {
        u64 n = MIN(npages - first, UNMAP_BATCH), pages[UNMAP_BATCH], found = 0;
        for (u64 i = 0; i < n; i++) {
            u64 pa = unmap_page(current->root, va + (first + i) * PAGE_SIZE);
            if (pa) pages[found++] = pa;
        }
        arch_pte_commit();
        for (u64 i = 0; i < n; i++) arch_tlb_flush_page(va + (first + i) * PAGE_SIZE);
        for (u64 i = 0; i < found; i++) page_free((void *)pages[i]);
        released += (i64)found;
    }
    return released;
}

static i64 sys_alarm(u64 ticks, u64 flag_va) {
    if (!user_ptr(current->root, flag_va, 1)) return E_FAULT;
    current->alarm_at = arch_time() + ticks;
    current->alarm_flag_va = flag_va;
    timer_program();
    return 0;
}

static i64 sys_blkread(u64 sector, u64 buf_va) {
    static u8 buf[512];
    if (blk_state < 0) return blk_state;
    if (sector >= (u64)blk_state) return E_FAULT;
    int err = blk_read(sector, buf);
    if (err) return err;
    return copy_to_user(current->root, buf_va, buf, sizeof buf);
}

static i64 syscall(struct trapframe *tf) {
    u64 a0 = tf->x[REG_A0], a1 = tf->x[REG_A1];
    switch (tf->x[REG_A7]) {
    case SYS_exit: proc_exit(current, (int)a0); return 0;
    case SYS_write: return sys_write(a0, a1, tf->x[REG_A2]);
    case SYS_spawn: return sys_spawn(a0, a1);
    case SYS_wait: return proc_wait(current, a0);
    case SYS_yield: current->state = RUNNABLE; return 0;
    case SYS_getpid: return current->pid;
    case SYS_time: /* exact for the 10 MHz timebase of QEMU virt and wasmvisor */
        return (i64)(arch_time() * (1000000000ul / boot.timebase));
    case SYS_map: return sys_map(a0, a1);
    case SYS_unmap: return sys_unmap(a0, a1);
    case SYS_alarm: return sys_alarm(a0, a1);
    case SYS_ioread: return blk_ioread(a0);
    case SYS_blkread: return sys_blkread(a0, a1);
    case SYS_cmdline: {
        u64 n = MIN(strlen(boot.bootargs) + 1, a1);
        if (copy_to_user(current->root, a0, boot.bootargs, n)) return E_FAULT;
        return (i64)n - 1;
    }
    case SYS_blkinfo: return blk_state;
    case SYS_hypercall: return arch_hypercall_nop();
    default: return E_FAULT;
    }
}

static const char *exception_name(u64 cause) {
    static const char *names[] = {
        [EXC_INST_MISALIGNED] = "instruction address misaligned", [EXC_INST_ACCESS] = "instruction access fault",
        [EXC_ILLEGAL_INST] = "illegal instruction", [EXC_BREAKPOINT] = "breakpoint",
        [EXC_LOAD_MISALIGNED] = "load address misaligned", [EXC_LOAD_ACCESS] = "load access fault",
        [EXC_STORE_MISALIGNED] = "store address misaligned", [EXC_STORE_ACCESS] = "store access fault",
        [EXC_INST_PAGE_FAULT] = "instruction page fault", [EXC_LOAD_PAGE_FAULT] = "load page fault",
        [EXC_STORE_PAGE_FAULT] = "store page fault",
    };
    return cause < ARRAY_SIZE(names) && names[cause] ? names[cause] : "exception";
}

void trap_from_user(struct trapframe *tf) {
    u64 cause = arch_trap_cause();
    tf->pc = arch_trap_pc();
    if (cause & SCAUSE_INTERRUPT) {
        if ((cause & ~SCAUSE_INTERRUPT) == IRQ_S_TIMER) timer_interrupt();
        else panic("unexpected interrupt %lu", cause & ~SCAUSE_INTERRUPT);
    } else if (cause == EXC_ECALL_U) {
        tf->pc += 4;                    /* return after the ecall */
        i64 ret = syscall(tf);
        if (current->state == RUNNING || current->state == RUNNABLE) tf->x[REG_A0] = (u64)ret;
    } else {
        u64 va = arch_trap_value();
        int handled = (cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT ||
                       cause == EXC_INST_PAGE_FAULT) && demand_zero(current->root, va) == 0;
        if (!handled) {
            kprintf("wvkernel: pid %d (%s) killed: %s at pc %p, address %p\n", current->pid,
                    current->name, exception_name(cause), tf->pc, va);
            proc_exit(current, -1);
        }
    }
    if (current->state != RUNNING || need_resched) {
        need_resched = 0;
        schedule();
    }
    return_to_user();
}

void trap_from_kernel(void) {
    u64 cause = arch_trap_cause();
    panic("trap in the kernel: scause %p (%s), sepc %p, stval %p", cause,
          cause & SCAUSE_INTERRUPT ? "interrupt" : exception_name(cause), arch_trap_pc(), arch_trap_value());
}
