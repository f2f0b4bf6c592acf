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

/* One generated note, in seconds. */
typedef struct bm_gen_note {
    double on, off;
    int note, velocity;
} bm_gen_note;

/* Writes notes (in seconds, any order) as a MIDI file with a track named "human" at a fixed
 * 60 BPM (a tick is a 960th of a second, so the times are kept whatever tempo they follow);
 * 0, or -1 with one sentence in err. */
int perfgen_write_notes(const bm_gen_note *notes, int n, const char *path, char *err, size_t errlen);

/* The tempo-following line: a melody whose tempo goes from bpm0 to bpm1 linearly over `beats`
 * beats, or (jump_at > 0) holds bpm0 and jumps to bpm1 at beat jump_at; quarters, eighths and a
 * rest in a pattern of eight beats, accents on the bar, up to jitter_ms of human timing. The first
 * beat is at 0.5 s. Fills beat_s and beat_bpm (beats + 1 entries each) and up to max notes;
 * returns the note count. */
int perfgen_tempo_line(double bpm0, double bpm1, int beats, int jump_at, double jitter_ms, uint64_t seed,
                       double *beat_s, double *beat_bpm, bm_gen_note *notes, int max);

/* Call and response: `phrases` phrases of 2 to 12 notes (eighths, quarters, a dotted quarter now
 * and then, on a major scale), each followed by a rest of rest_beats, at bpm. Returns the note count
 * written to notes (at most max). */
int perfgen_phrases(double bpm, int phrases, double rest_beats, uint64_t seed, bm_gen_note *notes, int max);

/* A key change: block chords on every beat (I vi IV V, ii V I I) under a melody of chord and scale
 * tones, in C major, then from beat change_beat in the key `new_key` semitones up. Fills chord[b]
 * (the pitch-class set, bit 1 << pc, of beat b) for b < beats; returns the note count (at most max). */
int perfgen_key_change(double bpm, int beats, int change_beat, int new_key, uint64_t seed, uint16_t *chord,
                       bm_gen_note *notes, int max);
