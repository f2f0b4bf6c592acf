/* mus_eval.h: evaluates the musician on the held-out songs of a corpus, always online (the model
 * hears only the past): per-step negative log-likelihood of each head against a PPM baseline;
 * note-in-chord ratios of the generated bass and comping when the performer plays the chords, the
 * melody only, or the melody with the chart given, beside the corpus's own; rhythm (onsets on the
 * metric positions the style uses) and diversity (distinct bars per 32); beats to recover after an
 * abrupt key change; the latency of one musician step and, through the offline engine, from a
 * performer's note to the first band note that can react to it. Not real-time. */
#pragma once

#include <stdint.h>
#include <stdio.h>

typedef struct mus_eval_opts {
    const char *corpus;
    const char *model;        /* NULL: the default model */
    const char *performance;  /* a MIDI file for the render latency (NULL: skip that part) */
    int max_songs;            /* test songs for the likelihoods (0: all) */
    int gen_songs;            /* test songs for the generation tasks */
    int gen_steps;            /* steps of each */
    int ppm_order;            /* highest PPM order tried (1..8) */
    int skip_ppm;             /* likelihoods of the model only */
    uint64_t seed;
    float temperature, top_p; /* sampling for the generation tasks (default: the live defaults, 1 and 0.95) */
    float follow_chords, follow_melody; /* harmony following (negative: the live defaults) */
    int on_valid;             /* measure on the validation songs (for choosing settings) */
    FILE *out;                /* the report (required) */
} mus_eval_opts;

/* The defaults: all test songs, 120 for generation, 1024 steps each, orders up to 8. */
void mus_eval_defaults(mus_eval_opts *o);

/* Runs the evaluation and prints the report; 0, or -1 with one sentence in err. */
int mus_eval_run(const mus_eval_opts *o, char *err, size_t errlen);
