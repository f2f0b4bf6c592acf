/* test_musician.h: helpers shared by the musician's tests: tiny MIDI songs and corpora written on
 * the fly, and a tiny trained or random model. */
#pragma once

#include "engine/musician/mus_model.h"

#include <stdint.h>

/* A note for a fixture track: start and length in 16th-note steps (length 0: a 2-tick click). */
typedef struct tm_note {
    int step, len, pitch, vel;
} tm_note;

/* A track of a fixture song: name (NULL: unnamed), channel (0-based), program (-1: none). */
typedef struct tm_track {
    const char *name;
    int channel, program;
    const tm_note *notes;
    int n;
} tm_track;

/* Writes a format-1 SMF (96 ticks per quarter) with the tracks; fails the test on error. */
void tm_write_song(const char *path, const tm_track *tracks, int ntracks, int beats_per_bar);

/* Writes a chart sidecar for a song of `bars` bars of 4/4 on one chord per bar from roots[]
 * (major triads), split "train" / "valid" / "test", genre. */
void tm_write_chart(const char *path, const char *id, const char *split, const char *genre, int bars,
                    const int *roots);

/* Builds a tiny corpus folder: n songs of a two-bar groove (bass, drums, comping, lead) in
 * different keys, each with its chart. Returns dir. */
const char *tm_tiny_corpus(const char *dir, int n);

/* A randomly initialised model (layers x hidden), saved at path and returned (caller frees). */
mus_model *tm_random_model(const char *path, int layers, int hidden);
