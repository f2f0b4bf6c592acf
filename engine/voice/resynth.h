/* resynth.h: offline harmonic-plus-noise resynthesis of voice_frame features, the reference the
 * real-time voice synthesizer and the model's evaluation are measured against. */
#pragma once

#include "engine/voice/features.h"

#include <stddef.h>
#include <stdint.h>

/* Renders frames (one every 1/VOICE_FRAME_RATE s, frame k centred at k/VOICE_FRAME_RATE s) into
 * out[0..n_out) at sample_rate. Harmonics: one oscillator per harmonic at h * f0, amplitudes and
 * f0 interpolated linearly between frames at every sample, phase continuous, faded out towards
 * the Nyquist frequency. Noise: white noise shaped per band to noise_db by overlapping spectra
 * (seeded: the same seed gives the same samples). Frames with f0 = 0 have no harmonics.
 * 0, or -1 when out of memory. Not thread-safe (it makes an FFTW plan). */
int voice_resynth(const voice_frame *frames, size_t n_frames, int sample_rate, uint32_t seed,
                  float *out, size_t n_out);

/* What voice_resynth renders (both by default). */
enum { VOICE_RESYNTH_HARMONIC = 1, VOICE_RESYNTH_NOISE = 2 };
int voice_resynth_parts(const voice_frame *frames, size_t n_frames, int sample_rate, uint32_t seed,
                        int parts, float *out, size_t n_out);
