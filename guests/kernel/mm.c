/* Memory: a physical page allocator and Sv39 page tables (privileged spec 4.3-4.4). */
#include "kernel.h"

/* ---- Physical pages ----
 * Free RAM after the kernel image is handed out from the bottom up ("bump"); pages given
 * back go on a free list, linked through their first word, and are handed out first. */
static u64 bump, bump_end;
static void *free_list;
static u64 nfree_listed;

void mm_init(u64 start, u64 end) {
    bump = ALIGN_UP(start, PAGE_SIZE);
    bump_end = ALIGN_DOWN(end, PAGE_SIZE);
}

void *page_alloc(void) {
    void *page;
    if (free_list) {
        page = free_list;
        free_list = *(void **)page;
        nfree_listed--;
    } else if (bump < bump_end) {
        page = (void *)bump;
        bump += PAGE_SIZE;
    } else {
        return NULL;
    }
    memset(page, 0, PAGE_SIZE);
    return page;
}

void page_free(void *page) {
    *(void **)page = free_list;
    free_list = page;
    nfree_listed++;
}

u64 mm_pages_free(void) { return (bump_end - bump) / PAGE_SIZE + nfree_listed; }

/* ---- Page-table pages ----
 * Natively any page. In the paravirtual build they come from a pool the VMM knows
 * (PV_MMU_INIT), which the kernel maps read-only: it reads its tables directly but changes
 * them only by request, and a page is cleared by the VMM before it becomes a table. A free
 * pool page cannot hold the free-list link (we cannot write it), so a stack keeps them. */
#ifdef PARAVIRT
#define MEGAPAGE (2ul << 20)
u64 pt_pool_base;
static u64 pt_free_stack[PT_POOL_SIZE / PAGE_SIZE];
static u64 pt_nfree;

/* The pool: the first 2 MiB-aligned 2 MiB of free RAM (the pages skipped go to the free list). */
static void pt_pool_init(void) {
    pt_pool_base = ALIGN_UP(bump, MEGAPAGE);
    if (pt_pool_base + PT_POOL_SIZE > bump_end) panic("no room for the page-table pool");
    for (u64 pa = bump; pa < pt_pool_base; pa += PAGE_SIZE) page_free((void *)pa);
    bump = pt_pool_base + PT_POOL_SIZE;
    for (u64 pa = pt_pool_base + PT_POOL_SIZE; pa > pt_pool_base; pa -= PAGE_SIZE) pt_free_stack[pt_nfree++] = pa - PAGE_SIZE;
    struct hcret r = hypercall(PV_MMU_INIT, pt_pool_base, PT_POOL_SIZE);
    if (r.error) panic("page-table pool refused: error %ld", r.error);
}

static pte_t *pt_alloc(void) {
    if (!pt_nfree) return NULL;
    pte_t *t = (pte_t *)pt_free_stack[--pt_nfree];
    arch_pt_clear(t);                   /* zeroed when the batch is committed */
    return t;
}
static void pt_free(pte_t *t) { pt_free_stack[pt_nfree++] = (u64)t; }
#else
static pte_t *pt_alloc(void) { return page_alloc(); }
static void pt_free(pte_t *t) { page_free(t); }
#endif

/* ---- Page tables ----
 * Natively, the kernel's mappings (layout.h) are three 1 GiB leaves in the root table,
 * global (G) and not user-accessible; every process's root table starts as a copy of them.
 * The paravirtual kernel has a table of its own instead (the VMM loads it whenever the
 * kernel runs): guest RAM in 2 MiB pages, user-accessible since the kernel runs in the
 * hart's U-mode, not global (the VMM refuses G), the page-table pool read-only. */
pte_t *kernel_root;

#ifdef PARAVIRT
void vm_init(void) {
    pt_pool_init();
    kernel_root = pt_alloc();
    arch_pt_pin(kernel_root);
    pte_t *l1 = pt_alloc();
    arch_pte_set(&kernel_root[VPN(boot.ram_base, 2)], PA_TO_PTE(l1) | PTE_V);
    u64 end = MIN(boot.ram_base + boot.ram_size, ALIGN_DOWN(boot.ram_base, 1ul << 30) + (1ul << 30));
    for (u64 pa = boot.ram_base; pa + MEGAPAGE <= end; pa += MEGAPAGE) {
        int pool = pa >= pt_pool_base && pa < pt_pool_base + PT_POOL_SIZE;
        pte_t perm = pool ? PTE_R : PTE_R | PTE_W | PTE_X | PTE_D;
        arch_pte_set(&l1[VPN(pa, 1)], PA_TO_PTE(pa) | perm | PTE_U | PTE_A | PTE_V);
    }
    arch_pte_commit();
    arch_set_kernel_pagetable(kernel_root);
}
#else
#define KERNEL_LEAF (PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D)

void vm_init(void) {
    kernel_root = pt_alloc();
    arch_pte_set(&kernel_root[0], PA_TO_PTE(0x00000000ul) | KERNEL_LEAF);          /* devices */
    arch_pte_set(&kernel_root[2], PA_TO_PTE(0x80000000ul) | KERNEL_LEAF | PTE_X);  /* RAM */
    arch_pte_set(&kernel_root[3], PA_TO_PTE(0xc0000000ul) | KERNEL_LEAF | PTE_X);
    arch_pte_commit();
    arch_set_kernel_pagetable(kernel_root);
}
#endif

pte_t *as_create(void) {
    pte_t *root = pt_alloc();
    if (!root) return NULL;
    arch_pt_pin(root);
#ifndef PARAVIRT
    for (int i = 0; i < 4; i++)
        if (kernel_root[i]) arch_pte_set(&root[i], kernel_root[i]);
#endif
    arch_pte_commit();
    return root;
}

/* The level-0 PTE for va, creating the intermediate tables if alloc (4.3.2's walk). */
static pte_t *walk(pte_t *root, u64 va, int alloc) {
    pte_t *table = root;
    for (int level = 2; level > 0; level--) {
        pte_t *pte = &table[VPN(va, level)];
        if (*pte & PTE_V) {
            if (*pte & PTE_LEAF) return NULL;   /* a kernel gigapage: not ours to split */
            table = (pte_t *)PTE_TO_PA(*pte);
        } else {
            if (!alloc || !(table = pt_alloc())) return NULL;
            arch_pte_set(pte, PA_TO_PTE(table) | PTE_V);   /* V alone: next level */
            arch_pte_commit();          /* we read the new table next */
        }
    }
    return &table[VPN(va, 0)];
}

/* Map the page at va to physical pa with perm (PTE_R/W/X/U). 0, or an error if the page is
 * already mapped or a table cannot be allocated. The caller commits and flushes. */
int map_page(pte_t *root, u64 va, u64 pa, pte_t perm) {
    pte_t *pte = walk(root, va, 1);
    if (!pte) return E_NOMEM;
    if (*pte & PTE_V) return E_FAULT;
    arch_pte_set(pte, PA_TO_PTE(pa) | perm | PTE_V | PTE_A | (perm & PTE_W ? PTE_D : 0));
    return 0;
}

/* Remove the mapping of va; the physical address it had, or 0. The caller commits and
 * flushes, then frees the page. */
u64 unmap_page(pte_t *root, u64 va) {
    pte_t *pte = walk(root, va, 0);
    if (!pte || !(*pte & PTE_V)) return 0;
    u64 pa = PTE_TO_PA(*pte);
    arch_pte_set(pte, 0);
    return pa;
}

/* Free every user page and page table of an address space, then its root. The caller has
 * switched to another page table. Unpinning the root releases the tables (paravirtual: the
 * VMM no longer treats them as tables; their contents stay until they are cleared). */
void as_destroy(pte_t *root) {
    arch_pt_unpin(root);
    arch_pte_commit();
    for (u64 i = VPN(USER_BASE, 2); i <= VPN(USER_END - 1, 2); i++) {
        if (!(root[i] & PTE_V)) continue;
        pte_t *l1 = (pte_t *)PTE_TO_PA(root[i]);
        for (int j = 0; j < 512; j++) {
            if (!(l1[j] & PTE_V)) continue;
            pte_t *l0 = (pte_t *)PTE_TO_PA(l1[j]);
            for (int k = 0; k < 512; k++)
                if (l0[k] & PTE_V) page_free((void *)PTE_TO_PA(l0[k]));
            pt_free(l0);
        }
        pt_free(l1);
    }
    pt_free(root);
}

int in_demand_zero_region(u64 va) {
    return (va >= ANON_BASE && va < ANON_END) || (va >= STACK_BASE && va < STACK_TOP);
}

/* A page fault at va in a demand-zero region: give it a fresh zeroed page. */
int demand_zero(pte_t *root, u64 va) {
    if (!in_demand_zero_region(va)) return E_FAULT;
    void *page = page_alloc();
    if (!page) return E_NOMEM;
    int err = map_page(root, ALIGN_DOWN(va, PAGE_SIZE), (u64)page, PTE_R | PTE_W | PTE_U);
    if (err) { page_free(page); return err; }
    arch_pte_commit();
    arch_tlb_flush_page(va);
    return 0;
}

/* ---- User memory ----
 * The kernel reads and writes user memory through the process's page table, by hand, and
 * then through its own identity map of RAM: it never dereferences a user pointer (so it
 * needs no sstatus.SUM, and works on any process, not only the running one). */
void *user_ptr(pte_t *root, u64 va, int write) {
    if (va < USER_BASE || va >= USER_END) return NULL;
    pte_t *pte = walk(root, va, 0);
    if ((!pte || !(*pte & PTE_V)) && demand_zero(root, va) == 0) pte = walk(root, va, 0);
    if (!pte || !(*pte & PTE_V) || !(*pte & PTE_U) || (write && !(*pte & PTE_W))) return NULL;
    return (void *)(PTE_TO_PA(*pte) + (va & (PAGE_SIZE - 1)));
}

static int copy_user(pte_t *root, u64 va, void *kbuf, size_t n, int to_user) {
    u8 *k = kbuf;
    while (n) {
        size_t chunk = MIN(n, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        u8 *u = user_ptr(root, va, to_user);
        if (!u) return E_FAULT;
        if (to_user) memcpy(u, k, chunk);
        else memcpy(k, u, chunk);
        va += chunk, k += chunk, n -= chunk;
    }
    return 0;
}

int copy_from_user(pte_t *root, void *dst, u64 src, size_t n) { return copy_user(root, src, dst, n, 0); }
int copy_to_user(pte_t *root, u64 dst, const void *src, size_t n) { return copy_user(root, dst, (void *)src, n, 1); }

int copy_str_from_user(pte_t *root, char *dst, u64 src, size_t max) {
    for (size_t i = 0; i < max; i++) {
        char *c = user_ptr(root, src + i, 0);
        if (!c) return E_FAULT;
        if (!(dst[i] = *c)) return 0;
    }
    return E_FAULT;
}
