/* specdist.h: multi-scale log-spectral distance between two signals, the measure of how close a
 * resynthesis is to its original (docs/voices-data.md). */
#pragma once

#include <stddef.h>

/* FFT sizes the distance averages over. */
#define VOICE_MSD_SCALES 6
extern const int voice_msd_sizes[VOICE_MSD_SCALES]; /* 2048, 1024, 512, 256, 128, 64 */

/* Magnitudes below this level (dB re a full-scale sine) count as this level. */
#define VOICE_MSD_FLOOR_DB (-90.0)

/* Mean absolute difference in dB between the magnitude spectrograms of a and b (both n samples)
 * over Hann-windowed frames (hop = size / 4) at each FFT size, averaged over the sizes; per-size
 * values go to per_scale when not NULL. 0 for identical signals; about 6.02 dB when one is
 * twice the other. Returns a negative value when out of memory. Not thread-safe (FFTW's
 * planner). */
double voice_msd(const float *a, const float *b, size_t n, double *per_scale);
