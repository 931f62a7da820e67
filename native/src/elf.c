/* The bounds-checked ELF view: every read goes through lk_get, which knows the class width and
   byte order and checks the range with overflow-safe arithmetic (kmod's elf_get_uint). */
#include "internal.h"

unsigned lk_word(const lk_elf *e) {
    return e->is64 ? 8 : 4;
}

/* Header field offsets: {ELF32, ELF64}. */
#define FIELD(e, f32, f64) ((e)->is64 ? (f64) : (f32))

size_t lk_elf_scratch_words(const uint8_t *data, size_t len) {
    if (len < 64 || data[4] < 1 || data[4] > 2)
        return 4;
    int is64 = data[4] == 2, msb = data[5] == 2;
    uint64_t shnum = lk_load(data + (is64 ? 60 : 48), 2, msb);
    return 2 * (shnum + 2);
}

void lk_elf_section(const lk_elf *e, uint32_t i, lk_shdr *s) {
    const uint8_t *h = e->data + e->shoff + (uint64_t)i * e->shentsize;
    int m = e->msb;
    s->index = i;
    s->name = (uint32_t)lk_load(h, 4, m);
    s->type = (uint32_t)lk_load(h + 4, 4, m);
    if (e->is64) {
        s->flags = lk_load(h + 8, 8, m);
        s->addr = lk_load(h + 16, 8, m);
        s->offset = lk_load(h + 24, 8, m);
        s->size = lk_load(h + 32, 8, m);
        s->link = (uint32_t)lk_load(h + 40, 4, m);
        s->info = (uint32_t)lk_load(h + 44, 4, m);
        s->addralign = lk_load(h + 48, 8, m);
        s->entsize = lk_load(h + 56, 8, m);
    } else {
        s->flags = lk_load(h + 8, 4, m);
        s->addr = lk_load(h + 12, 4, m);
        s->offset = lk_load(h + 16, 4, m);
        s->size = lk_load(h + 20, 4, m);
        s->link = (uint32_t)lk_load(h + 24, 4, m);
        s->info = (uint32_t)lk_load(h + 28, 4, m);
        s->addralign = lk_load(h + 32, 4, m);
        s->entsize = lk_load(h + 36, 4, m);
    }
}

const char *lk_elf_section_name(const lk_elf *e, const lk_shdr *s) {
    return (const char *)e->data + e->shstrtab.offset + s->name;
}

int lk_elf_find(const lk_elf *e, const char *name, lk_shdr *s) {
    size_t n = lk_strnlen(name, 256) + 1;
    for (uint32_t i = 0; i < e->shnum; i++) {
        uint32_t at = lk_elf_section_u32(e, i, 0);
        if (at <= e->shstrtab.size - n && lk_bytes_equal(e->data + e->shstrtab.offset + at, name, n)) {
            lk_elf_section(e, i, s);
            return 0;
        }
    }
    return -1;
}

/* Heap sort of (start, end) pairs by start, then end: no allocation, O(n log n). */
static int pair_less(const uint64_t *p, size_t a, size_t b) {
    return p[2 * a] < p[2 * b] || (p[2 * a] == p[2 * b] && p[2 * a + 1] < p[2 * b + 1]);
}

static void pair_swap(uint64_t *p, size_t a, size_t b) {
    uint64_t s = p[2 * a], t = p[2 * a + 1];
    p[2 * a] = p[2 * b];
    p[2 * a + 1] = p[2 * b + 1];
    p[2 * b] = s;
    p[2 * b + 1] = t;
}

static void sift(uint64_t *p, size_t root, size_t n) {
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && pair_less(p, child, child + 1))
            child++;
        if (!pair_less(p, root, child))
            return;
        pair_swap(p, root, child);
    }
}

static void sort_pairs(uint64_t *p, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift(p, i, n);
    for (size_t end = n; end-- > 1;) {
        pair_swap(p, 0, end);
        sift(p, 0, end);
    }
}

lkmpre_status lk_elf_open(lk_elf *e, const uint8_t *data, size_t len, uint64_t *scratch, size_t scratch_words,
                          lkmpre_error *err) {
    lk_zero(e, sizeof *e);
    e->data = data;
    e->len = len;
    if (len < 16 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F')
        return lk_fail(err, LKMPRE_ERR_FORMAT, "not an ELF file (bad magic)");
    if (data[4] != 1 && data[4] != 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF class %u", (uint64_t)data[4]);
    if (data[5] != 1 && data[5] != 2)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF data encoding %u", (uint64_t)data[5]);
    if (data[6] != 1)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "unknown ELF version %u", (uint64_t)data[6]);
    e->is64 = data[4] == 2;
    e->msb = data[5] == 2;
    e->ehsize = e->is64 ? 64 : 52;
    if (!lk_in(e, 0, e->ehsize))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "ELF header lies outside the file");
    uint64_t v;
    (void)lk_get(e, 16, 2, &v), e->type = (uint32_t)v;
    (void)lk_get(e, 18, 2, &v), e->machine = (uint32_t)v;
    (void)lk_get(e, FIELD(e, 32, 40), lk_word(e), &e->shoff);
    (void)lk_get(e, FIELD(e, 46, 58), 2, &v), e->shentsize = (uint32_t)v;
    (void)lk_get(e, FIELD(e, 48, 60), 2, &v), e->shnum = (uint32_t)v;
    (void)lk_get(e, FIELD(e, 50, 62), 2, &v), e->shstrndx = (uint32_t)v;
    if (e->shnum == 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, e->shoff ? "extended section numbering is not supported"
                                                        : "no section header table");
    if (e->shentsize != (e->is64 ? 64u : 40u))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header size %u", (uint64_t)e->shentsize);
    if (e->shoff < e->ehsize)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header table overlaps the ELF header");
    if (!lk_in(e, e->shoff, (uint64_t)e->shnum * e->shentsize))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section header table lies outside the file");
    if (e->shstrndx == 0 || e->shstrndx >= e->shnum)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table index %u out of range", (uint64_t)e->shstrndx);
    lk_elf_section(e, e->shstrndx, &e->shstrtab);
    if (e->shstrtab.type != SHT_STRTAB)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table is not SHT_STRTAB");
    if (!lk_in(e, e->shstrtab.offset, e->shstrtab.size))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "section name table lies outside the file");
    if (scratch_words < 2 * ((size_t)e->shnum + 2))
        return lk_fail(err, LKMPRE_ERR_ARG, "scratch too small for %u sections", (uint64_t)e->shnum);
    size_t n = 0;
    scratch[2 * n] = 0, scratch[2 * n + 1] = e->ehsize, n++;
    scratch[2 * n] = e->shoff, scratch[2 * n + 1] = e->shoff + (uint64_t)e->shnum * e->shentsize, n++;
    const uint8_t *names = data + e->shstrtab.offset;
    /* A table that ends in NUL terminates every name in it: then no name needs the walk. */
    int terminated = e->shstrtab.size && names[e->shstrtab.size - 1] == 0;
    for (uint32_t i = 0; i < e->shnum; i++) {
        lk_shdr s;
        lk_elf_section(e, i, &s);
        if (s.name >= e->shstrtab.size)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u name offset outside the section name table", (uint64_t)i);
        if (!terminated &&
            lk_strnlen((const char *)names + s.name, e->shstrtab.size - s.name) == e->shstrtab.size - s.name)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "name of section %u is not NUL-terminated", (uint64_t)i);
        if (s.type != SHT_NOBITS && !lk_in(e, s.offset, s.size))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "section %u lies outside the file", (uint64_t)i);
        if (s.type != SHT_NOBITS && s.size > 0) {
            scratch[2 * n] = s.offset, scratch[2 * n + 1] = s.offset + s.size, n++;
        }
    }
    sort_pairs(scratch, n);
    uint64_t end = scratch[1];
    for (size_t i = 1; i < n; i++) {
        if (scratch[2 * i] < end)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "sections overlap at offset %u", scratch[2 * i]);
        if (scratch[2 * i + 1] > end)
            end = scratch[2 * i + 1];
    }
    return LKMPRE_OK;
}
