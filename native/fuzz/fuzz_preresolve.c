/* libFuzzer harness: a module (the input) preresolved against the fixture kernel's index.
   Any crash, sanitizer report or hang is a bug; every call must give a clean verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lkmpre.h"
#include "../tool/driver_io.h"

static const lkmpre_index *index_handle;
static uint64_t handle_mem[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *path = getenv("LKMPRE_FUZZ_INDEX");
    size_t len;
    unsigned char *buf = read_file(path ? path : "fixture.lkmidx", &len);
    lkmpre_error err;
    if (lkmpre_index_open(buf, len, handle_mem, sizeof handle_mem, &index_handle, &err))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t out_cap = 2 * size + 256, res_cap = size / 16 + 1, out_need, res_need;
    uint8_t *copy = malloc(size + 1);
    memcpy(copy, data, size);
    uint8_t *out = malloc(out_cap);
    lkmpre_symbol_result *res = malloc(res_cap * sizeof *res);
    lkmpre_module_result r;
    lkmpre_error err;
    lkmpre_status st = LKMPRE_ERR_SPACE;
    for (int round = 0; round < 3; round++) {
        st = lkmpre_preresolve(index_handle, copy, size, LKMPRE_STRIP_SIGNATURE, out, out_cap, &out_need,
                                             res, res_cap, &res_need, &r, &err);
        if (st != LKMPRE_ERR_SPACE) {
            if (st != LKMPRE_OK)
                abort();
            break;
        }
        out_cap = out_need > out_cap ? out_need : out_cap;
        res_cap = res_need > res_cap ? res_need : res_cap;
        out = realloc(out, out_cap);
        res = realloc(res, res_cap * sizeof *res);
    }
    /* LKMPRE_OUT_SPARSE: the same verdict, and every byte the full output changed. */
    if (st == LKMPRE_OK && r.status == LKMPRE_MODULE_PRERESOLVED) {
        uint8_t *sparse = malloc(out_cap);
        lkmpre_module_result rs;
        if (lkmpre_preresolve(index_handle, copy, size, LKMPRE_STRIP_SIGNATURE | LKMPRE_OUT_SPARSE, sparse, out_cap,
                              &out_need, res, res_cap, &res_need, &rs, &err) != LKMPRE_OK ||
            rs.status != r.status || rs.out_len != r.out_len)
            abort();
        for (size_t i = 0; i < r.out_len; i++)
            if ((i >= size || out[i] != copy[i]) && sparse[i] != out[i])
                abort();
        free(sparse);
    }
    free(copy);
    free(out);
    free(res);
    return 0;
}
