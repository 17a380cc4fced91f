/* RISC-V definitions: CSR bits, trap causes, Sv39 page-table entries.
 * Section numbers refer to the RISC-V privileged specification, version 20211203. */
#ifndef RISCV_H
#define RISCV_H

/* sstatus (4.1.1) */
#define SSTATUS_SIE   (1ul << 1)   /* S-mode interrupts enabled */
#define SSTATUS_SPIE  (1ul << 5)   /* SIE before the trap */
#define SSTATUS_SPP   (1ul << 8)   /* privilege before the trap: 0 = U, 1 = S */
#define SSTATUS_SUM   (1ul << 18)  /* S-mode may access U pages */

/* sie / sip (4.1.3): the supervisor timer interrupt */
#define SIE_STIE      (1ul << 5)
#define SIP_STIP      (1ul << 5)

/* scounteren (4.1.5): which counters U-mode may read */
#define SCOUNTEREN_CY (1ul << 0)   /* cycle */
#define SCOUNTEREN_TM (1ul << 1)   /* time */
#define SCOUNTEREN_IR (1ul << 2)   /* instret */

/* scause (4.1.8, table 4.2) */
#define SCAUSE_INTERRUPT      (1ul << 63)
#define IRQ_S_TIMER           5
#define EXC_INST_MISALIGNED   0
#define EXC_INST_ACCESS       1
#define EXC_ILLEGAL_INST      2
#define EXC_BREAKPOINT        3
#define EXC_LOAD_MISALIGNED   4
#define EXC_LOAD_ACCESS       5
#define EXC_STORE_MISALIGNED  6
#define EXC_STORE_ACCESS      7
#define EXC_ECALL_U           8
#define EXC_INST_PAGE_FAULT   12
#define EXC_LOAD_PAGE_FAULT   13
#define EXC_STORE_PAGE_FAULT  15

/* satp (4.1.11): MODE = 8 is Sv39, ASID 0, PPN of the root page table */
#define SATP_SV39     (8ul << 60)

/* Sv39 page-table entries (4.4.1, 4.3.1): 3 levels of 512 entries; a leaf at level 2 maps
 * 1 GiB, at level 1 2 MiB, at level 0 4 KiB. R = W = X = 0 means "pointer to the next level". */
typedef unsigned long pte_t;
#define PTE_V  (1ul << 0)
#define PTE_R  (1ul << 1)
#define PTE_W  (1ul << 2)
#define PTE_X  (1ul << 3)
#define PTE_U  (1ul << 4)
#define PTE_G  (1ul << 5)
#define PTE_A  (1ul << 6)   /* accessed and dirty: we set them ourselves, so hardware */
#define PTE_D  (1ul << 7)   /* that does not update them (4.3.1) never faults on them */
#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PA_TO_PTE(pa)  (((unsigned long)(pa) >> 12) << 10)
#define PTE_TO_PA(pte) (((pte) >> 10) << 12)
#define VPN(va, level) (((unsigned long)(va) >> (12 + 9 * (level))) & 511)

#endif
