/* sched.h: the scheduler: pending events stamped in frames or in beats, emitted sample-accurately,
 * in order, inside the period they fall in. Events that are already due when they arrive are played
 * at the start of the period and counted as late, never dropped silently.
 * Process-thread only after sched_init: no allocation, no locks. Memory is the caller's. */
#pragma once

#include "engine/clock.h"
#include "engine/event.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sched_item {
    bm_event ev;
    uint64_t seq;   /* insertion order: ties at the same time keep it */
} sched_item;

typedef struct sched {
    sched_item *by_frame;   /* min-heap on (frame, seq) */
    sched_item *by_beat;    /* min-heap on (beat, seq) */
    size_t n_frame, n_beat, capacity;
    uint64_t next_seq;
    uint64_t late;          /* events emitted after their due time */
    int64_t max_late_frames;
    uint64_t dropped;       /* events refused because the scheduler was full */
} sched;

/* Bytes needed for a scheduler holding up to capacity events of each kind. */
size_t sched_memneeded(size_t capacity);

/* Lays a scheduler out in mem (sched_memneeded bytes). */
sched *sched_init(void *mem, size_t capacity);

/* Adds an event (beat-stamped when ev->flags has BM_EVF_BEAT); 0, or -1 when full (counted). */
int sched_insert(sched *s, const bm_event *ev);

/* Removes the due events of the period [start, start + nframes) into out (at most max), sorted by
 * frame then insertion order; beat-stamped events get their frame from the clock now. Late ones
 * get frame = start and BM_EVF_LATE. Returns how many. Events beyond max stay for the next period. */
int sched_collect(sched *s, const bm_clock *c, int64_t start, uint32_t nframes, bm_event *out, int max);

/* Removes pending events of a part (part < 0: all parts) for which keep() returns 0; returns how many. */
int sched_remove(sched *s, int part, int (*keep)(const bm_event *ev));

/* Pending events (both kinds). */
size_t sched_pending(const sched *s);
