/* session_stats.h: what happened in a recorded or rendered session, read back from its MIDI file
 * (one named track per part): the notes of each part, the tempo the band kept, how soon the band
 * reacted to the performer's notes and answered their phrases, and how often the band's pitched
 * notes sat in the performer's chords. The one place these are measured: `bandmate render`'s
 * summary, `bandmate eval` and `bandmate eval together` all read sessions through it. Not real-time. */
#pragma once

#include "engine/event.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How the session was played, for telling which band notes could have heard a performer's note. */
typedef struct bm_session_timing {
    double sample_rate;       /* of the session */
    int block;                /* period in frames */
    double lookahead_ms;      /* the musician plans a step this long before it starts */
    int steps_per_beat;       /* the musician's grid (4) */
    double phrase_rest_beats; /* a rest at least this long ends a performer phrase (default 1) */
} bm_session_timing;

/* One latency distribution, in milliseconds. */
typedef struct bm_latency {
    int n;
    double median, p90, max;
} bm_latency;

typedef struct bm_session_stats {
    int notes[BM_NUM_PARTS];  /* note-ons per part, the performer's (human) first */
    double seconds;           /* from the start to the last note-off */
    double bpm_start, bpm_end;/* the band's tempo at the first and the last note */
    /* from a performer's note-on to the first band note planned after the musician could hear it
     * (a period later); band notes already planned before then cannot be a reaction */
    bm_latency reaction;
    /* from a phrase's end (the release of its last note, followed by a rest of phrase_rest_beats
     * or the end) to the band lead's first note-on after it, before the performer plays again */
    int phrases, answered;
    bm_latency answer;
} bm_session_stats;

/* The timing bandmate render and run use by default: 48 kHz, 256 frames, 30 ms, 4 steps a beat. */
void session_timing_defaults(bm_session_timing *t);

/* Reads the session file and measures it; 0, or -1 with one sentence in err. */
int session_stats_read(const char *session_mid, const bm_session_timing *t, bm_session_stats *out,
                       char *err, size_t errlen);

/* The same, and every reaction and answer latency (ms) into react and answer (at most maxr and
 * maxa; the counts in *nreact and *nanswer; either array may be NULL). */
int session_latencies(const char *session_mid, const bm_session_timing *t, bm_session_stats *out, double *react,
                      int maxr, int *nreact, double *answer, int maxa, int *nanswer, char *err, size_t errlen);

/* Prints the summary a performer reads after a render, a few lines, each starting with indent. */
void session_stats_print(const bm_session_stats *s, FILE *f, const char *indent);

/* The note-in-chord ratio of the band's pitched notes (bass, comping, lead) in the session file
 * against known chords: chord[b] is the pitch-class set (bit 1 << pc) of beat b of the session, for
 * nbeats beats. Fills ratio[b] (-1 where the band played no pitched note on beat b) and returns the
 * ratio over all those beats in *overall; 0, or -1 with one sentence in err. */
int session_chord_ratio(const char *session_mid, const uint16_t *chord, int nbeats, double *ratio,
                        double *overall, char *err, size_t errlen);

/* A percentile (0..100) of n values, sorting them in place; 0 when n is 0. */
double session_percentile(double *v, int n, double p);

/* The median, 90th percentile and maximum of n values (sorted in place). */
bm_latency session_latency(double *v, int n);
