/* The architecture layer, the parts too big to inline: SBI console and shutdown. */
#include "arch.h"

#ifdef PARAVIRT
#error "arch.c is the native build's; the paravirtual build uses arch_pv.c"
#endif

static int have_dbcn, have_srst;
const char *arch_console_name = "legacy";

/* Ask the SBI which extensions it has (SBI 4.8, sbi_probe_extension): the host of wasmvisor
 * implements SBI v2.0; the OpenSBI of QEMU 7.2 has no DBCN (added in SBI 2.0). */
void arch_init(void) {
    have_dbcn = sbi_call(SBI_EXT_BASE, 3, SBI_EXT_DBCN, 0, 0).value != 0;
    have_srst = sbi_call(SBI_EXT_BASE, 3, SBI_EXT_SRST, 0, 0).value != 0;
    if (have_dbcn) arch_console_name = "dbcn";
}

/* SBI 12.1 console_write takes a physical address: the kernel is identity-mapped, so a
 * kernel pointer is one. It may write fewer bytes than asked (a full buffer): go on. */
void arch_console_write(const char *s, size_t n) {
    while (n) {
        size_t done;
        if (have_dbcn) {
            struct sbiret r = sbi_call(SBI_EXT_DBCN, 0, n, (u64)s, 0);
            if (r.error) return;
            done = (size_t)r.value;
        } else {
            sbi_call(SBI_LEGACY_PUTCHAR, 0, (u8)*s, 0, 0);
            done = 1;
        }
        s += done;
        n -= done;
    }
}

/* SBI 10.1 system_reset(type 0 = shutdown, reason 0 = none / 1 = system failure). */
void arch_shutdown(int failure) {
    if (have_srst) sbi_call(SBI_EXT_SRST, 0, 0, failure ? 1 : 0, 0);
    sbi_call(SBI_LEGACY_SHUTDOWN, 0, 0, 0, 0);
    for (;;) arch_wait_for_interrupt();
}
