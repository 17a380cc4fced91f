/* The architecture layer: every privileged operation of the kernel goes through here.
 *
 * Nothing outside arch.h, arch.c and entry.S reads or writes a CSR, executes sret,
 * sfence.vma or wfi, calls the SBI, or writes a page-table entry. That makes the list below
 * the complete set of things a paravirtual build must replace with hypercalls:
 *
 *   trap setup         arch_trap_init            stvec, sscratch, sie, scounteren
 *   trap information   arch_trap_cause/value/pc  scause, stval, sepc
 *   return to user     arch_return_to_user       sepc, sstatus.SPP, sscratch, sret (entry.S)
 *   address spaces     arch_set_pagetable        satp + sfence.vma
 *   address spaces     arch_set_kernel_pagetable  the kernel's own table
 *   page tables        arch_pte_set, arch_pte_commit, arch_tlb_flush_page, arch_tlb_flush_all,
 *                      arch_pt_pin/unpin (a root's life), arch_pt_clear (a new table)
 *   instruction fetch  arch_fence_i              after writing code into memory
 *   interrupts         arch_irq_enable/disable, arch_timer_pending, arch_wait_for_interrupt
 *   time               arch_time, arch_set_timer (SBI TIME extension)
 *   console            arch_console_write        (SBI DBCN, or the legacy putchar)
 *   devices            arch_mmio_read32/write32
 *   power              arch_shutdown             (SBI SRST)
 *   hypercall          arch_hypercall_nop        (the hypercall nanobenchmark)
 *
 * The paravirtual build (-DPARAVIRT) implements the same list with hypercalls: arch_pv.c,
 * and blk_pv.c instead of virtio_blk.c.
 */
#ifndef ARCH_H
#define ARCH_H
#include "types.h"
#include "riscv.h"

/* The user registers, saved by the trap entry (entry.S): x[1..31] by register number
 * (x[0] is unused), then the pc. sscratch points at the current process's trap frame
 * while it runs in U-mode, and is 0 while the kernel runs. */
struct trapframe {
    u64 x[32];
    u64 pc;
};
#define REG_RA 1
#define REG_SP 2
#define REG_A0 10
#define REG_A1 11
#define REG_A2 12
#define REG_A7 17

/* arch.c */
void arch_init(void);                              /* probe the SBI extensions */
void arch_console_write(const char *s, size_t n);
__attribute__((noreturn)) void arch_shutdown(int failure);
extern const char *arch_console_name;              /* "dbcn" or "legacy" */

/* entry.S */
extern char trap_vector[];
__attribute__((noreturn)) void user_return(struct trapframe *tf);

#ifdef PARAVIRT
/* ------------------------------------------------------------------------------------------
 * PARAVIRTUAL BUILD: the kernel runs in the hart's U-mode under wasmvisor's paravirt VMM and
 * asks it, by hypercall, for everything privileged (docs/paravirt.md is the ABI). No CSR
 * other than the unprivileged counters is touched, and no sret, sfence.vma or wfi executes.
 * ------------------------------------------------------------------------------------------ */

/* A hypercall: ECALL with PV_EID in a7, the function in a6, arguments in a0-a5; the error
 * comes back in a0 (0 or an SBI error code), a value in a1. */
#define PV_EID 0x0a007776ul
enum {
    PV_VERSION, PV_SET_SHARED, PV_SET_TRAP_VECTOR, PV_CONSOLE_WRITE, PV_SHUTDOWN, PV_SET_TIMER,
    PV_MMU_INIT, PV_MMU_UPDATE, PV_SET_ROOT, PV_RETURN_TO_USER, PV_BLK_INFO, PV_BLK_SETUP,
    PV_BLK_NOTIFY, PV_NOP,
};
/* PV_MMU_UPDATE requests: { address | op, value } */
enum { MMU_PTE, MMU_PIN, MMU_UNPIN, MMU_CLEAR, MMU_FLUSH_PAGE, MMU_FLUSH_ALL };
struct mmu_request { u64 ptr, val; };

struct hcret { i64 error; i64 value; };
static inline struct hcret hypercall(u64 fid, u64 a0, u64 a1) {
    register u64 r0 __asm__("a0") = a0;
    register u64 r1 __asm__("a1") = a1;
    register u64 r6 __asm__("a6") = fid;
    register u64 r7 __asm__("a7") = PV_EID;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
    return (struct hcret){ (i64)r0, (i64)r1 };
}

/* The page the kernel shares with the VMM (registered once by arch_init). */
struct pv_shared {
    u64 scause, stval, sepc;    /* the last trap, written by the VMM */
    u64 a0;                     /* a0 of a trap in the kernel (which finds a0 = 0) */
    u64 irq_enable;             /* bit 1 (as sstatus.SIE): take interrupts in the kernel */
    u64 pending;                /* pending interrupts, as sip (bit 5: the timer) */
};
extern volatile struct pv_shared pv_shared;

/* The page-table pool: every page table comes from it; it is mapped read-only. */
#define PT_POOL_SIZE (2ul << 20)
extern u64 pt_pool_base;

/* arch_pv.c */
void arch_trap_init(void);
void arch_set_pagetable(pte_t *root);
void arch_pte_set(pte_t *ptep, pte_t value);
void arch_pte_commit(void);
void arch_tlb_flush_page(u64 va);
void arch_tlb_flush_all(void);
void arch_pt_pin(pte_t *root);
void arch_pt_unpin(pte_t *root);
void arch_pt_clear(void *table);
void arch_set_kernel_pagetable(pte_t *root);
__attribute__((noreturn)) void arch_return_to_user(struct trapframe *tf);

static inline u64 arch_trap_cause(void) { return pv_shared.scause; }
static inline u64 arch_trap_value(void) { return pv_shared.stval; }
static inline u64 arch_trap_pc(void) { return pv_shared.sepc; }

/* fence.i is not privileged: the kernel orders its own instruction fetches */
static inline void arch_fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

/* Masking interrupts is a store to the shared page, not a trap. */
static inline void arch_irq_enable(void) { pv_shared.irq_enable |= 2; }
static inline void arch_irq_disable(void) { pv_shared.irq_enable &= ~2ul; }
static inline int arch_timer_pending(void) { return (pv_shared.pending & SIP_STIP) != 0; }
static inline void arch_wait_for_interrupt(void) { for (;;) {} }

/* rdtime is unprivileged (Zicntr); the VMM lets U-mode read the counters */
static inline u64 arch_time(void) { u64 t; __asm__ volatile("rdtime %0" : "=r"(t)); return t; }
static inline void arch_set_timer(u64 deadline) { hypercall(PV_SET_TIMER, deadline, 0); }

/* The hypercall nanobenchmark: the cheapest call into the VMM. */
static inline i64 arch_hypercall_nop(void) { return hypercall(PV_NOP, 0, 0).error; }

#else /* native: the kernel runs in S-mode and executes the privileged instructions itself */

#define csr_read(csr) ({ u64 v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"((u64)(v)))
#define csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" ::"r"((u64)(bits)))
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"r"((u64)(bits)))

/* Traps go to trap_vector (direct mode, 4.1.2); only the timer interrupt is enabled (4.1.3);
 * U-mode may read cycle, time and instret (4.1.5), which the benchmarks use. */
static inline void arch_trap_init(void) {
    csr_write(sscratch, 0);
    csr_write(stvec, (u64)trap_vector);
    csr_write(sie, SIE_STIE);
    csr_write(scounteren, SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR);
}

static inline u64 arch_trap_cause(void) { return csr_read(scause); }
static inline u64 arch_trap_value(void) { return csr_read(stval); }
static inline u64 arch_trap_pc(void) { return csr_read(sepc); }

/* Enter U-mode with the registers in tf: sret goes to sepc in the mode sstatus.SPP names
 * (3.3.2). The trap entry finds tf through sscratch next time. */
static inline __attribute__((noreturn)) void arch_return_to_user(struct trapframe *tf) {
    csr_write(sepc, tf->pc);
    csr_clear(sstatus, SSTATUS_SPP);
    csr_write(sscratch, (u64)tf);
    user_return(tf);
}

/* Switch address space. Every process uses ASID 0, so the whole TLB is flushed (4.2.1). */
static inline void arch_set_pagetable(pte_t *root) {
    csr_write(satp, SATP_SV39 | ((u64)root >> 12));
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

/* The kernel's own page table: natively the kernel runs on each process's table (which
 * holds the kernel's mappings too); this one is for when no process runs. */
static inline void arch_set_kernel_pagetable(pte_t *root) { arch_set_pagetable(root); }

/* Page-table updates. Natively a PTE is an ordinary store (the walker reads memory);
 * commit has nothing to do. sfence.vma orders the stores before later translations and
 * drops stale TLB entries (4.2.1). */
static inline void arch_pte_set(pte_t *ptep, pte_t value) { *(volatile pte_t *)ptep = value; }
static inline void arch_pte_commit(void) {}
static inline void arch_tlb_flush_page(u64 va) { __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory"); }
static inline void arch_tlb_flush_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }

/* A page table's life: natively nothing to tell anyone (the paravirtual build registers
 * roots and clears tables through the VMM). */
static inline void arch_pt_pin(pte_t *root) { (void)root; }
static inline void arch_pt_unpin(pte_t *root) { (void)root; }
static inline void arch_pt_clear(void *table) { (void)table; }

/* Stores to memory that will be executed need fence.i before the fetch (Zifencei). */
static inline void arch_fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

/* The kernel runs with sstatus.SIE = 0; in U-mode S-mode interrupts are taken anyway
 * ("interrupts for higher-privilege modes are always globally enabled", 3.1.6.1). */
static inline void arch_irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void arch_irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline int arch_timer_pending(void) { return (csr_read(sip) & SIP_STIP) != 0; }
static inline void arch_wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

/* The time CSR (Zicntr), in timebase ticks (/cpus/timebase-frequency). */
static inline u64 arch_time(void) { return csr_read(time); }

/* SBI calls (SBI spec 3.1): extension in a7, function in a6, arguments in a0-a5;
 * the error comes back in a0, the value in a1. */
struct sbiret { i64 error; i64 value; };
static inline struct sbiret sbi_call(u64 eid, u64 fid, u64 a0, u64 a1, u64 a2) {
    register u64 r0 __asm__("a0") = a0;
    register u64 r1 __asm__("a1") = a1;
    register u64 r2 __asm__("a2") = a2;
    register u64 r6 __asm__("a6") = fid;
    register u64 r7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
    return (struct sbiret){ (i64)r0, (i64)r1 };
}
#define SBI_EXT_BASE  0x10
#define SBI_EXT_TIME  0x54494d45   /* "TIME" (SBI 6) */
#define SBI_EXT_SRST  0x53525354   /* "SRST" (SBI 10) */
#define SBI_EXT_DBCN  0x4442434e   /* "DBCN" (SBI 12) */
#define SBI_LEGACY_PUTCHAR  0x01   /* (SBI 5.2) */
#define SBI_LEGACY_SHUTDOWN 0x08   /* (SBI 5.8) */

/* Program the next timer interrupt: sip.STIP is raised once time >= deadline and stays
 * raised until the timer is programmed again (SBI 6.1). */
static inline void arch_set_timer(u64 deadline) { sbi_call(SBI_EXT_TIME, 0, deadline, 0, 0); }

/* The hypercall nanobenchmark's native counterpart: the cheapest call into the SBI
 * (sbi_get_spec_version, SBI 4.1). */
static inline i64 arch_hypercall_nop(void) { return sbi_call(SBI_EXT_BASE, 0, 0, 0, 0).error; }

/* Device registers (identity-mapped). */
static inline u32 arch_mmio_read32(u64 addr) { return *(volatile u32 *)addr; }
static inline void arch_mmio_write32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }

#endif /* PARAVIRT */

/* A full memory fence: orders our ring updates against the device's (not privileged). */
static inline void mb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

#endif
