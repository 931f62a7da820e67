/* Preresolves one module: the checks of the kernel's resolve_symbol(), then the patched bytes.
   Mirrors org.lkmpre.preresolve.Preresolver and org.lkmpre.elf.ElfPatch byte for byte. */
#include "index.h"
#include "undo.h"

static const char SIG_MAGIC[] = "~Module signature appended~\n";
#define SIG_MAGIC_LEN 28u
#define SIG_INFO_SIZE 12u
#define MODVERSION_SIZE 64u
static const char MARK[] = ".preresolved";
static const char UNDO[] = LK_UNDO_SECTION;

typedef struct module {
    lk_elf e;
    size_t image_len;
    int signed_;
    lk_shdr symtab, strtab, modinfo, versions;
    int has_modinfo, has_versions;
} module;

/* Finds key in the .modinfo section s: without a value, the first entry's value (in *found);
   with one, whether any entry is key=value. */
static int modinfo_in(const lk_elf *e, const lk_shdr *s, const char *key, const uint8_t *value, size_t value_len,
                      const uint8_t **found, size_t *found_len) {
    const uint8_t *p = e->data + s->offset, *end = p + s->size;
    size_t klen = lk_strnlen(key, 64);
    while (p < end) {
        size_t n = lk_strnlen((const char *)p, (size_t)(end - p));
        if (n > klen && p[klen] == '=' && lk_bytes_equal(p, key, klen)) {
            const uint8_t *v = p + klen + 1;
            size_t vn = n - klen - 1;
            if (!value) {
                *found = v;
                *found_len = vn;
                return 1;
            }
            if (vn == value_len && lk_bytes_equal(v, value, vn))
                return 1;
        }
        p += n + 1;
    }
    return 0;
}

static int modinfo_find(const module *m, const char *key, const uint8_t *value, size_t value_len,
                        const uint8_t **found, size_t *found_len) {
    return m->has_modinfo && modinfo_in(&m->e, &m->modinfo, key, value, value_len, found, found_len);
}

int lk_modinfo_first(const lk_elf *e, const char *key, const uint8_t **value, size_t *len) {
    lk_shdr s;
    *value = 0;
    *len = 0;
    return lk_elf_find(e, ".modinfo", &s) == 0 && s.type != SHT_NOBITS && modinfo_in(e, &s, key, 0, 0, value, len);
}

static int gpl_compatible(const module *m) {
    /* license_is_gpl_compatible() in the kernel; no license means proprietary. */
    static const char *const ok[] = {"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
                                     "Dual MPL/GPL"};
    /* Modules the kernel taints as proprietary whatever license they claim. */
    static const char *const liars[] = {"ndiswrapper", "driverloader", "lve"};
    const uint8_t *v;
    size_t n;
    if (!modinfo_find(m, "license", 0, 0, &v, &n))
        return 0;
    int good = 0;
    for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++)
        good |= n == lk_strnlen(ok[i], 64) && lk_bytes_equal(v, ok[i], n);
    if (good && modinfo_find(m, "name", 0, 0, &v, &n))
        for (unsigned i = 0; i < sizeof liars / sizeof liars[0]; i++)
            if (n == lk_strnlen(liars[i], 64) && lk_bytes_equal(v, liars[i], n))
                return 0;
    return good;
}

/* The first __versions entry for name: 1 and its CRC, or 0. */
static int version_of(const module *m, const uint8_t *name, size_t len, uint64_t *crc) {
    unsigned w = lk_word(&m->e);
    for (uint64_t at = m->versions.offset; at < m->versions.offset + m->versions.size; at += MODVERSION_SIZE) {
        /* name has no NUL and parse() saw every entry's, so this is strnlen(n) == len && equal,
           without the strnlen: the walk runs once per symbol checked, over every entry. */
        const uint8_t *n = m->e.data + at + w;
        if (len < MODVERSION_SIZE - w && n[0] == name[0] && n[len] == 0 && lk_bytes_equal(n, name, len)) {
            *crc = lk_load(m->e.data + at, w, m->e.msb);
            return 1;
        }
    }
    return 0;
}

/* What KernelModule.parse checks, in its order. */
static lkmpre_status parse(module *m, const uint8_t *data, size_t len, uint64_t *scratch, size_t words,
                           lkmpre_error *err) {
    lk_zero(m, sizeof *m);
    m->image_len = len;
    if (len >= SIG_MAGIC_LEN && lk_bytes_equal(data + len - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN)) {
        if (len - SIG_MAGIC_LEN < SIG_INFO_SIZE)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "signature trailer is truncated");
        size_t info = len - SIG_MAGIC_LEN - SIG_INFO_SIZE;
        uint64_t sig_len = lk_load(data + info + 8, 4, 1);
        if (sig_len > info)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "signature length %u exceeds the file", sig_len);
        m->image_len = info - (size_t)sig_len;
        m->signed_ = 1;
    }
    lkmpre_status st = lk_elf_open(&m->e, data, m->image_len, scratch, words, err);
    if (st)
        return st;
    if (m->e.type != ET_REL)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "is not a relocatable object (e_type %u), so not a module",
                       (uint64_t)m->e.type);
    if (lk_elf_find_type(&m->e, SHT_SYMTAB, &m->symtab))
        return lk_fail(err, LKMPRE_ERR_FORMAT, "has no symbol table");
    m->has_modinfo = lk_elf_find(&m->e, ".modinfo", &m->modinfo) == 0 && m->modinfo.type != SHT_NOBITS;
    m->has_versions = lk_elf_find(&m->e, "__versions", &m->versions) == 0;
    if (m->has_versions) {
        if (m->versions.size % MODVERSION_SIZE != 0)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "__versions size %d is not a multiple of 64",
                           (int64_t)m->versions.size);
        /* An empty table has no bytes to lie anywhere: its offset is not checked (nor by Java). */
        if (m->versions.size && !lk_in(&m->e, m->versions.offset, m->versions.size))
            return lk_fail(err, LKMPRE_ERR_FORMAT, "__versions lies outside the file");
        unsigned w = lk_word(&m->e);
        for (uint64_t at = m->versions.offset; at < m->versions.offset + m->versions.size; at += MODVERSION_SIZE)
            if (lk_strnlen((const char *)data + at + w, MODVERSION_SIZE - w) == MODVERSION_SIZE - w)
                return lk_fail(err, LKMPRE_ERR_FORMAT, "string at offset %d is not NUL-terminated", (int64_t)(at + w));
    }
    return LKMPRE_OK;
}

/* Symbol table checks of ElfFile.undefinedSymbols, before any entry is read. */
static lkmpre_status check_symtab(module *m, lkmpre_error *err) {
    unsigned entsize = m->e.l->sym_entsize;
    if (m->symtab.entsize != entsize)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol table entry size %d, expected %u", (int64_t)m->symtab.entsize,
                       (uint64_t)entsize);
    if (m->symtab.size % entsize)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol table size %d is not a multiple of %u", (int64_t)m->symtab.size,
                       (uint64_t)entsize);
    if (m->symtab.link == 0 || m->symtab.link >= m->e.shnum)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol table links to section %d, which does not exist",
                       (int64_t)(int32_t)m->symtab.link);
    lk_elf_section(&m->e, m->symtab.link, &m->strtab);
    if (m->strtab.type != SHT_STRTAB)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol string table (section %u) is not SHT_STRTAB",
                       (uint64_t)m->symtab.link);
    return LKMPRE_OK;
}

/* The next undefined reference at or after *i: 1 with its name, 0 at the end, <0 malformed. */
static int next_undefined(const module *m, uint64_t *i, const uint8_t **name, size_t *len, lkmpre_error *err) {
    unsigned entsize = m->e.l->sym_entsize, st_shndx = m->e.l->st_shndx, st_name = m->e.l->st_name;
    uint64_t count = m->symtab.size / entsize;
    for (; *i < count; (*i)++) {
        /* lk_elf_open checked that the table lies in the image. */
        const uint8_t *sym = m->e.data + m->symtab.offset + *i * entsize;
        uint64_t shndx = lk_load(sym + st_shndx, 2, m->e.msb), off = lk_load(sym + st_name, 4, m->e.msb);
        if (*i == 0 || shndx != SHN_UNDEF || off == 0)
            continue;
        if (off >= m->strtab.size)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "symbol %u name offset %u outside its string table", *i, off);
        const uint8_t *s = m->e.data + m->strtab.offset + off;
        size_t n = lk_strnlen((const char *)s, m->strtab.size - off);
        if (n == m->strtab.size - off)
            return lk_fail(err, LKMPRE_ERR_FORMAT, "name of symbol %u at offset %d is not NUL-terminated", *i,
                           (int64_t)(m->strtab.offset + off));
        if (n == 0)
            continue;
        *name = s;
        *len = n;
        return 1;
    }
    return 0;
}

static uint32_t check(const lkmpre_index *x, const module *m, int gpl, uint32_t e, const uint8_t *name, size_t len,
                      uint64_t *module_crc) {
    uint32_t flags = lk_entry_flags(x, e);
    if (flags & LKMPRE_EXPORT_OUTSIDE_KERNEL)
        return LKMPRE_ADDRESS_OUTSIDE_VMLINUX;
    if ((flags & LKMPRE_EXPORT_GPL) && !gpl)
        return LKMPRE_GPL_ONLY;
    if (flags & LKMPRE_EXPORT_CRC) {
        if (!m->has_versions)
            return LKMPRE_NO_MODVERSIONS;
        if (!version_of(m, name, len, module_crc))
            return LKMPRE_MISSING_VERSION;
        if (*module_crc != lk_entry_crc(x, e))
            return LKMPRE_CRC_MISMATCH;
    }
    const char *ns = lk_entry_namespace(x, e);
    size_t ns_len = lk_strnlen(ns, (size_t)-1);
    if (ns_len && !modinfo_find(m, "import_ns", (const uint8_t *)ns, ns_len, 0, 0))
        return LKMPRE_NAMESPACE_NOT_IMPORTED;
    return LKMPRE_RESOLVED;
}

size_t lk_banner_release(const char *banner, const char **release) {
    static const char prefix[] = "Linux version ";
    size_t n = sizeof prefix - 1;
    if (!banner || lk_strnlen(banner, n) < n || !lk_bytes_equal(banner, prefix, n))
        return 0;
    *release = banner + n;
    size_t len = 0;
    while ((*release)[len] && (*release)[len] != ' ')
        len++;
    return len;
}

/* Whether the module's vermagic names another release than the kernel's banner; a module or
   kernel that does not say is not refused. */
static int other_release(const lkmpre_index *x, const module *m) {
    const char *release;
    size_t rlen = lk_banner_release(lk_index_banner(x), &release);
    const uint8_t *v;
    size_t vlen;
    if (!rlen || !modinfo_find(m, "vermagic", 0, 0, &v, &vlen))
        return 0;
    size_t first = 0;
    while (first < vlen && v[first] != ' ')
        first++;
    return first != rlen || !lk_bytes_equal(v, release, rlen);
}

static lkmpre_status failed(lkmpre_module_result *r) {
    r->status = LKMPRE_MODULE_FAILED;
    return LKMPRE_OK;
}

lkmpre_status lkmpre_preresolve(const lkmpre_index *x, const uint8_t *data, size_t len, uint32_t flags, uint8_t *out,
                                size_t out_cap, size_t *out_needed, lkmpre_symbol_result *results, size_t results_cap,
                                size_t *results_needed, lkmpre_module_result *r, lkmpre_error *err) {
    if (!x || !data || !out_needed || !results_needed || !r)
        return lk_fail(err, LKMPRE_ERR_ARG, "bad arguments to lkmpre_preresolve");
    lk_zero(r, sizeof *r);
    *out_needed = 0;
    *results_needed = 0;
    /* out doubles as the scratch of the overlap check: 24 bytes a section, less than a header. */
    size_t words = lk_elf_scratch_words(data, len);
    if (!out || out_cap < len || out_cap < words * 8 || ((uintptr_t)out & 7)) {
        *out_needed = len > words * 8 ? len : words * 8;
        return lk_fail(err, LKMPRE_ERR_SPACE, "output buffer too small");
    }
    module m;
    if (parse(&m, data, len, (uint64_t *)(void *)out, out_cap / 8, err))
        return failed(r);
    r->module_class = m.e.is64 ? 64 : 32;
    r->module_machine = m.e.machine;
    lk_shdr mark;
    if (lk_elf_find(&m.e, MARK, &mark) == 0) {
        r->status = LKMPRE_MODULE_ALREADY;
        return LKMPRE_OK;
    }
    int kernel64 = (x->flags & LKMPRE_INDEX_ELF64) != 0;
    r->refusal = m.signed_ && !(flags & LKMPRE_STRIP_SIGNATURE) ? LKMPRE_REFUSED_SIGNED
                 : m.e.is64 != kernel64                       ? LKMPRE_REFUSED_CLASS
                 : x->machine && m.e.machine != x->machine    ? LKMPRE_REFUSED_MACHINE
                 : other_release(x, &m)                       ? LKMPRE_REFUSED_VERMAGIC
                                                              : LKMPRE_REFUSED_NONE;
    if (r->refusal) {
        r->status = LKMPRE_MODULE_REFUSED;
        return LKMPRE_OK;
    }
    if (check_symtab(&m, err))
        return failed(r);
    const uint8_t *license;
    size_t license_len;
    if (modinfo_find(&m, "license", 0, 0, &license, &license_len)) {
        r->license_offset = (uint32_t)(license - data);
        r->license_len = (uint32_t)license_len;
    }

    /* Count first, so that a short results buffer is reported before anything is written. */
    size_t undefined = 0;
    const uint8_t *name;
    size_t nlen;
    int got;
    for (uint64_t i = 0; (got = next_undefined(&m, &i, &name, &nlen, err)) > 0; i++)
        undefined++;
    if (got < 0)
        return failed(r);
    /* Output: the image, the grown name table, the undo record (undo.h), padding, the
       grown header table. The record's size depends on how many symbols resolve, so decide
       every symbol first (into results), then size and write. */
    unsigned w = lk_word(&m.e), shentsize = m.e.shentsize;
    size_t names_at = m.image_len, names_len = (size_t)m.e.shstrtab.size + sizeof MARK + sizeof UNDO;
    uint32_t count = m.e.shnum + 2;
    size_t bound = (names_at + names_len + LK_UNDO_HEADER + LK_UNDO_ENTRY * undefined + w - 1) / w * w +
                   (size_t)count * shentsize;
    *out_needed = bound;
    *results_needed = undefined;
    if (count >= SHN_LORESERVE)
        return lk_fail(err, LKMPRE_ERR_FORMAT, "too many sections to add 2 more"), failed(r);
    if (undefined && (!results || results_cap < undefined))
        return lk_fail(err, LKMPRE_ERR_SPACE, "%u results needed", (uint64_t)undefined);
    size_t k = 0;
    int gpl = gpl_compatible(&m);
    for (uint64_t i = 0; next_undefined(&m, &i, &name, &nlen, err) > 0; i++) {
        lkmpre_symbol_result *s = &results[k++];
        lk_zero(s, sizeof *s);
        s->symbol = (uint32_t)i;
        s->name_offset = (uint32_t)(name - data);
        s->entry = lkmpre_index_lookup(x, (const char *)name, nlen, LKMPRE_LOOKUP_GNU_BLOOM, 0);
        s->reason = s->entry ? check(x, &m, gpl, s->entry, name, nlen, &s->module_crc) : LKMPRE_NOT_EXPORTED_BY_VMLINUX;
        r->preresolved += s->reason == LKMPRE_RESOLVED;
    }
    r->undefined = (uint32_t)undefined;
    size_t undo_len = lk_undo_size(r->preresolved);
    size_t sh_at = (names_at + names_len + undo_len + w - 1) / w * w;
    size_t total = sh_at + (size_t)count * shentsize;
    *out_needed = total;
    if (out_cap < total)
        return lk_fail(err, LKMPRE_ERR_SPACE, "output needs %u bytes", (uint64_t)total);

    if (!(flags & LKMPRE_OUT_SPARSE))
        lk_copy(out, data, m.image_len);
    uint8_t *undo = out + names_at + names_len;
    lk_undo record = {.count = r->preresolved, .shnum = m.e.shnum, .image_len = m.image_len, .shoff = m.e.shoff};
    lk_undo_write(undo, &record);
    const lk_layout *l = m.e.l;
    unsigned entsize = l->sym_entsize, st_value = l->st_value, st_shndx = l->st_shndx;
    int msb = m.e.msb;
    uint32_t saved_n = 0;
    for (size_t j = 0; j < undefined; j++) {
        if (results[j].reason != LKMPRE_RESOLVED)
            continue;
        uint64_t at = m.symtab.offset + (uint64_t)results[j].symbol * entsize;
        const uint8_t *old = data + at;
        uint8_t *sym = out + at;
        lk_undo_entry saved = {results[j].symbol, (uint16_t)lk_load(old + st_shndx, 2, msb),
                               lk_load(old + st_value, w, msb)};
        lk_undo_write_entry(undo, saved_n++, &saved);
        lk_store(sym + st_value, w, msb, lk_entry_address(x, results[j].entry));
        lk_store(sym + st_shndx, 2, msb, SHN_ABS);
    }

    uint8_t *names = out + names_at;
    lk_copy(names, data + m.e.shstrtab.offset, (size_t)m.e.shstrtab.size);
    lk_copy(names + m.e.shstrtab.size, MARK, sizeof MARK);
    lk_copy(names + m.e.shstrtab.size + sizeof MARK, UNDO, sizeof UNDO);
    lk_zero(out + names_at + names_len + undo_len, sh_at - names_at - names_len - undo_len);
    uint8_t *sh = out + sh_at;
    lk_copy(sh, data + m.e.shoff, (size_t)m.e.shnum * shentsize);
    uint8_t *strhdr = sh + (size_t)m.e.shstrndx * shentsize;
    for (unsigned n = 0; n < 2; n++) {
        uint8_t *h = sh + (size_t)(m.e.shnum + n) * shentsize;
        lk_zero(h, shentsize);
        lk_store(h + l->sh_name, 4, msb, m.e.shstrtab.size + (n ? sizeof MARK : 0));
        lk_store(h + l->sh_type, 4, msb, SHT_PROGBITS);
        lk_store(h + l->sh_offset, w, msb, names_at + names_len);
        lk_store(h + l->sh_size, w, msb, n ? undo_len : 0);
        lk_store(h + l->sh_addralign, w, msb, 1);
    }
    lk_store(strhdr + l->sh_offset, w, msb, names_at);
    lk_store(strhdr + l->sh_size, w, msb, names_len);
    lk_store(out + l->e_shoff, w, msb, sh_at);
    lk_store(out + l->e_shnum, 2, msb, count);
    r->out_len = total;
    r->status = LKMPRE_MODULE_PRERESOLVED;
    return LKMPRE_OK;
}
