/* mus_sample.h: turning a head's logits into a choice under the live controls: temperature,
 * nucleus (top-p), an additive bias (density), a mask of allowed classes (key lock), and mixing in
 * another distribution (the performer's memory). Deterministic for a given random state.
 * Real-time safe: no allocation (scratch is the caller's), bounded time. */
#pragma once

#include <stdint.h>

#define MUS_SAMPLE_MAX 512

/* A uniform double in [0, 1) from the random state (splitmix64; any state works). */
double mus_rand(uint64_t *state);

/* probs[i] = softmax((logits[i] + bias[i]) / temperature) over allowed classes (others 0); bias
 * and allowed may be NULL. When nothing is allowed, every class is. n <= MUS_SAMPLE_MAX. */
void mus_probs(const float *logits, int n, float temperature, const float *bias,
               const uint8_t *allowed, float *probs);

/* At or below this temperature choices are greedy (the most likely, every time): the limit of
 * sampling as the temperature goes to zero, and repeatable whatever the random state. */
#define MUS_GREEDY_TEMPERATURE 0.05f

/* Samples an index from probs[n] (summing to about 1) keeping the smallest set of classes that
 * holds top_p of the mass; greedy (the largest) when greedy is set. */
int mus_pick(const float *probs, int n, float top_p, int greedy, uint64_t *rng);

/* Samples a multi-hot drum step: for each of npieces pieces with nvel velocity classes (logits
 * piece-major), whether it is hit (at temperature, plus bias, ignored below the top-p floor) and in
 * which class; returns the bits (piece * nvel + class). Greedy at MUS_GREEDY_TEMPERATURE. */
uint64_t mus_pick_drums(const float *logits, int npieces, int nvel, float temperature, float bias,
                        float top_p, uint64_t *rng);

/* The log-probability of class k under softmax(logits[n]) (evaluation). */
double mus_log_softmax_at(const float *logits, int n, int k);

/* The log-probability of a multi-hot vector under independent sigmoids (evaluation). */
double mus_log_sigmoid_bits(const float *logits, int n, uint64_t bits);
