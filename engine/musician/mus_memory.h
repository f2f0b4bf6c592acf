/* mus_memory.h: the performer's own vocabulary, learnt during the session: a variable-order
 * Markov model of the pitches of their phrases (in the manner of Pachet's Continuator). Given the
 * last notes of a line, it says which notes followed the longest matching context in what the
 * performer played. Real-time safe: a fixed ring of notes, bounded search. */
#pragma once

#include <stdint.h>

#define MUS_MEMORY_CAP 512
#define MUS_MEMORY_ORDER 8

typedef struct mus_memory {
    uint8_t note[MUS_MEMORY_CAP];   /* ring of the performer's onsets (pitches) */
    int count;                      /* notes heard (the ring holds the last MUS_MEMORY_CAP) */
} mus_memory;

/* Forgets everything. */
void mus_memory_reset(mus_memory *m);

/* Learns one note of the performer. */
void mus_memory_add(mus_memory *m, int pitch);

/* The distribution of the next pitch after the context ctx[0..n) (oldest first) into dist[128]:
 * from the longest context (up to MUS_MEMORY_ORDER notes) that occurred, else the performer's
 * pitch frequencies; returns the order used (-1: nothing learnt yet, dist all zero). */
int mus_memory_predict(const mus_memory *m, const uint8_t *ctx, int n, float *dist);
