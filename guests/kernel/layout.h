/* Virtual address space layout (Sv39: 39-bit virtual addresses, privileged spec 4.4).
 *
 * Every process has its own page table. The kernel's part of it is the same in all of them:
 *   [0, 1 GiB)             devices, identity-mapped (one 1 GiB "gigapage", not user-accessible)
 *   [2 GiB, 4 GiB)         RAM, identity-mapped (two gigapages): the kernel runs here
 * The user's part:
 *   USER_BASE..            the program, loaded from its ELF file
 *   ANON_BASE..ANON_END    anonymous memory: a page here appears, zeroed, when first touched
 *                          (demand-zero), or at once with map(); unmap() gives it back
 *   STACK_BASE..STACK_TOP  the stack, demand-zero too; sp starts at STACK_TOP
 * STACK_TOP is the top of the lower half of Sv39 (bit 38 set would be the kernel's half). */
#ifndef LAYOUT_H
#define LAYOUT_H

#define PAGE_SIZE   4096ul
#define USER_BASE   0x100000000ul   /* 4 GiB */
#define ANON_BASE   0x200000000ul   /* 8 GiB */
#define ANON_END    0x300000000ul
#define STACK_TOP   0x4000000000ul  /* 256 GiB */
#define STACK_BASE  (STACK_TOP - 0x100000ul)  /* 1 MiB of stack */
#define USER_END    STACK_TOP

#endif
