/* Start-up and printf for the user programs. */
#include "user.h"

/* The kernel starts a program here with a0 = the spawn argument and sp = STACK_TOP. */
__attribute__((section(".text.start"))) void _start(u64 arg) { exit(main(arg)); }

int printf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return (int)write(1, buf, (size_t)n);
}
