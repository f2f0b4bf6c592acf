/* phrase.h: phrase segmentation of the performer's playing: a phrase starts with a note after a
 * rest and ends at a rest longer than a gap (in beats, so it scales with the tempo), at a bar line
 * that passes in a rest, or when the control layer says so (end of call). Real-time safe. */
#pragma once

#include <stdint.h>

typedef struct bm_phrase {
    double start, end;        /* beats: the first note-on, the end of the last note */
    int64_t start_frame, end_frame;
    int notes;                /* note-ons in the phrase */
    int reason;               /* enum bm_phrase_reason */
} bm_phrase;

typedef struct bm_phrase_tracker {
    double gap;               /* beats */
    int bar_ends;
    int in_phrase;
    int sounding;             /* notes held */
    uint8_t held[128];        /* per note number */
    bm_phrase cur;
    double last_off;          /* beat of the last release (or of the last note-on while held) */
    int64_t last_off_frame;
    uint32_t ended;           /* phrases ended so far */
} bm_phrase_tracker;

/* Sets the rules: gap in beats (> 0), bar_ends 0/1. */
void phrase_init(bm_phrase_tracker *p, double gap, int bar_ends);

/* A note starts (returns 1 when it starts a new phrase) / ends. A release of a note that is not
 * held (one held across an explicit end) is ignored. */
int phrase_note_on(bm_phrase_tracker *p, int note, int64_t frame, double beat);
void phrase_note_off(bm_phrase_tracker *p, int note, int64_t frame, double beat);

/* Checks the rests at a time (called once a period with the beat at its end and the bar length):
 * returns 1 and fills out when the phrase ended. A bar line counts when it lies in (prev_beat,
 * beat]. */
int phrase_poll(bm_phrase_tracker *p, double prev_beat, double beat, int beats_per_bar, bm_phrase *out);

/* Ends the current phrase now (explicit end of call): returns 1 and fills out if one was open.
 * Notes still held are counted as ending now. */
int phrase_end_now(bm_phrase_tracker *p, int64_t frame, double beat, bm_phrase *out);
