/* libFuzzer harness: the input as a kernel image (index build) and as an index (open and every
   lookup strategy). No crash, no sanitizer report, a status from the enum every time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lkmpre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size + 1);
    memcpy(copy, data, size);
    size_t out_need = 0, scratch_need = 0;
    lkmpre_error err;
    lkmpre_status st = lkmpre_index_build(copy, size, 0, NULL, 0, &out_need, NULL, 0, &scratch_need, &err);
    for (int round = 0; st == LKMPRE_ERR_SPACE && round < 4 && scratch_need < (64u << 20) && out_need < (64u << 20);
         round++) {
        void *scratch = malloc(scratch_need + 8);
        uint8_t *out = malloc(out_need + 1);
        st = lkmpre_index_build(copy, size, 0, out, out_need, &out_need, scratch, scratch_need, &scratch_need, &err);
        free(scratch);
        free(out);
    }
    if (st > 0 || st < LKMPRE_ERR_UNSUPPORTED)
        abort();
    static uint64_t handle[64];
    const lkmpre_index *x;
    if (lkmpre_index_open(copy, size, handle, sizeof handle, &x, &err) == LKMPRE_OK) {
        static const char *names[] = {"fx_printk", "nope", "", "fx_kfree"};
        for (unsigned n = 0; n < 4; n++)
            for (int s = LKMPRE_LOOKUP_LINEAR; s <= LKMPRE_LOOKUP_GNU_BLOOM; s++)
                (void)lkmpre_index_lookup(x, names[n], strlen(names[n]), (lkmpre_strategy)s, NULL);
    }
    free(copy);
    return 0;
}
