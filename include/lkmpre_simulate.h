/*
 * lkmpre's loader simulator, C side: resolves batches of symbol queries over a scope of indexes
 * (vmlinux's tables, then the modules loaded so far) with each lookup strategy, counting the
 * work, as `lkmpre simulate` and the cross-target drivers do (docs/simulate.md). Built on the
 * index API of lkmpre.h; freestanding, caller memory only, as the rest of the core.
 */
#ifndef LKMPRE_SIMULATE_H
#define LKMPRE_SIMULATE_H

#include "lkmpre.h"

LKMPRE_BEGIN_DECLS

/* One undefined symbol as the simulated loader resolves it: the scope's tables prefix first (vmlinux's
   __ksymtab, __ksymtab_gpl), then the run tables[first .. first + count) (the modules loaded so
   far, newest first, as the kernel's find_symbol walks its module list). */
typedef struct lkmpre_query {
    uint32_t name_offset, name_len; /* names[name_offset .. name_offset + name_len) */
    uint32_t gnu_hash, sysv_hash;   /* used with LKMPRE_RESOLVE_PREHASHED */
    uint32_t prefix;                /* tables[0 .. prefix) */
    uint32_t first, count;
} lkmpre_query;

#define LKMPRE_NOT_FOUND 0xffffffffu
typedef struct lkmpre_resolution {
    uint32_t table; /* position in tables of the table that holds the name, or LKMPRE_NOT_FOUND */
    uint32_t entry; /* its entry there, 0 if not found */
} lkmpre_resolution;

/* The tables a loader searches, in a fixed order, with a copy of every table's Bloom filter
   side by side, and each folded into one word and stored bit-sliced (64 tables a word per bit),
   so that a GNU + Bloom walk over many tables reads the scope, not the tables, and rejects 64
   tables with one AND. Lives in caller memory of lkmpre_scope_size(tables, ntables)
   bytes (8-aligned; SIZE_MAX if it cannot be addressed); the tables must outlive it. */
typedef struct lkmpre_scope lkmpre_scope;
size_t lkmpre_scope_size(const lkmpre_index *const *tables, uint32_t ntables);
LKMPRE_MUST_CHECK lkmpre_status lkmpre_scope_init(const lkmpre_index *const *tables, uint32_t ntables, void *mem,
                                                  size_t cap, const lkmpre_scope **scope, lkmpre_error *err);

/* Take each name's hash from the query (computed at build time, the ST loader's idea). */
#define LKMPRE_RESOLVE_PREHASHED 0x1u

/*
 * Resolves every query with one strategy. Without LKMPRE_RESOLVE_PREHASHED a name's hash is
 * computed once per query and reused for each table, as glibc does across objects. stats
 * (may be NULL) is added to: lookups counts table probes. A query naming bytes or tables
 * outside the arrays fails the call with LKMPRE_ERR_ARG (earlier results are written).
 */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_resolve(const lkmpre_scope *scope, const uint8_t *names, size_t names_len, const lkmpre_query *queries,
                                               size_t nqueries, lkmpre_strategy strategy, uint32_t flags,
                                               lkmpre_resolution *out, lkmpre_lookup_stats *stats,
                                               lkmpre_error *err);

LKMPRE_END_DECLS
#endif
