/* eval_model.h: how well the trained decoder resynthesises held-out notes (docs/voices.md): each
 * held-out note is decoded from its own f0, loudness and time since onset with a latent placed by
 * the encoder, resynthesised, and compared with the original audio (multi-scale spectral
 * distance; f0 and loudness of the resynthesis re-analysed) beside the per-instrument
 * average-spectrum baseline. Offline. */
#pragma once

#include "engine/voice/evaluate.h"
#include "engine/voice/model.h"

#include <stddef.h>

/* Per-instrument figures (means over the evaluated notes). */
typedef struct voice_model_eval {
    char instrument[VOICE_INSTRUMENT_NAME];
    int held_out;              /* the instrument was never trained on */
    size_t notes;
    /* the voice: the instrument's path in the map (up to four registers) placed by the encoder
     * from its training notes (a held-out instrument: from its notes at every other pitch) */
    double voice_msd, voice_f0_cents, voice_loud_db;
    double point_msd;          /* the same with one point for the whole instrument */
    /* the autoencoder: the note's own frames placed by the encoder */
    double self_msd, self_f0_cents, self_loud_db;
    double base_msd, base_f0_cents, base_loud_db;
} voice_model_eval;

/* Evaluates the held-out notes of one feature file (at most max_notes, spread evenly; 0: all).
 * 0, or -1 with one sentence in err. */
int voice_model_eval_file(const voice_model *vm, const char *path, size_t max_notes, voice_model_eval *r,
                          char *err, size_t errlen);
