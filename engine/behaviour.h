/* behaviour.h: what the band plays, one grid step at a time. A behaviour hears the performer's
 * events of the last step and writes the band's events for the coming step (or later), stamped in
 * beats. The musician calls it ahead of time, never from the process thread; a step must still be
 * bounded in time and must not allocate (the musician may be late otherwise, and the band rests). */
#pragma once

#include "engine/event.h"
#include "engine/listen/listen_state.h"

#include <stdint.h>

/* The tune's chord chart as the band reads it (made by the control layer from a patch's `chords`,
 * Lua's bm.chords or OSC's /bm/chart): chords with their start within a loop of `length` beats
 * that begins at beat `start`. */
#define BM_CHART_MAX 256
typedef struct bm_band_chart {
    int n;
    double start, length;
    double at[BM_CHART_MAX];     /* where each chord starts, in beats from the loop's start */
    int8_t root[BM_CHART_MAX];   /* pitch class */
    uint16_t pcs[BM_CHART_MAX];  /* the chord's pitch classes (bit k: pitch class k) */
} bm_band_chart;

/* The chord the chart has at a beat (it loops both ways from start): 0 with its root and pitch
 * classes, or -1 when the chart is empty. Real-time safe. */
int bm_band_chart_at(const bm_band_chart *c, double beat, int *root, uint16_t *pcs);

typedef struct bm_step_ctx {
    int64_t step;             /* grid step index; step 0 starts at beat 0 */
    double beat;              /* where this step starts, in beats */
    double step_beats;        /* length of a step in beats */
    int steps_per_beat;
    int beats_per_bar;
    double bpm;
    uint32_t parts_enabled;   /* bit (1 << part) set when the part may play (the performer's part is
                                 left out; a behaviour may still answer on it in their rests) */
    int human_role;           /* the band part the performer covers (BM_PART_HUMAN: none) */
    const uint8_t *channel;   /* MIDI channel per part */
    uint64_t *rng;            /* the session's deterministic random state */
    const double *controls;   /* live controls, indexed by enum bm_musician_control (musician.h) */
    const bm_listen_state *heard; /* what the listener heard up to now: key, chord, performer tempo,
                                     phrases (never NULL; roots are -1 while unknown). Phrase starts
                                     and ends also arrive among the human events (BM_EV_PHRASE_*) */
    const bm_band_chart *chart; /* the tune's chord chart (NULL: none): the band follows it */
} bm_step_ctx;

typedef struct bm_behaviour bm_behaviour;

typedef struct bm_behaviour_ops {
    const char *name;
    /* Forgets everything heard (a new song, a reset). */
    void (*reset)(bm_behaviour *b);
    /* One step: human events since the last step (beat-stamped, in order) in; band events out,
     * beat-stamped with part and channel set; returns how many (at most max). */
    int (*step)(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *human, int nhuman,
                bm_event *out, int max);
    /* Frees the behaviour (not real-time). */
    void (*destroy)(bm_behaviour *b);
    /* Switches to another mode inside the running behaviour (NULL: it cannot): 0 when it plays
     * that mode from its next step on, releasing what the change silences; -1 when it cannot play
     * it (the mode needs a new behaviour). Called on the musician thread: no allocation. */
    int (*set_mode)(bm_behaviour *b, const char *mode);
    /* Samples what the band expects to play over the next beat, as if the performer went on as they
     * are, on a copy of its state: nothing of the behaviour changes (NULL: no preview). Band events,
     * beat-stamped; returns how many. Musician thread: bounded time, no allocation. */
    int (*preview)(bm_behaviour *b, const bm_step_ctx *ctx, bm_event *out, int max);
} bm_behaviour_ops;

struct bm_behaviour {
    const bm_behaviour_ops *ops;
};

/* The built-in echo harmoniser: answers each performer note on the lead part with a diatonic third
 * above, an eighth note later, and the note itself a beat later, softer. Not real-time to create. */
bm_behaviour *behaviour_echo_create(void);

/* A band that listens and stays silent (the performer alone, recorded). */
bm_behaviour *behaviour_silent_create(void);

/* Creates a behaviour by mode name (bm_mode_names); NULL for an unknown name or when it cannot
 * start (behaviour_error() then says why in one sentence). "accompany", "call-and-response" and
 * "duet" load the trained musician (engine/musician/mus_accompany.h) from behaviour_model_path(). */
bm_behaviour *behaviour_create(const char *mode);

/* One line saying what a mode does (for --help); "" for an unknown mode. */
const char *behaviour_mode_summary(const char *mode);

/* 1 when a mode is played by the trained musician (and needs its model). */
int behaviour_mode_uses_model(const char *mode);

/* Switches a running behaviour to another mode without replacing it (ops->set_mode); 0, or -1
 * when this behaviour cannot play that mode. Musician thread; no allocation. */
int behaviour_set_mode(bm_behaviour *b, const char *mode);

/* Primes a behaviour with a phrase of performer events (beat-stamped, in order): it hears them as
 * if they had just been played, without answering, so that its next steps respond to them (call
 * and response). Bounded in time; no allocation. 0, or -1 when the behaviour has no memory to prime
 * (echo, silent). */
int behaviour_prime(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *phrase, int n);

/* Why the last behaviour_create on this thread failed ("" when it did not). */
const char *behaviour_error(void);

/* The musician model file "accompany" loads (NULL: the default, see mus_model_default_path), and
 * the one in use. Not real-time. */
void behaviour_set_model_path(const char *path);
const char *behaviour_model_path(void);

/* The mode names behaviour_create knows, NULL-terminated; new names are appended (option indices
 * of the control layer's mode parameter stay stable): "echo", "silent", "accompany",
 * "call-and-response", "duet". */
extern const char *const bm_mode_names[];
