/* mus_lead.h: how the band's lead plays in each performance mode. In "accompany" it stays out while
 * the performer is the lead; in "call-and-response" it waits for the end of the performer's
 * phrase and answers with a phrase of the call's length, on the call's rhythm, in key, and yields
 * the moment the performer comes back in; in "duet" it plays a counter-line all along, consonant
 * with the performer's sounding note, in its own register, busier when they hold or rest. It only
 * steers the musician's controls (mus_band_ctl) step by step: the model, its state and the groove
 * are the same in every mode, so switching modes never stops the music. Real-time safe: no
 * allocation, no locks, bounded time. */
#pragma once

#include "engine/event.h"
#include "engine/musician/mus_band.h"

#include <stdint.h>

enum mus_lead_mode {
    MUS_LEAD_ACCOMPANY = 0,
    MUS_LEAD_CALL_RESPONSE,
    MUS_LEAD_DUET,
};

/* Call and response: a rest this long after the call's last note ends the call: half a beat, or
 * 160 ms where half a beat is longer (all but the fastest tempos); a bar line in a rest and the end-of-call
 * control end it too, through the listener's phrase end. */
#define MUS_CALL_REST 0.5
#define MUS_CALL_REST_S 0.16
/* The longest answer, in bars. */
#define MUS_ANSWER_MAX_BARS 2
/* The call's rhythm is remembered over this many steps (16 beats). */
#define MUS_CALL_STEPS 64

typedef struct mus_lead {
    int mode;                 /* enum mus_lead_mode */
    double bpm;               /* the tempo (for the call's rest in seconds; 0: unknown) */
    int release;              /* the lead rests one step (a mode change silences what it sounded) */
    /* the performer */
    uint8_t held[128];
    int nheld;
    int last_note;            /* the last note they played (-1 none) */
    float mean_pitch;         /* running mean of their pitches (0: nothing heard yet) */
    float busy;               /* running share of steps with an onset, 0..1 */
    int onset_this_step;
    /* the call */
    double call_start;        /* beat of its first onset (< 0: no call open) */
    double call_end;          /* end of its last note so far */
    int call_notes;
    int call_ended;           /* the listener said the phrase ended */
    uint16_t call_pcs;        /* pitch classes of the call */
    uint8_t rhythm[MUS_CALL_STEPS]; /* onsets of the call, per step from its start */
    /* the answer */
    int answering;
    int64_t answer_k0, answer_k1; /* its model steps [k0, k1) */
    uint32_t answers, yields; /* counts (for evaluation and tests) */
    double last_call_end;     /* the end of the last call answered (beats) */
    float bias[MUS_MONO_VOCAB];
} mus_lead;

/* Forgets the performer, any call and answer; keeps the mode. */
void mus_lead_reset(mus_lead *l);

/* Sets the mode (enum mus_lead_mode); the lead rests a step when it changes. */
void mus_lead_set_mode(mus_lead *l, int mode);

/* The mode of a name ("accompany", "call-and-response", "duet"), or -1. */
int mus_lead_mode_from_name(const char *name);

/* Hears one performer event (note on/off, phrase end; beat-stamped). */
void mus_lead_hear(mus_lead *l, const bm_event *ev);

/* Steers the controls for model step k (4 per beat) of a bar of bpb beats: whether the lead may
 * play and the biases on its tokens. key_pcs: the pitch classes of the key heard (0: unknown). */
void mus_lead_steer(mus_lead *l, mus_band_ctl *ctl, int64_t k, int bpb, uint16_t key_pcs);
