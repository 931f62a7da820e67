/* Writing the export index: sizing (lld's GnuHashTableSection and GNU ld's SysV bucket table)
   and the bytes. Layout: docs/index-format.md. */
#include "index.h"

/* lld: 12 Bloom bits per symbol, rounded up to a power of two of words. */
#define BLOOM_BITS_PER_SYMBOL 12u

/* GNU ld's table (bfd/elflink.c): the largest entry whose successor exceeds the symbol count. */
static uint32_t sysv_buckets(uint32_t n) {
    static const uint32_t sizes[] = {1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099, 8209,
                                     16411, 32771, 65537, 131101, 262147, 0};
    uint32_t best = 1;
    for (int i = 0; sizes[i]; i++) {
        best = sizes[i];
        if (n < sizes[i + 1])
            break;
    }
    return best;
}

static uint32_t next_power_of_two_above(uint64_t x) {
    uint64_t p = 1;
    while (p <= x)
        p <<= 1;
    return (uint32_t)p;
}

void lk_index_geometry(uint32_t n, int is64, size_t strings_size, lk_geometry *g) {
    g->n = n;
    /* lld: a quarter as many buckets as symbols, at least one (loaders reject empty tables). */
    g->gnu_nbuckets = n / 4 > 1 ? n / 4 : 1;
    g->word = is64 ? 8 : 4;
    g->bloom_words = next_power_of_two_above((uint64_t)n * BLOOM_BITS_PER_SYMBOL / (g->word * 8));
    g->sysv_nbuckets = sysv_buckets(n);
    g->strings_size = strings_size;
    g->entries_at = LK_INDEX_HEADER_SIZE;
    g->bloom_at = g->entries_at + (size_t)(n + 1) * LK_INDEX_ENTRY_SIZE;
    g->gnu_buckets_at = g->bloom_at + (size_t)g->bloom_words * g->word;
    g->gnu_chain_at = g->gnu_buckets_at + (size_t)g->gnu_nbuckets * 4;
    g->sysv_buckets_at = g->gnu_chain_at + (size_t)n * 4;
    g->sysv_chain_at = g->sysv_buckets_at + (size_t)g->sysv_nbuckets * 4;
    g->sorted_at = g->sysv_chain_at + (size_t)(n + 1) * 4;
    g->strings_at = g->sorted_at + (size_t)n * 4;
    g->total = (g->strings_at + strings_size + 7) & ~(size_t)7;
}

/* Heap sort of u32 keys with a comparison callback; ties must be broken by the callback. */
typedef int (*lk_less)(const void *ctx, uint32_t a, uint32_t b);

static void sift32(uint32_t *v, size_t root, size_t n, lk_less less, const void *ctx) {
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && less(ctx, v[child], v[child + 1]))
            child++;
        if (!less(ctx, v[root], v[child]))
            return;
        uint32_t t = v[root];
        v[root] = v[child];
        v[child] = t;
    }
}

static void sort32(uint32_t *v, size_t n, lk_less less, const void *ctx) {
    for (size_t i = n / 2; i-- > 0;)
        sift32(v, i, n, less, ctx);
    for (size_t end = n; end-- > 1;) {
        uint32_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift32(v, 0, end, less, ctx);
    }
}

typedef struct bucket_ctx {
    const uint32_t *hash;
    uint32_t nbuckets;
} bucket_ctx;

static int bucket_less(const void *c, uint32_t a, uint32_t b) {
    const bucket_ctx *x = c;
    uint32_t ba = x->hash[a] % x->nbuckets, bb = x->hash[b] % x->nbuckets;
    return ba < bb || (ba == bb && a < b);
}

typedef struct name_ctx {
    const lk_export *exports;
    const uint32_t *order; /* final position -> export */
} name_ctx;

static int name_less(const void *c, uint32_t a, uint32_t b) {
    const name_ctx *x = c;
    const lk_export *ea = &x->exports[x->order[a]], *eb = &x->exports[x->order[b]];
    int cmp = lk_compare(ea->name, ea->name_len, eb->name, eb->name_len);
    return cmp < 0 || (cmp == 0 && a < b);
}

size_t lk_index_strings_size(const lk_export *exports, uint32_t n, const lk_identity *id) {
    size_t size = 1;
    for (uint32_t i = 0; i < n; i++) {
        size += exports[i].name_len + 1;
        if (exports[i].ns_len)
            size += exports[i].ns_len + 1;
    }
    if (id->banner)
        size += id->banner_len + 1;
    if (id->build_id_len)
        size += 2 * id->build_id_len + 1;
    return size;
}

size_t lk_index_scratch_size(uint32_t n) {
    return (size_t)n * 3;
}

static size_t put_string(uint8_t *strings, size_t at, const uint8_t *s, size_t len) {
    lk_copy(strings + at, s, len);
    strings[at + len] = 0;
    return at + len + 1;
}

void lk_index_write(const lk_export *exports, uint32_t n, const lk_identity *id, uint32_t flags,
                    uint32_t machine, const lk_geometry *g, uint8_t *out, uint32_t *scratch) {
    uint32_t *hash = scratch, *order = scratch + n, *sorted = scratch + 2 * (size_t)n;
    lk_zero(out, g->total);
    for (uint32_t i = 0; i < n; i++) {
        hash[i] = lkmpre_gnu_hash((const char *)exports[i].name, exports[i].name_len);
        order[i] = i;
    }
    /* GNU hash needs each bucket's symbols together; keep table order within a bucket so the
       first export of a name (__ksymtab before __ksymtab_gpl) is found first. */
    bucket_ctx bc = {hash, g->gnu_nbuckets};
    sort32(order, n, bucket_less, &bc);

    uint8_t *strings = out + g->strings_at;
    size_t at = 1;
    for (uint32_t k = 0; k < n; k++) {
        const lk_export *x = &exports[order[k]];
        uint8_t *e = out + g->entries_at + (size_t)(k + 1) * LK_INDEX_ENTRY_SIZE;
        lk_store(e, 8, 0, x->address);
        put32(e + 8, at);
        at = put_string(strings, at, x->name, x->name_len);
        if (x->ns_len) {
            put32(e + 12, at);
            at = put_string(strings, at, x->ns, x->ns_len);
        }
        put32(e + 16, x->crc);
        put32(e + 20, x->flags);
    }
    uint32_t banner = 0, build_id = 0;
    if (id->banner) {
        banner = (uint32_t)at + 1;
        at = put_string(strings, at, id->banner, id->banner_len);
    }
    if (id->build_id_len) {
        build_id = (uint32_t)at + 1;
        for (size_t i = 0; i < id->build_id_len; i++) {
            strings[at++] = (uint8_t)"0123456789abcdef"[id->build_id[i] >> 4];
            strings[at++] = (uint8_t)"0123456789abcdef"[id->build_id[i] & 15];
        }
        strings[at++] = 0;
    }

    /* Bloom filter and chains, over entries 1..n in their final order. */
    unsigned bits = g->word * 8;
    uint8_t *bloom = out + g->bloom_at;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t h = hash[order[k]];
        uint8_t *w = bloom + (size_t)((h / bits) & (g->bloom_words - 1)) * g->word;
        uint64_t mask = lk_load(w, g->word, 0);
        mask |= (uint64_t)1 << (h % bits);
        mask |= (uint64_t)1 << ((h >> LK_BLOOM_SHIFT2) % bits);
        lk_store(w, g->word, 0, mask);
        uint32_t bucket = h % g->gnu_nbuckets;
        uint8_t *b = out + g->gnu_buckets_at + (size_t)bucket * 4;
        if (get32(b) == 0)
            put32(b, k + LK_SYMOFFSET);
        int last = k + 1 == n || hash[order[k + 1]] % g->gnu_nbuckets != bucket;
        put32(out + g->gnu_chain_at + (size_t)k * 4, (h & ~1u) | (uint32_t)last);
    }
    /* SysV: insert from the end so each chain visits entries in ascending order. */
    for (uint32_t k = n; k >= 1; k--) {
        const lk_export *x = &exports[order[k - 1]];
        uint32_t bucket = lkmpre_sysv_hash((const char *)x->name, x->name_len) % g->sysv_nbuckets;
        uint8_t *b = out + g->sysv_buckets_at + (size_t)bucket * 4;
        put32(out + g->sysv_chain_at + (size_t)k * 4, get32(b));
        put32(b, k);
    }
    /* Entry numbers sorted by name, ties by entry number, for the binary search. */
    for (uint32_t k = 0; k < n; k++)
        sorted[k] = k;
    name_ctx nc = {exports, order};
    sort32(sorted, n, name_less, &nc);
    for (uint32_t k = 0; k < n; k++)
        put32(out + g->sorted_at + (size_t)k * 4, sorted[k] + LK_SYMOFFSET);

    lk_copy(out, LK_INDEX_MAGIC, 8);
    put32(out + 8, LKMPRE_INDEX_VERSION);
    put32(out + 12, flags);
    put32(out + 16, machine);
    put32(out + 20, n + 1);
    put32(out + 24, g->gnu_nbuckets);
    put32(out + 28, LK_SYMOFFSET);
    put32(out + 32, g->bloom_words);
    put32(out + 36, LK_BLOOM_SHIFT2);
    put32(out + 40, g->sysv_nbuckets);
    put32(out + 44, g->strings_size);
    put32(out + 48, banner);
    put32(out + 52, build_id);
    put32(out + 56, g->total);
}
