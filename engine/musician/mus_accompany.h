/* mus_accompany.h: the trained musician as a behaviour, in the modes "accompany",
 * "call-and-response" and "duet" (bm_behaviour_ops.set_mode switches between them live; the model,
 * its state and the groove go on): it plays bass, drums, comping and lead with whatever the
 * performer plays, its lead steered by the mode (engine/musician/mus_lead.h).
 * It runs the model on its own 4-steps-per-beat grid whatever the engine's grid is, reads the live
 * controls every step, and follows the part the performer covers (or guesses it from what they
 * play: chords, a bass line or a melody). */
#pragma once

#include "engine/behaviour.h"
#include "engine/musician/mus_band.h"

#include <stddef.h>

/* Creates the behaviour around a model file (NULL: the default model, mus_model_default_path);
 * NULL with one sentence in err when the model is missing or unusable. Not real-time. */
bm_behaviour *behaviour_accompany_create(const char *model_path, char *err, size_t errlen);

/* Sets the tune's chord chart (chords per beat, as mus_chart reads them; NULL: none): the band
 * follows it. The chart is copied. Not real-time. 0 or -1 (out of memory). */
struct mus_chart;
int behaviour_accompany_set_chart(bm_behaviour *b, const struct mus_chart *chart);

/* Hears a phrase of performer events as if just played, the band resting (behaviour_prime). */
int behaviour_accompany_prime(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *phrase, int n);

/* The musician inside (for evaluation and tests). */
mus_band *behaviour_accompany_band(bm_behaviour *b);

/* Its lead's mode and state: answers given, answers that yielded (for evaluation and tests). */
struct mus_lead;
const struct mus_lead *behaviour_accompany_lead(bm_behaviour *b);
