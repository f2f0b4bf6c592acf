/* nn_mem.c: aligned zeroed allocation with an injectable failure countdown. */
#include "nn/nn_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;

void nn_alloc_fail_after(long k) { fail_countdown = k; }

void *nn_alloc(size_t n)
{
    if (fail_countdown == 0) return NULL;
    if (fail_countdown > 0) fail_countdown--;
    if (n == 0) n = 1;
    if (n > SIZE_MAX - 64) return NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}

void *nn_alloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return nn_alloc(count * size);
}

void nn_free(void *p) { free(p); }
