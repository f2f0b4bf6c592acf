/* wav_in.h: the performer's recorded audio for an offline render: one mono sound file read whole,
 * with one clear sentence for everything that can be wrong with it. Not real-time. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BM_WAV_IN_MAX_SECONDS 1800.0

typedef struct bm_wav_in {
    float *samples;
    int64_t frames;
    double sample_rate;
} bm_wav_in;

/* Reads path; want_rate 0 accepts any rate from 8000 to 384000 Hz, otherwise the file must have
 * it. 0, or -1 with one sentence in err (missing, unreadable, not audio, empty, not mono, wrong
 * rate, longer than 30 minutes). */
int wav_in_load(const char *path, double want_rate, bm_wav_in *out, char *err, size_t errlen);

/* Frees the samples. */
void wav_in_free(bm_wav_in *w);
