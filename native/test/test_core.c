/* Unit tests of the C core, built with AddressSanitizer and UBSan (make check). With a fixture
   directory argument they also run on the fixture kernel and modules, including every
   truncation and thousands of random mutations: no crash, no out-of-bounds access, a clean
   verdict every time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../tool/driver_io.h"
#include "lkmpre.h"
#include "lkmpre_simulate.h"
#include "index.h" /* lk_entry_name: what a found entry is called */

static int failures, checks;
#define CHECK(cond, ...)                                                                                       \
    do {                                                                                                       \
        checks++;                                                                                              \
        if (!(cond)) {                                                                                         \
            failures++;                                                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                              \
            fprintf(stderr, __VA_ARGS__);                                                                      \
            fprintf(stderr, "\n");                                                                             \
        }                                                                                                      \
    } while (0)

static uint32_t reference_elf_hash(const char *s) {
    uint32_t h = 0, g;
    while (*s) {
        h = (h << 4) + (unsigned char)*s++;
        if ((g = h & 0xf0000000u))
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static void test_hashes(void) {
    CHECK(lkmpre_gnu_hash("", 0) == 5381, "gnu_hash empty");
    CHECK(lkmpre_gnu_hash("printf", 6) == 0x156b2bb8u, "gnu_hash printf %x", lkmpre_gnu_hash("printf", 6));
    const char *names[] = {"printf", "", "a", "__this_module", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "\xff\x80"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(lkmpre_sysv_hash(names[i], strlen(names[i])) == reference_elf_hash(names[i]), "sysv %s", names[i]);
}

static unsigned char *build_index(const unsigned char *vmlinux, size_t len, size_t *out_len, lkmpre_status *st) {
    size_t out_need = 0, scratch_need = 0;
    unsigned char *out = NULL;
    void *scratch = NULL;
    lkmpre_error err;
    *st = lkmpre_index_build(vmlinux, len, 0, NULL, 0, &out_need, NULL, 0, &scratch_need, &err);
    for (int round = 0; *st == LKMPRE_ERR_SPACE && round < 4; round++) {
        free(out);
        free(scratch);
        out = malloc(out_need + 1);
        scratch = malloc(scratch_need + 8);
        *st = lkmpre_index_build(vmlinux, len, 0, out, out_need, &out_need, scratch, scratch_need, &scratch_need, &err);
    }
    free(scratch);
    *out_len = out_need;
    if (*st) {
        free(out);
        return NULL;
    }
    return out;
}

static uint64_t handle_mem[64];

static void test_lookups(const unsigned char *idx, size_t len) {
    const lkmpre_index *x;
    lkmpre_error err;
    CHECK(lkmpre_index_open(idx, len, handle_mem, sizeof handle_mem, &x, &err) == LKMPRE_OK, "open: %s", err.message);
    if (!x)
        return;
    uint32_t n = lkmpre_index_count(x);
    CHECK(n == 10, "fixture exports %u", n);
    static const char *names[] = {"fx_printk", "fx_kmalloc", "fx_kfree", "fx_jiffies", "fx_cpu_number",
                                  "fx_gpl_register", "fx_gpl_unregister", "fx_crypto_alg", "fx_usb_thing",
                                  "fx_weak_target"};
    for (unsigned i = 0; i < 10; i++) {
        uint32_t e = lkmpre_index_lookup(x, names[i], strlen(names[i]), LKMPRE_LOOKUP_LINEAR, NULL);
        CHECK(e >= 1 && e <= n, "%s found", names[i]);
        for (int s = LKMPRE_LOOKUP_BSEARCH; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
            CHECK(lkmpre_index_lookup(x, names[i], strlen(names[i]), (lkmpre_strategy)s, NULL) == e,
                  "%s strategy %d", names[i], s);
        /* Near names miss in every strategy: one byte short, one more, its NUL, a NUL inside. */
        char near[4][32];
        size_t l = strlen(names[i]), near_len[4] = {l - 1, l + 1, l + 1, l};
        for (int k = 0; k < 4; k++)
            memcpy(near[k], names[i], l + 1);
        near[1][l] = 'x';
        near[3][l / 2] = 0;
        for (int k = 0; k < 4; k++)
            for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
                CHECK(lkmpre_index_lookup(x, near[k], near_len[k], (lkmpre_strategy)s, NULL) == 0,
                      "%s near %d strategy %d", names[i], k, s);
    }
    lkmpre_lookup_stats st = {0, 0, 0, 0};
    char miss[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(miss, sizeof miss, "missing_%d", i);
        for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
            CHECK(lkmpre_index_lookup(x, miss, strlen(miss), (lkmpre_strategy)s, &st) == 0, "%s", miss);
        /* Prefixes and extensions of real names are misses too. */
        CHECK(lkmpre_index_lookup(x, "fx_printk", 8, LKMPRE_LOOKUP_BSEARCH, NULL) == 0, "prefix");
        CHECK(lkmpre_index_lookup(x, "fx_printkk", 10, LKMPRE_LOOKUP_GNU_BLOOM, NULL) == 0, "extension");
    }
    CHECK(st.bloom_rejections > 500, "bloom rejected %llu of 1000 misses", (unsigned long long)st.bloom_rejections);
}

/* Batch resolution through ordered tables: the same answers as one lookup per table. */
static void test_resolve(const unsigned char *idx, size_t len) {
    static uint64_t mem[2][64];
    const lkmpre_index *t[2];
    lkmpre_error err;
    for (int i = 0; i < 2; i++)
        CHECK(lkmpre_index_open(idx, len, mem[i], sizeof mem[i], &t[i], &err) == LKMPRE_OK, "open %d", i);
    static uint64_t scope_mem[128];
    const lkmpre_scope *scope;
    size_t need = lkmpre_scope_size(t, 2);
    CHECK(need <= sizeof scope_mem, "scope size %zu", need);
    CHECK(lkmpre_scope_init(t, 2, scope_mem, sizeof scope_mem, &scope, &err) == LKMPRE_OK, "scope: %s", err.message);
    CHECK(lkmpre_scope_init(t, 2, scope_mem, need - 1, &scope, &err) == LKMPRE_ERR_ARG, "small scope");
    CHECK(lkmpre_scope_init(t, 2, scope_mem, sizeof scope_mem, &scope, &err) == LKMPRE_OK, "scope again");
    const char names[] = "fx_kfreefx_gpl_registermissing_onefx_printk";
    const uint32_t at[][2] = {{0, 8}, {8, 15}, {23, 11}, {34, 9}};
    lkmpre_query q[8];
    for (int i = 0; i < 8; i++) {
        const char *name = names + at[i % 4][0];
        /* The first four search table 0 then table 1; the rest only table 1. */
        q[i] = (lkmpre_query){at[i % 4][0], at[i % 4][1], lkmpre_gnu_hash(name, at[i % 4][1]),
                              lkmpre_sysv_hash(name, at[i % 4][1]), i < 4, 1, 1};
    }
    for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
        for (uint32_t flags = 0; flags <= LKMPRE_RESOLVE_PREHASHED; flags++) {
            lkmpre_resolution r[8];
            lkmpre_lookup_stats st = {0, 0, 0, 0};
            CHECK(lkmpre_resolve(scope, (const uint8_t *)names, sizeof names - 1, q, 8, (lkmpre_strategy)s, flags, r,
                                 &st, &err) == LKMPRE_OK, "resolve %d: %s", s, err.message);
            for (int i = 0; i < 8; i++) {
                uint32_t e = lkmpre_index_lookup(t[0], names + at[i % 4][0], at[i % 4][1], LKMPRE_LOOKUP_LINEAR, NULL);
                uint32_t table = !e ? LKMPRE_NOT_FOUND : i < 4 ? 0 : 1;
                CHECK(r[i].entry == e && r[i].table == table, "strategy %d flags %u query %d: %u/%u", s, flags, i,
                      r[i].table, r[i].entry);
            }
            /* Hits in the prefix take one probe, the miss two, the direct queries one each. */
            CHECK(st.lookups == 3 + 2 + 4, "strategy %d probes %llu", s, (unsigned long long)st.lookups);
        }
    lkmpre_resolution r[1];
    lkmpre_query bad[] = {{40, 9, 0, 0, 0, 0, 1}, {0, 8, 0, 0, 3, 0, 0}, {0, 8, 0, 0, 0, 1, 2}};
    for (int i = 0; i < 3; i++)
        CHECK(lkmpre_resolve(scope, (const uint8_t *)names, sizeof names - 1, &bad[i], 1, LKMPRE_LOOKUP_GNU, 0, r, NULL,
                             &err) == LKMPRE_ERR_ARG, "bad query %d accepted", i);
    CHECK(lkmpre_resolve(scope, (const uint8_t *)names, sizeof names - 1, q, 1, (lkmpre_strategy)9, 0, r, NULL, &err) ==
              LKMPRE_ERR_ARG, "bad strategy accepted");
}

/* A scope of more tables than one word of its bit-sliced folds holds: every run of tables,
   across and at the words' edges, answers and counts as one lookup per table does. */
static void test_resolve_many(const unsigned char *idx, size_t len) {
    enum { N = 150 };
    static uint64_t mem[N][64];
    const lkmpre_index *t[N];
    lkmpre_error err;
    for (int i = 0; i < N; i++)
        CHECK(lkmpre_index_open(idx, len, mem[i], sizeof mem[i], &t[i], &err) == LKMPRE_OK, "open %d", i);
    size_t need = lkmpre_scope_size(t, N);
    uint64_t *scope_mem = malloc(need);
    const lkmpre_scope *scope;
    CHECK(lkmpre_scope_init(t, N, scope_mem, need, &scope, &err) == LKMPRE_OK, "scope: %s", err.message);
    const char *names[] = {"fx_kfree", "fx_gpl_register", "missing_one", "fx_printk", "fx_usb_thing"};
    const uint32_t runs[][3] = {{0, 0, 150}, {0, 63, 1}, {0, 63, 2}, {0, 64, 64}, {0, 127, 23}, {1, 5, 0},
                                {2, 60, 90}, {0, 149, 1}, {0, 128, 22}, {2, 0, 150}, {0, 1, 126}};
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++)
        for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
            uint32_t l = (uint32_t)strlen(names[n]), h = lkmpre_gnu_hash(names[n], l);
            lkmpre_query q = {0, l, h, 0, runs[k][0], runs[k][1], runs[k][2]};
            lkmpre_resolution r;
            lkmpre_lookup_stats got = {0, 0, 0, 0}, want = {0, 0, 0, 0};
            CHECK(lkmpre_resolve(scope, (const uint8_t *)names[n], l, &q, 1, LKMPRE_LOOKUP_GNU_BLOOM,
                                 LKMPRE_RESOLVE_PREHASHED, &r, &got, &err) == LKMPRE_OK, "resolve: %s", err.message);
            uint32_t table = LKMPRE_NOT_FOUND, e = 0;
            for (uint32_t i = 0; i < q.prefix + q.count && !e; i++) {
                uint32_t at = i < q.prefix ? i : q.first + i - q.prefix;
                if ((e = lkmpre_index_lookup_hashed(t[at], names[n], l, h, 1, &want)) != 0)
                    table = at;
            }
            CHECK(r.table == table && r.entry == e, "%s in run %zu: table %u entry %u, expected %u %u", names[n], k,
                  r.table, r.entry, table, e);
            CHECK(!memcmp(&got, &want, sizeof got), "%s in run %zu: %llu probes, %llu rejected; expected %llu, %llu",
                  names[n], k, (unsigned long long)got.lookups, (unsigned long long)got.bloom_rejections,
                  (unsigned long long)want.lookups, (unsigned long long)want.bloom_rejections);
        }
    free(scope_mem);
}

/* Preresolves; returns the module status, or -1 if the call itself failed. */
static int preresolve(const lkmpre_index *x, const unsigned char *m, size_t len) {
    size_t out_cap = len + 8, out_need, res_cap = 4, res_need;
    unsigned char *out = malloc(out_cap);
    lkmpre_symbol_result *res = malloc(res_cap * sizeof *res);
    lkmpre_module_result r;
    lkmpre_error err;
    lkmpre_status st;
    int rounds = 0;
    while ((st = lkmpre_preresolve(x, m, len, LKMPRE_STRIP_SIGNATURE, out, out_cap, &out_need, res, res_cap, &res_need,
                                   &r, &err)) == LKMPRE_ERR_SPACE &&
           rounds++ < 3) {
        out_cap = out_need > out_cap ? out_need : out_cap;
        res_cap = res_need > res_cap ? res_need : res_cap;
        out = realloc(out, out_cap);
        res = realloc(res, res_cap * sizeof *res);
    }
    int status = st == LKMPRE_OK ? (int)r.status : -1;
    if (status == LKMPRE_MODULE_PRERESOLVED) {
        CHECK(r.out_len <= out_cap && r.preresolved <= r.undefined, "result sizes");
        /* LKMPRE_OUT_SPARSE: every byte that changed, the tail included, as the full output has it. */
        unsigned char *sparse = malloc(out_cap);
        memset(sparse, 0xa5, out_cap);
        lkmpre_module_result rs;
        CHECK(lkmpre_preresolve(x, m, len, LKMPRE_STRIP_SIGNATURE | LKMPRE_OUT_SPARSE, sparse, out_cap, &out_need, res,
                                res_cap, &res_need, &rs, &err) == LKMPRE_OK && rs.out_len == r.out_len,
              "sparse call");
        size_t missing = 0;
        for (size_t i = 0; i < r.out_len; i++)
            missing += (i >= len || out[i] != m[i]) && sparse[i] != out[i];
        CHECK(!missing, "sparse output: %zu changed bytes missing", missing);
        free(sparse);
    }
    free(out);
    free(res);
    return status;
}

static void test_modules(const char *dir, const unsigned char *idx, size_t idx_len) {
    const lkmpre_index *x;
    lkmpre_error err;
    if (lkmpre_index_open(idx, idx_len, handle_mem, sizeof handle_mem, &x, &err))
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko", dir);
    size_t len;
    unsigned char *good = read_file(path, &len);
    CHECK(preresolve(x, good, len) == LKMPRE_MODULE_PRERESOLVED, "fx_good");
    for (size_t cut = 0; cut < len; cut++) {
        int s = preresolve(x, good, cut);
        CHECK(s == LKMPRE_MODULE_FAILED, "truncated at %zu gives %d", cut, s);
    }
    unsigned char *copy = malloc(len);
    srand(20261202);
    int failed = 0;
    for (int i = 0; i < 5000; i++) {
        memcpy(copy, good, len);
        for (int f = 1 + rand() % 8; f > 0; f--)
            copy[rand() % 2 ? rand() % 64 : rand() % (int)len] = (unsigned char)rand();
        int s = preresolve(x, copy, len);
        CHECK(s >= 0, "mutation %d: call failed", i);
        failed += s == LKMPRE_MODULE_FAILED;
    }
    CHECK(failed > 200, "mutations broke %d modules", failed);
    free(copy);
    free(good);
}

static void test_hostile_index(const unsigned char *idx, size_t len) {
    unsigned char *copy = malloc(len);
    const lkmpre_index *x;
    lkmpre_error err;
    for (size_t cut = 0; cut < len; cut++)
        CHECK(lkmpre_index_open(idx, cut, handle_mem, sizeof handle_mem, &x, &err) != LKMPRE_OK, "cut %zu", cut);
    srand(7);
    for (int i = 0; i < 20000; i++) {
        memcpy(copy, idx, len);
        for (int f = 1 + rand() % 4; f > 0; f--)
            copy[rand() % (int)len] = (unsigned char)rand();
        lkmpre_status st = lkmpre_index_open(copy, len, handle_mem, sizeof handle_mem, &x, &err);
        CHECK(st == LKMPRE_OK || st == LKMPRE_ERR_FORMAT || st == LKMPRE_ERR_UNSUPPORTED, "mutant %d: status %d", i, st);
        if (st != LKMPRE_OK)
            continue;
        /* An accepted index answers every lookup with no entry or an entry of that name. */
        static const char *const names[] = {"fx_printk", "nope", "fx_gpl_register"};
        for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
            for (size_t q = 0; q < 3; q++) {
                size_t n = strlen(names[q]);
                uint32_t e = lkmpre_index_lookup(x, names[q], n, (lkmpre_strategy)s, NULL);
                CHECK(e == 0 || (e <= lkmpre_index_count(x) && !strcmp(lk_entry_name(x, e), names[q])),
                      "mutant %d: strategy %d found entry %u for %s", i, s, e, names[q]);
            }
    }
    free(copy);
}

static void test_hostile_vmlinux(const unsigned char *vmlinux, size_t len) {
    size_t out_len;
    lkmpre_status st;
    for (size_t cut = 0; cut < len; cut += 13) {
        unsigned char *idx = build_index(vmlinux, cut, &out_len, &st);
        CHECK(idx == NULL && st == LKMPRE_ERR_FORMAT, "vmlinux cut at %zu: status %d", cut, st);
        free(idx);
    }
    unsigned char *copy = malloc(len);
    srand(11);
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, vmlinux, len);
        for (int f = 1 + rand() % 6; f > 0; f--)
            copy[rand() % (int)len] = (unsigned char)rand();
        free(build_index(copy, len, &out_len, &st));
        CHECK(st == LKMPRE_OK || st == LKMPRE_ERR_FORMAT || st == LKMPRE_ERR_UNSUPPORTED, "mutant %d status %d", i, st);
    }
    free(copy);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test-core FIXTURES (a target's directory of fixtures/build.sh output)\n");
        return 2;
    }
    test_hashes();
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/boot/vmlinux", argv[1]);
        size_t len, idx_len;
        unsigned char *vmlinux = read_file(path, &len);
        lkmpre_status st;
        unsigned char *idx = build_index(vmlinux, len, &idx_len, &st);
        CHECK(idx != NULL, "index of %s: status %d", path, st);
        if (idx) {
            test_lookups(idx, idx_len);
            test_resolve(idx, idx_len);
            test_resolve_many(idx, idx_len);
            test_modules(argv[1], idx, idx_len);
            test_hostile_index(idx, idx_len);
        }
        test_hostile_vmlinux(vmlinux, len);
        free(idx);
        free(vmlinux);
        /* The relocatable kernel (.rela.dyn completes its tables): it reads, and every cut and
           mutant of it, relocations included, is refused cleanly or read. */
        snprintf(path, sizeof path, "%s/boot/vmlinux-relocatable", argv[1]);
        vmlinux = read_file(path, &len);
        idx = build_index(vmlinux, len, &idx_len, &st);
        CHECK(idx != NULL, "index of %s: status %d", path, st);
        test_hostile_vmlinux(vmlinux, len);
        free(idx);
        free(vmlinux);
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
