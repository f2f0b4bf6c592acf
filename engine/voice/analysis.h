/* analysis.h: frame-by-frame analysis of a monophonic recording into voice_frame features:
  * f0 and periodicity (aubio yinfast), A-weighted loudness, harmonic amplitudes (a least-squares
 * fit of the window's spectrum at reassigned partial frequencies, FFTW), noise-band energies of
 * the residual, onsets (aubio) and time since onset. Offline: it allocates; not for the process
 * thread. docs/voices-data.md explains every setting. */
#pragma once

#include "engine/voice/features.h"

#include <stddef.h>

enum voice_onset_mode {
    VOICE_ONSETS_DETECT = 0,   /* aubio's onset detector */
    VOICE_ONSETS_AT_START = 1, /* one onset at time 0 (a rendered single note) */
};

typedef struct voice_analysis_opts {
    float f0_hint_hz;      /* the pitch the recording should have (a rendered MIDI note): estimates
                            * are folded into its octave and refused more than 1.5 semitones away;
                            * 0 for none */
    float f0_min_hz;       /* pitch search range (default 25 Hz .. 4200 Hz) */
    float f0_max_hz;
    float min_periodicity; /* frames below this confidence are unvoiced (default 0.5) */
    int onsets;            /* enum voice_onset_mode */
} voice_analysis_opts;

/* The defaults described above. */
void voice_analysis_defaults(voice_analysis_opts *o);

/* Sample rates the analyser accepts. */
#define VOICE_MIN_RATE 16000
#define VOICE_MAX_RATE 192000

/* Holds FFT plans, the pitch and onset trackers and buffers for one sample rate. Creating or
 * freeing one is not thread-safe (FFTW's planner, also used by aubio); an analyser may then be
 * used by one thread at a time, and several analysers by several threads. NULL with one sentence
 * in err for an unsupported rate or when out of memory. */
typedef struct voice_analyser voice_analyser;
voice_analyser *voice_analyser_new(int sample_rate, char *err, size_t errlen);
void voice_analyser_free(voice_analyser *a);

/* The sample rate an analyser was made for. */
int voice_analyser_rate(const voice_analyser *a);

/* Frames for a signal of n samples: one every 1/VOICE_FRAME_RATE s from 0 while the centre lies
 * inside the signal. */
size_t voice_frame_count(size_t n_samples, int sample_rate);

/* Analyses n mono samples (full scale = 1.0) into *frames (malloc'd, *n_frames of them; the
 * caller frees). 0, or -1 with one sentence in err (non-finite samples, no samples, out of
 * memory). */
int voice_analyse(voice_analyser *a, const float *x, size_t n, const voice_analysis_opts *o,
                  voice_frame **frames, size_t *n_frames, char *err, size_t errlen);

/* The A-weighting gain in dB at a frequency (IEC 61672; 0 dB at 1 kHz; -inf at 0 Hz). */
double voice_a_weight_db(double hz);
