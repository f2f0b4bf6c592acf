/* offline.h: the offline driver: plays a performer's MIDI file and/or recorded audio through the
 * very same process function as the live engine, on a virtual clock, faster than real time, into
 * MIDI and WAV. */
#pragma once

#include "engine/engine.h"
#include "engine/patch.h"

#include <stdint.h>

typedef struct bm_render_opts {
    const char *in_mid;       /* the performer's part (a track named "human", else every track); may
                                 be NULL when in_wav is given */
    const char *in_wav;       /* the performer's audio (mono), fed to the listening input and mixed
                                 into the output; may be NULL. Listening defaults to mono when the
                                 configuration has it off */
    int wav_sets_rate;        /* the session runs at in_wav's sample rate (else they must agree) */
    const char *out_mid;      /* may be NULL */
    const char *out_wav;      /* may be NULL */
    uint32_t block;           /* period size in frames (default 256) */
    const bm_patch *patch;    /* its script plays in the render, as live; may be NULL */
    double tail_seconds;      /* rendered after the last performer event (default 2) */
    int follow_file_tempo;    /* take tempo and meter from the file (default 1); with the tempo source
                                 performer, only the first tempo and the meter (the performer leads) */
    /* called after each period with the engine (tests use it to watch), may be NULL */
    void (*on_period)(void *ctx, bm_engine *e, int64_t start, uint32_t nframes);
    void *ctx;
    /* receives every MIDI message the engine sends, with its absolute frame; may be NULL */
    void (*on_midi_out)(void *ctx, int64_t frame, const uint8_t *bytes, size_t n);
} bm_render_opts;

typedef struct bm_render_result {
    int64_t frames;           /* frames rendered */
    double seconds;           /* of music */
    double wall_seconds;      /* time it took */
    uint64_t human_notes, band_notes;
    uint64_t late_events, late_steps, dropped;
    double first_bpm;
    double last_bpm;          /* the clock's tempo at the end */
    uint64_t audio_notes;     /* notes (or onsets) found in the performer's audio */
    uint64_t phrases;         /* performer phrases recognised */
    double mean_latency_ms;   /* audio analysis latency (detection after the estimated start) */
} bm_render_result;

/* Sets the options to their defaults. */
void render_opts_defaults(bm_render_opts *o);

/* Renders; 0, or -1 with one sentence in err (unreadable input, unwritable output, ...). */
int render_file(const bm_engine_config *cfg, const bm_render_opts *o, bm_render_result *res,
                char *err, size_t errlen);
