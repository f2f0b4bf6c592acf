/* jack_peer.h: test JACK clients around bandmate: a player that sends MIDI into it at exact frames,
 * and a recorder that timestamps everything that comes out of it (MIDI and audio). */
#pragma once

#include <jack/jack.h>
#include <stdint.h>

#define PEER_MAX_EVENTS 8192

typedef struct peer_msg {
    int64_t frame;      /* absolute JACK frame */
    uint8_t bytes[3];
    uint8_t size;
} peer_msg;

typedef struct peer {
    jack_client_t *player, *recorder;
    jack_port_t *play_out, *play_audio, *rec_midi, *rec_audio[2];
    /* player: messages to send, in frame order */
    peer_msg *to_send;
    int n_send;
    volatile int next_send;
    /* player: audio into bandmate's in_1 (peer_play_audio) */
    const float *audio_out;
    int64_t audio_out_len;
    volatile int64_t audio_out_start;   /* JACK frame of its first sample, or -1 */
    /* recorder */
    peer_msg *got;
    volatile int n_got;
    float *audio[2];          /* recorded from rec_start_frame on */
    int64_t audio_cap;
    volatile int64_t audio_len;
    volatile int64_t rec_start_frame;
    volatile int64_t now_frame;
    volatile int xruns;
} peer;

/* Opens both clients on a server and activates them; fails the test on error. */
void peer_open(peer *p, const char *server, int64_t audio_seconds);

/* Connects player -> bandmate:midi_in and bandmate:midi_out, out_L, out_R -> recorder, waiting up to
 * 10 s for the bandmate client (named client) to appear. */
void peer_connect(peer *p, const char *client);

/* Plays n samples into bandmate's in_1 from a JACK frame on (the buffer must outlive the
 * playing; peer_connect connects player:audio to in_1 when bandmate has it). */
void peer_play_audio(peer *p, const float *samples, int64_t n, int64_t start_frame);

/* Schedules the note events of a MIDI file (all tracks) to start at frame start. */
int peer_load_smf(peer *p, const char *path, int64_t start_frame, double sample_rate);

/* Sorts the first n messages to send by frame, stably (set n_send after it). */
void peer_sort(peer *p, int n);

/* The current JACK frame time. */
int64_t peer_frame(peer *p);

/* Closes both clients. */
void peer_close(peer *p);
