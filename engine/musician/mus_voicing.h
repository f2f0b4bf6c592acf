/* mus_voicing.h: voices the comping chords: chooses the notes of each chord (up to four tones, in
 * the middle register) so that each voice moves as little as possible from the last voicing.
 * Real-time safe. */
#pragma once

#include <stdint.h>

#define MUS_VOICES_MAX 5

typedef struct mus_voicing {
    int n;
    uint8_t note[MUS_VOICES_MAX];   /* the last voicing, ascending */
    int centre;                      /* the register it gravitates to (MIDI note) */
} mus_voicing;

/* Forgets the last voicing; centre is the register's middle (e.g. 62). */
void mus_voicing_reset(mus_voicing *v, int centre);

/* Voices a chord id (mus_vocab) into notes (ascending, at most MUS_VOICES_MAX); returns how many
 * (0 for no chord) and remembers them. avoid_pc (-1: none) is left out when the chord has four or
 * more tones (the bass plays it). */
int mus_voice_chord(mus_voicing *v, int chord, int avoid_pc, uint8_t *notes);
