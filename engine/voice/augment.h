/* augment.h: timbre augmentation for training: a note (and the context frames its latent is
 * pooled from) heard through a random filter — odd against even harmonics, a spectral tilt, a
 * ripple fixed in frequency like a formant, a noise tilt and level — becomes an instrument the
 * data set does not have. Training on such notes teaches the encoder to describe a spectrum and
 * the decoder to follow the description, rather than to name one of the 27 instruments, which is
 * what placing a new instrument or a performer's recording needs. Not real-time. */
#pragma once

#include "engine/voice/features.h"
#include "nn/nn_rng.h"

typedef struct voice_timbre_aug {
    int on;
    float even_db;      /* added to even harmonics */
    float tilt_db_oct;  /* per octave of harmonic number */
    float ripple_db, ripple_oct, ripple_phase; /* a sine over log frequency */
    float noise_tilt_db_oct, noise_db;
} voice_timbre_aug;

/* A random filter of the given strength (1: the training default; 0: none). */
void voice_aug_random(nn_rng *r, float strength, voice_timbre_aug *a);

/* in through the filter into out; the loudness follows the change of A-weighted power.
 * in and out may be the same frame. */
void voice_aug_frame(const voice_frame *in, voice_frame *out, const voice_timbre_aug *a, int sample_rate);
