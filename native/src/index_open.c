/* Opening an export index: every offset, bucket, chain value and string validated once, then
   the entry accessors the preresolver reads. Layout: docs/index-format.md. */
#include "index.h"

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
    if (len < LK_INDEX_HEADER_SIZE || !lk_bytes_equal(buf, LK_INDEX_MAGIC, 8))
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
    if (nsyms == 0 || nsyms > len / LK_INDEX_ENTRY_SIZE)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index symbol count %u does not fit its size", (uint64_t)nsyms);
    lk_index_geometry(nsyms - 1, (x->flags & LKMPRE_INDEX_ELF64) != 0, get32(buf + 44), &x->g);
    if (get32(buf + 24) != x->g.gnu_nbuckets || get32(buf + 28) != LK_SYMOFFSET || get32(buf + 32) != x->g.bloom_words ||
        get32(buf + 36) != LK_BLOOM_SHIFT2 || get32(buf + 40) != x->g.sysv_nbuckets || get32(buf + 56) != x->g.total ||
        x->g.total != len)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index geometry does not match its header (%u bytes)", (uint64_t)len);
    uint32_t n = x->g.n;
    if (x->g.strings_size == 0 || buf[x->g.strings_at] != 0 || buf[x->g.strings_at + x->g.strings_size - 1] != 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "index string table is not NUL-delimited");
    for (uint32_t e = 1; e <= n; e++) {
        const uint8_t *p = buf + x->g.entries_at + (size_t)e * LK_INDEX_ENTRY_SIZE;
        if (!strings_ok(x, get32(p + 8)) || !strings_ok(x, get32(p + 12)))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "index entry %u names a string outside the table", (uint64_t)e);
    }
    for (uint32_t b = 0; b < x->g.gnu_nbuckets; b++) {
        uint32_t v = get32(buf + x->g.gnu_buckets_at + (size_t)b * 4);
        if (v != 0 && (v < LK_SYMOFFSET || v > n))
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
