/* voice_kit.h: a small decoder with made-up weights and voices on it, for tests of the neural
 * instrument that must not depend on the shipped, trained voices. */
#pragma once

#include "engine/voice/model.h"
#include "engine/voice/voicedef.h"

typedef struct voice_kit {
    voice_model vm;
    voice_def v[2]; /* "pad" (sustained) and "pluck" (decaying) */
} voice_kit;

/* Makes the decoder and the two voices (fails the test on error). */
void voice_kit_make(voice_kit *k);

/* Writes decoder.bmnn, pad.bmnn and pluck.bmnn into dir (created) and points BANDMATE_VOICES at it. */
void voice_kit_install(voice_kit *k, const char *dir);
