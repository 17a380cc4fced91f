/* Tiny freestanding C library: string functions and printf-style formatting.
 * Compiled into the kernel and into every user program. */
#include "lib.h"

void *memset(void *d, int c, size_t n) {
    u8 *p = d;
    /* 8 bytes at a time once aligned: zeroing pages is a hot path (demand-zero faults) */
    while (n && ((uintptr_t)p & 7)) { *p++ = (u8)c; n--; }
    u64 w = 0x0101010101010101ul * (u8)c;
    for (; n >= 8; n -= 8, p += 8) *(u64 *)p = w;
    while (n--) *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n) {
    u8 *dp = d;
    const u8 *sp = s;
    if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0)
        for (; n >= 8; n -= 8, dp += 8, sp += 8) *(u64 *)dp = *(const u64 *)sp;
    while (n--) *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n) {
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
    while (n--) dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n) {
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q) return *p - *q;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b) return (u8)*a - (u8)*b;
        if (!*a) return 0;
    }
    return 0;
}

i64 parse_u64(const char **s) {
    const char *p = *s;
    u64 v = 0;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9') v = v * 10 + (u64)(*p++ - '0');
    *s = p;
    return (i64)v;
}

struct out { char *buf; size_t n, len; };

static void put(struct out *o, char c) {
    if (o->len + 1 < o->n) o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, u64 v, unsigned base, int width, char pad, int neg) {
    char tmp[24];
    int i = 0;
    do { tmp[i++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) tmp[i++] = '-';
    while (width-- > i) put(o, pad);
    while (i) put(o, tmp[--i]);
}

int vformat(char *buf, size_t n, const char *fmt, va_list ap) {
    struct out o = { buf, n, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put(&o, *fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') lng = 1, fmt++;
        switch (*fmt) {
        case 'd': {
            i64 v = lng ? va_arg(ap, i64) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(u64)v : (u64)v, 10, width, pad, v < 0);
            break;
        }
        case 'u': put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, width, pad, 0); break;
        case 'x': put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, width, pad, 0); break;
        case 'p': put(&o, '0'); put(&o, 'x'); put_num(&o, va_arg(ap, u64), 16, width, pad, 0); break;
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s; s++) put(&o, *s);
            break;
        }
        case '%': put(&o, '%'); break;
        default: put(&o, '%'); put(&o, *fmt); if (!*fmt) fmt--; break;
        }
    }
    if (n) buf[o.len < n ? o.len : n - 1] = 0;
    return (int)(o.len < n ? o.len : n ? n - 1 : 0);
}

int format(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vformat(buf, n, fmt, ap);
    va_end(ap);
    return r;
}
