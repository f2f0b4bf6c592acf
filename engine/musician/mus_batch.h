/* mus_batch.h: training sequences from a corpus: B parallel streams that walk through songs one
 * grid step at a time (truncated back-propagation through time carries the state between batches
 * of T steps), each song visit with its own random transposition, performer role (its part's head
 * masked where the band never plays it), chart given or dropped, style given or dropped, a
 * random starting bar, and in half the visits the band's own previous notes partly replaced by
 * mistakes (so that the model follows the performer rather than trusting what it sampled). The inputs are built by mus_features from the same harmony estimate and
 * performer summaries that run live. Not real-time. */
#pragma once

#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_model.h"
#include "nn/nn_rng.h"
#include "nn/nn_seqnet.h"

typedef struct mus_batch_opts {
    int T, B;
    int augment;          /* 1: random transposition, role, chart, style and start; 0: validation
                             (one pass, a fixed role per song, no transposition, no chart, from the
                             start); 2: endless like 1 but plain (no performer, no transposition,
                             no chart, whole songs: memorising a few songs) */
    int max_steps_per_song; /* 0: whole songs */
    float p_chart;        /* chance a song visit is given its chart (default 0.35) */
    float p_style_drop;   /* chance the style is hidden (default 0.2) */
    uint64_t seed;
} mus_batch_opts;

typedef struct mus_batcher mus_batcher;

/* Streams over songs[idx[0..n)] of the corpus (the model gives the density table). NULL when
 * out of memory. */
mus_batcher *mus_batcher_create(const mus_corpus *c, const int *idx, int n, const mus_model *m,
                                const mus_batch_opts *o);
void mus_batcher_free(mus_batcher *b);

/* Fills the next batch (time-major [T, B]); returns the number of real (unmasked) steps in it,
 * 0 when a non-augmenting batcher has been through all its songs. */
int mus_batcher_next(mus_batcher *b, nn_seqnet_batch *out);

/* Starts over from the first song (validation). */
void mus_batcher_rewind(mus_batcher *b);

/* The band's onsets per step in each bar of a song (drum pieces, bass onsets and comping hits),
 * into rate[nbars]; returns nbars. */
int mus_song_bar_rates(const mus_song *s, float *rate, int cap);

/* Fills the model's density table from the bar rates of the given songs. */
void mus_density_fit(mus_model *m, const mus_corpus *c, const int *idx, int n);

/* Token and summary transposition by k semitones (what augmentation applies). */
mus_frame mus_frame_transpose(mus_frame f, int k);
mus_hsum mus_hsum_transpose(mus_hsum h, int k);
