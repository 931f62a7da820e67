/* The simulator's scope: many indexes in search order, walked as the kernel's find_symbol walks
   vmlinux and the loaded modules, with every table's Bloom fold stored bit-sliced. */
#include "lkmpre_simulate.h"
#include "lookup.h"

/* Where a table's Bloom filter sits in the scope's copy. */
typedef struct lk_filter {
    uint32_t at;   /* first word in bloom[] */
    uint32_t mask; /* words - 1 */
} lk_filter;

/* Tables in search order. Each table's Bloom filter is folded into one word (its words ORed: a
   name the table holds has its two bits set there too), and the folds are stored bit-sliced:
   row b holds bit b of every table's fold, table t at bit t % 64 of word t / 64. The two rows
   of a query's bits ANDed are the tables whose fold may hold it, 64 tables a word. */
struct lkmpre_scope {
    uint32_t n;
    uint32_t word_log2;          /* bits per Bloom word of every table (5 or 6), 0 if they differ */
    size_t row_words;            /* words per row: (n + 63) / 64 */
    const lkmpre_index **tables; /* these arrays live in the scope's memory, after slice[] */
    const lk_filter *filter;
    const uint64_t *bloom;       /* every table's Bloom words, widened to 64 bits */
    uint64_t slice[];            /* 64 rows of row_words words */
};

/* The scope's bit-sliced folds: a row per bit of a 64-bit Bloom word. */
#define SLICE_ROWS 64u

/* The scope's parts after its header: the rows and the Bloom words (8 bytes each), then per table
   its filter and its pointer (so that each part is aligned). SIZE_MAX if the sum does not fit. */
size_t lkmpre_scope_size(const lkmpre_index *const *tables, uint32_t ntables) {
    size_t words = 0;
    for (uint32_t t = 0; tables && t < ntables; t++) {
        if (!tables[t])
            return 0; /* lkmpre_scope_init reports it */
        if (words > SIZE_MAX / 8 - 1 - tables[t]->bloom_mask)
            return SIZE_MAX;
        words += (size_t)tables[t]->bloom_mask + 1;
    }
    size_t per_table = sizeof(lkmpre_index *) + sizeof(lk_filter), row_words = ((size_t)ntables + 63) / 64;
    if (row_words > (SIZE_MAX - sizeof(lkmpre_scope)) / 8 / SLICE_ROWS)
        return SIZE_MAX;
    size_t need = sizeof(lkmpre_scope) + row_words * SLICE_ROWS * 8;
    if (ntables > (SIZE_MAX - need) / per_table)
        return SIZE_MAX;
    need += (size_t)ntables * per_table;
    if (words > (SIZE_MAX - need) / 8)
        return SIZE_MAX;
    return need + words * 8;
}

lkmpre_status lkmpre_scope_init(const lkmpre_index *const *tables, uint32_t ntables, void *mem, size_t cap,
                                const lkmpre_scope **scope, lkmpre_error *err) {
    if (!scope)
        return lk_fail(err, LKMPRE_ERR_ARG, "no place for the scope");
    *scope = 0;
    if ((!tables && ntables) || !mem || ((uintptr_t)mem & 7))
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_scope_init");
    for (uint32_t t = 0; t < ntables; t++)
        if (!tables[t])
            return lk_fail(err, LKMPRE_ERR_ARG, "table %u is NULL", (uint64_t)t);
    size_t need = lkmpre_scope_size(tables, ntables);
    if (need == SIZE_MAX || cap < need)
        return lk_fail(err, LKMPRE_ERR_ARG, "scope memory of %u bytes, %u needed", (uint64_t)cap, (uint64_t)need);
    lkmpre_scope *s = mem;
    s->n = ntables;
    s->row_words = ((size_t)ntables + 63) / 64;
    uint64_t *slice = s->slice;
    for (size_t i = 0; i < SLICE_ROWS * s->row_words; i++)
        slice[i] = 0;
    size_t words = 0;
    for (uint32_t t = 0; t < ntables; t++)
        words += (size_t)tables[t]->bloom_mask + 1;
    uint64_t *bloom = slice + SLICE_ROWS * s->row_words;
    lk_filter *filter = (lk_filter *)(void *)(bloom + words);
    s->tables = (const lkmpre_index **)(void *)(filter + ntables);
    s->filter = filter;
    s->bloom = bloom;
    int mixed = 0;
    uint32_t at = 0;
    for (uint32_t t = 0; t < ntables; t++) {
        const lkmpre_index *x = tables[t];
        s->tables[t] = x;
        filter[t].at = at;
        filter[t].mask = x->bloom_mask;
        uint64_t fold = 0;
        for (uint32_t i = 0; i <= x->bloom_mask; i++)
            fold |= bloom[at++] = bloom_word(x, i << x->word_log2);
        for (unsigned b = 0; b < SLICE_ROWS; b++)
            slice[b * s->row_words + t / 64] |= (fold >> b & 1) << (t % 64);
        mixed |= t && x->word_log2 != s->word_log2;
        s->word_log2 = x->word_log2;
    }
    if (mixed)
        s->word_log2 = 0;
    *scope = s;
    return LKMPRE_OK;
}

/* The lowest set bit's position (v != 0). One instruction on 64-bit targets; elsewhere the
   compiler's builtin is a libgcc call that freestanding targets (sh4) may not link, so a de
   Bruijn multiply. */
static LK_ALWAYS_INLINE unsigned lowest_bit(uint64_t v) {
#if defined(__GNUC__) && __SIZEOF_POINTER__ == 8
    return (unsigned)__builtin_ctzll(v);
#else
    static const unsigned char debruijn[64] = {
        0,  1,  2,  53, 3,  7,  54, 27, 4,  38, 41, 8,  34, 55, 48, 28, 62, 5,  39, 46, 44, 42,
        22, 9,  24, 35, 59, 56, 49, 18, 29, 11, 63, 52, 6,  26, 37, 40, 33, 47, 61, 45, 43, 21,
        23, 58, 17, 10, 51, 25, 36, 32, 60, 20, 57, 16, 50, 31, 19, 15, 30, 14, 13, 12};
    return debruijn[((v & -v) * 0x022fdd63cc95386dull) >> 58];
#endif
}

/* GNU + Bloom over tables[first .. first + count) when every filter has words of one size: the
   hash's two Bloom bits are one mask m for the whole walk. The two rows of those bits, ANDed,
   reject 64 tables a word by their folds; a table a fold lets through is decided by its own
   filter, from the scope's copy, then by its GNU hash table. The counters are those of one
   probe per table up to the hit. */
static LK_ALWAYS_INLINE uint32_t bloom_run(const lkmpre_scope *s, uint32_t first, uint32_t count, uint32_t h,
                                           const char *name, size_t len, uint32_t *table, lkmpre_lookup_stats *st) {
    uint32_t bits = (1u << s->word_log2) - 1, b1 = h & bits, b2 = (h >> LK_BLOOM_SHIFT2) & bits;
    uint64_t m = ((uint64_t)1 << b1) | ((uint64_t)1 << b2);
    uint32_t wi = h >> s->word_log2;
    const uint64_t *r1 = s->slice + b1 * s->row_words, *r2 = s->slice + b2 * s->row_words;
    uint32_t end = first + count, hit = end, gnu_probes = 0, e = 0;
    for (uint32_t i = first / 64; first < end && i <= (end - 1) / 64 && !e; i++) {
        uint64_t c = r1[i] & r2[i];
        if (i == first / 64)
            c &= ~(uint64_t)0 << (first % 64);
        if (i == (end - 1) / 64)
            c &= ~(uint64_t)0 >> (63 - (end - 1) % 64);
        for (; c; c &= c - 1) {
            uint32_t t = i * 64 + lowest_bit(c);
            const lk_filter *f = &s->filter[t];
            if (f->mask && (s->bloom[f->at + (wi & f->mask)] & m) != m)
                continue;
            gnu_probes++;
            if ((e = gnu(s->tables[t], h, name, len, st)) != 0) {
                *table = hit = t;
                break;
            }
        }
    }
    if (st) {
        uint32_t probed = hit - first + (hit < end);
        st->lookups += probed;
        st->bloom_rejections += probed - gnu_probes;
    }
    return e;
}

/* Searches the scope's tables[first .. first + count) in order; the hit's table goes to *table. */
static LK_ALWAYS_INLINE uint32_t probe_run(const lkmpre_scope *s, uint32_t first, uint32_t count, lkmpre_strategy strategy, uint32_t h,
                          const char *name, size_t len, uint32_t *table, lkmpre_lookup_stats *st) {
    if (strategy == LKMPRE_LOOKUP_GNU_BLOOM && s->word_log2)
        return bloom_run(s, first, count, h, name, len, table, st);
    for (uint32_t t = first; t < first + count; t++) {
        const lkmpre_index *x = s->tables[t];
        int maybe = strategy != LKMPRE_LOOKUP_GNU_BLOOM || bloom_may_contain(x, h);
        uint32_t e = probe(x, strategy, h, maybe, name, len, st);
        if (e) {
            *table = t;
            return e;
        }
    }
    return 0;
}

/* The query loop, inlined once per strategy by lkmpre_resolve so that each copy's probes are
   specialised (the strategy a constant): a shared copy cost a tenth of GNU + Bloom's time. */
static LK_ALWAYS_INLINE lkmpre_status resolve_all(const lkmpre_scope *scope, const uint8_t *names, size_t names_len,
                                                  const lkmpre_query *queries, size_t nqueries,
                                                  lkmpre_strategy strategy, uint32_t flags, lkmpre_resolution *out,
                                                  lkmpre_lookup_stats *st, lkmpre_error *err) {
    uint32_t ntables = scope->n;
    for (size_t i = 0; i < nqueries; i++) {
        const lkmpre_query *q = &queries[i];
        if (q->name_offset > names_len || q->name_len > names_len - q->name_offset || q->prefix > ntables ||
            q->first > ntables || q->count > ntables - q->first)
            return lk_fail(err, LKMPRE_ERR_ARG, "query %u names bytes or tables outside the arrays", (uint64_t)i);
        const char *name = (const char *)names + q->name_offset;
        uint32_t h = !(flags & LKMPRE_RESOLVE_PREHASHED) ? hash_for(strategy, name, q->name_len)
                     : strategy == LKMPRE_LOOKUP_SYSV   ? q->sysv_hash
                                                        : q->gnu_hash;
        uint32_t table = LKMPRE_NOT_FOUND;
        uint32_t e = probe_run(scope, 0, q->prefix, strategy, h, name, q->name_len, &table, st);
        if (!e)
            e = probe_run(scope, q->first, q->count, strategy, h, name, q->name_len, &table, st);
        out[i].table = table;
        out[i].entry = e;
    }
    return LKMPRE_OK;
}

lkmpre_status lkmpre_resolve(const lkmpre_scope *scope, const uint8_t *names, size_t names_len,
                             const lkmpre_query *queries, size_t nqueries, lkmpre_strategy strategy, uint32_t flags,
                             lkmpre_resolution *out, lkmpre_lookup_stats *st, lkmpre_error *err) {
    if (!scope || (!names && names_len) || (!queries && nqueries) || (!out && nqueries) ||
        (flags & ~LKMPRE_RESOLVE_PREHASHED))
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_resolve");
#define LK_RESOLVE(s) resolve_all(scope, names, names_len, queries, nqueries, s, flags, out, st, err)
    switch (strategy) {
    case LKMPRE_LOOKUP_LINEAR:
        return LK_RESOLVE(LKMPRE_LOOKUP_LINEAR);
    case LKMPRE_LOOKUP_BSEARCH:
        return LK_RESOLVE(LKMPRE_LOOKUP_BSEARCH);
    case LKMPRE_LOOKUP_SYSV:
        return LK_RESOLVE(LKMPRE_LOOKUP_SYSV);
    case LKMPRE_LOOKUP_GNU:
        return LK_RESOLVE(LKMPRE_LOOKUP_GNU);
    case LKMPRE_LOOKUP_GNU_BLOOM:
        return LK_RESOLVE(LKMPRE_LOOKUP_GNU_BLOOM);
    }
#undef LK_RESOLVE
    return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_resolve");
}
