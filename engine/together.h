/* together.h: how well bandmate plays together with a performer, end to end through the offline
 * engine (`bandmate eval together`): how soon the band answers a phrase and reacts to a note, how
 * it follows a key change and a tempo drift. The performances are generated (engine/perfgen.h);
 * the sessions are read back by engine/session_stats.h. Not real-time. */
#pragma once

#include "engine/offline.h"
#include "engine/session_stats.h"

#include <stdio.h>

/* The modes bandmate plays with a performer, in the order the demo and the evaluation show them,
 * NULL-terminated: the one list to extend when a mode is added. */
extern const char *const together_modes[];

/* The band's beat against the performer's true beats over a rendered performance. */
typedef struct bm_follow_result {
    double mean_abs_ms, p95_ms, max_ms; /* from beat `settle` on */
    int recover_beats;                  /* after jump_at: beats until four in a row within 30 ms (-1: never) */
    int nbeats;
    double err_ms[1024];                /* per true beat: the band's beat minus the performer's */
} bm_follow_result;

/* Renders (cfg, o as render_file takes them; o's on_period is used here) and measures the band's
 * beat position at each of the performer's nbeats true beats (beat_s, beat_bpm); jump_at > 0 also
 * counts the beats to recover after it. 0, or -1 with one sentence in err. */
int together_follow(const bm_engine_config *cfg, const bm_render_opts *o, const double *beat_s,
                    const double *beat_bpm, int nbeats, int settle, int jump_at, bm_follow_result *r, char *err,
                    size_t errlen);

typedef struct together_opts {
    int quick;          /* fewer and shorter performances (make bench) */
    const char *mode;   /* one mode only (NULL: every mode of together_modes) */
    uint64_t seed;
    FILE *out;          /* the report */
} together_opts;

/* Runs the measurements and prints the table; 0, or -1 with one sentence in err. */
int together_eval_run(const together_opts *o, char *err, size_t errlen);

/* `bandmate eval together [options]`. */
int together_eval_main(int argc, char **argv);
