/* The name hashes and the lookup entry points over one index. */
#include "lookup.h"

uint32_t lkmpre_gnu_hash(const char *name, size_t len) {
    const unsigned char *s = (const unsigned char *)name;
    uint32_t h = 5381;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + s[i];
    return h;
}

uint32_t lkmpre_sysv_hash(const char *name, size_t len) {
    const unsigned char *s = (const unsigned char *)name;
    uint32_t h = 0;
    for (size_t i = 0; i < len; i++) {
        h = (h << 4) + s[i];
        h ^= (h >> 24) & 0xf0;
    }
    return h & 0x0fffffff;
}

/* A probe of one table, testing its own Bloom filter when the strategy uses it. */
static uint32_t probe_table(const lkmpre_index *x, lkmpre_strategy strategy, uint32_t h, const char *name, size_t len,
                            lkmpre_lookup_stats *st) {
    int maybe = strategy != LKMPRE_LOOKUP_GNU_BLOOM || bloom_may_contain(x, h);
    return probe(x, strategy, h, maybe, name, len, st);
}

uint32_t lkmpre_index_lookup_hashed(const lkmpre_index *x, const char *name, size_t len, uint32_t h, int bloom,
                                    lkmpre_lookup_stats *st) {
    return probe_table(x, bloom ? LKMPRE_LOOKUP_GNU_BLOOM : LKMPRE_LOOKUP_GNU, h, name, len, st);
}

uint32_t lkmpre_index_lookup(const lkmpre_index *x, const char *name, size_t len, lkmpre_strategy strategy,
                             lkmpre_lookup_stats *st) {
    return probe_table(x, strategy, hash_for(strategy, name, len), name, len, st);
}
