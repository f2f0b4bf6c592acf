/* nn_mem.h: nn's allocator: zeroed 64-byte-aligned blocks, with failure injection for tests. */
#pragma once

#include <stddef.h>

/* Allocates n zeroed bytes aligned to 64; NULL when out of memory (or a test injected a failure). */
void *nn_alloc(size_t n);

/* Allocates count*size zeroed bytes aligned to 64; NULL on overflow or out of memory. */
void *nn_alloc_array(size_t count, size_t size);

/* Frees a block from nn_alloc (NULL is fine). */
void nn_free(void *p);

/* Test hook: lets k more nn_alloc calls succeed, then fails every later one (k < 0: never fail). */
void nn_alloc_fail_after(long k);
