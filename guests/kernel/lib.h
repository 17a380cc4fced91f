/* The few C library functions the kernel and the user programs need (lib.c). */
#ifndef LIB_H
#define LIB_H
#include "types.h"

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* snprintf-like formatting: %s %c %d %u %x %p, with l (long) and a 0-padded width
 * (%08x, %016lx). Returns the length written (truncated to n - 1). */
int vformat(char *buf, size_t n, const char *fmt, va_list ap);
int format(char *buf, size_t n, const char *fmt, ...);

/* Parse a decimal number at *s, advancing *s; returns -1 if there are no digits. */
i64 parse_u64(const char **s);

#endif
