/* dataset.h: the voice data set: which General MIDI instruments, which notes of each (pitches,
 * velocities, lengths) and how they are split, the MIDI file fluidsynth renders them from, and
 * the slicing and analysis of the rendered audio into a feature file (docs/voices-data.md). */
#pragma once

#include "engine/voice/features.h"

#include <stddef.h>

typedef struct voice_instrument {
    int program;  /* General MIDI program, 0-based */
    int lowest;   /* MIDI pitch range rendered */
    int highest;
    int held_out; /* never trained on */
    char name[VOICE_INSTRUMENT_NAME];
} voice_instrument;

/* Reads the instrument table (tools/voices/instruments.tsv: program, lowest, highest,
 * train|heldout, name; '#' starts a comment). 0, or -1 with one sentence in err naming the line. */
int voice_instruments_read(const char *path, voice_instrument **out, size_t *n, char *err,
                           size_t errlen);

/* The plan's constants. */
#define VOICE_PLAN_PITCH_STEP 3      /* semitones between rendered pitches */
#define VOICE_PLAN_HELD_PITCH 2      /* pitch index i is held out when i % 5 == this */
#define VOICE_PLAN_VELOCITIES 4      /* trained velocities: 32, 64, 96, 127 */
#define VOICE_PLAN_HELD_VELOCITY 80  /* never trained on; rendered at the medium length */
#define VOICE_PLAN_LENGTHS 3         /* 0.2, 0.6, 1.5 s */
#define VOICE_PLAN_TAIL_S 1.0        /* the most release kept after note-off */
#define VOICE_PLAN_GAP_S 1.5         /* note-off to the next note-on (all sound off at 1.2 s) */
#define VOICE_PLAN_LEAD_S 0.5        /* silence before the first note */

extern const int voice_plan_velocities[VOICE_PLAN_VELOCITIES];
extern const float voice_plan_lengths[VOICE_PLAN_LENGTHS];

typedef struct voice_planned_note {
    int pitch, velocity, split;
    float length_s;  /* note-on to note-off */
    int start_ms;    /* note-on, from the start of the rendered file */
} voice_planned_note;

/* The notes of one instrument in rendering order (deterministic: the plan is a function of the
 * table row). Writes at most cap notes into out (out may be NULL to count); returns how many
 * there are. */
size_t voice_plan_notes(const voice_instrument *ins, voice_planned_note *out, size_t cap);

/* Writes the plan as a Standard MIDI File for fluidsynth (program change, reverb and chorus
 * sends off, the notes, all-sound-off before each next note). 0, or -1 with err. */
int voice_plan_write_midi(const voice_instrument *ins, const char *path, char *err, size_t errlen);

/* A rendered note whose peak stays below this is silent (no sample in the soundfont there). */
#define VOICE_DATASET_SILENT 1e-4f

/* Slices a fluidsynth rendering of the plan (any channel count, mixed to mono) into notes,
 * analyses each (f0 hint = the MIDI pitch, onset at the note-on) and writes them to a feature
 * file, keeping the audio of held-out notes; silent notes are left out. Prints one line of
 * progress per instrument to stderr when verbose (and one per silent note). 0, or -1 with err. */
int voice_dataset_analyse(const voice_instrument *ins, const char *wav_path, const char *out_path,
                          int verbose, char *err, size_t errlen);

/* Where a rendered note's release has died away: the first sample after note-off from which the
 * 10 ms RMS stays more than 60 dB below the note's loudest 10 ms, bounded by note-off plus
 * VOICE_PLAN_TAIL_S and by n. x starts at the note-on; off is the note-off sample. */
size_t voice_note_end(const float *x, size_t n, size_t off, int sample_rate);
