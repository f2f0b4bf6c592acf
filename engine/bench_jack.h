/* bench_jack.h: what the live benchmarks share: a JACK client that plays a MIDI file into bandmate
 * in a loop, the reference client that only writes silence, the callback-cost table and jackd's
 * own xrun reports. Not real-time (the player's process callback is). */
#pragma once

#include "engine/engine.h"

#include <jack/jack.h>
#include <stdint.h>

typedef struct bench_player {
    jack_client_t *client;
    jack_port_t *out;
    struct bench_msg {
        int64_t frame;
        uint8_t b[3];
    } *msgs;
    int n, next;
    int64_t start, length;
} bench_player;

/* Opens a client named name on the server, loads the first track of the MIDI file and registers
 * its output port "out"; 0, or -1 with one sentence in err. */
int bench_player_open(bench_player *p, const char *server, const char *name, const char *path, double sr,
                      char *err, size_t errlen);

/* Activates the player and connects it to the port `to`; 0 or -1. */
int bench_player_start(bench_player *p, const char *to);

/* Closes the client and frees the notes. */
void bench_player_close(bench_player *p);

/* Xruns a client writing silence sees on its own private server (same rate and period) in that
 * many seconds: what the machine causes by itself. -1 with err when it cannot run. */
int bench_reference_xruns(int period, double seconds, char *err, size_t errlen);

/* Prints the callback cost (mean, median, p99, p99.9, max; us and share of the period). */
void bench_print_callback(const bm_engine_stats *s, double period_us);

/* Counts in jackd's log the periods in which the client `client` had not finished, and the other
 * xrun reports. */
void bench_jackd_log_xruns(const char *log, const char *client, int *ours, int *others);
