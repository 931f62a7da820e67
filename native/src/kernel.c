/* Reads vmlinux's export table (__ksymtab, __ksymtab_gpl, __ksymtab_strings, __kcrctab*) as
   the boot code leaves it (dynamic relocations applied), checks every address against the
   kernel's allocated sections, reads its identity, and writes the index. Mirrors org.lkmpre.kernel.Vmlinux decision for
   decision, so that both write the same index bytes. */
#include "index.h"

enum layout { PREL32, ABS_NS, ABS };

static unsigned entry_size(enum layout l, unsigned word) {
    return l == PREL32 ? 12 : l == ABS_NS ? 3 * word : 2 * word;
}

/* An export table and its image: a copy in scratch, to which the boot code's relocations are
   applied (Java: SectionImage). */
typedef struct table {
    int present;
    lk_shdr s;
    uint8_t *img;
} table;

/* Field f (0 value, 1 name, 2 namespace) of entry i as an address. */
static uint64_t pointer(const lk_elf *e, const table *t, uint64_t i, enum layout l, unsigned f) {
    unsigned fsize = l == PREL32 ? 4 : lk_word(e);
    uint64_t rel = i * entry_size(l, lk_word(e)) + (uint64_t)f * fsize;
    uint64_t at = t->s.addr + rel;
    uint64_t v = lk_load(t->img + rel, fsize, e->msb); /* in bounds: i < count */
    if (l == PREL32) {
        int32_t off = (int32_t)(uint32_t)v;
        if (off == 0 && f == 2)
            return 0;
        uint64_t p = at + (uint64_t)(int64_t)off;
        return e->is64 ? p : p & 0xffffffffu;
    }
    return v;
}

static int fits(const lk_elf *e, const table *t, const lk_shdr *strings, enum layout l) {
    if (!t->present)
        return 1;
    unsigned size = entry_size(l, lk_word(e));
    if (t->s.size % size != 0)
        return 0;
    for (uint64_t i = 0; i < t->s.size / size; i++)
        if (pointer(e, t, i, l, 1) - strings->addr >= strings->size)
            return 0;
    return 1;
}

/* A NUL-terminated string at run-time address a inside strings. */
static lkmpre_status string_at(const lk_elf *e, const lk_shdr *strings, uint64_t a, const uint8_t **s, uint32_t *len,
                               lkmpre_error *err) {
    if (strings->type == SHT_NOBITS || strings->size == 0 || a - strings->addr >= strings->size)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "string address 0x%x is outside __ksymtab_strings", a);
    uint64_t off = strings->offset + (a - strings->addr), room = strings->offset + strings->size - off;
    size_t n = lk_strnlen((const char *)e->data + off, room);
    if (n == room)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "string at 0x%x is not NUL-terminated", a);
    *s = e->data + off;
    *len = (uint32_t)n;
    return LKMPRE_OK;
}

static lkmpre_status read_table(const lk_elf *e, const table *t, const table *crcs, const lk_shdr *strings,
                                enum layout l, uint32_t flags, lk_export *out, uint32_t *n, lkmpre_error *err) {
    if (!t->present)
        return LKMPRE_OK;
    uint64_t count = t->s.size / entry_size(l, lk_word(e));
    uint64_t crc_size = 0;
    if (crcs->present) {
        /* Since 4.10 CRCs are 32-bit; older 64-bit kernels stored unsigned long. */
        crc_size = count == 0 ? 4 : crcs->s.size / count;
        if ((crc_size != 4 && crc_size != lk_word(e)) || crc_size * count != crcs->s.size)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "%s does not match %s", lk_elf_section_name(e, &crcs->s),
                           lk_elf_section_name(e, &t->s));
    }
    for (uint64_t i = 0; i < count; i++) {
        lk_export *x = &out[(*n)++];
        lk_zero(x, sizeof *x);
        lkmpre_status st = string_at(e, strings, pointer(e, t, i, l, 1), &x->name, &x->name_len, err);
        if (st)
            return st;
        x->address = pointer(e, t, i, l, 0);
        if (l != ABS) {
            uint64_t ns = pointer(e, t, i, l, 2);
            if (ns && (st = string_at(e, strings, ns, &x->ns, &x->ns_len, err)))
                return st;
        }
        x->flags = flags;
        if (crc_size) {
            x->crc = (uint32_t)lk_load(crcs->img + i * crc_size, (unsigned)crc_size, e->msb);
            x->flags |= LKMPRE_EXPORT_CRC;
        }
    }
    return LKMPRE_OK;
}

/* ---- the boot code's relocations (Java: BootRelocations) ---- */

#define SHT_RELA 4u
#define SHT_REL 9u
#define SHT_DYNSYM 11u

enum reloc_kind { R_NONE, R_RELATIVE, R_ABSOLUTE, R_UNKNOWN };

/* A machine's RELATIVE type and its class-width absolute types (plain and GLOB_DAT). */
static enum reloc_kind reloc_kind(uint32_t machine, int is64, uint64_t type) {
    uint64_t relative, absolute, glob_dat;
    switch (machine) {
    case 3: relative = 8, absolute = 1, glob_dat = 6; break;                   /* EM_386 */
    case 20: relative = 22, absolute = 1, glob_dat = 20; break;                /* EM_PPC */
    case 21: relative = 22, absolute = 38, glob_dat = 20; break;               /* EM_PPC64 */
    case 22: relative = 12, absolute = is64 ? 22 : 4, glob_dat = 10; break;    /* EM_S390 */
    case 40: relative = 23, absolute = 2, glob_dat = 21; break;                /* EM_ARM */
    case 42: relative = 165, absolute = 1, glob_dat = 163; break;              /* EM_SH */
    case 62: relative = 8, absolute = 1, glob_dat = 6; break;                  /* EM_X86_64 */
    case 183: relative = 1027, absolute = 257, glob_dat = 1025; break;         /* EM_AARCH64 */
    default: return type == 0 ? R_NONE : R_UNKNOWN;
    }
    return type == 0 ? R_NONE
           : type == relative ? R_RELATIVE
           : type == absolute || type == glob_dat ? R_ABSOLUTE
                                                  : R_UNKNOWN;
}

/* The table whose bytes [at, at + size) touch, or NULL. */
static table *touched(table *const *tables, unsigned n, uint64_t at, unsigned size) {
    for (unsigned k = 0; k < n; k++) {
        const lk_shdr *s = &tables[k]->s;
        if (tables[k]->present && at < s->addr + s->size && at + size > s->addr)
            return tables[k];
    }
    return 0;
}

/* The value a defined symbol adds; an undefined one adds nothing (s390's handle_relocs). */
static lkmpre_status symbol_value(const lk_elf *e, const lk_shdr *rel, uint64_t sym, uint64_t at, const char *in,
                                  uint64_t *value, lkmpre_error *err) {
    const lk_layout *l = e->l;
    unsigned entsize = l->sym_entsize;
    lk_shdr symtab = {0};
    if (rel->link > 0 && rel->link < e->shnum)
        lk_elf_section(e, rel->link, &symtab);
    if ((symtab.type != SHT_DYNSYM && symtab.type != SHT_SYMTAB) || symtab.entsize != entsize || symtab.size == 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "relocation section %s links to section %u, which is not a symbol table",
                       lk_elf_section_name(e, rel), (uint64_t)rel->link);
    if (sym >= symtab.size / entsize)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "dynamic relocation at 0x%x in %s names symbol %u, which its symbol table "
                       "does not have", at, in, sym);
    uint64_t off = symtab.offset + sym * entsize, shndx = 0;
    *value = 0;
    if (lk_get(e, off + l->st_shndx, 2, &shndx) || (shndx != SHN_UNDEF &&
        lk_get(e, off + l->st_value, l->word, value)))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol %u lies outside the file", sym);
    return LKMPRE_OK;
}

/* Applies every allocated relocation section's entries that touch the tables' images, as the
   boot code does with a KASLR offset of zero: RELATIVE gives the addend, an absolute word the
   symbol's value plus the addend (REL: the addend is what the place holds). */
static lkmpre_status boot_relocate(const lk_elf *e, table *const *tables, unsigned n, lkmpre_error *err) {
    const lk_layout *l = e->l;
    unsigned w = l->word, r_offset = l->r_offset, r_info = l->r_info, r_addend = l->r_addend, shift = l->r_sym_shift;
    for (uint32_t k = 0; k < e->shnum; k++) {
        lk_shdr rel;
        lk_elf_section(e, k, &rel);
        if ((rel.type != SHT_RELA && rel.type != SHT_REL) || !(rel.flags & SHF_ALLOC))
            continue;
        int rela = rel.type == SHT_RELA;
        unsigned entsize = rela ? l->rela_entsize : l->rel_entsize;
        if (rel.entsize != entsize || rel.size % entsize != 0) /* in the file: lk_elf_open checked */
            return lk_fail(err, LKMPRE_ERR_FORMAT, "relocation section %s has entry size %u and size %u, expected "
                           "entries of %u bytes", lk_elf_section_name(e, &rel), rel.entsize, rel.size,
                           (uint64_t)entsize);
        for (uint64_t at = rel.offset; at < rel.offset + rel.size; at += entsize) {
            uint64_t place = lk_load(e->data + at + r_offset, w, e->msb), info = lk_load(e->data + at + r_info, w, e->msb);
            table *t = touched(tables, n, place, w);
            if (!t)
                continue;
            uint64_t type = info & ((1ull << shift) - 1), sym = info >> shift;
            enum reloc_kind kind = reloc_kind(e->machine, e->is64, type);
            const char *in = lk_elf_section_name(e, &t->s);
            if (kind == R_NONE)
                continue;
            if (kind == R_UNKNOWN)
                return lk_fail(err, LKMPRE_ERR_UNSUPPORTED, "dynamic relocation type %u at 0x%x in %s is not one lkmpre "
                               "knows for e_machine %u: it cannot tell the address the kernel would use",
                               type, place, in, (uint64_t)e->machine);
            if (place - t->s.addr >= t->s.size || w > t->s.size - (place - t->s.addr))
                return lk_fail(err, LKMPRE_ERR_FORMAT, "dynamic relocation at 0x%x in %s runs past the section's end",
                               place, in);
            uint8_t *p = t->img + (place - t->s.addr);
            uint64_t value = rela ? lk_load(e->data + at + r_addend, w, e->msb) : lk_load(p, w, e->msb), add = 0;
            lkmpre_status st;
            if (kind == R_ABSOLUTE && sym && (st = symbol_value(e, &rel, sym, place, in, &add, err)))
                return st;
            lk_store(p, w, e->msb, value + add);
        }
    }
    return LKMPRE_OK;
}

/* ---- the address guard (Java: AddressGuard) ---- */

/* More failures than this refuse the kernel: a handful can be odd exports, more cannot. */
#define MAX_OUTSIDE 8u

static int is_export_table(const char *name) {
    return lk_strnlen(name, 9) == 9 && (lk_bytes_equal(name, "__ksymtab", 9) || lk_bytes_equal(name, "__kcrctab", 9));
}

static int inside_kernel(const lk_elf *e, uint64_t address) {
    for (uint32_t k = 0; k < e->shnum; k++) {
        lk_shdr s;
        lk_elf_section(e, k, &s);
        if ((s.flags & SHF_ALLOC) && s.size > 0 && address - s.addr < s.size &&
            !is_export_table(lk_elf_section_name(e, &s)))
            return 1;
    }
    return 0;
}

/* Marks the exports whose address lies outside every allocated section (never inside the export
   tables, where a zeroed PREL32 entry points; address 0 for one export at most: a per-CPU section
   linked at 0 holds one variable there, an unapplied relocation leaves many exports at 0);
   refuses the kernel when more than a handful fail. */
static lkmpre_status guard(const lk_elf *e, lk_export *x, uint32_t n, lkmpre_error *err) {
    uint32_t outside = 0, first = 0, zeros = 0;
    for (uint32_t i = 0; i < n; i++)
        zeros += x[i].address == 0;
    for (uint32_t i = 0; i < n; i++) {
        if (inside_kernel(e, x[i].address) && !(zeros > 1 && x[i].address == 0))
            continue;
        first = outside++ ? first : i;
        x[i].flags |= LKMPRE_EXPORT_OUTSIDE_KERNEL;
    }
    if (outside > MAX_OUTSIDE)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "%u of %u exports have addresses outside every allocated section "
                       "(first: %s at 0x%x): this file does not hold the addresses the kernel uses",
                       (uint64_t)outside, (uint64_t)n, (const char *)x[first].name, x[first].address);
    return LKMPRE_OK;
}

static void find_banner(const lk_elf *e, lk_identity *id) {
    static const char want[] = "Linux version ";
    const size_t wn = sizeof want - 1;
    lk_shdr ro;
    uint64_t from = 0, to = e->len;
    if (lk_elf_find(e, ".rodata", &ro) == 0 && ro.type != SHT_NOBITS && ro.size > 0)
        from = ro.offset, to = ro.offset + ro.size;
    for (uint64_t i = from; i + wn <= to; i++) {
        if (e->data[i] == 'L' && lk_bytes_equal(e->data + i, want, wn)) {
            uint64_t end = i;
            while (end < to && e->data[end] != 0 && e->data[end] != '\n')
                end++;
            id->banner = e->data + i;
            id->banner_len = end - i;
            return;
        }
    }
}

static lkmpre_status find_build_id(const lk_elf *e, lk_identity *id, lkmpre_error *err) {
    for (uint32_t k = 0; k < e->shnum; k++) {
        lk_shdr s;
        lk_elf_section(e, k, &s);
        if (s.type != SHT_NOTE || s.size == 0)
            continue;
        uint64_t at = s.offset, end = s.offset + s.size;
        while (end - at >= 12) {
            uint64_t namesz, descsz, type;
            (void)lk_get(e, at, 4, &namesz);
            (void)lk_get(e, at + 4, 4, &descsz);
            (void)lk_get(e, at + 8, 4, &type);
            uint64_t name = at + 12, desc = name + ((namesz + 3) & ~3ull), next = desc + ((descsz + 3) & ~3ull);
            if (namesz > end || descsz > end || next > end)
                break;
            if (type == 3 && namesz == 4) {
                size_t n = lk_strnlen((const char *)e->data + name, 4);
                if (n == 4)
                    return lk_fail(err, LKMPRE_ERR_FORMAT, "note name at offset %u is not NUL-terminated", name);
                if (n == 3 && lk_bytes_equal(e->data + name, "GNU", 3)) {
                    id->build_id = e->data + desc;
                    id->build_id_len = descsz;
                    return LKMPRE_OK;
                }
            }
            at = next;
        }
    }
    return LKMPRE_OK;
}

lkmpre_status lkmpre_index_build(const uint8_t *vmlinux, size_t vmlinux_len, uint32_t config_flags, uint8_t *out,
                                 size_t out_cap, size_t *out_needed, void *scratch, size_t scratch_cap,
                                 size_t *scratch_needed, lkmpre_error *err) {
    if (!vmlinux || !out_needed || !scratch_needed)
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_index_build");
    *out_needed = 0;
    *scratch_needed = 0;
    /* Scratch: first the ELF overlap check; then the tables' images, the exports and the writer's
       three u32 arrays. */
    size_t elf_words = lk_elf_scratch_words(vmlinux, vmlinux_len);
    if (!scratch || scratch_cap < elf_words * 8 || ((uintptr_t)scratch & 7)) {
        *scratch_needed = elf_words * 8;
        return lk_fail(err, LKMPRE_ERR_SPACE, "scratch too small");
    }
    lk_elf e;
    lkmpre_status st = lk_elf_open(&e, vmlinux, vmlinux_len, scratch, scratch_cap / 8, err);
    if (st)
        return st;
    if (e.type == ET_REL)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "is a relocatable object (a module?), not a kernel image");
    lk_shdr strings;
    if (lk_elf_find(&e, "__ksymtab_strings", &strings))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "has no __ksymtab_strings section: not a kernel that exports symbols");
    table plain, gpl, crc, crc_gpl;
    table *tables[] = {&plain, &gpl, &crc, &crc_gpl};
    static const char *const names[] = {"__ksymtab", "__ksymtab_gpl", "__kcrctab", "__kcrctab_gpl"};
    size_t images = 0;
    for (unsigned k = 0; k < 4; k++) {
        table *t = tables[k];
        t->present = lk_elf_find(&e, names[k], &t->s) == 0;
        t->img = 0;
        if (t->present && t->s.type == SHT_NOBITS && t->s.size != 0)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "%s occupies no file bytes", names[k]);
        if (t->present)
            images += (size_t)((t->s.size + 7) & ~(uint64_t)7);
    }
    if (!plain.present && !gpl.present)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "has neither __ksymtab nor __ksymtab_gpl");
    if (scratch_cap < images) {
        *scratch_needed = images > elf_words * 8 ? images : elf_words * 8;
        return lk_fail(err, LKMPRE_ERR_SPACE, "scratch too small");
    }
    uint8_t *img = scratch;
    for (unsigned k = 0; k < 4; k++) {
        if (!tables[k]->present)
            continue;
        tables[k]->img = img;
        lk_copy(img, e.data + tables[k]->s.offset, (size_t)tables[k]->s.size); /* in bounds: lk_elf_open checked */
        img += (tables[k]->s.size + 7) & ~(uint64_t)7;
    }
    if ((st = boot_relocate(&e, tables, 4, err)))
        return st;
    /* 64-bit kernels with PREL32 relocations first; 32-bit arm and sh4 and s390x use absolute pointers. */
    static const enum layout order64[] = {PREL32, ABS_NS, ABS}, order32[] = {ABS_NS, ABS, PREL32};
    const enum layout *order = e.is64 ? order64 : order32;
    int chosen = -1;
    for (int i = 0; i < 3 && chosen < 0; i++)
        if (fits(&e, &plain, &strings, order[i]) && fits(&e, &gpl, &strings, order[i]))
            chosen = order[i];
    if (chosen < 0)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "__ksymtab entries match no known struct kernel_symbol layout");
    enum layout l = (enum layout)chosen;
    uint64_t count = (plain.present ? plain.s.size / entry_size(l, lk_word(&e)) : 0) +
                     (gpl.present ? gpl.s.size / entry_size(l, lk_word(&e)) : 0);
    if (count > 0xffffff)
        return lk_fail(err, LKMPRE_ERR_UNSUPPORTED, "%u exports is more than an index holds", count);
    uint32_t n = (uint32_t)count;
    size_t need = images + (size_t)n * sizeof(lk_export) + lk_index_scratch_size(n) * 4;
    if (need < elf_words * 8)
        need = elf_words * 8;
    if (scratch_cap < need) {
        *scratch_needed = need;
        return lk_fail(err, LKMPRE_ERR_SPACE, "scratch too small");
    }
    lk_export *exports = (lk_export *)(void *)((uint8_t *)scratch + images);
    uint32_t got = 0;
    if ((st = read_table(&e, &plain, &crc, &strings, l, 0, exports, &got, err)) ||
        (st = read_table(&e, &gpl, &crc_gpl, &strings, l, LKMPRE_EXPORT_GPL, exports, &got, err)) ||
        (st = guard(&e, exports, n, err)))
        return st;
    lk_identity id = {0, 0, 0, 0};
    find_banner(&e, &id);
    if ((st = find_build_id(&e, &id, err)))
        return st;
    uint32_t flags = (config_flags & (LKMPRE_INDEX_KASLR | LKMPRE_INDEX_CONFIG)) | (e.is64 ? LKMPRE_INDEX_ELF64 : 0);
    for (uint32_t i = 0; i < n; i++)
        if (exports[i].flags & LKMPRE_EXPORT_CRC)
            flags |= LKMPRE_INDEX_CRCS;
    lk_geometry g;
    lk_index_geometry(n, e.is64, lk_index_strings_size(exports, n, &id), &g);
    *out_needed = g.total;
    *scratch_needed = need;
    if (!out || out_cap < g.total)
        return lk_fail(err, LKMPRE_ERR_SPACE, "index needs %u bytes", (uint64_t)g.total);
    lk_index_write(exports, n, &id, flags, e.machine, &g, out, (uint32_t *)(exports + n));
    return LKMPRE_OK;
}
