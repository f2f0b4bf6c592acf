/* mus_harmony.h: a running harmony estimate from what the performer plays, one grid step at a
 * time: decaying pitch-class profiles (about a beat, and about eight bars), the lowest notes, the
 * chord that best explains the recent notes and the key (Krumhansl-Kessler profiles). The same
 * code runs in training and live, so the model learns from exactly the estimate it will get.
 * Real-time safe: fixed-size state, no allocation. Replaceable: the model sees only
 * mus_harmony_features(). */
#pragma once

#include "engine/musician/mus_vocab.h"

#define MUS_HARMONY_FEATURES 60

typedef struct mus_harmony {
    float chroma_short[12];  /* half-life one beat */
    float chroma_long[12];   /* half-life eight bars of 4/4 */
    float low[12];           /* lowest sounding note, half-life two beats */
    int chord;               /* estimated chord id (MUS_CHORD_NONE: nothing heard) */
    int key_tonic, key_mode; /* estimated key (mode 0 major, 1 minor); tonic -1: none yet */
    int steps_since_key;     /* steps since the key estimate was last computed */
} mus_harmony;

/* Forgets everything heard. */
void mus_harmony_reset(mus_harmony *h);

/* Hears one step of the performer. */
void mus_harmony_update(mus_harmony *h, const mus_hsum *heard);

/* Writes the MUS_HARMONY_FEATURES inputs the model sees. */
void mus_harmony_features(const mus_harmony *h, float *out);

/* Transposes the state by k semitones (training's augmentation keeps states consistent). */
void mus_harmony_transpose(mus_harmony *h, int k);
