/* libFuzzer harness: the input as a kernel image (index build) and as an index (open and every
   lookup strategy). No crash, no sanitizer report, a status from the enum every time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lkmpre.h"
#include "lkmpre_simulate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A scope of TABLES copies of the index (more than one word of its bit-sliced folds): each name,
   searched in table 0 and then tables first .. TABLES, hashing and given the hash, must be
   answered and counted as the plain walk through every table's own lookup does. */
#define TABLES 70u
static void resolve_as_plain_walk(const lkmpre_index *x, const char **names, const size_t *lens, uint32_t n,
                                  uint32_t first) {
    const lkmpre_index *tables[TABLES];
    for (uint32_t t = 0; t < TABLES; t++)
        tables[t] = x;
    size_t need = lkmpre_scope_size(tables, TABLES);
    void *mem = malloc(need);
    const lkmpre_scope *scope;
    lkmpre_error err;
    if (!mem || lkmpre_scope_init(tables, TABLES, mem, need, &scope, &err) != LKMPRE_OK)
        abort();
    for (uint32_t k = 0; k < n; k++) {
        uint32_t h = lkmpre_gnu_hash(names[k], lens[k]);
        lkmpre_query q = {0, (uint32_t)lens[k], h, 0, 1, first, TABLES - first};
        lkmpre_lookup_stats want = {0, 0, 0, 0};
        uint32_t table = LKMPRE_NOT_FOUND, e = 0;
        for (uint32_t i = 0; i < 1 + q.count && !e; i++)
            if ((e = lkmpre_index_lookup_hashed(x, names[k], lens[k], h, 1, &want)) != 0)
                table = i ? first + i - 1 : 0;
        for (uint32_t flags = 0; flags <= LKMPRE_RESOLVE_PREHASHED; flags++) {
            lkmpre_resolution r;
            lkmpre_lookup_stats got = {0, 0, 0, 0};
            if (lkmpre_resolve(scope, (const uint8_t *)names[k], lens[k], &q, 1, LKMPRE_LOOKUP_GNU_BLOOM, flags, &r,
                               &got, &err) != LKMPRE_OK ||
                r.table != table || r.entry != e || memcmp(&got, &want, sizeof got))
                abort();
        }
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size + 1);
    memcpy(copy, data, size);
    size_t out_need = 0, scratch_need = 0;
    lkmpre_error err;
    lkmpre_status st = lkmpre_index_build(copy, size, 0, NULL, 0, &out_need, NULL, 0, &scratch_need, &err);
    for (int round = 0; st == LKMPRE_ERR_SPACE && round < 4 && scratch_need < (64u << 20) && out_need < (64u << 20);
         round++) {
        void *scratch = malloc(scratch_need + 8);
        uint8_t *out = malloc(out_need + 1);
        st = lkmpre_index_build(copy, size, 0, out, out_need, &out_need, scratch, scratch_need, &scratch_need, &err);
        free(scratch);
        free(out);
    }
    if (st > 0 || st < LKMPRE_ERR_UNSUPPORTED)
        abort();
    static uint64_t handle[64];
    const lkmpre_index *x;
    if (lkmpre_index_open(copy, size, handle, sizeof handle, &x, &err) == LKMPRE_OK) {
        /* The last bytes of the input are a fifth name (it may hold a NUL). */
        size_t tail = size < 12 ? size : 12;
        const char *names[] = {"fx_printk", "nope", "", "fx_kfree", (const char *)data + size - tail};
        size_t lens[] = {9, 4, 0, 8, tail};
        for (unsigned n = 0; n < 5; n++)
            for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
                (void)lkmpre_index_lookup(x, names[n], lens[n], (lkmpre_strategy)s, NULL);
        resolve_as_plain_walk(x, names, lens, 5, lkmpre_gnu_hash((const char *)data, size) % TABLES);
    }
    free(copy);
    return 0;
}
