/* evaluate.h: how close a set of frames (an analysis, a model's output, a baseline) resynthesises
 * to the original audio, and the checks and figures of the voice data set
 * (docs/voices-data.md). Offline. */
#pragma once

#include "engine/voice/analysis.h"
#include "engine/voice/features.h"

#include <stddef.h>
#include <stdio.h>

typedef struct voice_eval_result {
    double msd_db;       /* multi-scale log-spectral distance, original vs resynthesis (dB) */
    double f0_cents;     /* median |f0 error| of the resynthesis re-analysed, over frames voiced
                          * in both (cents) */
    double loud_db;      /* mean |loudness error| of the resynthesis re-analysed, over frames
                          * within 40 dB of the original's loudest (dB) */
    size_t f0_frames, loud_frames;
} voice_eval_result;

/* Resynthesises test (ntest frames) with voice_resynth, measures its distance to the original x
 * (n samples at the analyser's rate), re-analyses it with o and compares its f0 and loudness
 * with ref (the analysis of x). 0, or -1 with err. */
int voice_eval_frames(voice_analyser *a, const float *x, size_t n, const voice_frame *ref,
                      size_t nref, const voice_frame *test, size_t ntest,
                      const voice_analysis_opts *o, voice_eval_result *r, char *err, size_t errlen);

/* Per-instrument figures of one data-set feature file. */
typedef struct voice_eval_summary {
    char instrument[VOICE_INSTRUMENT_NAME];
    int held_out;        /* the whole instrument is held out */
    size_t notes;        /* held-out notes evaluated */
    double resynth_msd, resynth_f0_cents, resynth_loud_db; /* means over the notes */
    double baseline_msd, baseline_f0_cents, baseline_loud_db;
    size_t baseline_frames; /* frames the average spectrum was taken over */
} voice_eval_summary;

/* Evaluates the held-out notes of a feature file (at most max_notes, spread evenly; 0 for all):
 * the resynthesis of their own analysis, and the instrument's average-spectrum baseline (taken
 * over its training notes, or over all its notes for a held-out instrument) driven by each
 * note's f0 and loudness. 0, or -1 with err. */
int voice_eval_file(const char *path, size_t max_notes, voice_eval_summary *s, char *err,
                    size_t errlen);

/* Checks the notes of a feature file (levels, clipping, silence, how well f0 follows the MIDI
 * pitch with and without the pitch hint) and prints one line for it to f (with a header line
 * first when header). 0, or -1 with err. */
int voice_report_file(const char *path, FILE *f, int header, char *err, size_t errlen);
