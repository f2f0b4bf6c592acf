/* song.h: what the band is told about the music: key and scale names, chord symbols, the chord
 * chart (a list of chords with lengths in beats, looping), and phrases primed for the musician.
 * Scripts read them to play along; the band gets the chart (engine_set_chart) and primed phrases
 * (engine_prime) as they are set.
 * Pure data, no I/O. Control thread only. */
#pragma once

#include <stddef.h>

#define BM_SONG_MAX_CHORDS 256
#define BM_SONG_MAX_PRIME 1024
#define BM_CHORD_MAX_TONES 7

typedef struct bm_chord {
    char symbol[16];        /* as written: "Dm7", "G7", "Cmaj7", "F#m7b5", "Bb/D" */
    int root;               /* pitch class 0..11 (C = 0) */
    int bass;               /* pitch class of the bass note (the root unless a slash chord) */
    int tones[BM_CHORD_MAX_TONES]; /* semitones above the root, ascending, tones[0] = 0 */
    int ntones;
    double beats;           /* length in the chart */
} bm_chord;

typedef struct bm_prime_note {
    double beat;            /* start, in beats from the phrase's start */
    double dur;             /* length in beats */
    int note, vel;
} bm_prime_note;

typedef struct bm_song {
    bm_chord chart[BM_SONG_MAX_CHORDS];
    int nchords;
    double chart_beats;     /* total length (the chart loops) */
    double chart_start;     /* the beat where the chart's first chord falls */
    bm_prime_note prime[BM_SONG_MAX_PRIME];
    int nprime;
    char prime_part[16];    /* the part the primed phrase is for */
} bm_song;

/* The names of the keys ("C", "C#", ... "B") and scales ("major", "minor", ...), NULL-terminated. */
extern const char *const bm_key_names[];
extern const char *const bm_scale_names[];

/* The semitone steps of a scale (by index into bm_scale_names); returns how many (at most 12). */
int song_scale_steps(int scale, int *steps);

/* The MIDI note of a scale degree (1 = the root; 8 = the root an octave up; 0 and below go down)
 * in a key and scale, with the root placed in the given octave (4: middle C's octave). */
int song_scale_note(int key, int scale, int degree, int octave);

/* Parses a pitch class name ("C", "F#", "Bb"); the pitch class, or -1. */
int song_pitch_class(const char *name, int *used);

/* Parses a chord symbol into c (beats untouched); 0, or -1 with err. */
int song_parse_chord(const char *symbol, bm_chord *c, char *err, size_t errlen);

/* Empties the chart and the primed phrase. */
void song_clear(bm_song *s);

/* The chord sounding at a beat (the chart loops from chart_start); NULL when the chart is empty. */
const bm_chord *song_chord_at(const bm_song *s, double beat);
