/* test_lua_harness.h: bandmate's engine and control thread driven in-process, period by period,
 * on a virtual clock (no JACK, no sockets): scripts, OSC messages handed in as packets, the MIDI
 * the engine sends out, and every reply and notification, all in one test process. */
#pragma once

#include "engine/control/control.h"
#include "engine/engine.h"

#include <stdint.h>

#define H_MAX_OUT 16384
#define H_REPLY_BYTES (1 << 20)

typedef struct h_midi {
    int64_t frame;
    uint8_t b[3];
} h_midi;

typedef struct harness {
    bm_engine *e;
    bm_control *c;
    bm_patch patch;
    int64_t frame;
    uint32_t block;
    h_midi out[H_MAX_OUT];
    int nout;
    bm_midi_in in[256];        /* performer MIDI for the next period */
    uint32_t nin;
    char *replies;             /* every packet sent, one line each: "path arg arg ..." */
    size_t nreplies;
    double max_step_ms;        /* the slowest control step */
} harness;

/* Sets up an engine (48 kHz, 120 BPM, the given mode) and its control thread with a script (may
 * be NULL) and control options tweaked by tweak (may be NULL); fails the test on error. Returns
 * control_start's result (err holds its message). */
int h_open(harness *h, const char *mode, const char *script, void (*tweak)(bm_control_opts *o), char *err,
           size_t errlen);

/* The same from a patch file. */
int h_open_patch(harness *h, const char *patch_path, char *err, size_t errlen);

/* Runs the engine, the musician and the control thread for this many seconds of music. */
void h_run(harness *h, double seconds);

/* Hands an OSC message to the control thread from a test client (types as osc_build). */
void h_send(harness *h, const char *path, const char *types, ...);

/* Hands raw bytes to the control thread as one packet. */
void h_packet(harness *h, const void *data, size_t n);

/* Queues a performer MIDI message for the next period. */
void h_midi_in(harness *h, uint8_t b0, uint8_t b1, uint8_t b2);

/* 1 when some reply or notification line contains needle; clears nothing. */
int h_replied(const harness *h, const char *needle);

/* How many lines contain needle. */
int h_count(const harness *h, const char *needle);

/* Forgets the replies so far. */
void h_clear(harness *h);

/* Note-ons sent on a MIDI channel (0-based), or on any channel with ch < 0. */
int h_notes(const harness *h, int ch);

/* Writes a text file into the test's scratch folder; returns its path. */
const char *h_write(const char *name, const char *text);

/* Frees everything. */
void h_close(harness *h);
