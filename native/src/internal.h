/* Internal helpers of the lkmpre core: freestanding byte utilities, the bounds-checked ELF
   view, and error reporting. Nothing here is part of the public API. */
#ifndef LKMPRE_INTERNAL_H
#define LKMPRE_INTERNAL_H

#include "lkmpre.h"

#if defined(__GNUC__)
#define LK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define LK_ALWAYS_INLINE inline
#endif

#define SHT_PROGBITS 1u
#define SHT_SYMTAB 2u
#define SHT_STRTAB 3u
#define SHT_NOTE 7u
#define SHT_NOBITS 8u
#define SHF_ALLOC 0x2u
#define SHN_UNDEF 0u
#define SHN_ABS 0xfff1u
#define SHN_LORESERVE 0xff00u
#define ET_REL 1u

/* Freestanding replacements for the few libc functions the core needs. */
void lk_copy(void *dst, const void *src, size_t n);
void lk_zero(void *dst, size_t n);
int lk_bytes_equal(const void *a, const void *b, size_t n);
size_t lk_strnlen(const char *s, size_t max);
/* Compares two byte strings as unsigned bytes, like strcmp but with explicit lengths. */
int lk_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Sets err->message from a format with %s, %u (uint64_t), %d (int64_t) and %x (uint64_t) only.
   The messages are the Java reference's word for word (InputFormatException reasons), so that
   lkmpre-tree prints the CLI's lines: Java prints a 64-bit field as a signed long and an ELF
   identification byte as a signed byte, hence %d where it does. */
lkmpre_status lk_fail(lkmpre_error *err, lkmpre_status status, const char *fmt, ...);

/* Little- and big-endian loads and stores on raw bytes (no alignment assumed). Inline and spelled
   out per size, so that compilers turn each load into one machine load (and a byte swap). */
#define LK_LE(i) ((uint64_t)p[i] << (8 * (i)))
#define LK_BE(i, n) ((uint64_t)p[i] << (8 * ((n) - 1 - (i))))
static inline uint64_t lk_load(const uint8_t *p, unsigned size, int msb) {
    switch (size * 2 + (msb != 0)) {
    case 4: return LK_LE(0) | LK_LE(1);
    case 5: return LK_BE(0, 2) | LK_BE(1, 2);
    case 8: return LK_LE(0) | LK_LE(1) | LK_LE(2) | LK_LE(3);
    case 9: return LK_BE(0, 4) | LK_BE(1, 4) | LK_BE(2, 4) | LK_BE(3, 4);
    case 16: return LK_LE(0) | LK_LE(1) | LK_LE(2) | LK_LE(3) | LK_LE(4) | LK_LE(5) | LK_LE(6) | LK_LE(7);
    case 17:
        return LK_BE(0, 8) | LK_BE(1, 8) | LK_BE(2, 8) | LK_BE(3, 8) | LK_BE(4, 8) | LK_BE(5, 8) | LK_BE(6, 8) |
               LK_BE(7, 8);
    default: {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)p[i] << (8 * (msb ? size - 1 - i : i));
        return v;
    }
    }
}
#undef LK_LE
#undef LK_BE

static inline void lk_store(uint8_t *p, unsigned size, int msb, uint64_t v) {
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (msb ? size - 1 - i : i)));
}

/* Where each field lies in the records of one ELF class. elf.c describes the Elf32 and Elf64
   records as structs and takes their offsetof (kmod's habit: the structs are never laid over file
   bytes); lk_elf_open picks the class's table once. A field of the class's width (addresses,
   offsets, sizes: Elf_Addr, Elf_Off, and the Elf64 Xwords) is `word` bytes; the others have
   their ELF sizes in both classes (e_* half-words 2, sh_name/sh_type/sh_link/sh_info 4, st_name 4,
   st_shndx 2). Readers copy the offsets they need into locals before a per-entry loop. */
typedef struct lk_layout {
    uint8_t word;                                   /* 4 or 8 */
    uint8_t ehsize, shentsize, sym_entsize, rel_entsize, rela_entsize;
    uint8_t e_type, e_machine, e_shoff, e_shentsize, e_shnum, e_shstrndx;
    uint8_t sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize;
    uint8_t st_name, st_value, st_shndx;
    uint8_t r_offset, r_info, r_addend;
    uint8_t r_sym_shift; /* ELF32_R_SYM(i) is i >> 8, ELF64_R_SYM(i) i >> 32; the type is the bits below */
} lk_layout;

/* The layout of ELF class c (e_ident[EI_CLASS]: 1 ELF32, 2 ELF64), or NULL for another value. */
const lk_layout *lk_layout_of(unsigned c);

typedef struct lk_shdr {
    uint32_t index, name, type, link, info;
    uint64_t flags, addr, offset, size, addralign, entsize;
} lk_shdr;

/* A validated ELF image: header, section header table, name table, no overlaps. */
typedef struct lk_elf {
    const uint8_t *data;
    size_t len;
    const lk_layout *l;
    int is64, msb;
    uint32_t type, machine, shnum, shstrndx, shentsize, ehsize;
    uint64_t shoff;
    lk_shdr shstrtab;
} lk_elf;

/* Checks [off, off + size) lies in the image. */
static inline int lk_in(const lk_elf *e, uint64_t off, uint64_t size) {
    return off <= e->len && size <= e->len - off;
}

/* Reads an unsigned field of size bytes at off; 0 on success, -1 (and 0 in *v) out of bounds. */
static inline int lk_get(const lk_elf *e, uint64_t off, unsigned size, uint64_t *v) {
    *v = 0;
    if (!lk_in(e, off, size))
        return -1;
    *v = lk_load(e->data + off, size, e->msb);
    return 0;
}
/* The class width: 4 or 8. */
static inline unsigned lk_word(const lk_elf *e) {
    return e->l->word;
}

/*
 * Validates data[0, len) as an ELF file. scratch holds 3 * (shnum + 2) uint64_t for the overlap
 * check; the caller sizes it from the header (lk_elf_scratch_words).
 */
lkmpre_status lk_elf_open(lk_elf *e, const uint8_t *data, size_t len, uint64_t *scratch, size_t scratch_words,
                          lkmpre_error *err);
/* Words of scratch lk_elf_open needs for data (0 if the header is unreadable). */
size_t lk_elf_scratch_words(const uint8_t *data, size_t len);
/* sh_name or sh_type of section header i (off: layout's sh_name or sh_type; 4 bytes in both
   classes). For searches that decide by one field before reading the whole header. */
static inline uint32_t lk_elf_section_u32(const lk_elf *e, uint32_t i, unsigned off) {
    return (uint32_t)lk_load(e->data + e->shoff + (uint64_t)i * e->shentsize + off, 4, e->msb);
}
/* Reads section header i (validated by lk_elf_open). */
void lk_elf_section(const lk_elf *e, uint32_t i, lk_shdr *s);
/* Reads a section header at file offset off that the header table need not hold (the undo
   record's tail); 0, or -1 if it does not lie in the file. */
int lk_elf_section_at(const lk_elf *e, uint64_t off, lk_shdr *s);
/* Section name, NUL-terminated inside the name table (checked by lk_elf_open). */
const char *lk_elf_section_name(const lk_elf *e, const lk_shdr *s);
/* Finds the first section called name; returns 0 and fills s, or -1. */
int lk_elf_find(const lk_elf *e, const char *name, lk_shdr *s);
/* Finds the first section of the given sh_type; returns 0 and fills s, or -1. */
int lk_elf_find_type(const lk_elf *e, uint32_t type, lk_shdr *s);
/* A view of other bytes in e's class and byte order (the core's output for the module e opened),
   for bounds-checked reads with lk_get and lk_elf_section_at. Nothing in it is validated: it has
   e's header facts, not data's. */
static inline lk_elf lk_elf_alike(const lk_elf *e, const uint8_t *data, size_t len) {
    lk_elf v = *e;
    v.data = data;
    v.len = len;
    return v;
}

#endif
