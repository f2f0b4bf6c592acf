/* chroma.h: polyphonic audio (a strummed guitar, a piano) for harmony and timing: onsets (aubio)
 * and a 12-bin chroma (aubio's phase vocoder, i.e. FFTW, folded onto pitch classes). Created off
 * the process thread; chroma_process is called from the process thread: no allocation, no locks. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct bm_chroma bm_chroma;

typedef struct bm_chroma_config {
    double sample_rate;
    float silence_db;          /* quieter hops give no chroma and no onsets */
    float onset_threshold;     /* aubio onset threshold */
} bm_chroma_config;

/* What one call found. */
typedef struct bm_chroma_out {
    int n_onsets;
    int64_t onset_frame[8];     /* estimated true onset frames */
    float onset_db[8];          /* level just after each onset */
    int64_t onset_detected[8];  /* when the analysis knew */
    int new_chroma;             /* chroma was updated (one or more frames) */
    float chroma[12];           /* the latest chroma frame (largest bin 1; zeros in silence) */
    float db;                   /* level of the latest hop */
    int active;                 /* the level is above the gate */
} bm_chroma_out;

/* Creates the analyser; NULL with one sentence in err. */
bm_chroma *chroma_create(const bm_chroma_config *cfg, char *err, size_t errlen);

/* Frees it (not real-time). */
void chroma_destroy(bm_chroma *c);

/* Forgets the past (not real-time). */
void chroma_reset(bm_chroma *c);

/* Analyses n frames starting at frame into out. Process thread. */
void chroma_process(bm_chroma *c, const float *in, uint32_t n, int64_t frame, bm_chroma_out *out);

/* The chroma window and hop, and the onset hop, in frames. */
uint32_t chroma_window(const bm_chroma *c);
uint32_t chroma_hop(const bm_chroma *c);
uint32_t chroma_onset_hop(const bm_chroma *c);
