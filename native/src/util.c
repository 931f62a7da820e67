#include <stdarg.h>
#include "internal.h"

#if defined(__GNUC__)
/* A word that may sit anywhere and alias anything (GCC and clang): the copy moves 8 bytes a step
   without assuming the buffers' alignment; strict-alignment targets get byte loads from it. */
typedef uint64_t __attribute__((__may_alias__, __aligned__(1))) lk_word_any;
#endif

void lk_copy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
#if defined(__GNUC__)
    for (; n >= 8; n -= 8, d += 8, s += 8)
        *(lk_word_any *)(void *)d = *(const lk_word_any *)(const void *)s;
#endif
    while (n--)
        *d++ = *s++;
}

void lk_zero(void *dst, size_t n) {
    uint8_t *d = dst;
    while (n--)
        *d++ = 0;
}

int lk_bytes_equal(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

size_t lk_strnlen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int lk_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

static size_t put_str(char *buf, size_t at, size_t cap, const char *s) {
    while (*s && at + 1 < cap)
        buf[at++] = *s++;
    return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, uint64_t v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n && at + 1 < cap)
        buf[at++] = digits[--n];
    return at;
}

lkmpre_status lk_fail(lkmpre_error *err, lkmpre_status status, const char *fmt, ...) {
    if (!err)
        return status;
    va_list ap;
    va_start(ap, fmt);
    size_t at = 0, cap = sizeof err->message;
    for (const char *f = fmt; *f && at + 1 < cap; f++) {
        if (f[0] == '%' && f[1] == 's') {
            at = put_str(err->message, at, cap, va_arg(ap, const char *));
            f++;
        } else if (f[0] == '%' && f[1] == 'd') {
            int64_t v = va_arg(ap, int64_t);
            if (v < 0 && at + 1 < cap)
                err->message[at++] = '-';
            at = put_num(err->message, at, cap, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10);
            f++;
        } else if (f[0] == '%' && (f[1] == 'u' || f[1] == 'x')) {
            at = put_num(err->message, at, cap, va_arg(ap, uint64_t), f[1] == 'u' ? 10 : 16);
            f++;
        } else {
            err->message[at++] = *f;
        }
    }
    err->message[at] = 0;
    va_end(ap);
    return status;
}
