/* The nanobenchmarks (issue 4): the first process the kernel starts.
 *
 * Each benchmark repeats one operation a fixed number of times and prints one line
 *   wvbench name=<name> ops=<N> cycles=<delta> instret=<delta> time=<delta>
 * with the changes of the cycle, instret and time counters over the measured part
 * (instret counts every instruction the hart retired, the kernel's included). A benchmark
 * that fails prints "wvbench error name=<name> reason=<reason>", one that cannot run here
 * "wvbench skipped name=<name> reason=<reason>"; then the next one runs. At the end:
 * "wvbench done", and the exit status is 1 if any benchmark failed.
 *
 * The kernel command line (/chosen/bootargs) may say
 *   iters=N        run every benchmark N times instead of its default
 *   only=a,b,...   run only these benchmarks */
#include "user.h"

struct counters { u64 cycle, instret, time; };

struct run {
    u64 ops;                    /* operations measured */
    struct counters total;      /* counter deltas over the measured parts */
    struct counters start;
    const char *error;          /* set: the benchmark failed, with this reason */
    const char *skipped;        /* set: it cannot run here, for this reason */
};

static inline void snapshot(struct counters *c) {
    c->time = rdtime();
    c->cycle = rdcycle();
    c->instret = rdinstret();
}

/* Bracket a measured part; a benchmark may have several (its set-up in between is not
 * counted). */
static inline void begin(struct run *r) { snapshot(&r->start); }
static inline void end(struct run *r) {
    struct counters now;
    snapshot(&now);
    r->total.cycle += now.cycle - r->start.cycle;
    r->total.instret += now.instret - r->start.instret;
    r->total.time += now.time - r->start.time;
}

/* ---- The benchmarks: each does n operations ---- */

/* A system call that does nothing but return a number. */
static void null_syscall(struct run *r, u64 n) {
    begin(r);
    for (u64 i = 0; i < n; i++) getpid();
    end(r);
    r->ops = n;
}

/* Touch pages of anonymous memory never touched before: each load faults, and the kernel
 * maps a fresh zeroed page. Giving the pages back (unmap) is not measured. */
#define FAULT_BATCH 64
static void page_fault(struct run *r, u64 n) {
    const u64 base = ANON_BASE;
    for (u64 done = 0; done < n;) {
        u64 k = MIN(n - done, FAULT_BATCH);
        int nonzero = 0;
        begin(r);
        for (u64 j = 0; j < k; j++) {
            volatile u64 *p = (volatile u64 *)(base + j * PAGE_SIZE);
            nonzero |= *p != 0;         /* the fault: a demand-zero page must read 0 */
            *p = j + 1;                 /* dirty it: the next round checks it was not reused as is */
        }
        end(r);
        if (nonzero) { r->error = "page-not-zero"; return; }
        if (unmap(base, k) != (i64)k) { r->error = "unmap-failed"; return; }
        done += k;
    }
    r->ops = n;
}

/* Map one page, then unmap it: two page-table updates and a TLB flush. */
static void pte_update(struct run *r, u64 n) {
    const u64 va = ANON_BASE + 0x10000000ul;
    begin(r);
    for (u64 i = 0; i < n; i++) {
        if (map(va, 1) != 0) { r->error = "map-failed"; return; }
        if (unmap(va, 1) != 1) { r->error = "unmap-failed"; return; }
    }
    end(r);
    r->ops = n;
}

/* Two processes yielding to each other: each of our n yields switches to the partner and
 * back, so ops counts 2n switches. */
static void context_switch(struct run *r, u64 n) {
    int pid = spawn("yielder", n + 1);
    if (pid < 0) { r->error = "spawn-failed"; return; }
    yield();                            /* let it start and reach its loop */
    begin(r);
    for (u64 i = 0; i < n; i++) yield();
    end(r);
    int status;
    if (wait(&status) != pid || status != 0) { r->error = "wait-failed"; return; }
    r->ops = 2 * n;
}

/* A system call that reads one device register: natively the virtio-mmio MagicValue; in
 * the paravirtual kernel, which has no device registers, the disk size from the VMM. */
static void mmio_read(struct run *r, u64 n) {
    i64 expect = ioread(0);
    if (expect == E_FAULT) { r->error = "ioread-failed"; return; }
    begin(r);
    for (u64 i = 0; i < n; i++)
        if (ioread(0) != expect) { r->error = "value-changed"; return; }
    end(r);
    r->ops = n;
}

/* Read one 512-byte sector from the disk (virtio-blk, or the paravirtual block ring), cycling
 * over its first 64 sectors. */
static void block_read(struct run *r, u64 n) {
    static u8 buf[512];
    i64 sectors = blkinfo();
    if (sectors == E_NODEV) { r->skipped = "no-disk"; return; }
    if (sectors == E_LEGACY) { r->skipped = "legacy-virtio-mmio-device"; return; }
    if (sectors <= 0) { r->error = "disk-unusable"; return; }
    u64 span = MIN((u64)sectors, 64);
    begin(r);
    for (u64 i = 0; i < n; i++)
        if (blkread(i % span, buf) != 0) { r->error = "read-failed"; return; }
    end(r);
    r->ops = n;
}

/* Arm the timer for "now" and spin until the interrupt has been taken (the kernel's
 * handler sets the flag). */
static void timer_irq(struct run *r, u64 n) {
    static volatile int flag;
    begin(r);
    for (u64 i = 0; i < n; i++) {
        flag = 0;
        if (alarm(0, &flag) != 0) { r->error = "alarm-failed"; return; }
        for (u64 spins = 0; !flag; spins++)
            if (spins == 100000000) { r->error = "no-interrupt"; return; }
    }
    end(r);
    r->ops = n;
}

/* The kernel's cheapest call to the layer below it (a hypercall to the VMM in the
 * paravirtual kernel, an SBI call natively), from a system call. */
static void hypercall_bench(struct run *r, u64 n) {
    if (hypercall() != 0) { r->error = "hypercall-failed"; return; }
    begin(r);
    for (u64 i = 0; i < n; i++) hypercall();
    end(r);
    r->ops = n;
}

/* Start a process that exits at once, and wait for it. */
static void spawn_exit(struct run *r, u64 n) {
    begin(r);
    for (u64 i = 0; i < n; i++) {
        int status, pid = spawn("nop", i);
        if (pid < 0) { r->error = "spawn-failed"; return; }
        if (wait(&status) != pid || status != 0) { r->error = "wait-failed"; return; }
    }
    end(r);
    r->ops = n;
}

/* Default iteration counts: the whole suite takes about a second on wasmvisor. */
static const struct bench {
    const char *name;
    void (*fn)(struct run *, u64);
    u64 iters;
} benches[] = {
    { "null_syscall", null_syscall, 20000 },
    { "page_fault", page_fault, 4000 },
    { "pte_update", pte_update, 4000 },
    { "context_switch", context_switch, 10000 },
    { "mmio_read", mmio_read, 20000 },
    { "block_read", block_read, 2000 },
    { "timer_irq", timer_irq, 4000 },
    { "hypercall", hypercall_bench, 20000 },
    { "spawn_exit", spawn_exit, 500 },
};

/* ---- The command line ---- */
static char args[256];
static i64 iters_override = -1;
static const char *only;

static void parse_cmdline(void) {
    cmdline(args, sizeof args);
    for (char *p = args; *p;) {
        while (*p == ' ') p++;
        char *word = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = 0;
        if (!strncmp(word, "iters=", 6)) {
            const char *s = word + 6;
            iters_override = parse_u64(&s);
        } else if (!strncmp(word, "only=", 5)) {
            only = word + 5;
        }
    }
}

/* Is name in the comma-separated list `only`? */
static int selected(const char *name) {
    if (!only) return 1;
    size_t len = strlen(name);
    for (const char *p = only; *p;) {
        if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == 0)) return 1;
        while (*p && *p != ',') p++;
        if (*p) p++;
    }
    return 0;
}

int main(u64 arg) {
    (void)arg;
    int errors = 0;
    parse_cmdline();
    for (size_t i = 0; i < ARRAY_SIZE(benches); i++) {
        const struct bench *b = &benches[i];
        if (!selected(b->name)) continue;
        u64 n = iters_override > 0 ? (u64)iters_override : b->iters;
        struct run warm = { 0 }, r = { 0 };
        b->fn(&warm, MIN(n, 4));        /* warm up: first-touch faults, caches, TLB */
        if (!warm.error && !warm.skipped) b->fn(&r, n);
        else r = warm;
        if (r.skipped) {
            printf("wvbench skipped name=%s reason=%s\n", b->name, r.skipped);
        } else if (r.error || r.ops == 0) {
            printf("wvbench error name=%s reason=%s\n", b->name, r.error ? r.error : "no-operations");
            errors++;
        } else {
            printf("wvbench name=%s ops=%lu cycles=%lu instret=%lu time=%lu\n", b->name, r.ops,
                   r.total.cycle, r.total.instret, r.total.time);
        }
    }
    printf("wvbench done\n");
    return errors ? 1 : 0;
}
