/* beat_track.h: the performer's beat from their onsets (audio onsets and MIDI note-ons): an
 * autocorrelation of recent onsets finds the beat period (preferring tempi near a prior, the
 * clock's tempo), a phase histogram places the beats, and a weighted line fit through the onsets
 * that fall on the beat grid tracks tempo and phase from then on; when onsets keep missing the
 * grid (a tempo jump), the search runs again. Real-time safe: a plain struct, bounded work
 * (at most a few hundred onsets per search). */
#pragma once

#include <stdint.h>

#define BT_MAX_ONSETS 256
#define BT_FIT 12
#define BT_LAG_BINS 768

typedef struct bm_beat_onset {
    int64_t frame;
    float weight;
} bm_beat_onset;

typedef struct bm_beat_track {
    double sr;
    double prior_period;          /* frames per beat to prefer when searching */
    bm_beat_onset on[BT_MAX_ONSETS]; /* recent onsets, a ring in arrival order */
    int head, count;
    int locked;
    double period;                /* frames per beat (at the anchor) */
    double trend;                 /* change of the period per beat (negative: speeding up) */
    double anchor;                /* frame of beat number k_anchor */
    int64_t k_anchor;
    struct { double t; int64_t k; float w; } fit[BT_FIT]; /* onsets on the grid, newest last */
    int nfit;
    int64_t last_search;          /* frame of the last search */
    int64_t last_onset;           /* frame of the newest onset */
    float hit, total;             /* decaying on-grid and total onset weight */
    int miss_run;                 /* consecutive onsets off the grid */
    int64_t first_miss;           /* frame of the first of them */
    uint32_t relocks;             /* searches that changed the grid */
    float lag[BT_LAG_BINS];       /* scratch for the autocorrelation */
} bm_beat_track;

/* Starts unlocked, preferring prior_bpm. */
void beat_track_init(bm_beat_track *b, double sample_rate, double prior_bpm);

/* Changes the preferred tempo (the clock's, when the performer starts); no effect once locked. */
void beat_track_set_prior(bm_beat_track *b, double bpm);

/* An onset at a frame with a weight in 0..1 (louder, more accented: heavier). Onsets within
 * 30 ms of the previous one are one onset (a chord). */
void beat_track_onset(bm_beat_track *b, int64_t frame, float weight);

/* 1 once the tracker has a beat. */
int beat_track_locked(const bm_beat_track *b);

/* The tracked tempo (BPM); 0 when not locked. */
double beat_track_bpm(const bm_beat_track *b);

/* The tracked tempo extrapolated to a frame with its trend (BPM); 0 when not locked. */
double beat_track_bpm_at(const bm_beat_track *b, int64_t frame);

/* Beat position of the tracked grid at a frame (integer values fall on the performer's beats);
 * only meaningful when locked. */
double beat_track_position(const bm_beat_track *b, int64_t frame);

/* Share (0..1) of recent onset weight that fell on the tracked beats. */
float beat_track_confidence(const bm_beat_track *b);
