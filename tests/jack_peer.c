/* jack_peer.c: the player and recorder test clients. */
#include "jack_peer.h"
#include "test.h"
#include "engine/smf.h"

#include <jack/midiport.h>
#include <unistd.h>

static int player_process(jack_nframes_t n, void *arg)
{
    peer *p = arg;
    int64_t start = jack_last_frame_time(p->player);
    void *buf = jack_port_get_buffer(p->play_out, n);
    jack_midi_clear_buffer(buf);
    int i = p->next_send;
    while (i < p->n_send && p->to_send[i].frame < start + n) {
        int64_t off = p->to_send[i].frame - start;
        if (off < 0) off = 0; /* late: the test will see it */
        jack_midi_event_write(buf, (jack_nframes_t)off, p->to_send[i].bytes, p->to_send[i].size);
        i++;
    }
    p->next_send = i;
    float *a = jack_port_get_buffer(p->play_audio, n);
    int64_t from = p->audio_out_start;
    for (uint32_t k = 0; k < n; k++) {
        int64_t idx = start + k - from;
        a[k] = from >= 0 && idx >= 0 && idx < p->audio_out_len ? p->audio_out[idx] : 0.0f;
    }
    p->now_frame = start;
    return 0;
}

static int recorder_process(jack_nframes_t n, void *arg)
{
    peer *p = arg;
    int64_t start = jack_last_frame_time(p->recorder);
    void *buf = jack_port_get_buffer(p->rec_midi, n);
    uint32_t count = jack_midi_get_event_count(buf);
    for (uint32_t k = 0; k < count && p->n_got < PEER_MAX_EVENTS; k++) {
        jack_midi_event_t ev;
        if (jack_midi_event_get(&ev, buf, k) != 0) continue;
        peer_msg *m = &p->got[p->n_got];
        m->frame = start + ev.time;
        m->size = (uint8_t)(ev.size > 3 ? 3 : ev.size);
        memcpy(m->bytes, ev.buffer, m->size);
        p->n_got++;
    }
    if (p->rec_start_frame < 0) p->rec_start_frame = start;
    int64_t at = start - p->rec_start_frame;
    for (int c = 0; c < 2; c++) {
        float *in = jack_port_get_buffer(p->rec_audio[c], n);
        for (uint32_t k = 0; k < n && at + k < p->audio_cap; k++)
            if (at + k >= 0) p->audio[c][at + k] = in[k];
    }
    if (at + n > p->audio_len) p->audio_len = at + n < p->audio_cap ? at + n : p->audio_cap;
    return 0;
}

static int on_xrun(void *arg)
{
    ((peer *)arg)->xruns++;
    return 0;
}

void peer_open(peer *p, const char *server, int64_t audio_seconds)
{
    memset(p, 0, sizeof *p);
    jack_status_t st;
    p->player = jack_client_open("player", JackNoStartServer | JackServerName, &st, server);
    p->recorder = jack_client_open("recorder", JackNoStartServer | JackServerName, &st, server);
    CHECKF(p->player && p->recorder, "test clients could not open on %s", server);
    p->play_out = jack_port_register(p->player, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    p->play_audio = jack_port_register(p->player, "audio", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    p->audio_out_start = -1;
    p->rec_midi = jack_port_register(p->recorder, "midi", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
    p->rec_audio[0] = jack_port_register(p->recorder, "L", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    p->rec_audio[1] = jack_port_register(p->recorder, "R", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    p->to_send = calloc(PEER_MAX_EVENTS, sizeof *p->to_send);
    p->got = calloc(PEER_MAX_EVENTS, sizeof *p->got);
    p->audio_cap = audio_seconds * jack_get_sample_rate(p->player);
    for (int c = 0; c < 2; c++) {
        p->audio[c] = calloc((size_t)p->audio_cap, sizeof(float));
        memset(p->audio[c], 0, (size_t)p->audio_cap * sizeof(float)); /* fault the pages in now */
    }
    memset(p->got, 0, PEER_MAX_EVENTS * sizeof *p->got);
    p->rec_start_frame = -1;
    jack_set_process_callback(p->player, player_process, p);
    jack_set_process_callback(p->recorder, recorder_process, p);
    jack_set_xrun_callback(p->recorder, on_xrun, p);
    CHECK(jack_activate(p->player) == 0);
    CHECK(jack_activate(p->recorder) == 0);
}

void peer_connect(peer *p, const char *client)
{
    char port[256];
    snprintf(port, sizeof port, "%s:midi_in", client);
    int i;
    for (i = 0; i < 200 && !jack_port_by_name(p->player, port); i++) usleep(50000);
    CHECKF(i < 200, "bandmate's port %s did not appear within 10 s", port);
    char a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s:midi_out", client);
    snprintf(b, sizeof b, "%s:out_L", client);
    snprintf(c, sizeof c, "%s:out_R", client);
    const char *pairs[4][2] = {{"player:out", port}, {a, "recorder:midi"}, {b, "recorder:L"}, {c, "recorder:R"}};
    for (int k = 0; k < 4; k++) {
        /* bandmate registers its ports before it activates; JACK connects only active clients */
        int rc = -1;
        for (int t = 0; t < 100 && (rc = jack_connect(p->player, pairs[k][0], pairs[k][1])) != 0; t++) usleep(50000);
        CHECKF(rc == 0, "could not connect %s to %s (%d; test clients '%s' and '%s'; %s %s)", pairs[k][0],
               pairs[k][1], rc, jack_get_client_name(p->player), jack_get_client_name(p->recorder),
               jack_port_by_name(p->player, pairs[k][0]) ? "source exists" : "no source",
               jack_port_by_name(p->player, pairs[k][1]) ? "destination exists" : "no destination");
    }
    char in1[256];
    snprintf(in1, sizeof in1, "%s:in_1", client);
    if (jack_port_by_name(p->player, in1)) {
        int rc = -1;
        for (int t = 0; t < 100 && (rc = jack_connect(p->player, "player:audio", in1)) != 0; t++) usleep(50000);
        CHECKF(rc == 0, "could not connect player:audio to %s (%d)", in1, rc);
    }
}

void peer_play_audio(peer *p, const float *samples, int64_t n, int64_t start_frame)
{
    p->audio_out = samples;
    p->audio_out_len = n;
    __atomic_store_n(&p->audio_out_start, start_frame, __ATOMIC_RELEASE);
}

int peer_load_smf(peer *p, const char *path, int64_t start_frame, double sr)
{
    smf *s;
    char err[256];
    if (smf_read_file(path, &s, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_tempo_map map;
    smf_tempo_map_build(s, &map);
    int n = 0;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n && n < PEER_MAX_EVENTS; i++) {
            smf_event *e = &s->tracks[t].events[i];
            if (e->kind != SMF_MIDI || e->nbytes != 3) continue;
            p->to_send[n].frame = start_frame + (int64_t)llround(smf_tempo_map_seconds(&map, e->tick) * sr);
            p->to_send[n].size = 3;
            memcpy(p->to_send[n].bytes, e->bytes, 3);
            n++;
        }
    peer_sort(p, n);
    smf_tempo_map_free(&map);
    smf_free(s);
    p->n_send = n;
    return n;
}

void peer_sort(peer *p, int n)
{
    for (int i = 1; i < n; i++) { /* stable by frame */
        peer_msg x = p->to_send[i];
        int j = i;
        while (j > 0 && p->to_send[j - 1].frame > x.frame) {
            p->to_send[j] = p->to_send[j - 1];
            j--;
        }
        p->to_send[j] = x;
    }
}

int64_t peer_frame(peer *p) { return jack_frame_time(p->player); }

void peer_close(peer *p)
{
    if (p->player) jack_client_close(p->player);
    if (p->recorder) jack_client_close(p->recorder);
    p->player = p->recorder = NULL;
}
