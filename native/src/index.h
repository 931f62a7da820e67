/* Internal interface of the export index: how the vmlinux reader hands exports to the writer,
   and the opened index's handle. */
#ifndef LKMPRE_INDEX_H
#define LKMPRE_INDEX_H

#include "internal.h"

#define LK_INDEX_HEADER_SIZE 64u
#define LK_INDEX_ENTRY_SIZE 24u
/* lld and GNU ld both use 26 for the second Bloom hash shift. */
#define LK_BLOOM_SHIFT2 26u
/* The null entry 0 (STN_UNDEF) is outside the GNU hash table, as in ELF. */
#define LK_SYMOFFSET 1u
/* The file's first 8 bytes, NUL included. */
#define LK_INDEX_MAGIC "LKMPIDX"

static inline void put32(uint8_t *p, uint64_t v) {
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

/* One export as read from a kernel image; the bytes it points to belong to the caller. */
typedef struct lk_export {
    uint64_t address;
    const uint8_t *name;
    const uint8_t *ns;
    uint32_t name_len, ns_len;
    uint32_t crc, flags; /* LKMPRE_EXPORT_* */
} lk_export;

typedef struct lk_identity {
    const uint8_t *banner; /* NULL if none */
    size_t banner_len;
    const uint8_t *build_id; /* raw bytes, written as hex */
    size_t build_id_len;
} lk_identity;

/* Sizes and offsets of every part of an index with n exports. */
typedef struct lk_geometry {
    uint32_t n, gnu_nbuckets, bloom_words, sysv_nbuckets, word;
    size_t strings_size, entries_at, bloom_at, gnu_buckets_at, gnu_chain_at, sysv_buckets_at, sysv_chain_at,
        sorted_at, strings_at, total;
} lk_geometry;

void lk_index_geometry(uint32_t n, int is64, size_t strings_size, lk_geometry *g);
size_t lk_index_strings_size(const lk_export *exports, uint32_t n, const lk_identity *id);
/* u32 words of scratch lk_index_write needs. */
size_t lk_index_scratch_size(uint32_t n);
void lk_index_write(const lk_export *exports, uint32_t n, const lk_identity *id, uint32_t flags, uint32_t machine,
                    const lk_geometry *g, uint8_t *out, uint32_t *scratch);

struct lkmpre_index {
    /* What a Bloom probe reads comes first, so that a probe touches one line of the handle. */
    const uint8_t *bloom; /* buf + bloom_at */
    uint32_t bloom_mask;  /* bloom_words - 1 */
    uint32_t word_log2;   /* 5 or 6: bits per Bloom word is 1 << word_log2 */
    const uint8_t *buf;
    lk_geometry g;
    uint32_t flags, machine;
};

/* Entry accessors (entry 1..n), inline: the lookups compare names through them. */
static inline const uint8_t *lk_entry(const lkmpre_index *x, uint32_t e) {
    return x->buf + x->g.entries_at + (size_t)e * LK_INDEX_ENTRY_SIZE;
}

static inline uint64_t lk_entry_address(const lkmpre_index *x, uint32_t e) {
    return get64(lk_entry(x, e));
}

static inline const char *lk_entry_name(const lkmpre_index *x, uint32_t e) {
    return (const char *)x->buf + x->g.strings_at + get32(lk_entry(x, e) + 8);
}

static inline const char *lk_entry_namespace(const lkmpre_index *x, uint32_t e) {
    return (const char *)x->buf + x->g.strings_at + get32(lk_entry(x, e) + 12);
}

static inline uint32_t lk_entry_crc(const lkmpre_index *x, uint32_t e) {
    return get32(lk_entry(x, e) + 16);
}

static inline uint32_t lk_entry_flags(const lkmpre_index *x, uint32_t e) {
    return get32(lk_entry(x, e) + 20);
}

/* The kernel's linux_banner, or NULL when the index has none. */
const char *lk_index_banner(const lkmpre_index *x);
/* The release a banner names ("Linux version RELEASE (..."): its length and *release, or 0. */
size_t lk_banner_release(const char *banner, const char **release);
/* The value of the first key= entry in the .modinfo of the module e (none in a missing or NOBITS
   section): 1 with *value and *len, or 0. What the refusal texts quote (vermagic). */
int lk_modinfo_first(const lk_elf *e, const char *key, const uint8_t **value, size_t *len);

#endif
