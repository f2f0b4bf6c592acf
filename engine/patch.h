/* patch.h: a patch is a Lua file that declares a whole performance setup: the band's mode, tempo
 * and meter, the tempo source, which part the performer plays, each part's instrument, MIDI
 * channel, gain and pan, and the JACK and hardware-MIDI connections. It runs in a sandbox and is
 * validated field by field: a typo is an error that names the field, never a silent default. */
#pragma once

#include "engine/engine.h"

#define BM_PATCH_MAX_CONNECT 8

typedef struct bm_patch {
    char name[128];
    char path[1024];                  /* "" for the built-in default */
    bm_engine_config cfg;
    char script[1024];                /* behaviour script, relative paths resolved against the patch */
    int audio_inputs;                 /* 0, 1 or 2 */
    char connect_audio_in[2][256];
    char connect_audio_out[2][256];
    char connect_midi_in[BM_PATCH_MAX_CONNECT][256];
    char connect_midi_out[BM_PATCH_MAX_CONNECT][256];
    int n_midi_in, n_midi_out;
    char pm_input[256];               /* PortMidi device name substring, "" for none */
    char pm_output[256];
    int osc_port;                     /* 0: the default */
} bm_patch;

/* The built-in default patch: echo mode at 120 BPM, classic instruments, no connections. */
void patch_defaults(bm_patch *p);

/* Loads a patch file over the defaults; 0, or -1 with one sentence in err. */
int patch_load(const char *path, bm_patch *p, char *err, size_t errlen);
