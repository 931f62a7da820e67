/* Reads vmlinux's export table (__ksymtab, __ksymtab_gpl, __ksymtab_strings, __kcrctab*)
   and its identity, and writes the index. Mirrors org.lkmpre.kernel.Vmlinux decision for
   decision, so that both write the same index bytes. */
#include "index.h"

enum layout { PREL32, ABS_NS, ABS };

static unsigned entry_size(enum layout l, unsigned word) {
    return l == PREL32 ? 12 : l == ABS_NS ? 3 * word : 2 * word;
}

typedef struct table {
    int present;
    lk_shdr s;
} table;

/* Field f (0 value, 1 name, 2 namespace) of entry i as an address. */
static uint64_t pointer(const lk_elf *e, const lk_shdr *s, uint64_t i, enum layout l, unsigned f) {
    unsigned fsize = l == PREL32 ? 4 : lk_word(e);
    uint64_t rel = i * entry_size(l, lk_word(e)) + (uint64_t)f * fsize;
    uint64_t at = s->addr + rel, v = 0;
    (void)lk_get(e, s->offset + rel, fsize, &v); /* in bounds: the section is, and i < count */
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
    int file_bytes = t->s.type != SHT_NOBITS && t->s.size > 0;
    if (t->s.size % size != 0 || (!file_bytes && t->s.size != 0))
        return 0;
    for (uint64_t i = 0; i < t->s.size / size; i++)
        if (pointer(e, &t->s, i, l, 1) - strings->addr >= strings->size)
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
        if ((crc_size != 4 && crc_size != lk_word(e)) || crc_size * count != crcs->s.size ||
            !lk_in(e, crcs->s.offset, crcs->s.size))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "%s does not match %s", lk_elf_section_name(e, &crcs->s),
                           lk_elf_section_name(e, &t->s));
    }
    for (uint64_t i = 0; i < count; i++) {
        lk_export *x = &out[(*n)++];
        lk_zero(x, sizeof *x);
        lkmpre_status st = string_at(e, strings, pointer(e, &t->s, i, l, 1), &x->name, &x->name_len, err);
        if (st)
            return st;
        x->address = pointer(e, &t->s, i, l, 0);
        if (l != ABS) {
            uint64_t ns = pointer(e, &t->s, i, l, 2);
            if (ns && (st = string_at(e, strings, ns, &x->ns, &x->ns_len, err)))
                return st;
        }
        x->flags = flags;
        if (crc_size) {
            uint64_t v = 0;
            (void)lk_get(e, crcs->s.offset + i * crc_size, (unsigned)crc_size, &v);
            x->crc = (uint32_t)v;
            x->flags |= LKMPRE_EXPORT_CRC;
        }
    }
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

static void find(const lk_elf *e, const char *name, table *t) {
    t->present = lk_elf_find(e, name, &t->s) == 0;
}

lkmpre_status lkmpre_index_build(const uint8_t *vmlinux, size_t vmlinux_len, uint32_t config_flags, uint8_t *out,
                                 size_t out_cap, size_t *out_needed, void *scratch, size_t scratch_cap,
                                 size_t *scratch_needed, lkmpre_error *err) {
    if (!vmlinux || !out_needed || !scratch_needed)
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_index_build");
    *out_needed = 0;
    *scratch_needed = 0;
    /* Scratch: the ELF overlap check, then exports and the writer's three u32 arrays. */
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
    find(&e, "__ksymtab", &plain);
    find(&e, "__ksymtab_gpl", &gpl);
    find(&e, "__kcrctab", &crc);
    find(&e, "__kcrctab_gpl", &crc_gpl);
    if (!plain.present && !gpl.present)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "has neither __ksymtab nor __ksymtab_gpl");
    /* 64-bit kernels with PREL32 relocations first; 32-bit arm and sh4 use absolute pointers. */
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
    size_t need = (size_t)n * sizeof(lk_export) + lk_index_scratch_size(n) * 4;
    if (need < elf_words * 8)
        need = elf_words * 8;
    if (scratch_cap < need) {
        *scratch_needed = need;
        return lk_fail(err, LKMPRE_ERR_SPACE, "scratch too small");
    }
    lk_export *exports = scratch;
    uint32_t got = 0;
    if ((st = read_table(&e, &plain, &crc, &strings, l, 0, exports, &got, err)) ||
        (st = read_table(&e, &gpl, &crc_gpl, &strings, l, LKMPRE_EXPORT_GPL, exports, &got, err)))
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
