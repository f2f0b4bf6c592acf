/* control_internal.h: the control thread's shared state and the helpers its modules (OSC address
 * space, built-in parameters, Lua host and bindings) use. Not for use outside engine/control/. */
#pragma once

#include "engine/control/control.h"
#include "engine/control/midimap.h"
#include "engine/control/osc_notify.h"
#include "engine/control/osc_packet.h"
#include "engine/control/osc_queue.h"
#include "engine/control/params.h"
#include "engine/control/song.h"
#include "engine/control/watch.h"

#include <stdarg.h>

#define CTL_MAX_SYNCS 16
#define BM_CLOCK_EARLY_MS 80.0  /* clocks and timed notes run this long before their lead time, so a
                                   busy control thread never makes them late (what they play is
                                   stamped with their exact time) */
#define CTL_SCRATCH 8192

typedef struct bm_lua bm_lua;

/* When a note should sound. */
enum ctl_when_kind {
    CTL_NOW = 0,      /* as soon as it can sound steadily: now plus the lead time */
    CTL_FRAME,        /* at a frame */
    CTL_BEAT,         /* at a beat (follows tempo changes) */
};

typedef struct ctl_when {
    int kind;
    int64_t frame;
    double beat;
} ctl_when;

/* Indices of the built-in parameters. */
typedef struct ctl_builtins {
    int tempo, tap, playing, panic, mode, human, monitor, master_gain;
    int part_on[BM_NUM_PARTS];      /* -1 for the human part */
    int part_gain[BM_NUM_PARTS];
    int temperature, top_p, density, key, scale, key_lock, style, seed, memory, swing, follow, end_phrase;
    int voice[BM_NUM_PARTS], morph[BM_NUM_PARTS], morph_to[BM_NUM_PARTS], morph_y[BM_NUM_PARTS];
} ctl_builtins;

struct bm_control {
    bm_engine *e;
    bm_jack *jack;
    bm_status *status;
    bm_control_opts o;
    bm_patch *patch;                /* a copy (defaults when none was given) */
    char script_path[1024];
    double sr;
    int64_t lead;                   /* frames between asking for a note "now" and hearing it */
    int64_t early;                  /* BM_CLOCK_EARLY_MS in frames */
    int64_t now;                    /* the engine frame of this step */
    int64_t now_ns;                 /* CLOCK_MONOTONIC of this step */
    int live;                       /* driven by control_poll (wall-clock time) */
    bm_clock_map map;               /* the clock as published at this step */
    osc_net *net;
    osc_notify notify;
    osc_queue queue;
    bm_params params;
    ctl_builtins b;
    bm_midimap midi;
    bm_song song;
    bm_lua *lua;
    bm_watch watch;
    int reload_pending;
    int64_t reload_since_ns;
    uint32_t parts_on;              /* bit (1 << part): the part plays */
    uint8_t held[BM_NUM_PARTS][128];/* notes the script or OSC started with no end yet */
    int quiet_apply;                /* a parameter follows the engine: do not send it back */
    char voice_spec[BM_NUM_PARTS][1100]; /* what each part plays ("" its classic instrument; voice_bank.h) */
    char voice_err[300];            /* why the last voice change could not be made ("" when it was) */
    uint64_t xruns_seen;
    int64_t last_beat_seen;
    /* the message being handled */
    const osc_peer *sender;         /* who sent it */
    const osc_peer *from;           /* where its answers go (the sender, or its reply port) */
    int64_t due;                    /* its frame when it came in a timed bundle, else -1 */
    struct { int used; osc_peer peer; int id; } syncs[CTL_MAX_SYNCS];
    struct { int used; osc_peer peer; } learn_peer;
    void (*send_hook)(void *ctx, const osc_peer *to, const uint8_t *pkt, size_t n);
    void *send_ctx;
    uint64_t osc_in, osc_failed, osc_late;
    uint8_t scratch[CTL_SCRATCH];
};

/* ---- replies and feedback (control.c) ---- */

/* Sends a message to a peer (NULL: nobody). types as osc_build. */
void ctl_send(bm_control *c, const osc_peer *to, const char *path, const char *types, ...);

/* Sends a built packet to a peer. */
void ctl_send_packet(bm_control *c, const osc_peer *to, const uint8_t *pkt, size_t n);

/* /bm/done cmd (with an optional extra string) to the sender of the current message. */
void ctl_done(bm_control *c, const char *cmd, const char *extra);

/* Hands the song's chord chart (c->song) to the band after it changed; 0, or -1 with err. */
int ctl_send_chart(bm_control *c, char *err, size_t errlen);

/* /bm/fail cmd reason to the sender of the current message; always returns -1. */
int ctl_fail(bm_control *c, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sends a message to the feedback clients that want the category. */
void ctl_notify(bm_control *c, uint32_t category, const char *path, const char *types, ...);

/* Reports a script error: stderr (first line and traceback; repeats are counted) and OSC. */
void ctl_script_error(bm_control *c, const char *where, const char *msg);

/* A line a script printed. */
void ctl_script_print(bm_control *c, const char *line);

/* ---- acting on the engine (control.c) ---- */

/* Sends a command to the process thread; 0, or -1 when its ring is full. */
int ctl_command(bm_control *c, int type, int part, double value);

/* Plays a note on a band part (velocity 0: a note-off; dur_beats <= 0: held until its note-off);
 * 1 when the part is off (nothing played), 0 when queued, -1 with err. */
int ctl_note(bm_control *c, int part, int note, int vel, double dur_beats, ctl_when when, char *err, size_t errlen);

/* A control change on a band part's instrument and MIDI out. */
int ctl_cc(bm_control *c, int part, int cc, int value, ctl_when when, char *err, size_t errlen);

/* Releases every note the script or OSC holds. */
void ctl_release_held(bm_control *c);

/* The beat and frame of a when (NOW resolved). */
double ctl_when_beat(bm_control *c, ctl_when w);
int64_t ctl_when_frame(bm_control *c, ctl_when w);

/* Sets a parameter by id from a number, a string or a normalised value (kind 'n', 's', 'u');
 * 0, or -1 with err. */
int ctl_param_set(bm_control *c, const char *id, int kind, double v, const char *s, int source, char *err,
                  size_t errlen);

/* Loads (or replaces) the script; 0, or -1 with err (the old one keeps running). */
int ctl_script_load(bm_control *c, const char *path, char *err, size_t errlen);

/* Stops the script: cleanup(), its params and notes go; the band keeps its mode. */
void ctl_script_stop(bm_control *c);

/* Back to the patch's mode and parts (after a failed init). */
void ctl_safe_default(bm_control *c);

/* ---- built-in parameters (builtins.c) ---- */

/* Adds bandmate's own parameters, starting from the engine's configuration and the patch. */
int builtins_add(bm_control *c, char *err, size_t errlen);

/* Acts on a change of a built-in parameter (engine commands, mode, parts). */
void builtins_apply(bm_control *c, int idx);

/* ---- the /bm address space (osc_api.c) ---- */

/* Handles one message from the current sender (c->from); due is its frame when it came in a
 * timed bundle (-1 otherwise). */
void osc_api_dispatch(bm_control *c, const osc_msg *m);

/* Sends /bm/status.reply to a peer. */
void osc_api_status(bm_control *c, const osc_peer *to);
