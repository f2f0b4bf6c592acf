/* status.h: the performer's view in the terminal while bandmate plays live: tempo and position,
 * mode, parts, CPU load, xruns and lateness, and the band's next planned notes. Control thread:
 * it is fed the feedback and plan rings' events by engine/control/control.c. */
#pragma once

#include "engine/engine.h"
#include "engine/jack_driver.h"

#include <stdio.h>

#define BM_STATUS_PLAN 16

typedef struct bm_status {
    bm_engine *e;
    bm_jack *jack;              /* may be NULL */
    char mode[32];
    uint32_t parts_on;          /* bit (1 << part): the part plays (the control thread keeps it) */
    bm_event plan[BM_STATUS_PLAN];
    int nplan;
    bm_event last;          /* the band's latest planned note (shown when none is still ahead) */
    int has_last;
    uint64_t human_notes, band_notes, beats;
} bm_status;

/* Starts watching an engine (and its JACK client, if any). */
void status_init(bm_status *s, bm_engine *e, bm_jack *jack, const char *mode);

/* Counts an event of the engine's feedback ring (the control thread drains the ring). */
void status_take_event(bm_status *s, const bm_event *ev);

/* Keeps a planned note of the engine's plan ring for the "next" field. */
void status_take_plan(bm_status *s, const bm_event *ev);

/* Forgets planned notes that have been played (call every few tens of milliseconds). */
void status_poll(bm_status *s);

/* Prints one status line (rewriting the terminal line when tty). */
void status_print(bm_status *s, FILE *f, int tty);

/* Prints the end-of-session summary: notes, xruns, lateness, callback times. */
void status_summary(bm_status *s, FILE *f);

/* Formats a MIDI note name such as "C#4" into buf. */
const char *status_note_name(int note, char *buf, size_t cap);
