/*
 * lkmpre: build-time preresolution of Linux kernel module symbols, portable C core.
 *
 * Freestanding: no libc calls, no allocation. Callers pass every buffer; handles are opaque
 * and live in memory the caller provides. Every function that can fail returns a negative
 * lkmpre_status and writes a one-line message into the caller's lkmpre_error, if given.
 *
 * The kernel's export table travels as an index: a flat, little-endian byte layout
 * (docs/index-format.md) that the pure-Java reference writes identically. Build one from
 * vmlinux bytes with lkmpre_index_build(), open it with lkmpre_index_open(), then
 * preresolve modules with lkmpre_preresolve(). The loader simulator's walk over many indexes
 * has its own header, lkmpre_simulate.h.
 */
#ifndef LKMPRE_H
#define LKMPRE_H

#include <stddef.h>
#include <stdint.h>

/* Open and close each public header's declarations: C linkage, and default visibility (the core
   is built with -fvisibility=hidden, so only what the headers declare is exported). */
#if defined(__GNUC__)
#define LKMPRE_VISIBLE_PUSH _Pragma("GCC visibility push(default)")
#define LKMPRE_VISIBLE_POP _Pragma("GCC visibility pop")
#else
#define LKMPRE_VISIBLE_PUSH
#define LKMPRE_VISIBLE_POP
#endif
#ifdef __cplusplus
#define LKMPRE_BEGIN_DECLS extern "C" { LKMPRE_VISIBLE_PUSH
#define LKMPRE_END_DECLS LKMPRE_VISIBLE_POP }
#else
#define LKMPRE_BEGIN_DECLS LKMPRE_VISIBLE_PUSH
#define LKMPRE_END_DECLS LKMPRE_VISIBLE_POP
#endif

LKMPRE_BEGIN_DECLS

#if defined(__GNUC__)
#define LKMPRE_MUST_CHECK __attribute__((warn_unused_result))
#else
#define LKMPRE_MUST_CHECK
#endif

typedef enum lkmpre_status {
    LKMPRE_OK = 0,
    LKMPRE_ERR_ARG = -1,     /* a caller error: NULL pointer, misaligned handle memory */
    LKMPRE_ERR_FORMAT = -2,  /* the input is malformed */
    LKMPRE_ERR_SPACE = -3,   /* a caller buffer is too small; the *_needed out-parameter says how big */
    LKMPRE_ERR_UNSUPPORTED = -4, /* well-formed but not something lkmpre handles */
    LKMPRE_ERR_SYSTEM = -5       /* a system call failed (lkmpre_files.h only): its errno is returned beside */
} lkmpre_status;

/* One-line message describing the last failure. */
typedef struct lkmpre_error {
    char message[200];
} lkmpre_error;

/* ---- index ---------------------------------------------------------------------------- */

#define LKMPRE_INDEX_VERSION 2u   /* 2: entry flag LKMPRE_EXPORT_OUTSIDE_KERNEL */
#define LKMPRE_INDEX_ELF64 0x1u     /* the kernel is ELF64 */
#define LKMPRE_INDEX_CRCS 0x2u      /* the kernel carries modversions CRCs */
#define LKMPRE_INDEX_KASLR 0x4u     /* the kernel's config enables CONFIG_RANDOMIZE_BASE */
#define LKMPRE_INDEX_CONFIG 0x8u    /* the kernel's config was known when the index was built */

#define LKMPRE_EXPORT_CRC 0x1u      /* entry flag: crc is valid */
#define LKMPRE_EXPORT_GPL 0x2u      /* entry flag: EXPORT_SYMBOL_GPL */
#define LKMPRE_EXPORT_OUTSIDE_KERNEL 0x4u /* entry flag: the address failed the address guard */

typedef struct lkmpre_index lkmpre_index;

/* How many bytes (and what alignment: 8) lkmpre_index_open() needs for the handle. */
size_t lkmpre_index_handle_size(void);

/*
 * Builds the index of a vmlinux ELF image into out. config_flags may carry LKMPRE_INDEX_KASLR
 * and LKMPRE_INDEX_CONFIG (the core does not read kernel configs). scratch is working memory;
 * when out or scratch is too small (or NULL) the function returns LKMPRE_ERR_SPACE and sets
 * *out_needed and *scratch_needed.
 */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_index_build(const uint8_t *vmlinux, size_t vmlinux_len,
                                                   uint32_t config_flags, uint8_t *out, size_t out_cap,
                                                   size_t *out_needed, void *scratch, size_t scratch_cap,
                                                   size_t *scratch_needed, lkmpre_error *err);

/* Validates an index and sets *index to a handle placed in handle_mem. The buffer must stay alive. */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_index_open(const uint8_t *buf, size_t len, void *handle_mem,
                                                  size_t handle_cap, const lkmpre_index **index,
                                                  lkmpre_error *err);

/* Exports in the index (not counting the null entry 0). */
uint32_t lkmpre_index_count(const lkmpre_index *index);
uint32_t lkmpre_index_flags(const lkmpre_index *index);

typedef enum lkmpre_strategy {
    LKMPRE_LOOKUP_LINEAR = 0,   /* scan every entry: the 2.6.x loader */
    LKMPRE_LOOKUP_BSEARCH = 1,  /* binary search over names: today's Linux */
    LKMPRE_LOOKUP_SYSV = 2,     /* SysV ELF hash */
    LKMPRE_LOOKUP_GNU = 3,      /* GNU hash, no Bloom filter */
    LKMPRE_LOOKUP_GNU_BLOOM = 4 /* GNU hash behind its Bloom filter (glibc, musl) */
} lkmpre_strategy;

typedef struct lkmpre_lookup_stats {
    uint64_t lookups;
    uint64_t string_compares;
    uint64_t bloom_rejections;
    uint64_t chain_steps;
} lkmpre_lookup_stats;

uint32_t lkmpre_gnu_hash(const char *name, size_t len);
uint32_t lkmpre_sysv_hash(const char *name, size_t len);

/*
 * Finds name (len bytes, no NUL needed) with the given strategy. Returns the entry index
 * (1..count) or 0 when absent. stats may be NULL.
 */
uint32_t lkmpre_index_lookup(const lkmpre_index *index, const char *name, size_t len, lkmpre_strategy strategy,
                             lkmpre_lookup_stats *stats);

/*
 * GNU lookup with the name's GNU hash computed earlier (the ST loader's optimization: a module
 * carries the hash of each undefined symbol). bloom selects the Bloom filter test.
 */
uint32_t lkmpre_index_lookup_hashed(const lkmpre_index *index, const char *name, size_t len, uint32_t gnu_hash,
                                    int bloom, lkmpre_lookup_stats *stats);

/* ---- preresolve ------------------------------------------------------------------------ */

#define LKMPRE_STRIP_SIGNATURE 0x1u
/* For callers that patch the file where it lies: out[0 .. image) is not filled with the module's
   bytes; only what changes there is written (e_shoff, e_shnum, and each preresolved symbol's
   st_value and st_shndx); its other bytes are working memory, not output. out from the image's
   end on (the tail) is complete. The image is the module without the stripped signature. */
#define LKMPRE_OUT_SPARSE 0x2u

typedef enum lkmpre_module_status {
    LKMPRE_MODULE_PRERESOLVED = 0,
    LKMPRE_MODULE_ALREADY = 1,   /* carries .preresolved already: nothing written */
    LKMPRE_MODULE_REFUSED = 2,   /* see refusal */
    LKMPRE_MODULE_FAILED = 3     /* malformed: see the error message */
} lkmpre_module_status;

typedef enum lkmpre_refusal {
    LKMPRE_REFUSED_NONE = 0,
    LKMPRE_REFUSED_SIGNED = 1,   /* signature appended and LKMPRE_STRIP_SIGNATURE not given */
    LKMPRE_REFUSED_CLASS = 2,    /* ELF class differs from the kernel's */
    LKMPRE_REFUSED_MACHINE = 3,  /* e_machine differs from the kernel's */
    LKMPRE_REFUSED_VERMAGIC = 4  /* built for another kernel release (vermagic vs the kernel's banner) */
} lkmpre_refusal;

/* Why a symbol stays SHN_UNDEF; 0 means it was preresolved. Same order as the Java enum. */
typedef enum lkmpre_reason {
    LKMPRE_RESOLVED = 0,
    LKMPRE_NOT_EXPORTED_BY_VMLINUX = 1,
    LKMPRE_GPL_ONLY = 2,
    LKMPRE_NO_MODVERSIONS = 3,
    LKMPRE_MISSING_VERSION = 4,
    LKMPRE_CRC_MISMATCH = 5,
    LKMPRE_NAMESPACE_NOT_IMPORTED = 6,
    LKMPRE_ADDRESS_OUTSIDE_VMLINUX = 7 /* lkmpre's guard: outside every allocated section */
} lkmpre_reason;

/* One undefined symbol of the module, in symbol-table order. */
typedef struct lkmpre_symbol_result {
    uint32_t symbol;       /* index in .symtab */
    uint32_t name_offset;  /* file offset of its NUL-terminated name */
    uint32_t reason;       /* lkmpre_reason */
    uint32_t entry;        /* index entry it matched, 0 if none */
    uint64_t module_crc;   /* __versions CRC, for LKMPRE_CRC_MISMATCH */
} lkmpre_symbol_result;

typedef struct lkmpre_module_result {
    uint32_t status;       /* lkmpre_module_status */
    uint32_t refusal;      /* lkmpre_refusal */
    uint32_t undefined;    /* undefined symbols asked for; results written */
    uint32_t preresolved;
    uint32_t module_class; /* 32 or 64 */
    uint32_t module_machine;
    uint32_t license_offset; /* file offset of the .modinfo license value, 0 if none */
    uint32_t license_len;
    uint64_t out_len;      /* bytes written to out (PRERESOLVED only) */
} lkmpre_module_result;

/*
 * Preresolves one module: writes the patched module into out and one result per undefined
 * symbol into results. A malformed module is not an error of the call: it returns LKMPRE_OK
 * with status LKMPRE_MODULE_FAILED and the reason in err. LKMPRE_ERR_SPACE means out or
 * results is too small: *out_needed and *results_needed say how big they must be.
 */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_preresolve(const lkmpre_index *index, const uint8_t *module, size_t len,
                                                  uint32_t flags, uint8_t *out, size_t out_cap, size_t *out_needed,
                                                  lkmpre_symbol_result *results, size_t results_cap,
                                                  size_t *results_needed, lkmpre_module_result *result,
                                                  lkmpre_error *err);

LKMPRE_END_DECLS
#endif
