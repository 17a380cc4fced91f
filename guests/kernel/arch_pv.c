/* The architecture layer of the paravirtual build: every privileged operation is a
 * hypercall to wasmvisor's paravirt VMM (docs/paravirt.md is the ABI). The kernel itself runs
 * in the hart's U-mode; it never executes a privileged instruction. */
#include "kernel.h"

#ifndef PARAVIRT
#error "arch_pv.c is the paravirtual build's; the native build uses arch.c"
#endif

volatile struct pv_shared pv_shared __attribute__((aligned(PAGE_SIZE)));
const char *arch_console_name = "hypercall";

static void must(struct hcret r, const char *what) {
    if (r.error) panic("hypercall %s refused: error %ld", what, r.error);
}

/* Booted without the VMM (on firmware that speaks SBI): say so with the legacy SBI console
 * and power off (SBI 5.2 putchar, 10.1 system_reset); plain ECALLs, nothing privileged. */
static void not_paravirt(void) {
    static const char msg[] = "wvkernel: this is the paravirtual build; it runs on wasmvisor's paravirt machine (--type paravirt)\n";
    for (const char *c = msg; *c; c++) {
        register u64 a0 __asm__("a0") = (u8)*c;
        register u64 a7 __asm__("a7") = 1;
        __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory", "a1");
    }
    register u64 a0 __asm__("a0") = 0, a1 __asm__("a1") = 1, a6 __asm__("a6") = 0, a7 __asm__("a7") = 0x53525354;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
    for (;;) {}
}

/* Is the VMM there, and does it speak our ABI? Then share the page it reports traps in. */
void arch_init(void) {
    struct hcret v = hypercall(PV_VERSION, 0, 0);
    if (v.error || v.value != 1) not_paravirt();
    must(hypercall(PV_SET_SHARED, (u64)&pv_shared, 0), "set_shared");
}

/* The kernel is identity-mapped: a kernel pointer is the guest physical address the VMM wants. */
void arch_console_write(const char *s, size_t n) {
    while (n) {
        struct hcret r = hypercall(PV_CONSOLE_WRITE, n, (u64)s);
        if (r.error) return;
        s += r.value;
        n -= (size_t)r.value;
    }
}

void arch_shutdown(int failure) {
    hypercall(PV_SHUTDOWN, failure ? 1 : 0, 0);
    for (;;) {}
}

/* Traps are reflected to trap_vector (entry.S) with a0 = the trap frame, or 0 from the kernel. */
void arch_trap_init(void) { must(hypercall(PV_SET_TRAP_VECTOR, (u64)trap_vector, 0), "set_trap_vector"); }

/* ---- Page tables: requests are queued and sent in one PV_MMU_UPDATE per batch ---- */
#define MMU_BATCH 64
static struct mmu_request batch[MMU_BATCH];
static u64 nbatch;

void arch_pte_commit(void) {
    if (!nbatch) return;
    struct hcret r = hypercall(PV_MMU_UPDATE, (u64)batch, nbatch);
    if (r.error)
        panic("page-table request %ld of %lu refused: error %ld (ptr %p, value %p)", r.value, nbatch,
              r.error, batch[r.value].ptr, batch[r.value].val);
    nbatch = 0;
}

static void queue(u64 ptr, u64 op, u64 val) {
    if (nbatch == MMU_BATCH) arch_pte_commit();
    batch[nbatch++] = (struct mmu_request){ ptr | op, val };
}

void arch_pte_set(pte_t *ptep, pte_t value) { queue((u64)ptep, MMU_PTE, value); }
void arch_tlb_flush_page(u64 va) { queue(0, MMU_FLUSH_PAGE, va); }
void arch_tlb_flush_all(void) { queue(0, MMU_FLUSH_ALL, 0); }
void arch_pt_pin(pte_t *root) { queue((u64)root, MMU_PIN, 0); }
void arch_pt_unpin(pte_t *root) { queue((u64)root, MMU_UNPIN, 0); }
void arch_pt_clear(void *table) { queue((u64)table, MMU_CLEAR, 0); }

/* The kernel's own table, loaded whenever the kernel runs. */
void arch_set_kernel_pagetable(pte_t *root) {
    arch_pte_commit();
    must(hypercall(PV_SET_ROOT, 0, (u64)root), "set_root(kernel)");
}

/* The process's table (the kernel's means "no process": the kernel has its own table). */
void arch_set_pagetable(pte_t *root) {
    arch_pte_commit();
    must(hypercall(PV_SET_ROOT, 1, root == kernel_root ? 0 : (u64)root), "set_root(user)");
}

/* The VMM loads the registers from tf and enters the process; it saves them there again on
 * the next trap. */
void arch_return_to_user(struct trapframe *tf) {
    arch_pte_commit();
    struct hcret r = hypercall(PV_RETURN_TO_USER, (u64)tf, 0);
    panic("return to user refused: error %ld", r.error);
}
