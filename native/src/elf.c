/* The bounds-checked ELF view: every read goes through lk_get, which knows the class width and
   byte order and checks the range with overflow-safe arithmetic (kmod's elf_get_uint). */
#include "internal.h"

#include <stddef.h> /* offsetof: freestanding */

/* The records lkmpre reads, as the ELF specification lays them out. Only their offsetof and
   sizeof are used (the layout tables below); file bytes are read with lk_load. */
typedef struct {
    uint8_t e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version, e_entry, e_phoff, e_shoff, e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} elf32_ehdr;
typedef struct {
    uint8_t e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} elf64_ehdr;
typedef struct {
    uint32_t sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize;
} elf32_shdr;
typedef struct {
    uint32_t sh_name, sh_type;
    uint64_t sh_flags, sh_addr, sh_offset, sh_size;
    uint32_t sh_link, sh_info;
    uint64_t sh_addralign, sh_entsize;
} elf64_shdr;
typedef struct {
    uint32_t st_name, st_value, st_size;
    uint8_t st_info, st_other;
    uint16_t st_shndx;
} elf32_sym;
typedef struct {
    uint32_t st_name;
    uint8_t st_info, st_other;
    uint16_t st_shndx;
    uint64_t st_value, st_size;
} elf64_sym;
typedef struct {
    uint32_t r_offset, r_info;
    int32_t r_addend;
} elf32_rela;
typedef struct {
    uint64_t r_offset, r_info;
    int64_t r_addend;
} elf64_rela;
/* No padding on any target (the sizes are the specification's), so offsetof is the file's. */
_Static_assert(sizeof(elf32_ehdr) == 52 && sizeof(elf64_ehdr) == 64, "ELF header size");
_Static_assert(sizeof(elf32_shdr) == 40 && sizeof(elf64_shdr) == 64, "section header size");
_Static_assert(sizeof(elf32_sym) == 16 && sizeof(elf64_sym) == 24, "symbol size");
_Static_assert(sizeof(elf32_rela) == 12 && sizeof(elf64_rela) == 24, "relocation size");

/* An Elf_Rel is an Elf_Rela without its addend. */
#define LAYOUT(Ehdr, Shdr, Sym, Rela, word_, sym_shift)                                                      \
    {                                                                                                        \
        .word = word_, .ehsize = sizeof(Ehdr), .shentsize = sizeof(Shdr), .sym_entsize = sizeof(Sym),        \
        .rel_entsize = offsetof(Rela, r_addend), .rela_entsize = sizeof(Rela),                               \
        .e_type = offsetof(Ehdr, e_type), .e_machine = offsetof(Ehdr, e_machine),                            \
        .e_shoff = offsetof(Ehdr, e_shoff), .e_shentsize = offsetof(Ehdr, e_shentsize),                      \
        .e_shnum = offsetof(Ehdr, e_shnum), .e_shstrndx = offsetof(Ehdr, e_shstrndx),                        \
        .sh_name = offsetof(Shdr, sh_name), .sh_type = offsetof(Shdr, sh_type),                              \
        .sh_flags = offsetof(Shdr, sh_flags), .sh_addr = offsetof(Shdr, sh_addr),                            \
        .sh_offset = offsetof(Shdr, sh_offset), .sh_size = offsetof(Shdr, sh_size),                          \
        .sh_link = offsetof(Shdr, sh_link), .sh_info = offsetof(Shdr, sh_info),                              \
        .sh_addralign = offsetof(Shdr, sh_addralign), .sh_entsize = offsetof(Shdr, sh_entsize),              \
        .st_name = offsetof(Sym, st_name), .st_value = offsetof(Sym, st_value),                              \
        .st_shndx = offsetof(Sym, st_shndx), .r_offset = offsetof(Rela, r_offset),                           \
        .r_info = offsetof(Rela, r_info), .r_addend = offsetof(Rela, r_addend), .r_sym_shift = sym_shift,    \
    }
static const lk_layout ELF32 = LAYOUT(elf32_ehdr, elf32_shdr, elf32_sym, elf32_rela, 4, 8);
static const lk_layout ELF64 = LAYOUT(elf64_ehdr, elf64_shdr, elf64_sym, elf64_rela, 8, 32);

const lk_layout *lk_layout_of(unsigned c) {
    return c == 1 ? &ELF32 : c == 2 ? &ELF64 : 0;
}

/* Words of one range of the overlap check (below). */
#define RANGE 3u

size_t lk_elf_scratch_words(const uint8_t *data, size_t len) {
    const lk_layout *l = len >= 64 ? lk_layout_of(data[4]) : 0;
    if (!l)
        return 4;
    return RANGE * (lk_load(data + l->e_shnum, 2, data[5] == 2) + 2);
}

/* w is the class width as a constant (the callers' two calls), so each load is one machine load. */
static LK_ALWAYS_INLINE void decode(const lk_layout *l, const uint8_t *h, int m, unsigned w, lk_shdr *s) {
    s->name = (uint32_t)lk_load(h + l->sh_name, 4, m);
    s->type = (uint32_t)lk_load(h + l->sh_type, 4, m);
    s->flags = lk_load(h + l->sh_flags, w, m);
    s->addr = lk_load(h + l->sh_addr, w, m);
    s->offset = lk_load(h + l->sh_offset, w, m);
    s->size = lk_load(h + l->sh_size, w, m);
    s->link = (uint32_t)lk_load(h + l->sh_link, 4, m);
    s->info = (uint32_t)lk_load(h + l->sh_info, 4, m);
    s->addralign = lk_load(h + l->sh_addralign, w, m);
    s->entsize = lk_load(h + l->sh_entsize, w, m);
}

static void section_at(const lk_elf *e, const uint8_t *h, lk_shdr *s) {
    if (e->l->word == 8)
        decode(e->l, h, e->msb, 8, s);
    else
        decode(e->l, h, e->msb, 4, s);
}

void lk_elf_section(const lk_elf *e, uint32_t i, lk_shdr *s) {
    section_at(e, e->data + e->shoff + (uint64_t)i * e->shentsize, s);
    s->index = i;
}

int lk_elf_section_at(const lk_elf *e, uint64_t off, lk_shdr *s) {
    lk_zero(s, sizeof *s);
    if (!lk_in(e, off, e->shentsize))
        return -1;
    section_at(e, e->data + off, s);
    return 0;
}

const char *lk_elf_section_name(const lk_elf *e, const lk_shdr *s) {
    return (const char *)e->data + e->shstrtab.offset + s->name;
}

int lk_elf_find(const lk_elf *e, const char *name, lk_shdr *s) {
    size_t n = lk_strnlen(name, 256) + 1;
    for (uint32_t i = 0; i < e->shnum; i++) {
        uint32_t at = lk_elf_section_u32(e, i, e->l->sh_name);
        if (at <= e->shstrtab.size - n && lk_bytes_equal(e->data + e->shstrtab.offset + at, name, n)) {
            lk_elf_section(e, i, s);
            return 0;
        }
    }
    return -1;
}

int lk_elf_find_type(const lk_elf *e, uint32_t type, lk_shdr *s) {
    for (uint32_t i = 0; i < e->shnum; i++) {
        if (lk_elf_section_u32(e, i, e->l->sh_type) == type) {
            lk_elf_section(e, i, s);
            return 0;
        }
    }
    return -1;
}

/* The overlap check's ranges: (start, end, what) triples, what 0 for the ELF header, 1 for the
   section header table, i + 2 for section i. Sorted by start, then end, then what: the order of
   the Java reference's stable sort over ranges added in that order, so both name the same pair. */

static int range_less(const uint64_t *p, size_t a, size_t b) {
    const uint64_t *x = p + RANGE * a, *y = p + RANGE * b;
    return x[0] != y[0] ? x[0] < y[0] : x[1] != y[1] ? x[1] < y[1] : x[2] < y[2];
}

static void range_swap(uint64_t *p, size_t a, size_t b) {
    for (unsigned k = 0; k < RANGE; k++) {
        uint64_t t = p[RANGE * a + k];
        p[RANGE * a + k] = p[RANGE * b + k];
        p[RANGE * b + k] = t;
    }
}

static void sift(uint64_t *p, size_t root, size_t n) {
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && range_less(p, child, child + 1))
            child++;
        if (!range_less(p, root, child))
            return;
        range_swap(p, root, child);
    }
}

/* Heap sort: no allocation, O(n log n) for hostile section counts. */
static void sort_ranges(uint64_t *p, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift(p, i, n);
    for (size_t end = n; end-- > 1;) {
        range_swap(p, 0, end);
        sift(p, 0, end);
    }
}

/* The overlap of ranges a and b (their `what`), named as the Java reference names it. */
static lkmpre_status overlap(const lk_elf *e, uint64_t a, uint64_t b, lkmpre_error *err) {
    static const char *const headers[] = {"the ELF header", "the section header table"};
    lk_shdr s, t;
    if (a >= 2)
        lk_elf_section(e, (uint32_t)(a - 2), &s);
    if (b >= 2)
        lk_elf_section(e, (uint32_t)(b - 2), &t);
    if (a >= 2 && b >= 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u (%s) overlaps section %u (%s)", a - 2,
                       lk_elf_section_name(e, &s), b - 2, lk_elf_section_name(e, &t));
    if (a >= 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u (%s) overlaps %s", a - 2, lk_elf_section_name(e, &s),
                       headers[b]);
    if (b >= 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "%s overlaps section %u (%s)", headers[a], b - 2,
                       lk_elf_section_name(e, &t));
    return lk_fail(err, LKMPRE_ERR_FORMAT, "%s overlaps %s", headers[a], headers[b]);
}

lkmpre_status lk_elf_open(lk_elf *e, const uint8_t *data, size_t len, uint64_t *scratch, size_t scratch_words,
                          lkmpre_error *err) {
    lk_zero(e, sizeof *e);
    e->data = data;
    e->len = len;
    if (len < 16 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F')
        return lk_fail(err, LKMPRE_ERR_FORMAT, "not an ELF file (bad magic)");
    if (data[4] != 1 && data[4] != 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF class %d", (int64_t)(int8_t)data[4]);
    if (data[5] != 1 && data[5] != 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF data encoding %d", (int64_t)(int8_t)data[5]);
    if (data[6] != 1)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF version %d", (int64_t)(int8_t)data[6]);
    const lk_layout *l = e->l = lk_layout_of(data[4]);
    e->is64 = l->word == 8;
    e->msb = data[5] == 2;
    e->ehsize = l->ehsize;
    if (!lk_in(e, 0, e->ehsize))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "ELF header at offset 0 (size %u) lies outside the file (%u bytes)",
                       (uint64_t)e->ehsize, (uint64_t)len);
    uint64_t v;
    (void)lk_get(e, l->e_type, 2, &v), e->type = (uint32_t)v;
    (void)lk_get(e, l->e_machine, 2, &v), e->machine = (uint32_t)v;
    (void)lk_get(e, l->e_shoff, l->word, &e->shoff);
    (void)lk_get(e, l->e_shentsize, 2, &v), e->shentsize = (uint32_t)v;
    (void)lk_get(e, l->e_shnum, 2, &v), e->shnum = (uint32_t)v;
    (void)lk_get(e, l->e_shstrndx, 2, &v), e->shstrndx = (uint32_t)v;
    if (e->shnum == 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, e->shoff ? "extended section numbering is not supported"
                                                        : "no section header table");
    if (e->shentsize != l->shentsize)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header size %u, expected %u", (uint64_t)e->shentsize,
                       (uint64_t)l->shentsize);
    if ((int64_t)e->shoff < (int64_t)e->ehsize) /* signed, as Java's long: an offset from 2^63 on is below */
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header table at offset %d overlaps the ELF header",
                       (int64_t)e->shoff);
    if (!lk_in(e, e->shoff, (uint64_t)e->shnum * e->shentsize))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header table at offset %u (size %u) lies outside the file (%u bytes)",
                       e->shoff, (uint64_t)e->shnum * e->shentsize, (uint64_t)len);
    if (e->shstrndx == 0 || e->shstrndx >= e->shnum)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table index %u out of range (%u sections)",
                       (uint64_t)e->shstrndx, (uint64_t)e->shnum);
    lk_elf_section(e, e->shstrndx, &e->shstrtab);
    if (e->shstrtab.type != SHT_STRTAB)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table (section %u) is not SHT_STRTAB", (uint64_t)e->shstrndx);
    if (!lk_in(e, e->shstrtab.offset, e->shstrtab.size))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table at offset %d (size %d) lies outside the file (%u bytes)",
                       (int64_t)e->shstrtab.offset, (int64_t)e->shstrtab.size, (uint64_t)len);
    if (scratch_words < RANGE * ((size_t)e->shnum + 2))
        return lk_fail(err, LKMPRE_ERR_ARG, "scratch too small for %u sections", (uint64_t)e->shnum);
    size_t n = 0;
    uint64_t *r = scratch;
    r[0] = 0, r[1] = e->ehsize, r[2] = 0, r += RANGE, n++;
    r[0] = e->shoff, r[1] = e->shoff + (uint64_t)e->shnum * e->shentsize, r[2] = 1, r += RANGE, n++;
    const uint8_t *names = data + e->shstrtab.offset;
    /* A table that ends in NUL terminates every name in it: then no name needs the walk. */
    int terminated = e->shstrtab.size && names[e->shstrtab.size - 1] == 0;
    for (uint32_t i = 0; i < e->shnum; i++) {
        lk_shdr s;
        lk_elf_section(e, i, &s);
        if (s.name >= e->shstrtab.size)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u name offset %u outside the section name table",
                           (uint64_t)i, (uint64_t)s.name);
        if (!terminated &&
            lk_strnlen((const char *)names + s.name, e->shstrtab.size - s.name) == e->shstrtab.size - s.name)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "name of section %u at offset %d is not NUL-terminated", (uint64_t)i,
                           (int64_t)(e->shstrtab.offset + s.name));
        if (s.type != SHT_NOBITS && !lk_in(e, s.offset, s.size))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u (%s) at offset %d (size %d) lies outside the file (%u bytes)",
                           (uint64_t)i, lk_elf_section_name(e, &s), (int64_t)s.offset, (int64_t)s.size, (uint64_t)len);
        if (s.type != SHT_NOBITS && s.size > 0)
            r[0] = s.offset, r[1] = s.offset + s.size, r[2] = (uint64_t)i + 2, r += RANGE, n++;
    }
    sort_ranges(scratch, n);
    const uint64_t *prev = scratch;
    for (size_t i = 1; i < n; i++) {
        const uint64_t *cur = scratch + RANGE * i;
        if (cur[0] < prev[1])
            return overlap(e, prev[2], cur[2], err);
        if (cur[1] > prev[1])
            prev = cur;
    }
    return LKMPRE_OK;
}
