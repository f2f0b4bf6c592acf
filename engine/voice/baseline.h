/* baseline.h: the simplest timbre model, against which a learned one is judged: one average
 * harmonic spectrum and one average noise spectrum per instrument, scaled to each frame's own
 * f0 and loudness (docs/voices-data.md). */
#pragma once

#include "engine/voice/features.h"

#include <stddef.h>

typedef struct voice_timbre_avg {
    double harm_sum[VOICE_HARMONICS], noise_sum[VOICE_BANDS];
    size_t harm_n[VOICE_HARMONICS], noise_n[VOICE_BANDS];
    float harm[VOICE_HARMONICS];  /* after finish: mean harmonic amplitude (averaged in dB) of
                                   * frames scaled to a total power of 1 */
    float noise[VOICE_BANDS];     /* after finish: mean noise power per band (in dB), same scale */
    size_t frames;                /* frames averaged */
} voice_timbre_avg;

/* Starts an empty average. */
void voice_timbre_avg_init(voice_timbre_avg *t);

/* Adds a note's frames: those with a pitch and within 30 dB of the note's loudest frame, each
 * normalised to a total power of 1; harmonics and bands above the Nyquist frequency of
 * sample_rate are not counted. Levels are averaged in dB (a geometric mean), so that a few noisy
 * frames do not swamp the rest: a linear mean makes a much weaker baseline. */
void voice_timbre_avg_add(voice_timbre_avg *t, const voice_frame *frames, size_t n, int sample_rate);

/* Turns the sums into the averages. */
void voice_timbre_avg_finish(voice_timbre_avg *t);

/* Frames of the average timbre that follow src's f0 and A-weighted loudness (out has n frames). */
void voice_timbre_avg_frames(const voice_timbre_avg *t, const voice_frame *src, size_t n,
                             int sample_rate, voice_frame *out);

/* A-weighted power (linear, mean square re full scale) of a frame's harmonics and noise bands:
 * what its loudness_db should read, from the features alone. */
double voice_frame_a_power(const voice_frame *f, int sample_rate);
