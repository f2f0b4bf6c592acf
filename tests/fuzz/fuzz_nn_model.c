/* fuzz_nn_model.c: the model-file loader on arbitrary bytes. When the first byte is odd, the
 * trailing checksum is rewritten first, so mutations reach the table and data parsers too. */
#include "nn/nn_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    if (size >= 8 && (data[0] & 1)) {
        buf[0] = 0x89; /* keep the magic's first byte */
        uint32_t c = nn_crc32(0, buf, size - 4);
        for (int i = 0; i < 4; i++) buf[size - 4 + i] = (uint8_t)(c >> (8 * i));
    }
    char err[512];
    nn_model *m = nn_model_load_mem(buf, size, "fuzz.bmnn", err, sizeof err);
    if (m) {
        /* exercise what a caller does next */
        for (int i = 0; i < nn_model_count(m); i++) {
            const nn_tensor *t = nn_model_tensor(m, i);
            volatile float s = 0;
            for (size_t k = 0; k < t->size; k++) s += t->data[k];
            (void)s;
            nn_model_bind(m, t->name, t->ndim, t->shape, err, sizeof err);
        }
        size_t len;
        void *again = nn_model_serialize(m, &len);
        if (again && (len != size || memcmp(again, buf, size) != 0)) abort(); /* canonical form */
        free(again);
        nn_model_free(m);
    } else if (!memchr(err, 0, sizeof err) || !strstr(err, "fuzz.bmnn")) {
        abort();
    }
    free(buf);
    return 0;
}
