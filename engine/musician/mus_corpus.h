/* mus_corpus.h: reads any folder of Standard MIDI Files (with optional chart sidecars) into songs
 * on the musician's grid: each part's tokens per step, what each part played as a performer would
 * be heard, and the chart's chords per step. Parts are recognised by track name, then channel
 * (drums on 10), then General MIDI program, then register and polyphony; everything skipped is
 * reported with its reason. Not real-time. */
#pragma once

#include "engine/musician/mus_vocab.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { MUS_SPLIT_TRAIN = 0, MUS_SPLIT_VALID, MUS_SPLIT_TEST, MUS_NSPLITS };

typedef struct mus_song {
    char id[128];
    char *path;
    int split;               /* MUS_SPLIT_* */
    int style;               /* style id (0: free) */
    int beats_per_bar;
    int swing;               /* 1: swung or triplet feel (read through the swing map) */
    double tempo;            /* beats per minute at the start */
    int nsteps;
    uint8_t present;         /* bit (1 << MUS part): the part has notes */
    mus_frame *frame;        /* [nsteps] each part's tokens */
    mus_hsum *hsum;          /* [nsteps][MUS_NPARTS] each part as a performer would be heard */
    int8_t *chart_root;      /* [nsteps] root of the chart's chord (-1: none); NULL: no chart */
    uint16_t *chart_pcs;     /* [nsteps] its pitch classes */
    int8_t *key_tonic;       /* [nsteps] the chart's key (NULL: no chart) */
    uint8_t *key_mode;
    /* the corpus's own note-in-chord counts (raw onsets against the chart) */
    int onsets[MUS_NPARTS], in_chord[MUS_NPARTS];
    int tracks_skipped;
} mus_song;

typedef struct mus_corpus_opts {
    int max_songs;           /* 0: all; else that many files spread evenly over the sorted list */
    int splits;              /* bit (1 << MUS_SPLIT_*) of the splits to load; 0: all */
    int quiet;               /* no per-file lines in the report, only the summary */
} mus_corpus_opts;

typedef struct mus_corpus {
    mus_song *songs;
    int n;
    long files_seen, files_skipped, tracks_skipped;
    long steps[MUS_NSPLITS];
    int songs_in[MUS_NSPLITS];
} mus_corpus;

/* Reads one MIDI file (chart_path may be NULL) into a song; 0, or -1 with one sentence in why
 * (unreadable or damaged file, no band part, ...). Track-level skips go to report (may be NULL). */
int mus_song_read(const char *mid_path, const char *chart_path, mus_song *song, FILE *report,
                  char *why, size_t whylen);

/* Frees a song's arrays. */
void mus_song_free(mus_song *s);

/* Reads every .mid/.midi/.smf file under dir (recursively, in sorted order; max_songs takes that
 * many spread evenly over them); a file's chart is
 * FILE.chart beside it. The split of a song comes from its chart, else a train/valid/test folder
 * in its path, else a hash of its name (8:1:1). Writes per-file skips and a summary to report
 * (may be NULL). 0, or -1 with one sentence in err when the folder cannot be read or holds no
 * usable song. */
int mus_corpus_load(const char *dir, const mus_corpus_opts *o, mus_corpus *c, FILE *report,
                    char *err, size_t errlen);

/* Frees all songs. */
void mus_corpus_free(mus_corpus *c);

/* The swing map: a beat position as played (swung eighths: off-beats at 2/3) to the straight grid
 * it is written on, and back with a swing amount 0 (straight) .. 1 (triplet). */
double mus_unswing(double beat);
double mus_swing(double beat, double amount);
