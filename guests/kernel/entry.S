/* Boot entry, trap entry and the return to user mode: the assembly half of the arch layer. */
    .file "entry.S"                  /* the symbol table names this file (reproducible builds) */

/* The SBI starts the kernel here in S-mode with paging off, interrupts off,
 * a0 = hart id and a1 = the physical address of the device tree (SBI spec 4 / the
 * Linux RISC-V boot protocol). build.mjs links this first, at 0x80200000. */
    .section .text.entry, "ax"
    .globl _start
_start:
    la sp, stack_top
    la t0, __bss_start          /* zero .bss (the stack is in it, but still unused) */
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call kmain                  /* kmain(hartid, dtb) does not return */
3:
#ifndef PARAVIRT
    wfi                         /* (privileged: not in the paravirtual build) */
#endif
    j 3b

#ifdef PARAVIRT
/* The paravirtual build: the VMM delivers every trap here (docs/paravirt.md). From a
 * process, it has saved the process's registers in its trap frame already and a0 = the
 * frame; from the kernel, a0 = 0 (the kernel's a0 is in pv_shared.a0). */
    .text
    .balign 4
    .globl trap_vector
trap_vector:
    beqz a0, from_kernel
    la sp, stack_top            /* one kernel stack: a trap always starts it afresh */
    call trap_from_user         /* (tf) does not return: it ends in arch_return_to_user */
from_kernel:
    la t0, pv_shared
    ld a0, 24(t0)               /* struct pv_shared.a0 */
    call trap_from_kernel       /* panics */
#else
/* Every trap (exception or interrupt) comes here: stvec is in direct mode (priv 4.1.2).
 * From U-mode, sscratch holds the process's trap frame (struct trapframe, arch.h): swap it
 * with a0, save the 31 registers there, and call trap_from_user(tf) on the kernel stack.
 * The kernel is never interrupted (sstatus.SIE = 0), so a trap from S-mode is a bug:
 * sscratch is 0 then, and trap_from_kernel() reports it. */
    .text
    .balign 4
    .globl trap_vector
trap_vector:
    csrrw a0, sscratch, a0
    beqz a0, from_kernel
    .irp n, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\n, (\n * 8)(a0)
    .endr
    csrr t0, sscratch           /* the user's a0 */
    sd t0, (10 * 8)(a0)
    csrw sscratch, zero         /* we are in the kernel now */
    la sp, stack_top            /* one kernel stack: a trap always starts it afresh */
    call trap_from_user         /* (tf) does not return: it ends in user_return */
from_kernel:
    csrrw a0, sscratch, a0      /* a0 back, sscratch = 0 again */
    call trap_from_kernel       /* panics */

/* user_return(tf): load the registers from tf and sret to U-mode at sepc
 * (arch_return_to_user has set sepc, sstatus.SPP = U and sscratch = tf). */
    .globl user_return
user_return:
    .irp n, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\n, (\n * 8)(a0)
    .endr
    ld a0, (10 * 8)(a0)
    sret
#endif /* PARAVIRT */

/* The kernel stack (16 KiB). */
    .section .bss.stack, "aw", @nobits
    .balign 16
    .space 16384
    .globl stack_top
stack_top:
