/* mus_band.h: the live musician: one model step per grid step. It hears the performer's previous
 * step, updates the harmony estimate, steps the LSTM, samples every part the band plays under the
 * live controls (temperature, top-p, density, key lock, parts on/off, style, memory weight), voices
 * the comping chords and turns the tokens into note events for the step. The performer may cover
 * any part (that part's input is what they played); when they are the lead, the band's lead answers
 * in their rests, mixed with a memory of their own phrases. Create/free are not real-time; every
 * other call is real-time safe: no allocation, no locks, no I/O, bounded time. */
#pragma once

#include "engine/event.h"
#include "engine/musician/mus_model.h"

#include <stdint.h>

typedef struct mus_band_ctl {
    float temperature;   /* 0.05 .. 3, 1 as trained */
    float top_p;         /* 0.05 .. 1 */
    float density;       /* 0 .. 1, 0.5 as the corpus plays */
    float memory;        /* 0 .. 1: weight of the performer's own phrases in the lead */
    float swing;         /* 0 straight .. 1 triplet: off-beats are played this late */
    int key, scale;      /* key lock: tonic pitch class (-1 off) and mode (0 major, 1 minor, 2 dorian,
                            3 mixolydian, 4 aeolian, 5 phrygian, 6 lydian) */
    int style;           /* model style id, 0 free */
    unsigned parts;      /* bit (1 << MUS part): the band may play it */
    int role;            /* MUS_ROLE_* the performer covers */
    int answer;          /* when the performer is the lead, the band's lead plays: 0 never, 1 in their
                            rests (a beat of silence), MUS_ANSWER_ALWAYS whatever they play (an
                            answer under way, a duet) */
    const float *lead_bias; /* NULL, or MUS_MONO_VOCAB biases (nats) added to the lead's tokens */
    int chart_root;      /* the tune's chord at this step when a chart is given (-1: none) */
    uint16_t chart_pcs;
    float follow_chords; /* bias (nats) of bass and comping toward the chord the performer's recent
                            notes spell, when they play chords or bass ... */
    float follow_melody; /* ... and when they play a melody (0: the model alone; a chart turns it off) */
} mus_band_ctl;

#define MUS_ANSWER_ALWAYS 2

/* The harmony-following biases of the defaults (chosen on the validation songs, docs/musician.md),
 * and their cap for a model without the chord tracker (which follows the last chord heard). */
#define MUS_FOLLOW_CHORDS 5.0f
#define MUS_FOLLOW_MELODY 16.0f
#define MUS_FOLLOW_UNTRACKED 3.0f

typedef struct mus_band mus_band;

/* Default controls: as trained, every part, no performer role, no chart. */
mus_band_ctl mus_band_ctl_defaults(void);

/* A musician around a model (kept by the caller while the musician lives); NULL with one
 * sentence in err. Not real-time. */
mus_band *mus_band_create(const mus_model *m, char *err, size_t errlen);
void mus_band_free(mus_band *b);

/* A copy of everything a step changes (the recurrent state, harmony, tracker, memory, what sounds),
 * for sampling ahead without committing. Create/free are not real-time; save and restore are. */
typedef struct mus_band_snapshot mus_band_snapshot;
mus_band_snapshot *mus_band_snapshot_create(const mus_band *b);
void mus_band_snapshot_free(mus_band_snapshot *s);
void mus_band_save(const mus_band *b, mus_band_snapshot *s);
void mus_band_restore(mus_band *b, const mus_band_snapshot *s);

/* Forgets everything: state, harmony, memory, sounding notes (without releasing them). */
void mus_band_reset(mus_band *b);

/* Decides step k (steps since the start, 4 per beat): heard is the performer's previous step and
 * heard_tokens their part's tokens (as mus_listen_close gives them). Returns the band's tokens. */
mus_frame mus_band_decide(mus_band *b, const mus_band_ctl *ctl, int64_t k, int beats_per_bar,
                          const mus_hsum *heard, const mus_frame *heard_tokens, uint64_t *rng);

/* The same step teacher-forced: the band's tokens for step k are given (priming with a phrase, or
 * measuring likelihoods); returns the logits the model gave step k (MUS_LOGITS floats). */
const float *mus_band_observe(mus_band *b, const mus_band_ctl *ctl, int64_t k, int beats_per_bar,
                              const mus_hsum *heard, const mus_frame *heard_tokens,
                              const mus_frame *band);

/* Turns the band's tokens of a step into note events at the step's beat (swing applied),
 * releasing what ends; channel is per engine part. Returns the number of events (at most max). */
int mus_band_perform(mus_band *b, const mus_band_ctl *ctl, const mus_frame *f, double beat,
                     const uint8_t *channel, bm_event *out, int max);

/* Note-offs for everything the band is sounding, at beat. */
int mus_band_release(mus_band *b, double beat, const uint8_t *channel, bm_event *out, int max);

/* The last notes the comping voicing played (for evaluation), and how many. */
int mus_band_comp_notes(const mus_band *b, uint8_t *notes);
