/* test_listen_util.h: material and scoring for the listening tests: synthetic and rendered
 * performances with known notes, the analysers run over them, precision/recall/latency. */
#pragma once

#include "engine/listen/audio_notes.h"

#include <stdint.h>

typedef struct lt_note {
    int64_t on, off;      /* frames */
    int note, velocity;
} lt_note;

typedef struct lt_found {
    int64_t frame, detected;
    int note, velocity;
} lt_found;

typedef struct lt_score {
    int truth, found, matched;
    double precision, recall, f1;
    double latency_med_ms, latency_p95_ms;     /* detection after the true onset */
    double stamp_med_ms, stamp_p95_ms;         /* |stamped - true onset| */
    double stamp_bias_ms;                      /* median of stamped - true */
} lt_score;

/* A monophonic line of harmonic tones (a few partials, 8 ms attack, 30 ms release, optional
 * vibrato in cents, optional noise) into a new buffer; notes must not overlap. */
float *lt_synth_line(const lt_note *notes, int n, double sr, int64_t frames, double vibrato_cents,
                     double noise, uint64_t seed);

/* Writes a MIDI file of a monophonic line (program, tempo) and its notes' times in frames. */
void lt_write_line_midi(const char *path, const lt_note *notes_beats, int n, int program, double bpm);

/* Renders a MIDI file with fluidsynth to a mono WAV at sr (skips the test when fluidsynth or the
 * soundfont is missing). */
void lt_render_fluidsynth(const char *mid, const char *wav, int sr);

/* Reads a WAV (fails the test on error); returns the samples and sets frames and rate. */
float *lt_read_wav(const char *path, int64_t *frames, double *sr);

/* Reads the notes of a MIDI file into frames at sr; returns how many (at most max). */
int lt_midi_notes(const char *path, double sr, lt_note *out, int max);

/* Runs the mono analyser over audio in blocks; fills found (note-ons only); returns how many. */
int lt_run_audio_notes(const float *x, int64_t frames, double sr, uint32_t block,
                       const bm_audio_notes_config *cfg, lt_found *found, int max);

/* Matches found note-ons to true ones (same note, onset within tol_ms) and scores them. */
lt_score lt_score_notes(const lt_note *truth, int nt, const lt_found *found, int nf, double sr, double tol_ms);

/* A percentile (0..100) of n values (sorts a copy). */
double lt_percentile(const double *v, int n, double p);

/* 1 when BM_LISTEN_REPORT is set: tests print their figures. */
int lt_report(void);

/* Reads one channel of a sound file (fails the test on error). */
float *lt_read_wav_channel(const char *path, int channel, int64_t *frames, double *sr);
