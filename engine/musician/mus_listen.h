/* mus_listen.h: hears the performer's notes and closes each grid step into what the model sees:
 * a summary (mus_hsum) and, for the part the performer covers, that part's tokens, by the same
 * rules the corpus reader applies to a MIDI file (lowest onset for bass, highest for lead, the
 * fitted chord for comping, kit pieces for drums). Real-time safe: fixed state, no allocation. */
#pragma once

#include "engine/musician/mus_vocab.h"

typedef struct mus_listen {
    uint8_t down[128];        /* key held (velocity), 0 when up */
    uint64_t held_at_start[2]; /* keys down when the step began (bit per key) */
    uint16_t held_pcs_at_start;
    uint8_t held_lo, held_hi;
    uint16_t onset_pcs, touched_pcs;
    uint8_t on_lo, on_hi, lo, hi;
    int n_on, vel_sum;
    uint8_t drum_vel[MUS_NPIECES];
    int notes_total;          /* onsets heard since reset */
    double poly_avg;          /* running polyphony of onset steps (for guessing the performer's role) */
    double pitch_avg;         /* running mean onset pitch */
} mus_listen;

/* Forgets everything (all keys up). */
void mus_listen_reset(mus_listen *l);

/* A note on (velocity > 0) or off. */
void mus_listen_note(mus_listen *l, int on, int pitch, int velocity);

/* Closes the current step: writes its summary and the tokens the performer's part played (only
 * the fields of part_role are meaningful; drums are read as General MIDI drum notes); then starts
 * the next step. part_role is a MUS_ROLE_*. A note held from an earlier step is a "hold" when it is
 * still down at the close (released during the step, it rounds to a rest, as in the corpus). */
void mus_listen_close(mus_listen *l, int part_role, mus_hsum *sum, mus_frame *tokens);

/* A guess of the part the performer plays from what was heard (MUS_ROLE_LEAD, _COMP or _BASS;
 * MUS_ROLE_LEAD until enough was heard). */
int mus_listen_guess_role(const mus_listen *l);
