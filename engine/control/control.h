/* control.h: the control thread: the OSC server (engine/control/osc_*), the one Lua state
 * (engine/control/lua_*), parameters, MIDI CC mapping and learn, and hot reload of the script. It
 * is the single consumer of the engine's feedback and plan rings (feeding the status line, OSC
 * clients and the script from them) and the single producer of engine commands. Nothing here ever
 * makes the audio wait: a bad message is refused, a broken script is reported and cut off by its
 * budget, and the band plays on. In `bandmate run` the main thread is the control thread. */
#pragma once

#include "engine/control/osc_net.h"
#include "engine/engine.h"
#include "engine/jack_driver.h"
#include "engine/patch.h"
#include "engine/status.h"

#include <stddef.h>
#include <stdint.h>

#define BM_OSC_DEFAULT_PORT 57140
#define BM_SCRIPT_DEFAULT_MEMORY (32u << 20)
#define BM_SCRIPT_DEFAULT_BUDGET_MS 50.0

typedef struct bm_control bm_control;

typedef struct bm_control_opts {
    int osc;                  /* open the OSC sockets (0: none; packets can still be handed in) */
    osc_net_opts net;
    int osc_lua;              /* run Lua code sent over OSC (/bm/lua) */
    const char *script;       /* the behaviour script; NULL or "": none */
    int script_allow;         /* enum bm_sandbox_allow bits */
    size_t script_memory;     /* bytes (0: BM_SCRIPT_DEFAULT_MEMORY) */
    double script_budget_ms;  /* per callback (0: BM_SCRIPT_DEFAULT_BUDGET_MS) */
    int watch;                /* reload the script when its file changes */
    double notify_rate;       /* feedback messages per second per client (0: 200) */
    int quiet;                /* nothing on stderr (script output and errors still go to OSC) */
    uint64_t seed;            /* seeds the script's math.random (0: Lua's own seed) */
} bm_control_opts;

/* OSC off, no script, hot reload on, default budgets. */
void control_opts_defaults(bm_control_opts *o);

/* Sets up the control side of an engine (and its JACK client, which may be NULL), with the
 * patch's mappings, values and chart (patch may be NULL); opens the OSC sockets. NULL with one
 * sentence in err (port in use, ...). */
bm_control *control_create(bm_engine *e, bm_jack *jack, const bm_patch *patch, const bm_control_opts *o,
                           char *err, size_t errlen);

/* Loads the script and runs its init(), then applies the patch's parameter values. A script that
 * cannot load (missing, syntax error, error at its top level) is an error: -1 with err. An error
 * in init() is reported and leaves the band in its patch's mode without the script (0). */
int control_start(bm_control *c, char *err, size_t errlen);

/* Compiles a script file without running it (a syntax check before anything starts); 0, or -1
 * with the error (file:line: message) in err. */
int control_check_script(const char *path, char *err, size_t errlen);

/* Lets the control thread feed a status line. */
void control_attach_status(bm_control *c, bm_status *st);

/* Live: waits up to max_wait_ms for OSC packets or the next due timer, then does one step. */
void control_poll(bm_control *c, int max_wait_ms);

/* One step at an engine frame (offline and tests): drains the rings, handles timed messages,
 * runs due clocks, reloads a changed script between beats, and flushes feedback. */
void control_step(bm_control *c, int64_t now_frame);

/* Handles one OSC packet from a peer as if it arrived over the network (tests, fuzzing). */
void control_handle_packet(bm_control *c, const uint8_t *data, size_t n, const osc_peer *from);

/* Sends every reply and notification to fn as well (tests). */
void control_set_send_hook(bm_control *c, void (*fn)(void *ctx, const osc_peer *to, const uint8_t *pkt, size_t n),
                           void *ctx);

/* A phrase a part finished (the listener's BM_EV_PHRASE_END, taken from the feedback ring): to the
 * script's on_phrase and to OSC clients as /bm/event/phrase. reason: "rest", "bar", "call". */
void control_phrase(bm_control *c, int part, double start_beat, double end_beat, int notes, const char *reason);

/* An onset heard on the audio input (the listener's BM_EV_ONSET): to the script's on_onset and to
 * OSC clients as /bm/event/onset. strength 0..1. */
void control_onset(bm_control *c, double beat, double strength);

/* The UDP port OSC listens on (0 when OSC is off). */
int control_osc_port(const bm_control *c);

/* 1 while a script is loaded and running. */
int control_script_running(const bm_control *c);

/* Stops the script (its cleanup() runs), releases its notes and frees everything. */
void control_destroy(bm_control *c);
