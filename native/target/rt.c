#include "rt.h"
#include "syscalls.h"

/* gcc may turn loops and struct copies into calls to these, even in freestanding code. */
void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s)
        while (n--)
            *d++ = *s++;
    else
        while (n--)
            d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t rt_strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int rt_streq(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

#define AT_FDCWD (-100)

int rt_open_read(const char *path) {
    return (int)rt_syscall3(SYS_OPENAT_NR, AT_FDCWD, (long)path, O_RDONLY_FLAG);
}

int rt_open_write(const char *path) {
    return (int)rt_syscall4(SYS_OPENAT_NR, AT_FDCWD, (long)path, O_WRONLY_FLAG | O_CREAT_FLAG | O_TRUNC_FLAG, 0644);
}

long rt_read(int fd, void *buf, size_t n) {
    return rt_syscall3(SYS_READ_NR, fd, (long)buf, (long)n);
}

long rt_write(int fd, const void *buf, size_t n) {
    return rt_syscall3(SYS_WRITE_NR, fd, (long)buf, (long)n);
}

int rt_close(int fd) {
    return (int)rt_syscall3(SYS_CLOSE_NR, fd, 0, 0);
}

void rt_exit(int status) {
    out_flush();
    for (;;)
        rt_syscall3(SYS_EXIT_GROUP_NR, status, 0, 0);
}

/* 256 MiB arena in .bss: qemu-user maps it lazily. */
static unsigned char arena[256u << 20] __attribute__((aligned(16)));
static size_t arena_used;

void *rt_alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof arena - arena_used)
        die("out of memory", "");
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}

size_t rt_mark(void) {
    return arena_used;
}

void rt_release(size_t mark) {
    arena_used = mark;
}

unsigned char *rt_read_file(const char *path, size_t *len) {
    int fd = rt_open_read(path);
    if (fd < 0)
        die("cannot open", path);
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = rt_alloc(cap);
    for (;;) {
        if (n == cap) {
            unsigned char *bigger = rt_alloc(cap * 2);
            memcpy(bigger, buf, n);
            buf = bigger;
            cap *= 2;
        }
        long got = rt_read(fd, buf + n, cap - n);
        if (got < 0)
            die("cannot read", path);
        if (got == 0)
            break;
        n += (size_t)got;
    }
    rt_close(fd);
    *len = n;
    return buf;
}

void rt_write_file(const char *path, const unsigned char *buf, size_t len) {
    int fd = rt_open_write(path);
    if (fd < 0)
        die("cannot create", path);
    while (len) {
        long put = rt_write(fd, buf, len);
        if (put <= 0)
            die("cannot write", path);
        buf += put;
        len -= (size_t)put;
    }
    rt_close(fd);
}

static char outbuf[1 << 16];
static size_t outlen;

void out_flush(void) {
    size_t at = 0;
    while (at < outlen) {
        long put = rt_write(1, outbuf + at, outlen - at);
        if (put <= 0)
            break;
        at += (size_t)put;
    }
    outlen = 0;
}

void out_mem(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (outlen == sizeof outbuf)
            out_flush();
        outbuf[outlen++] = s[i];
    }
}

void out_str(const char *s) {
    out_mem(s, rt_strlen(s));
}

static void out_num(uint64_t v, unsigned base) {
    char d[24];
    int n = 0;
    do {
        /* Shifts and masks, not division: 64-bit division would need libgcc helpers. */
        if (base == 16) {
            d[n++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } else {
            uint64_t q = 0, r = 0;
            for (int bit = 63; bit >= 0; bit--) {
                r = (r << 1) | ((v >> bit) & 1);
                if (r >= 10) {
                    r -= 10;
                    q |= (uint64_t)1 << bit;
                }
            }
            d[n++] = (char)('0' + r);
            v = q;
        }
    } while (v);
    while (n)
        out_mem(&d[--n], 1);
}

void out_u64(uint64_t v) {
    out_num(v, 10);
}

void out_hex(uint64_t v) {
    out_num(v, 16);
}

void die(const char *what, const char *path) {
    out_flush();
    rt_write(2, "lkmpre-target: ", 15);
    rt_write(2, path, rt_strlen(path));
    rt_write(2, ": ", 2);
    rt_write(2, what, rt_strlen(what));
    rt_write(2, "\n", 1);
    for (;;)
        rt_syscall3(SYS_EXIT_GROUP_NR, 2, 0, 0);
}

#if defined(__arm__)
/* libgcc's __aeabi_idiv0 raises SIGFPE on division by zero; there is no libc to do it. */
int raise(int sig);

int raise(int sig) {
    (void)sig;
    die("division by zero", "");
}
#endif

#if defined(__sh__) && defined(__BIG_ENDIAN__)
/* Shift-and-subtract division: the helpers libgcc would provide (no big-endian libgcc here).
   No division operator inside, or they would call themselves. */
static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
    uint64_t q = 0, r = 0;
    if (d == 0)
        die("division by zero", "");
    for (int bit = 63; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << bit;
        }
    }
    *rem = r;
    return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
uint32_t rt_udiv32(uint32_t n, uint32_t d);

uint64_t __udivdi3(uint64_t n, uint64_t d) {
    uint64_t r;
    return udivmod64(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d) {
    uint64_t r;
    udivmod64(n, d, &r);
    return r;
}

uint32_t rt_udiv32(uint32_t n, uint32_t d) {
    uint64_t r;
    return (uint32_t)udivmod64(n, d, &r);
}
#endif
