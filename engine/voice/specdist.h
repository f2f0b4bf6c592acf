/* specdist.h: multi-scale log-spectral distance between two signals, the measure of how close a
 * resynthesis is to its original (docs/voices-data.md). */
#pragma once

#include <stddef.h>

/* FFT sizes the distance averages over. */
#define VOICE_MSD_SCALES 6
extern const int voice_msd_sizes[VOICE_MSD_SCALES]; /* 2048, 1024, 512, 256, 128, 64 */

/* The dynamic range compared: at each FFT size, power below the original's loudest bin by more
 * than this counts as that level (a quiet note is judged like a loud one). */
#define VOICE_MSD_RANGE_DB 80.0

/* Mean absolute difference in dB between the power spectrograms of a (the original) and b (both
 * n samples) over Hann-windowed frames (hop = size / 4, frames centred from sample 0 to the end)
 * and bins at each FFT size, averaged over the sizes; per-size values go to per_scale when not
 * NULL. 0 for identical signals; 6.02 dB when b is twice a throughout and the floor is far
 * below. Returns a negative value when out of memory. Not thread-safe (FFTW's planner). */
double voice_msd(const float *a, const float *b, size_t n, double *per_scale);
