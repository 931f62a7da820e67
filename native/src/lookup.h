/* The five lookups over one opened index (linear, binary search, SysV hash, GNU hash, GNU hash
   behind its Bloom filter), inline so that the scope's walk (scope.c) inlines its probes. */
#ifndef LKMPRE_LOOKUP_H
#define LKMPRE_LOOKUP_H

#include "index.h"

/* Compares entry e's name with a query of len bytes (no NUL in it). Every index string ends
   with NUL inside the table (checked at open), so the walk stops there: no read past it. */
static inline int name_cmp(const lkmpre_index *x, uint32_t e, const char *name, size_t len, lkmpre_lookup_stats *st) {
    if (st)
        st->string_compares++;
    const uint8_t *s = (const uint8_t *)lk_entry_name(x, e);
    const uint8_t *q = (const uint8_t *)name;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == 0 || s[i] != q[i])
            return s[i] < q[i] || s[i] == 0 ? -1 : 1;
    }
    return s[len] != 0;
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* Whether entry e's name is the query: name_cmp(...) == 0, eight bytes a step (the hash
   lookups need equality only; the ordered compare stays bytewise, where most compares end in
   the first bytes). The string table ends the index, so a name of len bytes and its NUL lie
   within the room left after it. */
static inline int name_is(const lkmpre_index *x, uint32_t e, const char *name, size_t len, lkmpre_lookup_stats *st) {
    if (st)
        st->string_compares++;
    const uint8_t *s = (const uint8_t *)lk_entry_name(x, e);
    const uint8_t *q = (const uint8_t *)name;
    if (len >= (size_t)(x->buf + x->g.total - s))
        return 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = lk_load(s + i, 8, 0);
        if (w != lk_load(q + i, 8, 0) || ((w - ONES) & ~w & HIGHS))
            return 0;
    }
    for (; i < len; i++)
        if (s[i] == 0 || s[i] != q[i])
            return 0;
    return s[len] == 0;
}

static inline uint32_t linear(const lkmpre_index *x, const char *name, size_t len, lkmpre_lookup_stats *st) {
    for (uint32_t e = 1; e <= x->g.n; e++)
        if (name_is(x, e, name, len, st))
            return e;
    return 0;
}

static inline uint32_t bsearch_sorted(const lkmpre_index *x, const char *name, size_t len, lkmpre_lookup_stats *st) {
    size_t lo = 0, hi = x->g.n; /* first position whose name is not below the query */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (name_cmp(x, get32(x->buf + x->g.sorted_at + mid * 4), name, len, st) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < x->g.n) {
        uint32_t e = get32(x->buf + x->g.sorted_at + lo * 4);
        if (name_cmp(x, e, name, len, st) == 0)
            return e;
    }
    return 0;
}

static inline uint32_t sysv(const lkmpre_index *x, uint32_t h, const char *name, size_t len, lkmpre_lookup_stats *st) {
    uint32_t e = get32(x->buf + x->g.sysv_buckets_at + (size_t)(h % x->g.sysv_nbuckets) * 4);
    /* A chain visits at most every entry once; a longer walk means a cycle in a hostile index. */
    for (uint32_t steps = 0; e && steps <= x->g.n; steps++) {
        if (st)
            st->chain_steps++;
        if (name_is(x, e, name, len, st))
            return e;
        e = get32(x->buf + x->g.sysv_chain_at + (size_t)e * 4);
    }
    return 0;
}

/* glibc's dl-lookup and musl's gnu_lookup_filtered: two bits of one Bloom word must be set. */
static LK_ALWAYS_INLINE int bloom_word_may_contain(uint64_t w, unsigned log2, uint32_t h) {
    unsigned mask = (1u << log2) - 1;
    return (w >> (h & mask)) & (w >> ((h >> LK_BLOOM_SHIFT2) & mask)) & 1;
}

static LK_ALWAYS_INLINE uint64_t bloom_word(const lkmpre_index *x, uint32_t h) {
    const uint8_t *p = x->bloom + (size_t)((h >> x->word_log2) & x->bloom_mask) * (x->g.word);
    return x->g.word == 8 ? get64(p) : get32(p);
}

static inline int bloom_may_contain(const lkmpre_index *x, uint32_t h) {
    return bloom_word_may_contain(bloom_word(x, h), x->word_log2, h);
}

static inline uint32_t gnu(const lkmpre_index *x, uint32_t h, const char *name, size_t len, lkmpre_lookup_stats *st) {
    uint32_t e = get32(x->buf + x->g.gnu_buckets_at + (size_t)(h % x->g.gnu_nbuckets) * 4);
    if (!e)
        return 0;
    for (h |= 1; e <= x->g.n; e++) {
        uint32_t c = get32(x->buf + x->g.gnu_chain_at + (size_t)(e - LK_SYMOFFSET) * 4);
        if (st)
            st->chain_steps++;
        if ((h == (c | 1)) && name_is(x, e, name, len, st))
            return e;
        if (c & 1)
            break;
    }
    return 0;
}

/* One table probe with the name's hash already computed (GNU hash, or SysV hash for SYSV).
   For GNU + Bloom the caller has tested the Bloom filter (maybe: it may hold the name). Inlined
   into the walks: a call per probe cost a fifth of a Bloom-rejected probe. */
static LK_ALWAYS_INLINE uint32_t probe(const lkmpre_index *x, lkmpre_strategy strategy, uint32_t h, int maybe,
                                       const char *name, size_t len, lkmpre_lookup_stats *st) {
    if (st)
        st->lookups++;
    switch (strategy) {
    case LKMPRE_LOOKUP_LINEAR:
        return linear(x, name, len, st);
    case LKMPRE_LOOKUP_BSEARCH:
        return bsearch_sorted(x, name, len, st);
    case LKMPRE_LOOKUP_SYSV:
        return sysv(x, h, name, len, st);
    case LKMPRE_LOOKUP_GNU:
        return gnu(x, h, name, len, st);
    case LKMPRE_LOOKUP_GNU_BLOOM:
        if (!maybe) {
            if (st)
                st->bloom_rejections++;
            return 0;
        }
        return gnu(x, h, name, len, st);
    }
    return 0;
}

static inline uint32_t hash_for(lkmpre_strategy strategy, const char *name, size_t len) {
    if (strategy == LKMPRE_LOOKUP_SYSV)
        return lkmpre_sysv_hash(name, len);
    if (strategy == LKMPRE_LOOKUP_GNU || strategy == LKMPRE_LOOKUP_GNU_BLOOM)
        return lkmpre_gnu_hash(name, len);
    return 0;
}

#endif
