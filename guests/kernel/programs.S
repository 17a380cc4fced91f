/* The user programs, linked into the kernel as ELF files (built from user/ by build.mjs).
 * `programs` is a table of { name, start, end } that proc.c searches by name. */
    .file "programs.S"                  /* the symbol table names this file (reproducible builds) */
    .macro program prog, file
    .section .rodata.programs, "a"
    .dword name_\prog, elf_\prog, elf_\prog\()_end
    .section .rodata.progdata, "a"
name_\prog:
    .string "\prog"
    .balign 8
elf_\prog:
    .incbin "\file"
elf_\prog\()_end:
    .endm

    .section .rodata.programs, "a"
    .balign 8
    .globl programs
programs:
    program bench, "bench.elf"
    program yielder, "yielder.elf"
    program nop, "nop.elf"
    .section .rodata.programs, "a"
    .globl programs_end
programs_end:
