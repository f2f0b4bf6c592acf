/* mus_features.h: the model's inputs for one grid step, built the same way in training, evaluation
 * and live: embedding ids (position in the bar, style, the bass and lead tokens and the last
 * comping chord of the previous step, the performer's role) and dense features (the previous
 * step's comping rhythm and drums, the performer's previous step, the harmony estimate, the chord
 * chart when given, density and feel). Real-time safe. */
#pragma once

#include "engine/musician/mus_harmony.h"
#include "engine/musician/mus_vocab.h"

enum { MUS_ID_POSITION = 0, MUS_ID_STYLE, MUS_ID_BASS, MUS_ID_LEAD, MUS_ID_CHORD, MUS_ID_ROLE, MUS_N_IDS };

#define MUS_HUMAN_FEATURES 45
#define MUS_CHART_FEATURES 25
#define MUS_DENSE (MUS_COMP_RHYTHM_VOCAB + MUS_DRUM_UNITS + MUS_HUMAN_FEATURES + MUS_HARMONY_FEATURES + \
                   MUS_CHART_FEATURES + 2)

/* Everything the model hears before deciding one step. */
typedef struct mus_step_in {
    int beats_per_bar, step_in_bar;
    int style;                  /* 0: free */
    int role;                   /* MUS_ROLE_* */
    float density;              /* 0..1 (0.5: as the corpus plays) */
    int swing;                  /* 1: swung or triplet feel */
    mus_frame last;             /* every part's tokens in the previous step (the performer's part
                                   as heard) */
    int last_chord;             /* the last comping chord (MUS_CHORD_NONE: none yet) */
    mus_hsum human;             /* the performer's previous step */
    const mus_harmony *harmony; /* after hearing the previous step */
    int chart_root;             /* the chart's chord at this step, -1 when no chart is given */
    uint16_t chart_pcs;
} mus_step_in;

/* Vocabulary sizes and widths of the embedding inputs, in MUS_ID_* order. */
extern const int mus_id_vocab[MUS_N_IDS];
extern const int mus_id_dim[MUS_N_IDS];

/* Writes MUS_N_IDS ids and MUS_DENSE floats. */
void mus_features(const mus_step_in *in, int *ids, float *dense);
