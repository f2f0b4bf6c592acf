/* jack_driver.h: bandmate as a JACK client: audio in (0-2), stereo audio out, MIDI in and out,
 * connections by name or to the physical ports, latency reporting, transport and timebase, and a
 * clean stop (never a hang) when the server goes away. The process callback only moves buffers
 * and calls engine_process. */
#pragma once

#include "engine/engine.h"

#include <stdint.h>

#define BM_JACK_MAX_CONNECT 8

typedef struct bm_jack_opts {
    const char *client_name;          /* default "bandmate" */
    const char *server_name;          /* NULL: the default server ($JACK_DEFAULT_SERVER) */
    int audio_inputs;                 /* 0, 1 or 2 */
    int auto_connect;                 /* connect unnamed ports to the physical ports */
    const char *audio_in[2];          /* source ports for our inputs, or NULL */
    const char *audio_out[2];         /* destination ports for our outputs, or NULL */
    const char *midi_in[BM_JACK_MAX_CONNECT];
    int n_midi_in;
    const char *midi_out[BM_JACK_MAX_CONNECT];
    int n_midi_out;
    int timebase_master;              /* provide BBT to JACK transport */
} bm_jack_opts;

typedef struct bm_jack bm_jack;

/* Connects to the server (never starts one); NULL with one sentence in err when no server runs. */
bm_jack *jack_driver_open(const bm_jack_opts *o, char *err, size_t errlen);

/* The server's sample rate and period size. */
double jack_driver_sample_rate(const bm_jack *j);
uint32_t jack_driver_buffer_size(const bm_jack *j);

/* The client's actual name (JACK may have made it unique). */
const char *jack_driver_client_name(const bm_jack *j);

/* Attaches the engine, activates the client and makes the connections; 0, or -1 with err (a named
 * port that does not exist is an error; auto-connect problems are warnings on stderr). */
int jack_driver_start(bm_jack *j, bm_engine *e, char *err, size_t errlen);

/* 1 once the server has shut the client down (reason copied into why). */
int jack_driver_gone(bm_jack *j, char *why, size_t whylen);

/* The real-time priority of the client's process thread (0 when not real-time). */
int jack_driver_rt_priority(bm_jack *j);

/* xruns reported by the server since start. */
uint64_t jack_driver_xruns(const bm_jack *j);

/* The DSP load JACK reports (percent). */
float jack_driver_cpu_load(bm_jack *j);

/* Latency from a physical input to a physical output through bandmate, in frames (min, max). */
void jack_driver_latency(bm_jack *j, uint32_t *min_frames, uint32_t *max_frames);

/* Deactivates and closes (safe after the server went away). */
void jack_driver_close(bm_jack *j);
