/* musician.h: runs the band's behaviour one grid step ahead of the music. Called from the musician
 * thread live, or from the offline driver; it trades only through rings with the process thread
 * (human events in, band events out) and the control thread (commands in, old behaviours out).
 * If a step's deadline has passed when it is due, the band rests for that step and it is counted. */
#pragma once

#include "engine/behaviour.h"
#include "engine/clock.h"
#include "engine/ring.h"

#include <stdatomic.h>
#include <stdint.h>

enum bm_musician_cmd_type {
    BM_MCMD_SET_BEHAVIOUR = 1,  /* ptr: bm_behaviour* (ownership passes to the musician) */
    BM_MCMD_PART_ENABLE,        /* part, value 0/1 */
    BM_MCMD_HUMAN_ROLE,         /* part */
    BM_MCMD_RESET,              /* forget what was heard */
    BM_MCMD_CONTROL,            /* part: enum bm_musician_control, fvalue: its new value */
    BM_MCMD_SET_MODE,           /* value: index into bm_mode_names: the running behaviour switches to
                                   it live (behaviour_set_mode); ignored when it cannot */
    BM_MCMD_SET_CHART,          /* ptr: bm_band_chart* or NULL (ownership passes to the musician; the
                                   old one goes back through give_back) */
    BM_MCMD_PRIME,              /* ptr: bm_prime_phrase*: the band hears it as if it had just been
                                   played (behaviour_prime); it goes back through give_back */
};

/* Live controls the band's behaviour reads every step (through bm_step_ctx.controls). */
enum bm_musician_control {
    BM_CTL_TEMPERATURE = 0,     /* sampling temperature, 0.05..3 (1 = as trained) */
    BM_CTL_TOP_P,               /* nucleus sampling mass, 0.05..1 */
    BM_CTL_DENSITY,             /* how busy the band plays, 0..1 (0.5 = as trained) */
    BM_CTL_KEY,                 /* key lock: -1 off, else the tonic pitch class 0..11 */
    BM_CTL_SCALE,               /* the scale of the key lock: 0 major, 1 minor, 2 dorian, 3 mixolydian, ...
                                   (bm_scale_names in engine/control/song.h) */
    BM_CTL_STYLE,               /* the style the band plays in: an index into the model's styles, -1 free */
    BM_CTL_SEED,                /* reseeds the band's random choices */
    BM_CTL_MEMORY,              /* weight of the performer's own phrases in the lead, 0..1 */
    BM_CTL_SWING,               /* swing of off-beat eighths or sixteenths, 0 (straight) .. 1 (triplet) */
    BM_NUM_CONTROLS
};

/* A phrase to prime the band with: note events stamped in beats from the phrase's start. */
typedef struct bm_prime_phrase {
    int n;
    int part;              /* the part the phrase is played on (BM_PART_*; the lead feeds the memory) */
    double length;         /* in beats: the phrase ends where the band is now */
    bm_event ev[];
} bm_prime_phrase;

typedef struct bm_musician_cmd {
    int type;
    int part;
    int value;
    void *ptr;
    double fvalue;
} bm_musician_cmd;

typedef struct bm_musician_stats {
    atomic_uint_fast64_t steps;        /* steps played */
    atomic_uint_fast64_t late_steps;   /* steps skipped because their time had come */
    atomic_uint_fast64_t dropped;      /* band events that did not fit the ring to the process thread */
    atomic_int_fast64_t max_step_ns;   /* the slowest step */
    atomic_int_fast64_t last_step_ns;
} bm_musician_stats;

#define BM_MUSICIAN_MAX_PENDING 1024
#define BM_MUSICIAN_MAX_OUT 512

typedef struct bm_musician {
    bm_behaviour *behaviour;
    ring *human_in;        /* bm_event, from the process thread */
    ring *band_out;        /* bm_event, to the process thread */
    ring *commands;        /* bm_musician_cmd, from the control thread */
    ring *trash;           /* bm_behaviour*, back to the control thread to be freed */
    ring *plan;            /* bm_event copies of what was planned (for status and visuals); may be NULL */
    ring *give_back;       /* void*: plain allocations (charts, phrases) back to the control thread
                              to be freed */
    bm_band_chart *chart;  /* the tune's chord chart (NULL: none) */
    int64_t next_step;
    int started;
    int64_t lookahead_frames;
    uint32_t parts_enabled;
    int human_role;
    double controls[BM_NUM_CONTROLS];
    uint8_t channel[8];
    uint64_t rng;
    int npending;
    bm_event pending[BM_MUSICIAN_MAX_PENDING];
    bm_event out[BM_MUSICIAN_MAX_OUT];
    bm_event preview[BM_MUSICIAN_MAX_OUT]; /* the band's expected next beat (to the plan ring only) */
    uint8_t active[8][128]; /* sounding band notes per part, to release them on a change */
    struct bm_listener *listener; /* where ctx.heard comes from; may be NULL */
    bm_listen_state heard;
    bm_musician_stats stats;
} bm_musician;

/* Sets up a musician around a behaviour (it takes ownership) and its rings. */
void musician_init(bm_musician *m, bm_behaviour *b, ring *human_in, ring *band_out, ring *commands,
                   ring *trash, int64_t lookahead_frames, const uint8_t *channels, uint64_t seed);

/* Runs every step whose time has come at now_frame, given the tempo map. Returns steps played. */
int musician_poll(bm_musician *m, const bm_clock_map *map, int64_t now_frame);

/* Frees the behaviour and the chart (not real-time; after the musician thread stopped). */
void musician_deinit(bm_musician *m);
