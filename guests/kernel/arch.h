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
 *   page tables        arch_pte_set, arch_pte_commit, arch_tlb_flush_page, arch_tlb_flush_all
 *   instruction fetch  arch_fence_i              after writing code into memory
 *   interrupts         arch_irq_enable/disable, arch_timer_pending, arch_wait_for_interrupt
 *   time               arch_time, arch_set_timer (SBI TIME extension)
 *   console            arch_console_write        (SBI DBCN, or the legacy putchar)
 *   devices            arch_mmio_read32/write32
 *   power              arch_shutdown             (SBI SRST)
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
 * PARAVIRTUAL BUILD: NOT IMPLEMENTED. This is a skeleton for issue 4; it does not work.
 * ------------------------------------------------------------------------------------------ */
#error "paravirt hypercall ABI not implemented yet"
/* Plan (each native operation below becomes a hypercall: ECALL with the wasmvisor vendor
 * SBI extension id in a7, the function in a6, arguments in a0-a5, result in a0/a1):
 *   arch_trap_init          register the trap vector once (HC_SET_TRAP_VECTOR)
 *   arch_trap_cause/value/pc   read from a shared page the hypervisor fills on each trap
 *   arch_return_to_user     HC_RETURN(trapframe): the hypervisor restores and enters U-mode
 *   arch_set_pagetable      HC_SET_ROOT(root): the hypervisor checks the frames are ours
 *   arch_pte_set            append (PTE address, value) to a batch in a shared page;
 *   arch_pte_commit         HC_MMU_UPDATE(batch, n): validated like Xen's mmu_update
 *   arch_tlb_flush_*        folded into HC_MMU_UPDATE, or HC_TLB_FLUSH(va)
 *   arch_irq_enable/disable a flag in the shared page the hypervisor reads before injecting
 *   arch_time               read the time CSR (allowed in U-mode) or a shared page
 *   arch_set_timer          HC_SET_TIMER(deadline)
 *   arch_console_write      HC_CONSOLE_WRITE(buf, n)
 *   arch_mmio_read32/write32  block I/O through a shared ring with one notify per batch
 *   arch_shutdown           HC_SHUTDOWN(failure)
 */
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

/* Page-table updates. Natively a PTE is an ordinary store (the walker reads memory);
 * commit has nothing to do. sfence.vma orders the stores before later translations and
 * drops stale TLB entries (4.2.1). */
static inline void arch_pte_set(pte_t *ptep, pte_t value) { *(volatile pte_t *)ptep = value; }
static inline void arch_pte_commit(void) {}
static inline void arch_tlb_flush_page(u64 va) { __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory"); }
static inline void arch_tlb_flush_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }

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

/* Device registers (identity-mapped). */
static inline u32 arch_mmio_read32(u64 addr) { return *(volatile u32 *)addr; }
static inline void arch_mmio_write32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }

#endif /* PARAVIRT */

/* A full memory fence: orders our ring updates against the device's (not privileged). */
static inline void mb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

#endif
