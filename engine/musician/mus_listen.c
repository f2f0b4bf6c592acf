/* mus_listen.c: the performer's notes into per-step summaries and part tokens. */
#include "engine/musician/mus_listen.h"

#include <string.h>

static void start_step(mus_listen *l)
{
    l->held_pcs_at_start = 0;
    l->held_lo = l->held_hi = 0;
    l->held_at_start[0] = l->held_at_start[1] = 0;
    for (int p = 0; p < 128; p++)
        if (l->down[p]) {
            l->held_pcs_at_start |= (uint16_t)(1u << (p % 12));
            if (!l->held_lo) l->held_lo = (uint8_t)p;
            l->held_hi = (uint8_t)p;
            l->held_at_start[p >> 6] |= 1ull << (p & 63);
        }
    l->onset_pcs = 0;
    l->touched_pcs = l->held_pcs_at_start;
    l->on_lo = l->on_hi = 0;
    l->lo = l->held_lo;
    l->hi = l->held_hi;
    l->n_on = 0;
    l->vel_sum = 0;
    memset(l->drum_vel, 0, sizeof l->drum_vel);
}

void mus_listen_reset(mus_listen *l)
{
    memset(l, 0, sizeof *l);
    l->pitch_avg = 64;
    l->poly_avg = 1;
    start_step(l);
}

void mus_listen_note(mus_listen *l, int on, int pitch, int vel)
{
    if (pitch < 0 || pitch > 127) return;
    if (!on) {
        l->down[pitch] = 0;
        return;
    }
    l->down[pitch] = (uint8_t)(vel > 0 ? vel : 1);
    l->onset_pcs |= (uint16_t)(1u << (pitch % 12));
    l->touched_pcs |= (uint16_t)(1u << (pitch % 12));
    if (!l->on_lo || pitch < l->on_lo) l->on_lo = (uint8_t)pitch;
    if (pitch > l->on_hi) l->on_hi = (uint8_t)pitch;
    if (!l->lo || pitch < l->lo) l->lo = (uint8_t)pitch;
    if (pitch > l->hi) l->hi = (uint8_t)pitch;
    if (l->n_on < 255) l->n_on++;
    l->vel_sum += vel;
    int piece = mus_drum_piece(pitch);
    if (piece >= 0 && vel > l->drum_vel[piece]) l->drum_vel[piece] = (uint8_t)vel;
    l->notes_total++;
    l->pitch_avg += (pitch - l->pitch_avg) * 0.05;
}

void mus_listen_close(mus_listen *l, int role, mus_hsum *s, mus_frame *f)
{
    memset(s, 0, sizeof *s);
    *f = mus_frame_rest();
    s->onset_pcs = l->onset_pcs;
    s->sound_pcs = l->touched_pcs;
    s->lo = l->lo;
    s->hi = l->hi;
    s->n_on = (uint8_t)l->n_on;
    s->vel = (uint8_t)(l->n_on ? l->vel_sum / l->n_on : 0);
    if (l->n_on) l->poly_avg += (l->n_on - l->poly_avg) * 0.1;
    int held = 0; /* a note from before still down */
    for (int p = 0; p < 128 && !held; p++) held = l->down[p] && (l->held_at_start[p >> 6] >> (p & 63) & 1);
    switch (role) {
    case MUS_ROLE_BASS:
        f->bass = (uint8_t)(l->n_on ? mus_mono_token(l->on_lo, MUS_BASS_LOW) : held ? MUS_TOK_HOLD : MUS_TOK_REST);
        break;
    case MUS_ROLE_LEAD:
        f->lead = (uint8_t)(l->n_on ? mus_mono_token(l->on_hi, MUS_LEAD_LOW) : held ? MUS_TOK_HOLD : MUS_TOK_REST);
        break;
    case MUS_ROLE_COMP:
        if (l->n_on) {
            f->comp = s->vel >= MUS_COMP_LOUD_VEL ? MUS_COMP_LOUD : MUS_COMP_SOFT;
            f->chord = (uint16_t)mus_chord_fit(l->touched_pcs, l->lo % 12);
        } else {
            f->comp = held ? MUS_COMP_HOLD : MUS_COMP_REST;
        }
        break;
    case MUS_ROLE_DRUMS:
        for (int k = 0; k < MUS_NPIECES; k++)
            if (l->drum_vel[k]) {
                s->drums |= (uint16_t)(1u << k);
                f->drums |= 1ull << (k * MUS_NVEL + mus_vel_class(l->drum_vel[k]));
            }
        /* a drummer's pitches are kit pieces, not harmony */
        s->onset_pcs = s->sound_pcs = 0;
        s->lo = s->hi = 0;
        break;
    default:
        break;
    }
    start_step(l);
}

int mus_listen_guess_role(const mus_listen *l)
{
    if (l->notes_total < 8) return MUS_ROLE_LEAD;
    if (l->poly_avg >= 2.2) return MUS_ROLE_COMP;
    if (l->pitch_avg < 50) return MUS_ROLE_BASS;
    return MUS_ROLE_LEAD;
}
