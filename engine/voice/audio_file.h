/* audio_file.h: reading a recording for analysis (libsndfile, any format it reads) and writing
 * mono WAV files, with one-sentence errors. */
#pragma once

#include <stddef.h>

/* The longest recording read (an hour); longer ones are refused rather than filling memory. */
#define VOICE_AUDIO_MAX_SECONDS 3600

/* Reads a mono file into *x (malloc'd, *n samples, full scale 1.0) at its own rate *sr.
 * With mixdown, files of several channels are averaged to mono; without, they are refused.
 * 0, or -1 with one sentence in err naming the file and the problem: missing, unreadable, not
 * audio, several channels, no samples, too long, a rate outside 16..192 kHz, damaged samples. */
int voice_audio_read(const char *path, int mixdown, float **x, size_t *n, int *sr, char *err,
                     size_t errlen);

/* Writes n mono samples as a 32-bit float (float32 = 1) or 16-bit WAV; 0, or -1 with err. */
int voice_audio_write(const char *path, const float *x, size_t n, int sr, int float32, char *err,
                      size_t errlen);
