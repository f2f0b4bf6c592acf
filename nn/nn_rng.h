/* nn_rng.h: a deterministic random number generator (xoshiro256**) and weight initialisers. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Generator state: plain data, copy it to fork a stream, save it in checkpoints. */
typedef struct nn_rng {
    uint64_t s[4];
} nn_rng;

/* Seeds the generator; the same seed gives the same sequence on every machine. */
void nn_rng_seed(nn_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t nn_rng_u64(nn_rng *r);

/* Uniform float in [0, 1). */
float nn_rng_uniform(nn_rng *r);

/* Standard normal float (Box-Muller). */
float nn_rng_normal(nn_rng *r);

/* Uniform integer in [0, n) for n > 0. */
uint32_t nn_rng_below(nn_rng *r, uint32_t n);

/* Fills p[0..n) with uniform values in [lo, hi). */
void nn_init_uniform(nn_rng *r, float *p, size_t n, float lo, float hi);

/* Fills p[0..n) with normal values of mean 0 and standard deviation std. */
void nn_init_normal(nn_rng *r, float *p, size_t n, float std);

/* Fills p[0..n) with one constant. */
void nn_init_const(float *p, size_t n, float v);
