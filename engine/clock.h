/* clock.h: one timeline in frames, and musical time (tempo, meter, bar/beat/step) mapped onto it.
 * A clock is owned by one thread (the process thread); others read copies through clock_publish /
 * clock_read_published. Every function here is real-time safe: no allocation, no locks, no I/O.
 * Tempo changes re-anchor the map at the frame of the change, so the beat position never jumps;
 * followed sources (MIDI clock, JACK transport) are tracked by a phase-locked loop that bends the
 * tempo instead of jumping, except when the source relocates. */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

enum bm_tempo_source {
    BM_TEMPO_INTERNAL = 0,  /* set by commands, patches, tap tempo */
    BM_TEMPO_JACK,          /* follow JACK transport (BBT) */
    BM_TEMPO_MIDI_CLOCK,    /* follow MIDI clock in (24 ppqn) */
    BM_TEMPO_PERFORMER,     /* follow the performer's beat (beat tracker) */
    BM_TEMPO_FILE,          /* the tempo map of a MIDI file (offline render) */
};

#define BM_MIN_BPM 20.0
#define BM_MAX_BPM 400.0

typedef struct bm_clock_map {
    double sample_rate;
    int64_t anchor_frame;     /* beat(frame) = anchor_beat + (frame - anchor_frame) * beats_per_frame */
    double anchor_beat;
    double beats_per_frame;   /* follows bpm, plus the phase correction of a followed source */
    double bpm;               /* the nominal tempo */
    int beats_per_bar;
    int beat_unit;
    int steps_per_beat;       /* the musician's grid */
    int rolling;              /* musical time advances (transport playing) */
    int source;               /* enum bm_tempo_source */
} bm_clock_map;

typedef struct bm_transport_info {
    int valid;                /* BBT fields are meaningful */
    int rolling;
    int32_t bar, beat, tick;  /* 1-based bar and beat, as JACK gives them */
    double ticks_per_beat;
    double bpm;
    float beats_per_bar;
    float beat_type;
} bm_transport_info;

typedef struct bm_clock {
    bm_clock_map map;
    /* MIDI clock in */
    int64_t mc_last_frame;
    double mc_interval;       /* smoothed frames per tick */
    int64_t mc_ticks;         /* ticks since start (or song position) */
    int mc_seen;
    /* tap tempo */
    int64_t taps[5];
    int ntaps;
    /* performer following */
    int64_t pf_last_frame;
    int pf_seen;
    /* published copy for other threads (seqlock) */
    atomic_uint pub_seq;
    _Atomic uint64_t pub_words[10];
} bm_clock;

/* Sets up a rolling clock at frame 0, beat 0. */
void clock_init(bm_clock *c, double sample_rate, double bpm, int beats_per_bar, int beat_unit,
                int steps_per_beat);

/* Beat position at a frame (frozen while stopped). */
double clock_map_beat_at(const bm_clock_map *m, int64_t frame);

/* The frame at which a beat position falls (rounded to the nearest frame; INT64_MAX when stopped
 * and the beat is ahead). */
int64_t clock_map_frame_at(const bm_clock_map *m, double beat);

/* Beat position at a frame, of the clock's own map. */
double clock_beat_at(const bm_clock *c, int64_t frame);

/* Frame of a beat, of the clock's own map. */
int64_t clock_frame_at(const bm_clock *c, double beat);

/* Sets the nominal tempo from a frame on, keeping the beat position continuous. */
void clock_set_tempo(bm_clock *c, int64_t frame, double bpm);

/* Sets the meter (beats per bar and beat unit). */
void clock_set_meter(bm_clock *c, int beats_per_bar, int beat_unit);

/* Follows a new sample rate from a frame on (same tempo, same beat position). */
void clock_set_sample_rate(bm_clock *c, int64_t frame, double sample_rate);

/* Jumps to a beat position at a frame (a relocation, e.g. song position). */
void clock_locate(bm_clock *c, int64_t frame, double beat);

/* Starts or stops musical time at a frame. */
void clock_set_rolling(bm_clock *c, int64_t frame, int rolling);

/* Chooses the tempo source. */
void clock_set_source(bm_clock *c, int source);

/* MIDI clock in: one real-time byte (0xF8 tick, 0xFA start, 0xFB continue, 0xFC stop) at a frame.
 * Returns 1 when the nominal tempo changed by more than 0.05 BPM. */
int clock_midi_realtime(bm_clock *c, int64_t frame, uint8_t byte);

/* MIDI song position pointer (in MIDI beats = 16ths) at a frame. */
void clock_midi_song_position(bm_clock *c, int64_t frame, int sixteenths);

/* Tap tempo: a tap at a frame; returns 1 when it set a new tempo (from the second tap on). */
int clock_tap(bm_clock *c, int64_t frame);

/* Performer following (BM_TEMPO_PERFORMER), called once a period: bends the nominal tempo towards
 * bpm and the beat phase by phase_err (the performer's beat position minus the clock's, wrapped to
 * [-0.5, 0.5] beats) with a strength 0..1 (0 ignores; 1 converges within about a beat). It never
 * jumps and never runs backwards: the tempo moves by at most 10 % per beat and the phase bend
 * keeps the rate within 15 % of the nominal tempo. */
void clock_follow_performer(bm_clock *c, int64_t frame, double phase_err, double bpm, double strength);

/* JACK transport follow: called once a period with the transport state at its first frame. */
void clock_follow_transport(bm_clock *c, int64_t frame, const bm_transport_info *t);

/* Fills a transport description from the clock at a frame (to be JACK's timebase master). */
void clock_fill_transport(const bm_clock *c, int64_t frame, double ticks_per_beat, bm_transport_info *t);

/* Offsets (in [0, nframes)) of the 24-ppqn MIDI clock ticks that fall in a period; returns how many
 * (at most max). */
int clock_midi_ticks_in(const bm_clock *c, int64_t start, uint32_t nframes, uint32_t *offsets, int max);

/* Publishes the current map for other threads (wait-free for the writer). */
void clock_publish(bm_clock *c);

/* Reads the last published map from any thread (retries while a publish is in progress). */
void clock_read_published(bm_clock *c, bm_clock_map *out);
