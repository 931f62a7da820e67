/* System call numbers and open flags of each target (Linux's per-architecture tables). */
#ifndef LKMPRE_SYSCALLS_H
#define LKMPRE_SYSCALLS_H

#if defined(__x86_64__)
#define SYS_READ_NR 0
#define SYS_WRITE_NR 1
#define SYS_CLOSE_NR 3
#define SYS_OPENAT_NR 257
#define SYS_EXIT_GROUP_NR 231
#elif defined(__arm__)
#define SYS_READ_NR 3
#define SYS_WRITE_NR 4
#define SYS_CLOSE_NR 6
#define SYS_OPENAT_NR 322
#define SYS_EXIT_GROUP_NR 248
#elif defined(__sh__)
#define SYS_READ_NR 3
#define SYS_WRITE_NR 4
#define SYS_CLOSE_NR 6
#define SYS_OPENAT_NR 295
#define SYS_EXIT_GROUP_NR 252
#else
#error "no system call table for this target"
#endif

#define O_RDONLY_FLAG 0
#define O_WRONLY_FLAG 01
#define O_CREAT_FLAG 0100
#define O_TRUNC_FLAG 01000

#endif
