/* The freestanding runtime of the target driver: raw system calls, a bump allocator, and the
   few libc functions gcc may emit calls to. No libc, so it runs on sh4 under qemu-user, where
   Debian's glibc for sh4 is miscompiled (toolchains/README.md). */
#ifndef LKMPRE_RT_H
#define LKMPRE_RT_H

#include <stddef.h>
#include <stdint.h>

long rt_syscall3(long nr, long a, long b, long c); /* in start_<arch>.S */
long rt_syscall4(long nr, long a, long b, long c, long d);

int rt_open_read(const char *path);
int rt_open_write(const char *path);
long rt_read(int fd, void *buf, size_t n);
long rt_write(int fd, const void *buf, size_t n);
int rt_close(int fd);
void rt_exit(int status) __attribute__((noreturn));

/* Allocation from a static arena; never freed (a driver run is short). */
void *rt_alloc(size_t n);
/* Where the arena is now, and going back there (freeing all allocated since). */
size_t rt_mark(void);
void rt_release(size_t mark);
/* Reads a whole file; exits with a message on failure. */
unsigned char *rt_read_file(const char *path, size_t *len);
void rt_write_file(const char *path, const unsigned char *buf, size_t len);

/* Buffered standard output. */
void out_str(const char *s);
void out_mem(const char *s, size_t n);
void out_u64(uint64_t v);
void out_hex(uint64_t v);
void out_flush(void);
void die(const char *what, const char *path) __attribute__((noreturn));

size_t rt_strlen(const char *s);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int rt_streq(const char *a, const char *b);

#endif
