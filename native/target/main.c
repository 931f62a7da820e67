/* The target driver: the C core plus the freestanding runtime, run under qemu-user.
 *   lkmpre-target preresolve INDEX OUTDIR FLAGS MODULE...   FLAGS: 0, or 1 to strip signatures
 *       for module i writes OUTDIR/i.ko (when patched) and prints
 *       MODULE i status refusal class machine undefined preresolved license_off license_len out_len
 *       SYM name_offset reason module_crc_hex      (per symbol left undefined)
 *       ERR message                               (for a failed module)
 *   lkmpre-target index VMLINUX OUT
 *   lkmpre-target lookup INDEX NAME...             prints NAME and the entry for each strategy
 *   lkmpre-target resolve N INDEX_1..INDEX_N NAME...
 *       one scope of the N tables; name k is searched in tables k * 37 % N .. N by GNU + Bloom,
 *       hashing, then with the hash given; prints NAME first table entry table entry per name,
 *       then COUNTS lookups compares rejections chain_steps of both passes
 * The Java layer (TargetDriver) reads this and compares it with the reference. */
#include "lkmpre.h"
#include "lkmpre_simulate.h"
#include "rt.h"

static const lkmpre_index *open_index(const char *path) {
    size_t len;
    unsigned char *buf = rt_read_file(path, &len);
    void *handle = rt_alloc(lkmpre_index_handle_size());
    const lkmpre_index *x;
    lkmpre_error err;
    if (lkmpre_index_open(buf, len, handle, lkmpre_index_handle_size(), &x, &err))
        die(err.message, path);
    return x;
}

static void number_path(char *dst, const char *dir, uint64_t i) {
    size_t n = rt_strlen(dir);
    memcpy(dst, dir, n);
    dst[n++] = '/';
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + (int)(i % 10));
        i /= 10;
    } while (i);
    while (k)
        dst[n++] = d[--k];
    memcpy(dst + n, ".ko", 4);
}

static int cmd_preresolve(int argc, char **argv) {
    const lkmpre_index *x = open_index(argv[2]);
    uint32_t flags = argv[4][0] == '1' ? LKMPRE_STRIP_SIGNATURE : 0;
    static char path[4096];
    for (int i = 5; i < argc; i++) {
        size_t mark = rt_mark();
        size_t len, out_need = 0, res_need = 0;
        unsigned char *module = rt_read_file(argv[i], &len);
        size_t out_cap = 2 * len + 128, res_cap = len / 16 + 1;
        unsigned char *out = rt_alloc(out_cap);
        lkmpre_symbol_result *res = rt_alloc(res_cap * sizeof *res);
        lkmpre_module_result r;
        lkmpre_error err;
        lkmpre_status st;
        while ((st = lkmpre_preresolve(x, module, len, flags, out, out_cap, &out_need, res, res_cap, &res_need, &r,
                                       &err)) == LKMPRE_ERR_SPACE) {
            out_cap = out_need > out_cap ? out_need : out_cap;
            res_cap = res_need > res_cap ? res_need : res_cap;
            out = rt_alloc(out_cap);
            res = rt_alloc(res_cap * sizeof *res);
        }
        if (st)
            die(err.message, argv[i]);
        uint64_t fields[] = {(uint64_t)(i - 5), r.status, r.refusal, r.module_class, r.module_machine, r.undefined,
                             r.preresolved, r.license_offset, r.license_len, r.out_len};
        out_str("MODULE");
        for (unsigned f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            out_str(" ");
            out_u64(fields[f]);
        }
        out_str("\n");
        if (r.status == LKMPRE_MODULE_FAILED) {
            out_str("ERR ");
            out_str(err.message);
            out_str("\n");
        }
        for (uint32_t k = 0; r.status == LKMPRE_MODULE_PRERESOLVED && k < r.undefined; k++) {
            if (!res[k].reason)
                continue;
            out_str("SYM ");
            out_u64(res[k].name_offset);
            out_str(" ");
            out_u64(res[k].reason);
            out_str(" ");
            out_hex(res[k].module_crc);
            out_str("\n");
        }
        if (r.status == LKMPRE_MODULE_PRERESOLVED) {
            number_path(path, argv[3], (uint64_t)(i - 5));
            rt_write_file(path, out, (size_t)r.out_len);
        }
        rt_release(mark);
    }
    return 0;
}

static int cmd_index(char **argv) {
    size_t len, out_need = 0, scratch_need = 0;
    unsigned char *vmlinux = rt_read_file(argv[2], &len);
    lkmpre_error err;
    unsigned char *out = 0;
    void *scratch = 0;
    size_t out_cap = 0, scratch_cap = 0;
    lkmpre_status st;
    while ((st = lkmpre_index_build(vmlinux, len, 0, out, out_cap, &out_need, scratch, scratch_cap, &scratch_need,
                                    &err)) == LKMPRE_ERR_SPACE) {
        if (out_need > out_cap)
            out = rt_alloc(out_cap = out_need);
        if (scratch_need > scratch_cap)
            scratch = rt_alloc(scratch_cap = scratch_need);
    }
    if (st)
        die(err.message, argv[2]);
    rt_write_file(argv[3], out, out_need);
    return 0;
}

static int cmd_lookup(int argc, char **argv) {
    const lkmpre_index *x = open_index(argv[2]);
    for (int i = 3; i < argc; i++) {
        out_str(argv[i]);
        for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++) {
            out_str(" ");
            out_u64(lkmpre_index_lookup(x, argv[i], rt_strlen(argv[i]), (lkmpre_strategy)s, 0));
        }
        out_str("\n");
    }
    return 0;
}

static int cmd_resolve(int argc, char **argv) {
    uint32_t n = 0;
    for (const char *d = argv[2]; *d >= '0' && *d <= '9'; d++)
        n = n * 10 + (uint32_t)(*d - '0');
    if (n == 0 || (uint32_t)argc < 3 + n)
        die("bad table count", argv[2]);
    const lkmpre_index **tables = rt_alloc(n * sizeof *tables);
    for (uint32_t t = 0; t < n; t++)
        tables[t] = open_index(argv[3 + t]);
    size_t need = lkmpre_scope_size(tables, n);
    const lkmpre_scope *scope;
    lkmpre_error err;
    if (need == SIZE_MAX || lkmpre_scope_init(tables, n, rt_alloc(need), need, &scope, &err))
        die("cannot make the scope", argv[3]);
    uint32_t nq = (uint32_t)argc - 3 - n, at = 0;
    lkmpre_query *q = rt_alloc(nq * sizeof *q);
    for (uint32_t k = 0; k < nq; k++) {
        const char *name = argv[3 + n + k];
        uint32_t len = (uint32_t)rt_strlen(name), first = k * 37 % n;
        q[k] = (lkmpre_query){at, len, lkmpre_gnu_hash(name, len), 0, 0, first, n - first};
        at += len;
    }
    unsigned char *names = rt_alloc(at + 1);
    for (uint32_t k = 0; k < nq; k++)
        memcpy(names + q[k].name_offset, argv[3 + n + k], q[k].name_len);
    lkmpre_resolution *r = rt_alloc(2 * (size_t)nq * sizeof *r);
    lkmpre_lookup_stats st = {0, 0, 0, 0};
    for (uint32_t flags = 0; flags <= LKMPRE_RESOLVE_PREHASHED; flags++)
        if (lkmpre_resolve(scope, names, at, q, nq, LKMPRE_LOOKUP_GNU_BLOOM, flags, r + flags * nq, &st, &err))
            die(err.message, argv[3]);
    for (uint32_t k = 0; k < nq; k++) {
        out_str(argv[3 + n + k]);
        uint64_t fields[] = {q[k].first, r[k].table, r[k].entry, r[nq + k].table, r[nq + k].entry};
        for (int f = 0; f < 5; f++) {
            out_str(" ");
            out_u64(fields[f]);
        }
        out_str("\n");
    }
    uint64_t counts[] = {st.lookups, st.string_compares, st.bloom_rejections, st.chain_steps};
    out_str("COUNTS");
    for (int f = 0; f < 4; f++) {
        out_str(" ");
        out_u64(counts[f]);
    }
    out_str("\n");
    return 0;
}

int rt_main(int argc, char **argv);

int rt_main(int argc, char **argv) {
    int status = 2;
    if (argc >= 5 && rt_streq(argv[1], "preresolve"))
        status = cmd_preresolve(argc, argv);
    else if (argc == 4 && rt_streq(argv[1], "index"))
        status = cmd_index(argv);
    else if (argc >= 3 && rt_streq(argv[1], "lookup"))
        status = cmd_lookup(argc, argv);
    else if (argc >= 4 && rt_streq(argv[1], "resolve"))
        status = cmd_resolve(argc, argv);
    else
        out_str("usage: lkmpre-target preresolve INDEX OUTDIR FLAGS MODULE... | index VMLINUX OUT | lookup INDEX NAME... | resolve N INDEX... NAME...\n");
    out_flush();
    return status;
}
