/* recorder.h: records a session to a Standard MIDI File (one named track per part: human, bass,
 * drums, comping, lead) and a WAV file, from the engine's recorder rings. Live, its own thread
 * drains the rings every 50 ms and rewrites the MIDI file (atomically) every second, and the WAV
 * header is kept valid after every write, so a crash or a kill loses at most the last second.
 * Offline, the renderer calls recorder_drain itself. Never called from the process thread. */
#pragma once

#include "engine/ring.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bm_recorder bm_recorder;

typedef struct bm_recorder_info {
    uint64_t events;        /* note and controller events written */
    uint64_t frames;        /* audio frames written */
    uint64_t write_errors;  /* failed writes (reported once on stderr) */
} bm_recorder_info;

/* Opens the outputs (either path may be NULL to skip it); NULL with one sentence in err when a file
 * cannot be created. bpm and meter give the MIDI file's starting tempo and time signature. */
bm_recorder *recorder_create(const char *mid_path, const char *wav_path, ring *events, ring *audio,
                             double sample_rate, double bpm, int beats_per_bar, int beat_unit,
                             char *err, size_t errlen);

/* Moves everything waiting in the rings to the files (MIDI kept in memory until the next save). */
void recorder_drain(bm_recorder *r);

/* Writes the MIDI file now (atomically); 0 or -1. */
int recorder_save_midi(bm_recorder *r);

/* Starts the live thread (drain every 50 ms, save the MIDI file every second). 0 or -1. */
int recorder_start_thread(bm_recorder *r);

/* Stops the thread, drains, saves and closes everything; 0, or -1 with err when something could
 * not be written. The recorder stays valid for recorder_info until recorder_destroy. */
int recorder_finish(bm_recorder *r, char *err, size_t errlen);

/* Counters. */
bm_recorder_info recorder_info(bm_recorder *r);

/* Frees the recorder (finishing it first if needed). */
void recorder_destroy(bm_recorder *r);
