/* engine.h: bandmate's engine: the one process function shared by the live JACK driver and the
 * offline renderer, the rings around it, and the threads it runs beside (musician, recorder).
 * engine_process is called from the process thread: it never allocates, frees, locks, prints,
 * does I/O or runs Lua; everything it touches is allocated by engine_create. */
#pragma once

#include "engine/clock.h"
#include "engine/event.h"
#include "engine/listen/listener.h"
#include "engine/musician.h"
#include "engine/ring.h"
#include "engine/synth.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BM_MAX_BLOCK 1024            /* longer periods are processed in pieces of this size */
#define BM_MAX_EVENTS_PER_BLOCK 1024
#define BM_CYCLE_HIST_BINS 2048      /* callback-time histogram: 1 us bins, the last is overflow */

typedef struct bm_engine bm_engine;

typedef struct bm_engine_config {
    double sample_rate;
    double bpm;
    int beats_per_bar, beat_unit, steps_per_beat;
    int tempo_source;                 /* enum bm_tempo_source */
    char mode[32];                    /* the band's behaviour: "echo", "silent", ... */
    int human_role;                   /* the band part the performer covers; BM_PART_HUMAN for none */
    uint8_t channel[BM_NUM_PARTS];    /* MIDI out channel per part (0-based) */
    uint32_t midi_out_parts;          /* bit (1 << part): send the part to MIDI out */
    uint32_t audio_parts;             /* bit (1 << part): render the part with its instrument */
    int monitor_human;                /* play the performer's MIDI through the human part's instrument */
    int midi_clock_out;               /* send 24-ppqn MIDI clock, start and stop */
    float part_gain[BM_NUM_PARTS];
    float part_pan[BM_NUM_PARTS];     /* -1 left .. 1 right */
    float master_gain;
    int record;                       /* feed the recorder rings */
    uint64_t seed;
    double lookahead_ms;              /* the musician plays a step this long before it starts */
    int instrument[BM_NUM_PARTS];     /* classic preset per part (drums use the drum kit) */
    char voice[BM_NUM_PARTS][128];    /* a neural voice spec per part ("" : the classic preset; see
                                         engine/voice/voice_bank.h); one that cannot load falls back
                                         to the classic preset with one message */
    bm_listen_config listen;          /* audio analysis, tempo following, phrases (listen_state.h) */
} bm_engine_config;

/* Commands from the control thread (one producer) to the process thread. */
enum bm_command_type {
    BM_CMD_TEMPO = 1,     /* value: BPM */
    BM_CMD_TAP,           /* a tap-tempo tap now */
    BM_CMD_ROLLING,       /* value: 0 stop, 1 play */
    BM_CMD_LOCATE,        /* value: beat */
    BM_CMD_PANIC,         /* all notes off everywhere, pending band events cleared */
    BM_CMD_PART_AUDIO,    /* part, value 0/1: its instrument sounds or not */
    BM_CMD_GAIN,          /* part (or -1: master), value */
    BM_CMD_INSTRUMENT,    /* part, ptr: bm_instrument* (ownership passes; the old one comes back
                             through engine_collect_garbage) */
    BM_CMD_TEMPO_SOURCE,  /* value: enum bm_tempo_source */
    BM_CMD_METER,         /* part: beats per bar, value: beat unit */
    BM_CMD_XRUN,          /* from the driver: an xrun happened (for feedback and counts) */
    BM_CMD_END_PHRASE,    /* the performer's phrase ends now (end of call) */
    BM_CMD_FOLLOW,        /* value: tempo follow strength 0..1 (tempo source performer) */
    BM_CMD_MORPH,         /* part, value: a neural voice's morph position x (0..1) */
    BM_CMD_MORPH_Y,       /* part, value: its y (0..1; between four voices) */
};

typedef struct bm_command {
    int type;
    int part;
    double value;
    void *ptr;
} bm_command;

/* A short MIDI message arriving in a period, at a frame offset. */
typedef struct bm_midi_in {
    uint32_t offset;
    uint8_t size;
    uint8_t bytes[3];
} bm_midi_in;

/* Writes a MIDI message at a frame offset of the current period (offsets never decrease within a
 * period); returns 0, or -1 if the driver had no room (counted). */
typedef int (*bm_midi_write_fn)(void *ctx, uint32_t offset, const uint8_t *bytes, size_t n);

typedef struct bm_io {
    int64_t frame;                    /* the period's first frame on the driver's timeline (JACK
                                         frame time, extended to 64 bits; offline: virtual) */
    uint32_t nframes;
    const float *audio_in[2];         /* NULL when absent */
    float *audio_out[2];              /* stereo out, written (not added) */
    const bm_midi_in *midi_in;        /* sorted by offset */
    uint32_t n_midi_in;
    bm_midi_write_fn midi_write;      /* NULL: no MIDI out */
    void *midi_ctx;
    const bm_transport_info *transport; /* NULL: none */
    int64_t now_ns;                   /* CLOCK_MONOTONIC at the first frame (live), or 0 */
} bm_io;

typedef struct bm_engine_stats {
    atomic_uint_fast64_t cycles;
    atomic_uint_fast64_t frames;
    atomic_uint_fast64_t xruns;
    atomic_uint_fast64_t late_events;       /* played after their time (at the period start) */
    atomic_int_fast64_t max_late_frames;
    atomic_uint_fast64_t dropped_events;    /* refused by a full scheduler or ring */
    atomic_uint_fast64_t midi_out_failed;   /* the driver had no room */
    atomic_uint_fast64_t feedback_dropped;  /* nobody drained the feedback ring */
    atomic_uint_fast64_t record_dropped;    /* the recorder fell behind (events or audio frames) */
    atomic_uint_fast64_t human_notes, band_notes;
    atomic_int_fast64_t max_cycle_ns;
    atomic_int_fast64_t last_cycle_ns;
    atomic_int_fast64_t total_cycle_ns;
    atomic_uint_fast64_t cycle_hist[BM_CYCLE_HIST_BINS]; /* microseconds */
    /* live only (the JACK driver): when the callback began after its JACK cycle began, and the
     * periods it finished after the cycle's end, split by what took the time */
    atomic_uint_fast64_t wake_hist[BM_CYCLE_HIST_BINS]; /* microseconds */
    atomic_int_fast64_t max_wake_us;
    atomic_uint_fast64_t overruns;          /* finished after the period had passed */
    atomic_uint_fast64_t overruns_woke_late; /* ... of them, the wait before the callback was longer than its work */
    atomic_int active_voices;
    atomic_int input_peak_milli;            /* audio input peak of the last period, x1000 */
    atomic_int output_peak_milli;
} bm_engine_stats;

/* Test hooks called at the start and end of every engine_process (NULL in normal use): the
 * real-time safety test uses them to watch for allocation, locks and I/O inside the callback. */
extern void (*bm_rt_enter_hook)(void);
extern void (*bm_rt_leave_hook)(void);

/* Default configuration: 48 kHz, 120 BPM in 4/4, 4 steps per beat, echo mode, every part audible,
 * bass on channel 2, drums 10, comping 3, lead 4, human 1. */
void engine_config_defaults(bm_engine_config *cfg);

/* Allocates an engine and everything its process function needs; NULL with err filled on failure. */
bm_engine *engine_create(const bm_engine_config *cfg, char *err, size_t errlen);

/* Stops its threads and frees everything (not real-time). */
void engine_destroy(bm_engine *e);

/* The process function: one period of audio and MIDI. Process thread only. */
void engine_process(bm_engine *e, const bm_io *io);

/* Touches every buffer the process function uses and runs it a few times on silence, so that the
 * first real periods meet no page faults or cold code (call before going live). */
void engine_prefault(bm_engine *e);

/* Starts the musician thread (live use), at normal priority. 0 or -1. */
int engine_start_musician_thread(bm_engine *e);

/* Gives the musician thread a real-time priority (SCHED_FIFO; 0: normal). It must stay below the
 * audio thread's, or a step could delay a period. 0, or -1 when the system refuses. */
int engine_musician_priority(bm_engine *e, int rt_priority);

/* Runs the musician for the steps due at now_frame (offline use, or from the musician thread). */
int engine_musician_poll(bm_engine *e, int64_t now_frame);

/* Sends a command to the process thread; 0, or -1 when the command ring is full. Control thread. */
int engine_command(bm_engine *e, const bm_command *cmd);

/* Sends a command to the musician; 0 or -1. Control thread. */
int engine_musician_command(bm_engine *e, const bm_musician_cmd *cmd);

/* Queues a band event from the control thread (scripts, OSC notes), stamped in frames or in beats
 * (BM_EVF_BEAT) with part and channel set; the process thread plays it at its time as it plays the
 * musician's. 0, or -1 when the ring is full. Control thread (the one producer). */
int engine_play_event(bm_engine *e, const bm_event *ev);

/* 1 when the process thread has taken every command and event sent so far. Control thread. */
int engine_commands_applied(bm_engine *e);

/* Panic: the musician forgets what it heard, planned notes are dropped, every instrument fades out
 * in 5 ms, and all-notes-off goes to every part's MIDI channel. Control thread. 0 or -1. */
int engine_panic(bm_engine *e);

/* Ends the performer's current phrase now (the end-of-call control); 0 or -1. Control thread. */
int engine_end_phrase(bm_engine *e);

/* Sets how tightly the clock follows the performer's tempo (0 ignore .. 1 tight; it takes effect
 * with the tempo source performer); 0 or -1. Control thread. */
int engine_set_follow(bm_engine *e, double strength);

/* What the listener heard (key, chord, performer tempo, phrases). Any thread. */
void engine_listen_state(bm_engine *e, bm_listen_state *out);

/* The listener (for its statistics; its process-thread functions belong to the engine). */
bm_listener *engine_listener(bm_engine *e);

/* Changes the band's mode by name; 0, or -1 with err (one sentence) for an unknown mode or one
 * that cannot start. Between "accompany", "call-and-response" and "duet" the running musician
 * switches live (no model reload; the groove goes on); other changes build a new behaviour and
 * swap it in. Either way what a change silences is released. Control thread. */
int engine_set_mode(bm_engine *e, const char *mode, char *err, size_t errlen);

/* Primes the band with a phrase of performer events (note on/off stamped in beats from its start,
 * in order; length in beats) played on a part (BM_PART_*: a lead phrase feeds the musician's
 * memory of the performer's phrases): at its next step the band hears it as if it had just been
 * played, without answering (behaviour_prime; the modes that play the trained musician). Control
 * thread; 0, or -1 with one sentence in err. */
int engine_prime(bm_engine *e, const bm_event *ev, int n, int part, double length, char *err, size_t errlen);

/* The name of the instrument or voice a part plays now. Only where nothing runs the process
 * function meanwhile (the offline driver between periods, tests). */
const char *engine_part_instrument(const bm_engine *e, int part);

/* Gives the band the tune's chord chart (copied; NULL or empty: none), which it follows from its
 * next step. Control thread; 0, or -1 with one sentence in err. */
int engine_set_chart(bm_engine *e, const bm_band_chart *chart, char *err, size_t errlen);

/* Builds the current mode's behaviour anew and swaps it in (after behaviour_set_model_path: the
 * musician plays the new model); 0, or -1 with err, the band playing on as before. Control thread. */
int engine_rebuild_mode(bm_engine *e, char *err, size_t errlen);

/* The band's mode last asked for. Control thread. */
const char *engine_mode(const bm_engine *e);

/* Frees instruments and behaviours the real-time threads handed back. Control thread. */
void engine_collect_garbage(bm_engine *e);

/* The ring of everything played (bm_event: human and band notes, beats, xruns) for the control
 * thread's feedback; consumer: the control thread. */
ring *engine_feedback_ring(bm_engine *e);

/* The band's planned notes (bm_event note-ons stamped in beats, pushed when the musician plans
 * them, ahead of time); consumer: the control thread. */
ring *engine_plan_ring(bm_engine *e);

/* The recorder's rings: every event (bm_event) and the output audio (interleaved stereo floats). */
void engine_record_rings(bm_engine *e, ring **events, ring **audio);

/* Queues hardware MIDI input (PortMidi thread: the one producer) stamped with a frame. */
int engine_external_midi(bm_engine *e, int64_t frame, const uint8_t *bytes, int n);

/* Turns on MIDI out for hardware devices and returns its ring (bm_event with frame; consumer: the
 * PortMidi thread). */
ring *engine_external_midi_out(bm_engine *e);

/* The engine's counters (read from any thread). */
const bm_engine_stats *engine_stats(bm_engine *e);

/* The musician's current value of a live control (enum bm_musician_control); the musician thread
 * writes it, so live it is a snapshot (tests and the offline driver read it exactly). */
double engine_musician_control(bm_engine *e, int which);

/* The musician's counters. */
const bm_musician_stats *engine_musician_stats(bm_engine *e);

/* The frame counter and CLOCK_MONOTONIC time of the last period start (for time mapping). */
void engine_time_anchor(bm_engine *e, int64_t *frame, int64_t *ns);

/* The engine's current frame, estimated from the last period's anchor and the time now (any thread). */
int64_t engine_now_frame(bm_engine *e);

/* The sample rate in force (any thread). */
double engine_sample_rate(bm_engine *e);

/* The clock (its published map is safe to read from any thread with clock_read_published). */
bm_clock *engine_clock(bm_engine *e);

/* The configuration the engine was created with. */
const bm_engine_config *engine_config(const bm_engine *e);

/* Percentile of the callback time histogram in microseconds (p in 0..100). */
double engine_cycle_percentile_us(const bm_engine_stats *s, double p);

/* The same for the wake-up delay (the callback's start after its cycle began). */
double engine_wake_percentile_us(const bm_engine_stats *s, double p);

/* The driver's account of one cycle: the callback began wake_us after the cycle began and ended
 * end_us after it, of a period of period_us. Process thread; real-time safe. */
void engine_note_cycle_timing(bm_engine *e, int64_t wake_us, int64_t end_us, double period_us);

/* Asks the process thread to follow a new sample rate (driver callback). */
void engine_set_sample_rate(bm_engine *e, double sample_rate);
