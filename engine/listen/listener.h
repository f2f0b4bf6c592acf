/* listener.h: bandmate's ears: everything the performer plays (MIDI, and audio on one input)
 * becomes performer events on the engine timeline, and feeds a beat tracker (which can drive the
 * clock as the performer tempo source), a phrase segmenter and a harmony estimator, whose
 * snapshot (bm_listen_state) every thread can read.
 * Created and destroyed off the process thread. listener_audio, listener_hear, listener_tick,
 * listener_end_phrase and listener_set_follow are called from the process thread: no
 * allocation, no locks, no I/O, bounded work. listener_read may be called from any thread. */
#pragma once

#include "engine/clock.h"
#include "engine/event.h"
#include "engine/listen/listen_state.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bm_listener bm_listener;

/* Listening statistics (read from any thread; for summaries and measurements). */
typedef struct bm_listen_stats {
    uint64_t audio_notes;       /* note-ons found in the audio */
    uint64_t audio_onsets;      /* onsets found in polyphonic audio */
    double latency_sum_frames;  /* detection minus estimated start, summed over audio notes */
    uint64_t phrases;
    uint64_t tempo_follows;     /* periods in which the clock was bent towards the performer */
} bm_listen_stats;

/* Creates a listener for a sample rate, preferring bpm as the performer's tempo until it has
 * heard one; NULL with one sentence in err. */
bm_listener *listener_create(const bm_listen_config *cfg, double sample_rate, double bpm, char *err,
                             size_t errlen);

/* Frees it. */
void listener_destroy(bm_listener *l);

/* Runs silence through the audio analysis so the first real periods meet warm memory, then
 * forgets it (call before going live, not from the process thread). */
void listener_prefault(bm_listener *l);

/* The configuration it runs with. */
const bm_listen_config *listener_config(const bm_listener *l);

/* Audio of one period (the configured input) starting at frame: writes the performer events
 * found in it (note on/off for mono, BM_EV_ONSET for poly) into out, stamped with the frame of
 * their estimated true onset (part human, channel 0, beat not set), and returns how many. The
 * caller routes them like MIDI and hands each back through listener_hear. */
int listener_audio(bm_listener *l, const bm_clock *c, const float *in, uint32_t n, int64_t frame,
                   bm_event *out, int max);

/* A performer event (note on/off from MIDI or audio, or an onset), with frame and beat set. */
void listener_hear(bm_listener *l, const bm_event *ev);

/* The end of a period at frame: phrase ends and starts found since the last tick go into out
 * (BM_EV_PHRASE_START / BM_EV_PHRASE_END, part human), the clock is bent towards the performer's
 * beat when its source is BM_TEMPO_PERFORMER, and the snapshot is published. *tempo_changed is
 * set when the clock's nominal tempo moved enough to be worth a tempo event. Returns the number
 * of events. */
int listener_tick(bm_listener *l, bm_clock *c, int64_t frame, bm_event *out, int max, int *tempo_changed);

/* Ends the current phrase at the next tick (the end-of-call control). */
void listener_end_phrase(bm_listener *l);

/* Sets the tempo follow strength (0 ignore .. 1 tight). */
void listener_set_follow(bm_listener *l, double strength);

/* Copies the latest published snapshot. Any thread. */
void listener_read(bm_listener *l, bm_listen_state *out);

/* Copies the statistics. Any thread. */
void listener_stats(bm_listener *l, bm_listen_stats *out);
