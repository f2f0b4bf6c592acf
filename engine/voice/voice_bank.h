/* voice_bank.h: finding and loading shipped and trained voices by name, voice specs (one voice or
 * a morph of 2 to 4), and building a part's neural instrument from a spec. Not real-time: the
 * engine swaps the built instrument in by pointer (BM_CMD_INSTRUMENT). */
#pragma once

#include "engine/engine.h"
#include "engine/synth.h"

#include <stddef.h>

#define VOICE_SPEC_MAX 4

/* "strings" (one voice), "strings,flute@0.3" (a morph 30% of the way to the flute),
 * "strings,flute,choir,organ@0.2,0.7" (an XY pad: voices at the corners (0,0), (1,0), (0,1),
 * (1,1)). A name is a voice in the voices folder, or a path to a voice file ending in .bmnn. */
typedef struct voice_spec {
    char names[VOICE_SPEC_MAX][256];
    int n;
    float x, y;
} voice_spec;

/* Parses a spec; 0, or -1 with one sentence in err. */
int voice_spec_parse(const char *text, voice_spec *out, char *err, size_t errlen);

/* Writes a spec back as text. */
void voice_spec_format(const voice_spec *s, char *out, size_t len);

/* The voices folder: $BANDMATE_VOICES, else ./voices, else voices/ beside or above the binary
 * (build/bandmate -> voices/), else /usr/local/share/bandmate/voices, /usr/share/bandmate/voices.
 * 0 with the folder in out, or -1 when none holds a decoder.bmnn. */
int voice_dir_find(char *out, size_t len);

/* The file a voice name stands for (a path is kept as it is; a name is NAME.bmnn in dir). */
void voice_path_for(const char *dir, const char *name, char *out, size_t len);

/* A neural instrument for a spec with polyphony notes at sample_rate; NULL with one sentence in
 * err (no voices folder, a missing or damaged voice or decoder, out of memory). */
bm_instrument *voice_instrument_create(const char *spec, int polyphony, double sample_rate, char *err,
                                       size_t errlen);

/* Lists the voices in dir (names without .bmnn, sorted) into names (up to max); returns how many. */
int voice_list(const char *dir, char (*names)[64], int max);

/* Control thread: builds the spec's instrument for a part and hands it to the engine. 0, or -1
 * with err (the part keeps what it plays). */
int voice_part_set(bm_engine *e, int part, const char *spec, char *err, size_t errlen);

/* Control thread: moves a part's morph (x, y in 0..1; y < 0 leaves y alone). 0, or -1 when the
 * command ring is full. */
int voice_part_morph(bm_engine *e, int part, float x, float y);
