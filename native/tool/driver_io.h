/* File helpers for the host driver and tests (they may use libc; the core may not). */
#ifndef LKMPRE_DRIVER_IO_H
#define LKMPRE_DRIVER_IO_H

#include <stdio.h>
#include <stdlib.h>

/* Reads a whole file into malloc'd memory (8-byte aligned); exits on failure. */
static inline unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lkmpre-native: %s: cannot open\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "lkmpre-native: %s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static inline void write_file(const char *path, const unsigned char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "lkmpre-native: %s: cannot write\n", path);
        exit(2);
    }
}

#endif
