/* perfgen.h: synthetic performances for benchmarks and tests: a melody over block chords in a key,
 * with a chosen density, written as a MIDI file with a track named "human". Deterministic per seed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct bm_perfgen {
    double bpm;           /* tempo */
    double seconds;       /* length */
    int notes_per_beat;   /* melody density: 1..8 */
    int chords;           /* also play block chords on every beat (a busy pianist) */
    uint64_t seed;
} bm_perfgen;

/* Writes the performance; 0, or -1 with one sentence in err. Returns the note count in *notes. */
int perfgen_write(const bm_perfgen *g, const char *path, int *notes, char *err, size_t errlen);
