/* Processes: creation from an ELF file linked into the kernel, exit, wait, and a
 * round-robin scheduler. There is a single kernel stack: a process that is not running has
 * all of its state in its struct proc (the trap frame), so switching processes is choosing
 * which trap frame to return to. */
#include "kernel.h"

struct proc procs[NPROC];
struct proc *current;
static int next_pid = 1;

/* ---- The user programs (programs.S) ---- */
struct program { const char *name; const u8 *elf, *end; };
extern const struct program programs[], programs_end[];

static const struct program *find_program(const char *name) {
    for (const struct program *p = programs; p < programs_end; p++)
        if (!strcmp(p->name, name)) return p;
    return NULL;
}

/* ---- ELF loading (the System V ABI's ELF-64 format, the parts we use) ---- */
struct elf64_ehdr {
    u8 ident[16];
    u16 type, machine;
    u32 version;
    u64 entry, phoff, shoff;
    u32 flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    u32 type, flags;
    u64 offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define EM_RISCV 243

/* Copy each PT_LOAD segment into fresh pages of the address space root. The entry point,
 * or 0 if the file is not a RISC-V ELF64 executable for our user address range. */
static u64 load_elf(pte_t *root, const u8 *elf, size_t size) {
    const struct elf64_ehdr *eh = (const void *)elf;
    if (size < sizeof *eh || memcmp(eh->ident, "\177ELF\2\1", 6) || eh->machine != EM_RISCV ||
        eh->phoff + (u64)eh->phnum * sizeof(struct elf64_phdr) > size)
        return 0;
    for (int i = 0; i < eh->phnum; i++) {
        const struct elf64_phdr *ph = (const void *)(elf + eh->phoff + i * sizeof *ph);
        if (ph->type != PT_LOAD || ph->memsz == 0) continue;
        if (ph->vaddr % PAGE_SIZE || ph->vaddr < USER_BASE || ph->vaddr + ph->memsz > ANON_BASE ||
            ph->filesz > ph->memsz || ph->offset + ph->filesz > size)
            return 0;
        pte_t perm = PTE_U | PTE_R | (ph->flags & PF_W ? PTE_W : 0) | (ph->flags & PF_X ? PTE_X : 0);
        for (u64 off = 0; off < ph->memsz; off += PAGE_SIZE) {
            u8 *page = page_alloc();
            if (!page) return 0;
            if (off < ph->filesz) memcpy(page, elf + ph->offset + off, MIN(PAGE_SIZE, ph->filesz - off));
            if (map_page(root, ph->vaddr + off, (u64)page, perm)) { page_free(page); return 0; }
        }
    }
    arch_pte_commit();
    arch_fence_i();   /* we wrote instructions with stores */
    return eh->entry;
}

/* Start program `name` as a child of parent: a0 = arg, sp = the top of its stack.
 * The new pid, or a negative error. */
int proc_spawn(const char *name, u64 arg, struct proc *parent) {
    const struct program *prog = find_program(name);
    if (!prog) return E_FAULT;
    struct proc *p = NULL;
    for (int i = 0; i < NPROC && !p; i++)
        if (procs[i].state == UNUSED) p = &procs[i];
    if (!p) return E_NOMEM;
    pte_t *root = as_create();
    if (!root) return E_NOMEM;
    u64 entry = load_elf(root, prog->elf, (size_t)(prog->end - prog->elf));
    if (!entry) {
        as_destroy(root);
        return E_NOMEM;
    }
    memset(p, 0, sizeof *p);
    p->pid = next_pid++;
    p->name = prog->name;
    p->parent = parent;
    p->root = root;
    p->alarm_at = U64_MAX;
    p->tf.pc = entry;
    p->tf.x[REG_A0] = arg;
    p->tf.x[REG_SP] = STACK_TOP;
    p->state = RUNNABLE;
    return p->pid;
}

static void reap(struct proc *child) {
    as_destroy(child->root);
    child->state = UNUSED;
}

/* The page table in satp. Switching costs a TLB flush, so only switch when it changes. */
static pte_t *active_root;

static void use_pagetable(pte_t *root) {
    if (root != active_root) {
        arch_set_pagetable(root);
        active_root = root;
    }
}

/* Give child's exit status to parent (at the address it passed to wait) and free child. */
static int collect(struct proc *parent, struct proc *child) {
    int pid = child->pid;
    if (parent->wait_status_va)
        copy_to_user(parent->root, parent->wait_status_va, &child->exit_status, sizeof(int));
    reap(child);
    return pid;
}

/* exit(): p becomes a zombie, keeping its exit status until its parent waits for it (at
 * once if the parent is waiting already). When process 1 exits, the machine powers off. */
void proc_exit(struct proc *p, int status) {
    if (p->pid == 1) arch_shutdown(status != 0);
    p->exit_status = status;
    p->state = ZOMBIE;
    p->alarm_at = U64_MAX;
    if (p == current) use_pagetable(kernel_root);        /* we are about to free ours */
    for (int i = 0; i < NPROC; i++) {                    /* orphans: nobody will wait */
        struct proc *c = &procs[i];
        if (c->state == UNUSED || c->parent != p) continue;
        c->parent = NULL;
        if (c->state == ZOMBIE) reap(c);
    }
    struct proc *parent = p->parent;
    if (!parent) {
        reap(p);
    } else if (parent->state == WAITING) {               /* its wait() returns now */
        parent->tf.x[REG_A0] = (u64)collect(parent, p);
        parent->state = RUNNABLE;
    }
}

/* wait(): the pid of a child that has exited; or 0 after marking p WAITING (proc_exit
 * finishes the call when a child exits); or an error if p has no children. */
int proc_wait(struct proc *p, u64 status_va) {
    int children = 0;
    p->wait_status_va = status_va;
    for (int i = 0; i < NPROC; i++) {
        struct proc *c = &procs[i];
        if (c->state == UNUSED || c->parent != p) continue;
        if (c->state == ZOMBIE) return collect(p, c);
        children++;
    }
    if (!children) return E_FAULT;
    p->state = WAITING;
    return 0;
}

/* Pick the next runnable process after current, round robin (current itself last). */
void schedule(void) {
    int start = current ? (int)(current - procs) + 1 : 0;
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[(start + i) % NPROC];
        if (p->state == RUNNABLE || p->state == RUNNING) {
            if (current && current->state == RUNNING) current->state = RUNNABLE;
            current = p;
            p->state = RUNNING;
            return;
        }
    }
    panic("no process can run");          /* every one waits: impossible while pid 1 lives */
}

/* Leave the kernel: into the current process, in its address space. */
void return_to_user(void) {
    use_pagetable(current->root);
    arch_return_to_user(&current->tf);
}
