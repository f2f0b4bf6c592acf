/* nn_rng.c: xoshiro256** seeded through splitmix64; uniform, normal and integer draws. */
#include "nn/nn_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

void nn_rng_seed(nn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t nn_rng_u64(nn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

float nn_rng_uniform(nn_rng *r) { return (float)(nn_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

float nn_rng_normal(nn_rng *r)
{
    double u1 = ((double)(nn_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(nn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t nn_rng_below(nn_rng *r, uint32_t n)
{
    return (uint32_t)(((nn_rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

void nn_init_uniform(nn_rng *r, float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * nn_rng_uniform(r);
}

void nn_init_normal(nn_rng *r, float *p, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) p[i] = std * nn_rng_normal(r);
}

void nn_init_const(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) p[i] = v;
}
