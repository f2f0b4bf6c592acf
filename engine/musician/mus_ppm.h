/* mus_ppm.h: the evaluation baseline: a variable-order Markov model (prediction by partial match
 * with Witten-Bell blending of orders 0..N down to a base distribution) of one part's tokens,
 * trained on the same songs as the musician. The context of order k is the position in the bar
 * and the part's own last k tokens. Not real-time; memory grows with the training data. */
#pragma once

#include "engine/musician/mus_corpus.h"

#include <stdint.h>

#define MUS_PPM_MAX_ORDER 8

/* The heads the baseline models: bass, drums, comping (rhythm and chord as one symbol), lead. */
enum { MUS_PPM_BASS = 0, MUS_PPM_DRUMS, MUS_PPM_COMP, MUS_PPM_LEAD, MUS_PPM_NHEADS };

typedef struct mus_ppm mus_ppm;

/* A baseline for one head up to max_order (<= MUS_PPM_MAX_ORDER); NULL when out of memory. */
mus_ppm *mus_ppm_create(int head, int max_order);
void mus_ppm_free(mus_ppm *p);

/* Counts one song (skipped when the song lacks the part); 0 or -1 (out of memory). */
int mus_ppm_train(mus_ppm *p, const mus_song *s);

/* Adds the song's negative log-likelihood (nats) of every step under blending up to each order
 * k = 0..max_order into nll[k], and the steps scored to *steps. */
void mus_ppm_score(const mus_ppm *p, const mus_song *s, double *nll, long *steps);

/* The head's symbol for a frame (what both the baseline and the musician are scored on). */
uint64_t mus_ppm_symbol(int head, const mus_frame *f);

/* Whether a song has the head's part (only then are its steps scored). */
int mus_ppm_has_part(int head, const mus_song *s);

/* Distinct contexts stored (for the report). */
long mus_ppm_contexts(const mus_ppm *p);
