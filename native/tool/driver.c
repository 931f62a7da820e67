/* lkmpre-native, the host driver of the C core (a developer's tool; the whole-tree tool is
   lkmpre-tree, whose --dry-run replaced this driver's `tree`):
 *   lkmpre-native index VMLINUX OUT [--kaslr]          build an index
 *   lkmpre-native preresolve INDEX MODULE OUT [--strip-signature]
 *   lkmpre-native lookup INDEX NAME...                 look names up with every strategy
 *   lkmpre-native bench INDEX NAMES [REPS]             time every strategy over a list of names
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "driver_io.h"
#include "lkmpre.h"

static const lkmpre_index *open_index(const char *path, unsigned char **buf) {
    size_t len;
    *buf = read_file(path, &len);
    static uint64_t handle[32];
    const lkmpre_index *x;
    lkmpre_error err;
    if (lkmpre_index_handle_size() > sizeof handle || lkmpre_index_open(*buf, len, handle, sizeof handle, &x, &err)) {
        fprintf(stderr, "lkmpre-native: %s: %s\n", path, err.message);
        exit(2);
    }
    return x;
}

static int cmd_index(int argc, char **argv) {
    size_t len, out_need = 0, scratch_need = 0;
    unsigned char *vmlinux = read_file(argv[2], &len);
    uint32_t flags = argc > 4 && !strcmp(argv[4], "--kaslr") ? LKMPRE_INDEX_KASLR | LKMPRE_INDEX_CONFIG : 0;
    lkmpre_error err;
    lkmpre_status st = lkmpre_index_build(vmlinux, len, flags, NULL, 0, &out_need, NULL, 0, &scratch_need, &err);
    void *scratch = NULL;
    unsigned char *out = NULL;
    while (st == LKMPRE_ERR_SPACE) {
        free(scratch);
        free(out);
        scratch = malloc(scratch_need ? scratch_need : 8);
        out = malloc(out_need ? out_need : 8);
        st = lkmpre_index_build(vmlinux, len, flags, out, out_need, &out_need, scratch, scratch_need, &scratch_need,
                                &err);
    }
    if (st) {
        fprintf(stderr, "lkmpre-native: %s: %s\n", argv[2], err.message);
        return 2;
    }
    write_file(argv[3], out, out_need);
    free(out);
    free(scratch);
    free(vmlinux);
    return 0;
}

static int cmd_preresolve(int argc, char **argv) {
    unsigned char *ibuf;
    const lkmpre_index *x = open_index(argv[2], &ibuf);
    size_t len;
    unsigned char *module = read_file(argv[3], &len);
    uint32_t flags = argc > 5 && !strcmp(argv[5], "--strip-signature") ? LKMPRE_STRIP_SIGNATURE : 0;
    size_t out_cap = len + 8, out_need = 0, res_cap = 16, res_need = 0;
    unsigned char *out = malloc(out_cap);
    lkmpre_symbol_result *res = malloc(res_cap * sizeof *res);
    lkmpre_module_result r;
    lkmpre_error err;
    lkmpre_status st;
    while ((st = lkmpre_preresolve(x, module, len, flags, out, out_cap, &out_need, res, res_cap, &res_need, &r,
                                   &err)) == LKMPRE_ERR_SPACE) {
        out_cap = out_need > out_cap ? out_need : out_cap;
        res_cap = res_need > res_cap ? res_need : res_cap;
        out = realloc(out, out_cap);
        res = realloc(res, res_cap * sizeof *res);
    }
    if (st) {
        fprintf(stderr, "lkmpre-native: %s\n", err.message);
        return 2;
    }
    static const char *status[] = {"preresolved", "already", "refused", "failed"};
    printf("%s %s %u/%u", argv[3], status[r.status], r.preresolved, r.undefined);
    if (r.status == LKMPRE_MODULE_FAILED)
        printf(" (%s)", err.message);
    printf("\n");
    for (uint32_t i = 0; i < r.undefined; i++)
        if (res[i].reason)
            printf("  %s reason=%u\n", (const char *)module + res[i].name_offset, res[i].reason);
    if (r.status == LKMPRE_MODULE_PRERESOLVED)
        write_file(argv[4], out, r.out_len);
    free(out);
    free(res);
    free(module);
    free(ibuf);
    return r.status >= LKMPRE_MODULE_REFUSED;
}

static int cmd_lookup(int argc, char **argv) {
    unsigned char *ibuf;
    const lkmpre_index *x = open_index(argv[2], &ibuf);
    for (int i = 3; i < argc; i++) {
        printf("%s", argv[i]);
        for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
            printf(" %u", lkmpre_index_lookup(x, argv[i], strlen(argv[i]), (lkmpre_strategy)s, NULL));
        printf("\n");
    }
    free(ibuf);
    return 0;
}

/* Times every strategy over a list of names (one per line), each pass over the whole list. */
static int cmd_bench(int argc, char **argv) {
    unsigned char *ibuf;
    const lkmpre_index *x = open_index(argv[2], &ibuf);
    size_t len;
    char *names = (char *)read_file(argv[3], &len);
    int reps = argc > 4 ? atoi(argv[4]) : 5;
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (names[i] == '\n')
            names[i] = 0, count++;
    const char **list = malloc(count * sizeof *list);
    size_t *lens = malloc(count * sizeof *lens);
    size_t k = 0;
    for (size_t i = 0; i < len && k < count; k++) {
        list[k] = names + i;
        lens[k] = strlen(names + i);
        i += lens[k] + 1;
    }
    static const char *label[] = {"linear", "bsearch", "sysv", "gnu", "gnu-bloom"};
    for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++) {
        lkmpre_lookup_stats st = {0, 0, 0, 0};
        uint64_t found = 0;
        int r = s == LKMPRE_LOOKUP_LINEAR ? 1 : reps;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int rep = 0; rep < r; rep++)
            for (size_t i = 0; i < count; i++)
                found += lkmpre_index_lookup(x, list[i], lens[i], (lkmpre_strategy)s, rep == 0 ? &st : NULL) != 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)count * r);
        printf("%-9s %10.1f ns/lookup  found %llu/%zu  compares/lookup %.2f  bloom rejections %llu\n", label[s], ns,
               (unsigned long long)(found / (uint64_t)r), count, (double)st.string_compares / (double)count,
               (unsigned long long)st.bloom_rejections);
    }
    /* Hashes computed before timing, as a module carrying them would have them. */
    uint32_t *hashes = malloc(count * sizeof *hashes);
    for (size_t i = 0; i < count; i++)
        hashes[i] = lkmpre_gnu_hash(list[i], lens[i]);
    struct timespec t0, t1;
    uint64_t found = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int rep = 0; rep < reps; rep++)
        for (size_t i = 0; i < count; i++)
            found += lkmpre_index_lookup_hashed(x, list[i], lens[i], hashes[i], 1, NULL) != 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)count * reps);
    printf("%-9s %10.1f ns/lookup  found %llu/%zu  (GNU + Bloom, hashes precomputed)\n", "prehashed", ns,
           (unsigned long long)(found / (uint64_t)reps), count);
    free(hashes);
    free(list);
    free(lens);
    free(names);
    free(ibuf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "bench"))
        return cmd_bench(argc, argv);
    if (argc >= 4 && !strcmp(argv[1], "index"))
        return cmd_index(argc, argv);
    if (argc >= 5 && !strcmp(argv[1], "preresolve"))
        return cmd_preresolve(argc, argv);
    if (argc >= 3 && !strcmp(argv[1], "lookup"))
        return cmd_lookup(argc, argv);
    fprintf(stderr, "usage: lkmpre-native index VMLINUX OUT [--kaslr] | preresolve INDEX MODULE OUT "
                    "[--strip-signature] | lookup INDEX NAME... | bench INDEX NAMES [REPS]\n");
    return 2;
}
