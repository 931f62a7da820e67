/* The undo record's codec and the in-place protocol's checks (undo.h). */
#include "undo.h"

static const char MAGIC[8] = {'L', 'K', 'M', 'P', 'U', 'N', 'D', 'O'};
#define VERSION 1u

void lk_undo_write(uint8_t *rec, const lk_undo *u) {
    lk_zero(rec, lk_undo_size(u->count));
    lk_copy(rec, MAGIC, sizeof MAGIC);
    lk_store(rec + 8, 4, 0, VERSION);
    lk_store(rec + 12, 4, 0, u->count);
    lk_store(rec + 16, 8, 0, u->image_len);
    lk_store(rec + 24, 8, 0, u->shoff);
    lk_store(rec + 32, 4, 0, u->shnum);
}

void lk_undo_write_entry(uint8_t *rec, uint32_t k, const lk_undo_entry *x) {
    uint8_t *p = rec + lk_undo_size(k);
    lk_store(p, 4, 0, x->symbol);
    lk_store(p + 4, 2, 0, x->shndx);
    lk_store(p + 8, 8, 0, x->value);
}

void lk_undo_entry_at(const lk_undo *u, uint32_t k, lk_undo_entry *x) {
    const uint8_t *p = u->entries + LK_UNDO_ENTRY * (size_t)k;
    x->symbol = (uint32_t)lk_load(p, 4, 0);
    x->shndx = (uint16_t)lk_load(p + 4, 2, 0);
    x->value = lk_load(p + 8, 8, 0);
}

int lk_undo_last(const lk_elf *e, lk_undo *u) {
    lk_zero(u, sizeof *u);
    lk_shdr s;
    if (e->len < e->shentsize || lk_elf_section_at(e, e->len - e->shentsize, &s) || s.type != SHT_PROGBITS ||
        s.size < LK_UNDO_HEADER || !lk_in(e, s.offset, s.size) || !lk_bytes_equal(e->data + s.offset, MAGIC, 8))
        return -1;
    const uint8_t *r = e->data + s.offset;
    if (lk_load(r + 8, 4, 0) != VERSION)
        return -1;
    u->count = (uint32_t)lk_load(r + 12, 4, 0);
    u->image_len = lk_load(r + 16, 8, 0);
    u->shoff = lk_load(r + 24, 8, 0);
    u->shnum = (uint32_t)lk_load(r + 32, 4, 0);
    u->entries = r + LK_UNDO_HEADER;
    /* A record after the image it restores, and that image at least an ELF header long. */
    return (uint64_t)u->count * LK_UNDO_ENTRY <= s.size - LK_UNDO_HEADER && u->image_len >= e->ehsize &&
                   u->image_len <= s.offset
               ? 0
               : -1;
}

size_t lk_undo_stale_tail(const lk_elf *e) {
    lk_undo u;
    return !lk_undo_last(e, &u) && u.shoff == e->shoff && u.shnum == e->shnum ? (size_t)u.image_len : 0;
}

int lk_undo_interrupted(const lk_elf *e, lk_undo *u, lk_shdr *symtab) {
    if (lk_undo_last(e, u) || lk_elf_find_type(e, SHT_SYMTAB, symtab))
        return 0;
    unsigned entsize = e->l->sym_entsize, shndx = e->l->st_shndx;
    int partial = 0;
    for (uint32_t k = 0; k < u->count; k++) {
        uint64_t i = lk_load(u->entries + LK_UNDO_ENTRY * (size_t)k, 4, 0);
        if (i * entsize >= symtab->size || symtab->offset + (i + 1) * entsize > u->image_len)
            return 0;
        partial |= lk_load(e->data + symtab->offset + i * entsize + shndx, 2, e->msb) != SHN_ABS;
    }
    return partial;
}

void lk_undo_restore(const lk_elf *e, const lk_undo *u, const lk_shdr *symtab, uint8_t *out) {
    const lk_layout *l = e->l;
    lk_copy(out, e->data, (size_t)u->image_len);
    lk_store(out + l->e_shoff, l->word, e->msb, u->shoff);
    lk_store(out + l->e_shnum, 2, e->msb, u->shnum);
    for (uint32_t k = 0; k < u->count; k++) {
        lk_undo_entry x;
        lk_undo_entry_at(u, k, &x);
        uint8_t *sym = out + symtab->offset + (uint64_t)x.symbol * l->sym_entsize;
        lk_store(sym + l->st_shndx, 2, e->msb, x.shndx);
        lk_store(sym + l->st_value, l->word, e->msb, x.value);
    }
}
