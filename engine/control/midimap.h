/* midimap.h: MIDI control changes mapped to parameters (by parameter id, so mappings outlive a
 * script reload), and MIDI learn: the next controller moved is mapped to the parameter waiting.
 * Control thread only. */
#pragma once

#include "engine/control/params.h"

#define MIDIMAP_MAX 128

/* The controller that picks the band's mode unless a patch maps it elsewhere (any channel): its
 * value range is split evenly between the modes, in bm_mode_names order (docs/modes.md). */
#define BM_MODE_CC 20

typedef struct midimap_entry {
    char param[BM_PARAM_ID_MAX];
    int channel;            /* 0..15, or -1 for any channel */
    int cc;                 /* 0..127 */
} midimap_entry;

typedef struct bm_midimap {
    midimap_entry m[MIDIMAP_MAX];
    int n;
    char learning[BM_PARAM_ID_MAX]; /* "" when not learning */
} bm_midimap;

/* Empty. */
void midimap_init(bm_midimap *mm);

/* Maps a controller to a parameter (replacing the parameter's previous mapping and any other use
 * of the same controller); 0, or -1 with err. */
int midimap_set(bm_midimap *mm, const char *param, int channel, int cc, char *err, size_t errlen);

/* Removes a parameter's mapping; 0, or -1 when it had none. */
int midimap_remove(bm_midimap *mm, const char *param);

/* The parameter a controller drives, or NULL. */
const char *midimap_lookup(const bm_midimap *mm, int channel, int cc);

/* Starts learning for a parameter (a second call replaces the first). */
void midimap_learn(bm_midimap *mm, const char *param);

/* A controller moved while learning: maps it and returns 1 (param copied to out); 0 otherwise. */
int midimap_take_learn(bm_midimap *mm, int channel, int cc, char *out, size_t cap);
