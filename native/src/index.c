/* The export index: sizing (lld's GnuHashTableSection and GNU ld's SysV bucket table),
   writing, validation, and the five lookups. Layout: docs/index-format.md. */
#include "index.h"

#define HEADER_SIZE 64u
#define ENTRY_SIZE 24u
/* lld: 12 Bloom bits per symbol, rounded up to a power of two of words. */
#define BLOOM_BITS_PER_SYMBOL 12u
/* lld and GNU ld both use 26 for the second Bloom hash shift. */
#define BLOOM_SHIFT2 26u
/* The scope's bit-sliced folds: a row per bit of a 64-bit Bloom word. */
#define SLICE_ROWS 64u
/* The null entry 0 (STN_UNDEF) is outside the GNU hash table, as in ELF. */
#define SYMOFFSET 1u

static const uint8_t MAGIC[8] = {'L', 'K', 'M', 'P', 'I', 'D', 'X', 0};

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
    g->entries_at = HEADER_SIZE;
    g->bloom_at = g->entries_at + (size_t)(n + 1) * ENTRY_SIZE;
    g->gnu_buckets_at = g->bloom_at + (size_t)g->bloom_words * g->word;
    g->gnu_chain_at = g->gnu_buckets_at + (size_t)g->gnu_nbuckets * 4;
    g->sysv_buckets_at = g->gnu_chain_at + (size_t)n * 4;
    g->sysv_chain_at = g->sysv_buckets_at + (size_t)g->sysv_nbuckets * 4;
    g->sorted_at = g->sysv_chain_at + (size_t)(n + 1) * 4;
    g->strings_at = g->sorted_at + (size_t)n * 4;
    g->total = (g->strings_at + strings_size + 7) & ~(size_t)7;
}

static void put32(uint8_t *p, uint64_t v) {
    lk_store(p, 4, 0, v);
}

/* Little-endian loads written out so the compiler turns each into one load on any host. The
   lookups live on these: a call to the generic lk_load per field cost a third of a lookup. */
static inline uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p) {
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
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
        uint8_t *e = out + g->entries_at + (size_t)(k + 1) * ENTRY_SIZE;
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
        mask |= (uint64_t)1 << ((h >> BLOOM_SHIFT2) % bits);
        lk_store(w, g->word, 0, mask);
        uint32_t bucket = h % g->gnu_nbuckets;
        uint8_t *b = out + g->gnu_buckets_at + (size_t)bucket * 4;
        if (get32(b) == 0)
            put32(b, k + SYMOFFSET);
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
        put32(out + g->sorted_at + (size_t)k * 4, sorted[k] + SYMOFFSET);

    lk_copy(out, MAGIC, 8);
    put32(out + 8, LKMPRE_INDEX_VERSION);
    put32(out + 12, flags);
    put32(out + 16, machine);
    put32(out + 20, n + 1);
    put32(out + 24, g->gnu_nbuckets);
    put32(out + 28, SYMOFFSET);
    put32(out + 32, g->bloom_words);
    put32(out + 36, BLOOM_SHIFT2);
    put32(out + 40, g->sysv_nbuckets);
    put32(out + 44, g->strings_size);
    put32(out + 48, banner);
    put32(out + 52, build_id);
    put32(out + 56, g->total);
}

size_t lkmpre_index_handle_size(void) {
    return sizeof(lkmpre_index);
}

static int strings_ok(const lkmpre_index *x, uint32_t off) {
    return off < x->g.strings_size &&
           lk_strnlen((const char *)x->buf + x->g.strings_at + off, x->g.strings_size - off) < x->g.strings_size - off;
}

lkmpre_status lkmpre_index_open(const uint8_t *buf, size_t len, void *handle_mem, size_t handle_cap,
                                const lkmpre_index **index, lkmpre_error *err) {
    if (!index)
        return lk_fail(err, LKMPRE_ERR_ARG, "no place for the handle");
    *index = 0;
    if (!buf || !handle_mem || handle_cap < sizeof(lkmpre_index) || ((uintptr_t)handle_mem & 7))
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_index_open");
    if (len < HEADER_SIZE || !lk_bytes_equal(buf, MAGIC, 8))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "not an lkmpre index (bad magic)");
    if (get32(buf + 8) != LKMPRE_INDEX_VERSION)
        return lk_fail(err, LKMPRE_ERR_UNSUPPORTED, "index version %u, expected %u", (uint64_t)get32(buf + 8),
                       (uint64_t)LKMPRE_INDEX_VERSION);
    lkmpre_index *x = handle_mem;
    lk_zero(x, sizeof *x);
    x->buf = buf;
    x->flags = get32(buf + 12);
    x->machine = get32(buf + 16);
    uint32_t nsyms = get32(buf + 20);
    if (nsyms == 0 || nsyms > len / ENTRY_SIZE)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index symbol count %u does not fit its size", (uint64_t)nsyms);
    lk_index_geometry(nsyms - 1, (x->flags & LKMPRE_INDEX_ELF64) != 0, get32(buf + 44), &x->g);
    if (get32(buf + 24) != x->g.gnu_nbuckets || get32(buf + 28) != SYMOFFSET || get32(buf + 32) != x->g.bloom_words ||
        get32(buf + 36) != BLOOM_SHIFT2 || get32(buf + 40) != x->g.sysv_nbuckets || get32(buf + 56) != x->g.total ||
        x->g.total != len)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index geometry does not match its header (%u bytes)", (uint64_t)len);
    uint32_t n = x->g.n;
    if (x->g.strings_size == 0 || buf[x->g.strings_at] != 0 || buf[x->g.strings_at + x->g.strings_size - 1] != 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index string table is not NUL-delimited");
    for (uint32_t e = 1; e <= n; e++) {
        const uint8_t *p = buf + x->g.entries_at + (size_t)e * ENTRY_SIZE;
        if (!strings_ok(x, get32(p + 8)) || !strings_ok(x, get32(p + 12)))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index entry %u names a string outside the table", (uint64_t)e);
    }
    for (uint32_t b = 0; b < x->g.gnu_nbuckets; b++) {
        uint32_t v = get32(buf + x->g.gnu_buckets_at + (size_t)b * 4);
        if (v != 0 && (v < SYMOFFSET || v > n))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index GNU bucket %u out of range", (uint64_t)b);
    }
    for (uint32_t b = 0; b < x->g.sysv_nbuckets; b++)
        if (get32(buf + x->g.sysv_buckets_at + (size_t)b * 4) > n)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index SysV bucket %u out of range", (uint64_t)b);
    for (uint32_t e = 0; e <= n; e++)
        if (get32(buf + x->g.sysv_chain_at + (size_t)e * 4) > n)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index SysV chain %u out of range", (uint64_t)e);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = get32(buf + x->g.sorted_at + (size_t)k * 4);
        if (v < 1 || v > n)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index sorted entry %u out of range", (uint64_t)k);
    }
    uint32_t banner = get32(buf + 48), build_id = get32(buf + 52);
    if ((banner && !strings_ok(x, banner - 1)) || (build_id && !strings_ok(x, build_id - 1)))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index identity strings outside the table");
    x->bloom = buf + x->g.bloom_at;
    x->bloom_mask = x->g.bloom_words - 1;
    x->word_log2 = x->g.word == 8 ? 6 : 5;
    *index = x;
    return LKMPRE_OK;
}

const char *lk_index_banner(const lkmpre_index *x) {
    uint32_t banner = get32(x->buf + 48);
    return banner ? (const char *)x->buf + x->g.strings_at + banner - 1 : 0;
}

uint32_t lkmpre_index_count(const lkmpre_index *x) {
    return x->g.n;
}

uint32_t lkmpre_index_flags(const lkmpre_index *x) {
    return x->flags;
}

static const uint8_t *entry(const lkmpre_index *x, uint32_t e) {
    return x->buf + x->g.entries_at + (size_t)e * ENTRY_SIZE;
}

uint64_t lk_entry_address(const lkmpre_index *x, uint32_t e) {
    return get64(entry(x, e));
}

const char *lk_entry_name(const lkmpre_index *x, uint32_t e) {
    return (const char *)x->buf + x->g.strings_at + get32(entry(x, e) + 8);
}

const char *lk_entry_namespace(const lkmpre_index *x, uint32_t e) {
    return (const char *)x->buf + x->g.strings_at + get32(entry(x, e) + 12);
}

uint32_t lk_entry_crc(const lkmpre_index *x, uint32_t e) {
    return get32(entry(x, e) + 16);
}

uint32_t lk_entry_flags(const lkmpre_index *x, uint32_t e) {
    return get32(entry(x, e) + 20);
}

/* Compares entry e's name with a query of len bytes (no NUL in it). Every index string ends
   with NUL inside the table (checked at open), so the walk stops there: no read past it. */
static int name_cmp(const lkmpre_index *x, uint32_t e, const char *name, size_t len, lkmpre_lookup_stats *st) {
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
static int name_is(const lkmpre_index *x, uint32_t e, const char *name, size_t len, lkmpre_lookup_stats *st) {
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

static uint32_t linear(const lkmpre_index *x, const char *name, size_t len, lkmpre_lookup_stats *st) {
    for (uint32_t e = 1; e <= x->g.n; e++)
        if (name_is(x, e, name, len, st))
            return e;
    return 0;
}

static uint32_t bsearch_sorted(const lkmpre_index *x, const char *name, size_t len, lkmpre_lookup_stats *st) {
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

static uint32_t sysv(const lkmpre_index *x, uint32_t h, const char *name, size_t len, lkmpre_lookup_stats *st) {
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
    return (w >> (h & mask)) & (w >> ((h >> BLOOM_SHIFT2) & mask)) & 1;
}

static LK_ALWAYS_INLINE uint64_t bloom_word(const lkmpre_index *x, uint32_t h) {
    const uint8_t *p = x->bloom + (size_t)((h >> x->word_log2) & x->bloom_mask) * (x->g.word);
    return x->g.word == 8 ? get64(p) : get32(p);
}

static int bloom_may_contain(const lkmpre_index *x, uint32_t h) {
    return bloom_word_may_contain(bloom_word(x, h), x->word_log2, h);
}

static uint32_t gnu(const lkmpre_index *x, uint32_t h, const char *name, size_t len, lkmpre_lookup_stats *st) {
    uint32_t e = get32(x->buf + x->g.gnu_buckets_at + (size_t)(h % x->g.gnu_nbuckets) * 4);
    if (!e)
        return 0;
    for (h |= 1; e <= x->g.n; e++) {
        uint32_t c = get32(x->buf + x->g.gnu_chain_at + (size_t)(e - SYMOFFSET) * 4);
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

/* A probe of one table, testing its own Bloom filter when the strategy uses it. */
static uint32_t probe_table(const lkmpre_index *x, lkmpre_strategy strategy, uint32_t h, const char *name, size_t len,
                            lkmpre_lookup_stats *st) {
    int maybe = strategy != LKMPRE_LOOKUP_GNU_BLOOM || bloom_may_contain(x, h);
    return probe(x, strategy, h, maybe, name, len, st);
}

static uint32_t hash_for(lkmpre_strategy strategy, const char *name, size_t len) {
    if (strategy == LKMPRE_LOOKUP_SYSV)
        return lkmpre_sysv_hash(name, len);
    if (strategy == LKMPRE_LOOKUP_GNU || strategy == LKMPRE_LOOKUP_GNU_BLOOM)
        return lkmpre_gnu_hash(name, len);
    return 0;
}

uint32_t lkmpre_index_lookup_hashed(const lkmpre_index *x, const char *name, size_t len, uint32_t h, int bloom,
                                    lkmpre_lookup_stats *st) {
    return probe_table(x, bloom ? LKMPRE_LOOKUP_GNU_BLOOM : LKMPRE_LOOKUP_GNU, h, name, len, st);
}

uint32_t lkmpre_index_lookup(const lkmpre_index *x, const char *name, size_t len, lkmpre_strategy strategy,
                             lkmpre_lookup_stats *st) {
    return probe_table(x, strategy, hash_for(strategy, name, len), name, len, st);
}

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
    uint32_t bits = (1u << s->word_log2) - 1, b1 = h & bits, b2 = (h >> BLOOM_SHIFT2) & bits;
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
