/* jack_driver.c: the JACK client around engine_process. */
#include "engine/jack_driver.h"
#include "engine/util.h"

#include <errno.h>
#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/thread.h>
#include <jack/transport.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MIDI_IN 1024

struct bm_jack {
    jack_client_t *client;
    bm_engine *engine;
    jack_port_t *in[2], *out[2], *midi_in, *midi_out;
    int n_in;
    bm_jack_opts opts;
    bm_midi_in *midi_buf;
    atomic_int gone;
    char gone_why[256];
    atomic_uint_fast64_t xruns;
    atomic_uint buffer_size;
    int active;
    void *midi_out_buf; /* the current period's MIDI out buffer (process thread only) */
    uint32_t last_frame_time;
    int64_t frame_high;  /* JACK's 32-bit frame time extended to 64 bits */
};

static void silent_error(const char *msg) { (void)msg; }

static int write_midi(void *ctx, uint32_t offset, const uint8_t *bytes, size_t n)
{
    bm_jack *j = ctx;
    return jack_midi_event_write(j->midi_out_buf, offset, bytes, n) == 0 ? 0 : -1;
}

static int process(jack_nframes_t nframes, void *arg)
{
    bm_jack *j = arg;
    jack_nframes_t cycle_frames;
    jack_time_t cycle_us, next_us, now_us = jack_get_time();
    float period_us;
    int timed = jack_get_cycle_times(j->client, &cycle_frames, &cycle_us, &next_us, &period_us) == 0;
    bm_io io = {0};
    uint32_t ft = jack_last_frame_time(j->client);
    if (ft < j->last_frame_time) j->frame_high += (int64_t)1 << 32; /* wrapped after ~25 hours */
    j->last_frame_time = ft;
    io.frame = j->frame_high + ft;
    io.nframes = nframes;
    for (int i = 0; i < j->n_in; i++) io.audio_in[i] = jack_port_get_buffer(j->in[i], nframes);
    io.audio_out[0] = jack_port_get_buffer(j->out[0], nframes);
    io.audio_out[1] = jack_port_get_buffer(j->out[1], nframes);
    void *min = jack_port_get_buffer(j->midi_in, nframes);
    uint32_t count = jack_midi_get_event_count(min), n = 0;
    for (uint32_t i = 0; i < count && n < MAX_MIDI_IN; i++) {
        jack_midi_event_t ev;
        if (jack_midi_event_get(&ev, min, i) != 0 || ev.size == 0 || ev.size > 3) continue;
        j->midi_buf[n].offset = ev.time;
        j->midi_buf[n].size = (uint8_t)ev.size;
        memcpy(j->midi_buf[n].bytes, ev.buffer, ev.size);
        n++;
    }
    io.midi_in = j->midi_buf;
    io.n_midi_in = n;
    j->midi_out_buf = jack_port_get_buffer(j->midi_out, nframes);
    jack_midi_clear_buffer(j->midi_out_buf);
    io.midi_write = write_midi;
    io.midi_ctx = j;
    bm_transport_info t;
    if (engine_clock(j->engine)->map.source == BM_TEMPO_JACK) {
        jack_position_t pos;
        jack_transport_state_t st = jack_transport_query(j->client, &pos);
        memset(&t, 0, sizeof t);
        t.rolling = st == JackTransportRolling;
        if (pos.valid & JackPositionBBT) {
            t.valid = 1;
            t.bar = pos.bar;
            t.beat = pos.beat;
            t.tick = pos.tick;
            t.ticks_per_beat = pos.ticks_per_beat;
            t.bpm = pos.beats_per_minute;
            t.beats_per_bar = pos.beats_per_bar;
            t.beat_type = pos.beat_type;
        }
        io.transport = &t;
    }
    engine_process(j->engine, &io);
    if (timed)
        engine_note_cycle_timing(j->engine, (int64_t)now_us - (int64_t)cycle_us, (int64_t)jack_get_time() - (int64_t)cycle_us,
                                 period_us);
    return 0;
}

static void timebase(jack_transport_state_t state, jack_nframes_t nframes, jack_position_t *pos,
                     int new_pos, void *arg)
{
    (void)state; (void)nframes; (void)new_pos;
    bm_jack *j = arg;
    bm_clock *c = engine_clock(j->engine);
    int64_t frame, ns;
    engine_time_anchor(j->engine, &frame, &ns);
    bm_transport_info t;
    clock_fill_transport(c, frame, 1920.0, &t);
    pos->valid = JackPositionBBT;
    pos->bar = t.bar;
    pos->beat = t.beat;
    pos->tick = t.tick;
    pos->bar_start_tick = 0;
    pos->beats_per_bar = t.beats_per_bar;
    pos->beat_type = t.beat_type;
    pos->ticks_per_beat = t.ticks_per_beat;
    pos->beats_per_minute = t.bpm;
}

static int on_buffer_size(jack_nframes_t n, void *arg)
{
    atomic_store(&((bm_jack *)arg)->buffer_size, n);
    return 0; /* the engine handles any period size without reallocating */
}

static int on_sample_rate(jack_nframes_t sr, void *arg)
{
    bm_jack *j = arg;
    if (j->engine) engine_set_sample_rate(j->engine, sr);
    return 0;
}

static int on_xrun(void *arg)
{
    bm_jack *j = arg;
    atomic_fetch_add(&j->xruns, 1);
    return 0;
}

static void on_shutdown(jack_status_t code, const char *reason, void *arg)
{
    (void)code;
    bm_jack *j = arg;
    if (reason) {
        size_t n = strlen(reason);
        if (n >= sizeof j->gone_why) n = sizeof j->gone_why - 1;
        memcpy(j->gone_why, reason, n);
        j->gone_why[n] = 0;
    }
    atomic_store(&j->gone, 1);
}

/* Outputs are as late as the inputs they depend on (no added delay); inputs are as late as the
 * outputs they feed. */
static void on_latency(jack_latency_callback_mode_t mode, void *arg)
{
    bm_jack *j = arg;
    jack_latency_range_t r, acc = {UINT32_MAX, 0};
    jack_port_t *ins[3] = {j->midi_in, j->in[0], j->in[1]};
    jack_port_t *outs[3] = {j->midi_out, j->out[0], j->out[1]};
    jack_port_t **from = mode == JackCaptureLatency ? ins : outs;
    jack_port_t **to = mode == JackCaptureLatency ? outs : ins;
    int nfrom = mode == JackCaptureLatency ? 1 + j->n_in : 3;
    int nto = mode == JackCaptureLatency ? 3 : 1 + j->n_in;
    for (int i = 0; i < nfrom; i++) {
        jack_port_get_latency_range(from[i], mode, &r);
        if (r.min < acc.min) acc.min = r.min;
        if (r.max > acc.max) acc.max = r.max;
    }
    if (acc.min == UINT32_MAX) acc.min = 0;
    for (int i = 0; i < nto; i++) jack_port_set_latency_range(to[i], mode, &acc);
}

bm_jack *jack_driver_open(const bm_jack_opts *o, char *err, size_t errlen)
{
    bm_jack *j = calloc(1, sizeof *j);
    if (!j) {
        bm_errf(err, errlen, "out of memory");
        return NULL;
    }
    j->opts = *o;
    j->midi_buf = calloc(MAX_MIDI_IN, sizeof *j->midi_buf);
    atomic_init(&j->gone, 0);
    atomic_init(&j->xruns, 0);
    jack_set_error_function(silent_error); /* our own sentence says what went wrong */
    jack_status_t status;
    int flags = JackNoStartServer | (o->server_name ? JackServerName : 0);
    const char *name = o->client_name ? o->client_name : "bandmate";
    j->client = o->server_name ? jack_client_open(name, (jack_options_t)flags, &status, o->server_name)
                               : jack_client_open(name, (jack_options_t)flags, &status);
    if (!j->client) {
        if (status & JackServerFailed)
            bm_errf(err, errlen,
                    "no JACK server is running%s%s%s; start one (for example 'jackd -d alsa') or use "
                    "'bandmate render' to play offline",
                    o->server_name ? " under the name '" : "", o->server_name ? o->server_name : "",
                    o->server_name ? "'" : "");
        else
            bm_errf(err, errlen, "the JACK server refused the client (status 0x%x)", (unsigned)status);
        free(j->midi_buf);
        free(j);
        return NULL;
    }
    atomic_init(&j->buffer_size, jack_get_buffer_size(j->client));
    j->n_in = o->audio_inputs < 0 ? 0 : o->audio_inputs > 2 ? 2 : o->audio_inputs;
    static const char *const in_names[2] = {"in_1", "in_2"};
    for (int i = 0; i < j->n_in; i++)
        j->in[i] = jack_port_register(j->client, in_names[i], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    j->out[0] = jack_port_register(j->client, "out_L", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    j->out[1] = jack_port_register(j->client, "out_R", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    j->midi_in = jack_port_register(j->client, "midi_in", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
    j->midi_out = jack_port_register(j->client, "midi_out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    int ok = j->out[0] && j->out[1] && j->midi_in && j->midi_out && j->midi_buf;
    for (int i = 0; i < j->n_in; i++) ok = ok && j->in[i];
    if (!ok) {
        bm_errf(err, errlen, "JACK refused to create bandmate's ports");
        jack_client_close(j->client);
        free(j->midi_buf);
        free(j);
        return NULL;
    }
    return j;
}

double jack_driver_sample_rate(const bm_jack *j) { return jack_get_sample_rate(j->client); }

uint32_t jack_driver_buffer_size(const bm_jack *j) { return atomic_load(&j->buffer_size); }

const char *jack_driver_client_name(const bm_jack *j) { return jack_get_client_name(j->client); }

static int connect_named(bm_jack *j, const char *src, const char *dst, char *err, size_t errlen)
{
    int rc = jack_connect(j->client, src, dst);
    if (rc == 0 || rc == EEXIST) return 0;
    const char *missing = jack_port_by_name(j->client, src) ? dst : src;
    if (!jack_port_by_name(j->client, missing))
        bm_errf(err, errlen, "there is no JACK port named '%s' ('bandmate devices' lists them)", missing);
    else
        bm_errf(err, errlen, "JACK could not connect %s to %s", src, dst);
    return -1;
}

/* Connects one of our ports to the physical ports of the other direction (warnings only). */
static void auto_connect(bm_jack *j, jack_port_t *ours, const char *type, int ours_is_input, int index)
{
    unsigned long flags = JackPortIsPhysical | (ours_is_input ? JackPortIsOutput : JackPortIsInput);
    const char **ports = jack_get_ports(j->client, NULL, type, flags);
    if (!ports) return;
    int n = 0;
    while (ports[n]) n++;
    int from = index < 0 ? 0 : index, to = index < 0 ? n : index + 1;
    for (int i = from; i < to && i < n; i++) {
        int rc = ours_is_input ? jack_connect(j->client, ports[i], jack_port_name(ours))
                               : jack_connect(j->client, jack_port_name(ours), ports[i]);
        if (rc != 0 && rc != EEXIST)
            fprintf(stderr, "bandmate: warning: could not connect %s and %s.\n", jack_port_name(ours), ports[i]);
    }
    jack_free(ports);
}

int jack_driver_start(bm_jack *j, bm_engine *e, char *err, size_t errlen)
{
    j->engine = e;
    jack_set_process_callback(j->client, process, j);
    jack_set_buffer_size_callback(j->client, on_buffer_size, j);
    jack_set_sample_rate_callback(j->client, on_sample_rate, j);
    jack_set_xrun_callback(j->client, on_xrun, j);
    jack_set_latency_callback(j->client, on_latency, j);
    jack_on_info_shutdown(j->client, on_shutdown, j);
    if (j->opts.timebase_master && jack_set_timebase_callback(j->client, 0, timebase, j) != 0)
        fprintf(stderr, "bandmate: warning: another client is JACK's timebase master already.\n");
    if (jack_activate(j->client) != 0) {
        bm_errf(err, errlen, "JACK refused to activate bandmate");
        return -1;
    }
    j->active = 1;
    const bm_jack_opts *o = &j->opts;
    for (int i = 0; i < 2; i++) {
        if (o->audio_out[i]) {
            if (connect_named(j, jack_port_name(j->out[i]), o->audio_out[i], err, errlen)) return -1;
        } else if (o->auto_connect) {
            auto_connect(j, j->out[i], JACK_DEFAULT_AUDIO_TYPE, 0, i);
        }
    }
    for (int i = 0; i < j->n_in; i++) {
        if (o->audio_in[i]) {
            if (connect_named(j, o->audio_in[i], jack_port_name(j->in[i]), err, errlen)) return -1;
        } else if (o->auto_connect) {
            auto_connect(j, j->in[i], JACK_DEFAULT_AUDIO_TYPE, 1, i);
        }
    }
    for (int i = 0; i < o->n_midi_in; i++)
        if (connect_named(j, o->midi_in[i], jack_port_name(j->midi_in), err, errlen)) return -1;
    for (int i = 0; i < o->n_midi_out; i++)
        if (connect_named(j, jack_port_name(j->midi_out), o->midi_out[i], err, errlen)) return -1;
    if (o->auto_connect && !o->n_midi_in) auto_connect(j, j->midi_in, JACK_DEFAULT_MIDI_TYPE, 1, -1);
    if (o->auto_connect && !o->n_midi_out) auto_connect(j, j->midi_out, JACK_DEFAULT_MIDI_TYPE, 0, 0);
    return 0;
}

int jack_driver_gone(bm_jack *j, char *why, size_t whylen)
{
    if (!atomic_load(&j->gone)) return 0;
    if (why) snprintf(why, whylen, "%s", j->gone_why[0] ? j->gone_why : "no reason given");
    return 1;
}

int jack_driver_rt_priority(bm_jack *j)
{
    return jack_is_realtime(j->client) ? jack_client_real_time_priority(j->client) : 0;
}

uint64_t jack_driver_xruns(const bm_jack *j) { return atomic_load(&j->xruns); }

float jack_driver_cpu_load(bm_jack *j) { return atomic_load(&j->gone) ? 0 : jack_cpu_load(j->client); }

void jack_driver_latency(bm_jack *j, uint32_t *min_frames, uint32_t *max_frames)
{
    jack_latency_range_t in, out;
    jack_port_get_latency_range(j->midi_in, JackCaptureLatency, &in);
    jack_port_get_latency_range(j->out[0], JackPlaybackLatency, &out);
    *min_frames = in.min + out.min;
    *max_frames = in.max + out.max;
}

void jack_driver_close(bm_jack *j)
{
    if (!j) return;
    if (j->client) {
        if (j->active && !atomic_load(&j->gone)) jack_deactivate(j->client);
        jack_client_close(j->client);
    }
    free(j->midi_buf);
    free(j);
}
