/* mus_chart.h: reads the chord-chart sidecar of a song (`ID.chart`, docs/corpus.md): meter, style,
 * split, keys and chords by beat. Strict: a damaged chart is refused with one sentence. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct mus_chart_chord {
    double beat;
    int root;          /* pitch class, -1 for "no chord" */
    uint16_t pcs;      /* 12-bit set */
} mus_chart_chord;

typedef struct mus_chart_key {
    double beat;
    int tonic;         /* pitch class */
    int mode;          /* 0 major, 1 minor, 2 dorian, 3 mixolydian, 4 aeolian, 5 phrygian, 6 lydian */
} mus_chart_key;

typedef struct mus_chart {
    char id[96];
    char genre[32];    /* the style line's genre ("" when absent) */
    char family[64];
    char split[16];    /* "train", "valid", "test" or "" */
    int beats_per_bar;
    double tempo;
    int beats;
    int nchords, nkeys;
    mus_chart_chord *chords;
    mus_chart_key *keys;
} mus_chart;

/* Reads a chart file; 0, or -1 with one sentence in err (the chart is then freed and zeroed). */
int mus_chart_read(const char *path, mus_chart *c, char *err, size_t errlen);

/* Frees a chart's arrays. */
void mus_chart_free(mus_chart *c);

/* The chord sounding at a beat (its index, or -1 before the first). */
int mus_chart_chord_at(const mus_chart *c, double beat);

/* The scale of a key mode as a 12-bit set relative to the tonic. */
uint16_t mus_mode_scale(int mode);

/* The mode index of a name ("major", "minor", ...), or -1. */
int mus_mode_from_name(const char *name);
