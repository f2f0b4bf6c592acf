/* pianoroll.h: a piano-roll picture (PNG, drawn with cairo) of a session MIDI file: time across,
 * pitch up, one colour per part (human, bass, drums, comping, lead), bars and beats marked. */
#pragma once

#include <stddef.h>

/* Draws the tracks of mid_path into png_path (width in pixels, 0 for 40 a second; the height
 * follows the pitch range).
 * Tracks are matched to parts by name; others are drawn in grey. 0, or -1 with one sentence in err. */
int pianoroll_write(const char *mid_path, const char *png_path, int width, char *err, size_t errlen);
