/* engine.c: the process function, its rings and pools, and the musician thread. */
#include "engine/engine.h"
#include "engine/util.h"
#include "engine/behaviour.h"
#include "engine/sched.h"
#include "engine/voice/voice_bank.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHED_CAPACITY 8192

void (*bm_rt_enter_hook)(void);
void (*bm_rt_leave_hook)(void);
#define PART_SYSTEM 0xff      /* events that belong to no part (MIDI clock) */

struct bm_engine {
    bm_engine_config cfg;
    bm_clock clock;
    sched *sched;
    ring *cmd, *human, *band, *mcmd, *feedback, *rec_events, *rec_audio, *trash, *mtrash, *give_back, *ext_midi;
    ring *ext_out;                  /* MIDI out for hardware devices (bm_event with frame) */
    ring *plan;                     /* the musician's planned notes, for status and visuals */
    ring *ctl_events;               /* band events from the control thread (scripts, OSC) */
    atomic_int ext_out_on;
    bm_musician musician;
    char mode[32];                  /* the band's mode last asked for (control thread) */
    bm_listener *listener;
    bm_event listen_buf[64];        /* performer events the listener found in a block */
    bm_instrument *inst[BM_NUM_PARTS];
    bm_instrument *fading[BM_NUM_PARTS];
    uint32_t audio_on;
    float gain[BM_NUM_PARTS], pan_l[BM_NUM_PARTS], pan_r[BM_NUM_PARTS], master;
    float *part_buf[BM_NUM_PARTS];
    float *rec_buf;
    bm_event evbuf[BM_MAX_EVENTS_PER_BLOCK];
    int64_t frame;                  /* the first frame of the block being processed */
    int64_t lookahead_frames;
    int64_t last_wake_step, last_beat;
    int panic_pending;
    int was_rolling;
    int started;                    /* the first period has been processed */
    atomic_uint anchor_seq;         /* seqlock over (anchor_frame, anchor_ns) */
    _Atomic int64_t anchor_frame, anchor_ns;
    _Atomic uint64_t pending_sr_bits;
    pthread_t musician_thread;
    int musician_running;
    atomic_int musician_stop;
    sem_t musician_wake;
    bm_engine_stats stats;
};

void engine_config_defaults(bm_engine_config *c)
{
    memset(c, 0, sizeof *c);
    c->sample_rate = 48000;
    c->bpm = 120;
    c->beats_per_bar = 4;
    c->beat_unit = 4;
    c->steps_per_beat = 4;
    c->tempo_source = BM_TEMPO_INTERNAL;
    snprintf(c->mode, sizeof c->mode, "echo");
    c->human_role = BM_PART_HUMAN;
    static const uint8_t ch[BM_NUM_PARTS] = {0, 1, 9, 2, 3};
    memcpy(c->channel, ch, sizeof ch);
    c->midi_out_parts = (1u << BM_PART_BASS) | (1u << BM_PART_DRUMS) | (1u << BM_PART_COMPING) |
                        (1u << BM_PART_LEAD);
    c->audio_parts = c->midi_out_parts;
    c->monitor_human = 0;
    for (int p = 0; p < BM_NUM_PARTS; p++) c->part_gain[p] = 1.0f;
    c->part_pan[BM_PART_BASS] = 0.0f;
    c->part_pan[BM_PART_DRUMS] = 0.0f;
    c->part_pan[BM_PART_COMPING] = -0.35f;
    c->part_pan[BM_PART_LEAD] = 0.3f;
    c->part_pan[BM_PART_HUMAN] = -0.1f;
    c->master_gain = 0.5f; /* headroom: the example sessions stay about 20 dB under full scale (RMS); few peaks reach the soft clipper's knee (0.8) */
    c->record = 0;
    c->seed = 1;
    c->lookahead_ms = 30;
    c->instrument[BM_PART_HUMAN] = BM_CLASSIC_KEYS;
    c->instrument[BM_PART_BASS] = BM_CLASSIC_BASS;
    c->instrument[BM_PART_DRUMS] = -1;
    c->instrument[BM_PART_COMPING] = BM_CLASSIC_KEYS;
    c->instrument[BM_PART_LEAD] = BM_CLASSIC_LEAD;
    listen_config_defaults(&c->listen);
}

static void set_pan(bm_engine *e, int p, float pan)
{
    if (pan < -1) pan = -1;
    if (pan > 1) pan = 1;
    float a = (pan + 1.0f) * 0.25f * 3.14159265f; /* constant power */
    e->pan_l[p] = cosf(a) * 1.41421356f; /* unity at the centre */
    e->pan_r[p] = sinf(a) * 1.41421356f;
}

static bm_instrument *make_instrument(const bm_engine_config *cfg, int part)
{
    if (cfg->voice[part][0]) {
        char why[512];
        bm_instrument *in = voice_instrument_create(cfg->voice[part], part == BM_PART_BASS ? 4 : 16,
                                                    cfg->sample_rate, why, sizeof why);
        if (in) return in;
        fprintf(stderr, "bandmate: the %s part's voice '%s' cannot play: %s; it plays its classic instrument instead.\n",
                bm_part_name(part), cfg->voice[part], why);
    }
    if (part == BM_PART_DRUMS || cfg->instrument[part] < 0) return synth_drums_create(24, cfg->sample_rate);
    return synth_classic_create(cfg->instrument[part], part == BM_PART_BASS ? 4 : 16, cfg->sample_rate);
}

bm_engine *engine_create(const bm_engine_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->sample_rate >= 8000 && cfg->sample_rate <= 384000)) {
        bm_errf(err, errlen, "the sample rate %.0f Hz is outside 8000..384000", cfg->sample_rate);
        return NULL;
    }
    bm_engine *e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->cfg = *cfg;
    clock_init(&e->clock, cfg->sample_rate, cfg->bpm, cfg->beats_per_bar, cfg->beat_unit,
               cfg->steps_per_beat);
    clock_set_source(&e->clock, cfg->tempo_source);
    e->sched = sched_init(malloc(sched_memneeded(SCHED_CAPACITY)), SCHED_CAPACITY);
    if (!e->sched) goto oom;
    e->cmd = ring_create(sizeof(bm_command), 256);
    e->human = ring_create(sizeof(bm_event), 4096);
    e->band = ring_create(sizeof(bm_event), 4096);
    e->mcmd = ring_create(sizeof(bm_musician_cmd), 64);
    e->feedback = ring_create(sizeof(bm_event), 8192);
    e->rec_events = ring_create(sizeof(bm_event), 16384);
    /* five seconds of stereo audio for the recorder to fall behind by */
    e->rec_audio = ring_create(sizeof(float), (size_t)(cfg->sample_rate * 2 * 5));
    e->trash = ring_create(sizeof(bm_instrument *), 64);
    e->mtrash = ring_create(sizeof(bm_behaviour *), 16);
    e->give_back = ring_create(sizeof(void *), 32);
    e->ext_midi = ring_create(sizeof(bm_event), 1024);
    e->ext_out = ring_create(sizeof(bm_event), 2048);
    e->plan = ring_create(sizeof(bm_event), 1024);
    e->ctl_events = ring_create(sizeof(bm_event), 2048);
    atomic_init(&e->ext_out_on, 0);
    if (!e->cmd || !e->human || !e->band || !e->mcmd || !e->feedback || !e->rec_events ||
        !e->rec_audio || !e->trash || !e->mtrash || !e->give_back || !e->ext_midi || !e->ext_out || !e->plan ||
        !e->ctl_events)
        goto oom;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        e->part_buf[p] = calloc(BM_MAX_BLOCK, sizeof(float));
        e->inst[p] = make_instrument(cfg, p);
        if (!e->part_buf[p] || !e->inst[p]) goto oom;
        e->gain[p] = cfg->part_gain[p];
        set_pan(e, p, cfg->part_pan[p]);
    }
    e->rec_buf = calloc(2 * BM_MAX_BLOCK, sizeof(float));
    if (!e->rec_buf) goto oom;
    e->audio_on = cfg->audio_parts | (cfg->monitor_human ? 1u << BM_PART_HUMAN : 0);
    e->master = cfg->master_gain;
    e->listener = listener_create(&cfg->listen, cfg->sample_rate, cfg->bpm, err, errlen);
    if (!e->listener) {
        engine_destroy(e);
        return NULL;
    }
    e->lookahead_frames = (int64_t)(cfg->lookahead_ms * 1e-3 * cfg->sample_rate);
    if (e->lookahead_frames < 1) e->lookahead_frames = 1;
    bm_behaviour *b = behaviour_create(cfg->mode);
    if (!b) {
        if (behaviour_error()[0]) bm_errf(err, errlen, "mode %s: %s", cfg->mode, behaviour_error());
        else bm_errf(err, errlen, "'%s' is not a mode bandmate knows (try echo or silent)", cfg->mode);
        engine_destroy(e);
        return NULL;
    }
    snprintf(e->mode, sizeof e->mode, "%s", cfg->mode);
    musician_init(&e->musician, b, e->human, e->band, e->mcmd, e->mtrash, e->lookahead_frames,
                  cfg->channel, cfg->seed);
    e->musician.human_role = cfg->human_role;
    e->musician.plan = e->plan;
    e->musician.give_back = e->give_back;
    e->musician.listener = e->listener;
    e->last_wake_step = INT64_MIN;
    e->last_beat = INT64_MIN;
    e->was_rolling = 1;
    sem_init(&e->musician_wake, 0, 0);
    atomic_init(&e->musician_stop, 0);
    atomic_init(&e->pending_sr_bits, 0);
    atomic_init(&e->anchor_seq, 0);
    atomic_init(&e->anchor_frame, 0);
    atomic_init(&e->anchor_ns, bm_now_ns());
    return e;
oom:
    bm_errf(err, errlen, "out of memory while setting up the engine");
    engine_destroy(e);
    return NULL;
}

void engine_destroy(bm_engine *e)
{
    if (!e) return;
    if (e->musician_running) {
        atomic_store(&e->musician_stop, 1);
        sem_post(&e->musician_wake);
        pthread_join(e->musician_thread, NULL);
    }
    engine_collect_garbage(e);
    /* behaviours and instruments still waiting in the command rings were never taken over */
    bm_musician_cmd mc;
    while (e->mcmd && ring_pop(e->mcmd, &mc) == 0)
        if (mc.type == BM_MCMD_SET_BEHAVIOUR && mc.ptr) ((bm_behaviour *)mc.ptr)->ops->destroy(mc.ptr);
        else if (mc.type == BM_MCMD_SET_CHART || mc.type == BM_MCMD_PRIME) free(mc.ptr);
    bm_command cc;
    while (e->cmd && ring_pop(e->cmd, &cc) == 0)
        if (cc.type == BM_CMD_INSTRUMENT && cc.ptr) instrument_destroy(cc.ptr);
    musician_deinit(&e->musician);
    listener_destroy(e->listener);
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        instrument_destroy(e->inst[p]);
        instrument_destroy(e->fading[p]);
        free(e->part_buf[p]);
    }
    free(e->rec_buf);
    free(e->sched);
    ring *rings[] = {e->cmd, e->human, e->band, e->mcmd, e->feedback, e->rec_events, e->rec_audio,
                     e->trash, e->mtrash, e->give_back, e->ext_midi, e->ext_out, e->plan, e->ctl_events};
    for (size_t i = 0; i < sizeof rings / sizeof rings[0]; i++)
        if (rings[i]) ring_destroy(rings[i]);
    sem_destroy(&e->musician_wake);
    free(e);
}

/* ---- the process thread ---- */

static void feedback(bm_engine *e, const bm_event *ev)
{
    if (ring_push(e->feedback, ev) != 0)
        atomic_fetch_add_explicit(&e->stats.feedback_dropped, 1, memory_order_relaxed);
}

static void record(bm_engine *e, const bm_event *ev)
{
    if (!e->cfg.record) return;
    if (ring_push(e->rec_events, ev) != 0)
        atomic_fetch_add_explicit(&e->stats.record_dropped, 1, memory_order_relaxed);
}

static void tempo_event(bm_engine *e)
{
    bm_event ev = {0};
    ev.type = BM_EV_TEMPO;
    ev.frame = e->frame;
    ev.beat = clock_beat_at(&e->clock, e->frame);
    ev.value_f = (float)e->clock.map.bpm;
    record(e, &ev);
    feedback(e, &ev);
}

static int keep_nothing(const bm_event *ev)
{
    (void)ev;
    return 0;
}

static void swap_instrument(bm_engine *e, int part, bm_instrument *in)
{
    if (!in || part < 0 || part >= BM_NUM_PARTS) return;
    if (e->fading[part]) { /* a third instrument in quick succession: the oldest is cut */
        if (ring_push(e->trash, &e->fading[part]) != 0) {
            ring_push(e->trash, &in); /* no room to hand back: refuse the new one instead */
            return;
        }
        e->fading[part] = NULL;
    }
    bm_instrument *old = e->inst[part];
    old->ops->all_notes_off(old, 0); /* its notes ring out with their release */
    e->fading[part] = old;
    in->ops->set_sample_rate(in, e->clock.map.sample_rate);
    e->inst[part] = in;
}

static void apply_commands(bm_engine *e)
{
    bm_command c;
    while (ring_pop(e->cmd, &c) == 0) {
        switch (c.type) {
        case BM_CMD_TEMPO:
            clock_set_tempo(&e->clock, e->frame, c.value);
            tempo_event(e);
            break;
        case BM_CMD_TAP:
            if (clock_tap(&e->clock, c.value > 0 ? (int64_t)c.value : e->frame)) tempo_event(e);
            break;
        case BM_CMD_ROLLING:
            clock_set_rolling(&e->clock, e->frame, c.value != 0);
            break;
        case BM_CMD_LOCATE:
            clock_locate(&e->clock, e->frame, c.value);
            break;
        case BM_CMD_PANIC: {
            bm_event planned; /* what the musician planned before the panic goes too */
            while (ring_pop(e->band, &planned) == 0) {}
            sched_remove(e->sched, -1, keep_nothing);
            for (int p = 0; p < BM_NUM_PARTS; p++) e->inst[p]->ops->all_notes_off(e->inst[p], 1);
            e->panic_pending = 1;
            break;
        }
        case BM_CMD_PART_AUDIO:
            if (c.part < 0 || c.part >= BM_NUM_PARTS) break;
            if (c.value != 0) e->audio_on |= 1u << c.part;
            else {
                e->audio_on &= ~(1u << c.part);
                e->inst[c.part]->ops->all_notes_off(e->inst[c.part], 0);
            }
            break;
        case BM_CMD_GAIN:
            if (c.part < 0) e->master = (float)c.value;
            else if (c.part < BM_NUM_PARTS) e->gain[c.part] = (float)c.value;
            break;
        case BM_CMD_INSTRUMENT:
            swap_instrument(e, c.part, c.ptr);
            break;
        case BM_CMD_TEMPO_SOURCE:
            if (e->clock.map.source == BM_TEMPO_PERFORMER) /* leave the performer's bend behind */
                clock_set_tempo(&e->clock, e->frame, e->clock.map.bpm);
            clock_set_source(&e->clock, (int)c.value);
            break;
        case BM_CMD_METER:
            clock_set_meter(&e->clock, c.part, (int)c.value);
            break;
        case BM_CMD_MORPH:
        case BM_CMD_MORPH_Y:
            if (c.part >= 0 && c.part < BM_NUM_PARTS && e->inst[c.part]->ops->set_param)
                e->inst[c.part]->ops->set_param(e->inst[c.part], c.type == BM_CMD_MORPH ? BM_SYNTH_MORPH_X
                                                                                        : BM_SYNTH_MORPH_Y,
                                                (float)c.value);
            break;
        case BM_CMD_XRUN: {
            atomic_fetch_add_explicit(&e->stats.xruns, 1, memory_order_relaxed);
            bm_event ev = {0};
            ev.type = BM_EV_XRUN;
            ev.frame = e->frame;
            feedback(e, &ev);
            break;
        }
        case BM_CMD_END_PHRASE:
            listener_end_phrase(e->listener);
            break;
        case BM_CMD_FOLLOW:
            listener_set_follow(e->listener, c.value);
            break;
        }
    }
}

/* A performer event (from MIDI or found in audio) with its frame: stamped in beats, then to the
 * musician, the recorder, the feedback ring and the listener. */
static void route_human(bm_engine *e, bm_event *ev)
{
    ev->beat = clock_beat_at(&e->clock, ev->frame);
    if (ring_push(e->human, ev) != 0)
        atomic_fetch_add_explicit(&e->stats.dropped_events, 1, memory_order_relaxed);
    record(e, ev);
    feedback(e, ev);
    if (ev->type == BM_EV_NOTE_ON) atomic_fetch_add_explicit(&e->stats.human_notes, 1, memory_order_relaxed);
    listener_hear(e->listener, ev);
}

/* A performer event (JACK MIDI in or hardware MIDI) at a frame: to the clock, the musician, the
 * recorder, the feedback ring, the listener, and the human part's instrument when monitored. */
static int take_human(bm_engine *e, const uint8_t *bytes, int n, int64_t frame, bm_event *slot)
{
    if (n >= 3 && bytes[0] == 0xf2) {
        clock_midi_song_position(&e->clock, frame, bytes[1] | bytes[2] << 7);
        return 0;
    }
    bm_event ev = {0};
    if (bm_event_from_midi(bytes, n, &ev) != 0) return 0;
    if (ev.type == BM_EV_CLOCK) {
        if (clock_midi_realtime(&e->clock, frame, ev.note)) tempo_event(e);
        return 0;
    }
    ev.part = BM_PART_HUMAN;
    ev.frame = frame;
    route_human(e, &ev);
    *slot = ev;
    return 1;
}

static void instrument_event(bm_instrument *in, const bm_event *ev)
{
    switch (ev->type) {
    case BM_EV_NOTE_ON: in->ops->note_on(in, ev->note, ev->velocity); break;
    case BM_EV_NOTE_OFF: in->ops->note_off(in, ev->note); break;
    case BM_EV_CC: in->ops->control(in, ev->note, ev->velocity); break;
    case BM_EV_PITCH_BEND: in->ops->pitch_bend(in, (float)ev->value / 8192.0f * 2.0f); break;
    case BM_EV_ALL_OFF: in->ops->all_notes_off(in, 0); break;
    default: break;
    }
}

static void render_parts(bm_engine *e, uint32_t from, uint32_t to)
{
    if (to <= from) return;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        if (e->audio_on & (1u << p)) e->inst[p]->ops->render(e->inst[p], e->part_buf[p] + from, to - from);
        if (e->fading[p]) e->fading[p]->ops->render(e->fading[p], e->part_buf[p] + from, to - from);
    }
}

static float soft_clip(float x)
{
    float a = fabsf(x);
    if (a <= 0.8f) return x;
    float y = 0.8f + 0.2f * tanhf((a - 0.8f) * 5.0f);
    return x < 0 ? -y : y;
}

static void process_block(bm_engine *e, const bm_io *io, uint32_t at, uint32_t n, uint32_t *midi_idx)
{
    int64_t start = e->frame;
    int nev = 0;
    const int max_ev = BM_MAX_EVENTS_PER_BLOCK;

    /* the performer: JACK MIDI in of this block, then hardware MIDI that is due */
    while (*midi_idx < io->n_midi_in && io->midi_in[*midi_idx].offset < at + n) {
        const bm_midi_in *m = &io->midi_in[*midi_idx];
        uint32_t off = m->offset < at ? 0 : m->offset - at;
        if (nev < max_ev && take_human(e, m->bytes, m->size, start + off, &e->evbuf[nev])) nev++;
        (*midi_idx)++;
    }
    const bm_event *peek;
    while ((peek = ring_peek(e->ext_midi)) && peek->frame < start + (int64_t)n) {
        bm_event x;
        ring_pop(e->ext_midi, &x);
        uint8_t bytes[3];
        int len = bm_event_to_midi(&x, bytes);
        int64_t f = x.frame < start ? start : x.frame;
        if (nev < max_ev && len && take_human(e, bytes, len, f, &e->evbuf[nev])) nev++;
    }
    /* only monitored performer events sound; the rest were heard and recorded above */
    if (!(e->audio_on & (1u << BM_PART_HUMAN)) && !(e->cfg.midi_out_parts & (1u << BM_PART_HUMAN)))
        nev = 0;

    /* the performer's audio: notes (or onsets) stamped at their estimated true start; they are
     * heard and recorded, never played (the performer's own sound is the input itself) */
    const float *listen_in = e->cfg.listen.audio != BM_LISTEN_OFF ? io->audio_in[e->cfg.listen.input] : NULL;
    if (listen_in) {
        int na = listener_audio(e->listener, &e->clock, listen_in + at, n, start, e->listen_buf, 64);
        for (int i = 0; i < na; i++) route_human(e, &e->listen_buf[i]);
    }

    /* the band: new events from the musician into the scheduler, then what is due now */
    bm_event b;
    while (ring_pop(e->band, &b) == 0)
        if (sched_insert(e->sched, &b) != 0)
            atomic_fetch_add_explicit(&e->stats.dropped_events, 1, memory_order_relaxed);
    while (ring_pop(e->ctl_events, &b) == 0)
        if (sched_insert(e->sched, &b) != 0)
            atomic_fetch_add_explicit(&e->stats.dropped_events, 1, memory_order_relaxed);
    nev += sched_collect(e->sched, &e->clock, start, n, e->evbuf + nev, max_ev - nev);

    if (e->cfg.midi_clock_out && (io->midi_write || atomic_load_explicit(&e->ext_out_on, memory_order_relaxed))) {
        uint32_t ticks[64];
        int nt = clock_midi_ticks_in(&e->clock, start, n, ticks, 64);
        for (int i = 0; i < nt && nev < max_ev; i++) {
            bm_event *t = &e->evbuf[nev++];
            memset(t, 0, sizeof *t);
            t->type = BM_EV_CLOCK;
            t->note = 0xf8;
            t->part = PART_SYSTEM;
            t->frame = start + ticks[i];
        }
    }
    bm_events_sort_by_frame(e->evbuf, nev); /* a period holds few events, most already in order */

    for (int p = 0; p < BM_NUM_PARTS; p++) memset(e->part_buf[p], 0, n * sizeof(float));

    if (e->panic_pending && io->midi_write) {
        for (int p = 0; p < BM_NUM_PARTS; p++) {
            uint8_t msg[3] = {(uint8_t)(0xb0 | e->cfg.channel[p]), 123, 0};
            if (io->midi_write(io->midi_ctx, at, msg, 3) != 0)
                atomic_fetch_add_explicit(&e->stats.midi_out_failed, 1, memory_order_relaxed);
        }
    }
    e->panic_pending = 0;

    uint32_t pos = 0;
    for (int i = 0; i < nev; i++) {
        bm_event *ev = &e->evbuf[i];
        int64_t off64 = ev->frame - start;
        uint32_t off = off64 < 0 ? 0 : off64 >= (int64_t)n ? n - 1 : (uint32_t)off64;
        if (off > pos) {
            render_parts(e, pos, off);
            pos = off;
        }
        if (ev->part < BM_NUM_PARTS) {
            if (e->audio_on & (1u << ev->part)) instrument_event(e->inst[ev->part], ev);
            if (ev->part != BM_PART_HUMAN) {
                record(e, ev);
                feedback(e, ev);
                if (ev->type == BM_EV_NOTE_ON)
                    atomic_fetch_add_explicit(&e->stats.band_notes, 1, memory_order_relaxed);
            }
        }
        if (ev->part == PART_SYSTEM ||
            (ev->part < BM_NUM_PARTS && (e->cfg.midi_out_parts & (1u << ev->part)))) {
            uint8_t bytes[3];
            int len = bm_event_to_midi(ev, bytes);
            if (len && io->midi_write && io->midi_write(io->midi_ctx, at + off, bytes, (size_t)len) != 0)
                atomic_fetch_add_explicit(&e->stats.midi_out_failed, 1, memory_order_relaxed);
            if (len && atomic_load_explicit(&e->ext_out_on, memory_order_relaxed)) {
                bm_event x = *ev;
                x.frame = start + off;
                if (ring_push(e->ext_out, &x) != 0)
                    atomic_fetch_add_explicit(&e->stats.midi_out_failed, 1, memory_order_relaxed);
            }
        }
    }
    render_parts(e, pos, n);
    const float *mix_in = e->cfg.listen.mix_input ? io->audio_in[e->cfg.listen.input] : NULL;
    if (mix_in) {
        float g = e->cfg.listen.input_gain;
        for (uint32_t i = 0; i < n; i++) e->part_buf[BM_PART_HUMAN][i] += g * mix_in[at + i];
    }

    /* mix */
    float *outl = io->audio_out[0] ? io->audio_out[0] + at : NULL;
    float *outr = io->audio_out[1] ? io->audio_out[1] + at : NULL;
    float peak = 0;
    for (uint32_t i = 0; i < n; i++) {
        float l = 0, r = 0;
        for (int p = 0; p < BM_NUM_PARTS; p++) {
            float s = e->part_buf[p][i] * e->gain[p];
            l += s * e->pan_l[p];
            r += s * e->pan_r[p];
        }
        l = soft_clip(l * e->master);
        r = soft_clip(r * e->master);
        if (outl) outl[i] = l;
        if (outr) outr[i] = r;
        e->rec_buf[2 * i] = l;
        e->rec_buf[2 * i + 1] = r;
        float a = fabsf(l) > fabsf(r) ? fabsf(l) : fabsf(r);
        if (a > peak) peak = a;
    }
    atomic_store_explicit(&e->stats.output_peak_milli, (int)(peak * 1000), memory_order_relaxed);
    if (e->cfg.record && ring_push_n(e->rec_audio, e->rec_buf, 2 * (size_t)n) != 0)
        atomic_fetch_add_explicit(&e->stats.record_dropped, n, memory_order_relaxed);

    /* instruments that were replaced go back once their tails are silent */
    int voices = 0;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        voices += e->inst[p]->ops->active_voices(e->inst[p]);
        if (e->fading[p] && e->fading[p]->ops->active_voices(e->fading[p]) == 0 &&
            ring_push(e->trash, &e->fading[p]) == 0)
            e->fading[p] = NULL;
    }
    atomic_store_explicit(&e->stats.active_voices, voices, memory_order_relaxed);

    /* the listener: phrase boundaries, the performer's tempo into the clock, its snapshot */
    int tempo_changed = 0;
    int np = listener_tick(e->listener, &e->clock, start + n, e->listen_buf, 64, &tempo_changed);
    for (int i = 0; i < np; i++) {
        bm_event *ev = &e->listen_buf[i];
        if (ring_push(e->human, ev) != 0)
            atomic_fetch_add_explicit(&e->stats.dropped_events, 1, memory_order_relaxed);
        feedback(e, ev);
    }
    if (tempo_changed) {
        e->frame = start + n; /* the tempo event is stamped where the change was made */
        tempo_event(e);
        e->frame = start;
    }

    /* beats for feedback; a wake-up for the musician when a step falls due */
    double b0 = clock_beat_at(&e->clock, start + n);
    int64_t beat = (int64_t)floor(b0);
    if (e->clock.map.rolling && beat != e->last_beat) {
        e->last_beat = beat;
        bm_event ev = {0};
        ev.type = BM_EV_BEAT;
        ev.frame = clock_frame_at(&e->clock, (double)beat);
        ev.beat = (double)beat;
        int bpb = e->clock.map.beats_per_bar;
        ev.value = (int16_t)(beat >= 0 ? beat / bpb : -1);
        ev.note = (uint8_t)(beat >= 0 ? beat % bpb : 0);
        feedback(e, &ev);
    }
    double ahead = clock_beat_at(&e->clock, start + n + e->lookahead_frames);
    int64_t step = (int64_t)floor(ahead * e->clock.map.steps_per_beat);
    if (step != e->last_wake_step) {
        e->last_wake_step = step;
        if (e->musician_running) sem_post(&e->musician_wake);
    }
    if (io->audio_in[0]) {
        float ip = 0;
        for (uint32_t i = 0; i < n; i++) {
            float a = fabsf(io->audio_in[0][at + i]);
            if (a > ip) ip = a;
        }
        atomic_store_explicit(&e->stats.input_peak_milli, (int)(ip * 1000), memory_order_relaxed);
    }
    e->frame += n;
}

void engine_process(bm_engine *e, const bm_io *io)
{
    if (bm_rt_enter_hook) bm_rt_enter_hook();
    int64_t t0 = bm_now_ns();
    synth_denormals_off();
    if (!e->started || io->frame != e->frame) {
        /* the first period, or the driver's timeline jumped (an xrun, a restart): musical time
         * starts at bar 1 on the first period, and continues through jumps */
        int first = !e->started;
        if (first) clock_locate(&e->clock, io->frame, 0);
        e->frame = io->frame;
        e->started = 1;
        if (first) tempo_event(e); /* the recorder's time origin: bar 1 starts here */
    }
    uint64_t srbits = atomic_exchange_explicit(&e->pending_sr_bits, 0, memory_order_acq_rel);
    if (srbits) {
        double sr;
        memcpy(&sr, &srbits, sizeof sr);
        clock_set_sample_rate(&e->clock, e->frame, sr);
        for (int p = 0; p < BM_NUM_PARTS; p++) e->inst[p]->ops->set_sample_rate(e->inst[p], sr);
    }
    unsigned seq = atomic_load_explicit(&e->anchor_seq, memory_order_relaxed);
    atomic_store_explicit(&e->anchor_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&e->anchor_frame, e->frame, memory_order_relaxed);
    atomic_store_explicit(&e->anchor_ns, io->now_ns ? io->now_ns : t0, memory_order_relaxed);
    atomic_store_explicit(&e->anchor_seq, seq + 2, memory_order_release);
    apply_commands(e);
    if (io->transport) clock_follow_transport(&e->clock, e->frame, io->transport);
    if (e->was_rolling && !e->clock.map.rolling)
        for (int p = 0; p < BM_NUM_PARTS; p++)
            if (p != BM_PART_HUMAN) e->inst[p]->ops->all_notes_off(e->inst[p], 0);
    e->was_rolling = e->clock.map.rolling;

    uint32_t midi_idx = 0;
    for (uint32_t at = 0; at < io->nframes; at += BM_MAX_BLOCK) {
        uint32_t n = io->nframes - at < BM_MAX_BLOCK ? io->nframes - at : BM_MAX_BLOCK;
        process_block(e, io, at, n, &midi_idx);
    }
    clock_publish(&e->clock);

    atomic_store_explicit(&e->stats.late_events, e->sched->late, memory_order_relaxed);
    if (e->sched->max_late_frames > atomic_load_explicit(&e->stats.max_late_frames, memory_order_relaxed))
        atomic_store_explicit(&e->stats.max_late_frames, e->sched->max_late_frames, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->stats.cycles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->stats.frames, io->nframes, memory_order_relaxed);
    int64_t dt = bm_now_ns() - t0;
    atomic_store_explicit(&e->stats.last_cycle_ns, dt, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->stats.total_cycle_ns, dt, memory_order_relaxed);
    if (dt > atomic_load_explicit(&e->stats.max_cycle_ns, memory_order_relaxed))
        atomic_store_explicit(&e->stats.max_cycle_ns, dt, memory_order_relaxed);
    int64_t us = dt / 1000;
    if (us >= BM_CYCLE_HIST_BINS) us = BM_CYCLE_HIST_BINS - 1;
    atomic_fetch_add_explicit(&e->stats.cycle_hist[us], 1, memory_order_relaxed);
    if (bm_rt_leave_hook) bm_rt_leave_hook();
}

void engine_prefault(bm_engine *e)
{
    for (int p = 0; p < BM_NUM_PARTS; p++) memset(e->part_buf[p], 0, BM_MAX_BLOCK * sizeof(float));
    memset(e->rec_buf, 0, 2 * BM_MAX_BLOCK * sizeof(float));
    memset(e->evbuf, 0, sizeof e->evbuf);
    memset(e->sched->by_frame, 0, 2 * e->sched->capacity * sizeof(sched_item));
    /* run the process function on silence; then restore a fresh start */
    static float l[256], r[256], in[256];
    bm_io io = {0};
    io.nframes = 256;
    io.audio_out[0] = l;
    io.audio_out[1] = r;
    io.audio_in[0] = io.audio_in[1] = in;
    listener_prefault(e->listener);
    int record = e->cfg.record;
    e->cfg.record = 0;
    for (int i = 0; i < 8; i++) {
        io.frame = (int64_t)i * 256;
        engine_process(e, &io);
    }
    e->cfg.record = record;
    listener_prefault(e->listener);
    e->started = 0;
    e->last_beat = INT64_MIN;
    e->last_wake_step = INT64_MIN;
    memset(e->stats.cycle_hist, 0, sizeof e->stats.cycle_hist);
    memset(e->stats.wake_hist, 0, sizeof e->stats.wake_hist);
    atomic_store(&e->stats.max_wake_us, 0);
    atomic_store(&e->stats.overruns, 0);
    atomic_store(&e->stats.overruns_woke_late, 0);
    atomic_store(&e->stats.cycles, 0);
    atomic_store(&e->stats.frames, 0);
    atomic_store(&e->stats.max_cycle_ns, 0);
    atomic_store(&e->stats.total_cycle_ns, 0);
    bm_event junk;
    while (ring_pop(e->feedback, &junk) == 0) {}
}

/* ---- the musician thread ---- */

int engine_musician_poll(bm_engine *e, int64_t now_frame)
{
    bm_clock_map map;
    clock_read_published(&e->clock, &map);
    return musician_poll(&e->musician, &map, now_frame);
}

static void *musician_main(void *arg)
{
    bm_engine *e = arg;
    while (!atomic_load(&e->musician_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000; /* wake at least every 2 ms */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (sem_timedwait(&e->musician_wake, &ts) != 0 && errno == EINTR) {}
        engine_musician_poll(e, engine_now_frame(e));
    }
    return NULL;
}

int engine_start_musician_thread(bm_engine *e)
{
    if (e->musician_running) return 0;
    atomic_store(&e->musician_stop, 0);
    if (pthread_create(&e->musician_thread, NULL, musician_main, e) != 0) return -1;
    e->musician_running = 1;
    return 0;
}

/* ---- the control side ---- */

int engine_command(bm_engine *e, const bm_command *cmd) { return ring_push(e->cmd, cmd); }

int engine_musician_command(bm_engine *e, const bm_musician_cmd *cmd) { return ring_push(e->mcmd, cmd); }

int engine_play_event(bm_engine *e, const bm_event *ev) { return ring_push(e->ctl_events, ev); }

int engine_commands_applied(bm_engine *e)
{
    return ring_count(e->cmd) == 0 && ring_count(e->ctl_events) == 0 && ring_count(e->mcmd) == 0;
}

int engine_panic(bm_engine *e)
{
    bm_musician_cmd reset = {BM_MCMD_RESET, 0, 0, NULL, 0};
    bm_command panic = {BM_CMD_PANIC, 0, 0, NULL};
    int a = engine_musician_command(e, &reset), b = engine_command(e, &panic);
    return a == 0 && b == 0 ? 0 : -1;
}

int engine_end_phrase(bm_engine *e)
{
    bm_command c = {BM_CMD_END_PHRASE, 0, 0, NULL};
    return engine_command(e, &c);
}

int engine_set_follow(bm_engine *e, double strength)
{
    bm_command c = {BM_CMD_FOLLOW, 0, strength, NULL};
    return engine_command(e, &c);
}

void engine_listen_state(bm_engine *e, bm_listen_state *out) { listener_read(e->listener, out); }

bm_listener *engine_listener(bm_engine *e) { return e->listener; }

int engine_set_mode(bm_engine *e, const char *mode, char *err, size_t errlen)
{
    /* between the trained musician's modes the running behaviour switches its lead live: the
     * model, its state and the groove go on */
    if (behaviour_mode_uses_model(mode) && behaviour_mode_uses_model(e->mode)) {
        int idx = 0;
        while (bm_mode_names[idx] && strcmp(bm_mode_names[idx], mode)) idx++;
        bm_musician_cmd c = {BM_MCMD_SET_MODE, 0, idx, NULL, 0};
        if (engine_musician_command(e, &c) != 0) {
            bm_errf(err, errlen, "the musician is busy; try again");
            return -1;
        }
        snprintf(e->mode, sizeof e->mode, "%s", mode);
        return 0;
    }
    bm_behaviour *b = behaviour_create(mode);
    if (!b) {
        if (behaviour_error()[0]) bm_errf(err, errlen, "%s", behaviour_error());
        else bm_errf(err, errlen, "'%s' is not a mode bandmate knows", mode);
        return -1;
    }
    bm_musician_cmd c = {BM_MCMD_SET_BEHAVIOUR, 0, 0, b, 0};
    if (engine_musician_command(e, &c) != 0) {
        b->ops->destroy(b);
        bm_errf(err, errlen, "the musician is busy; try again");
        return -1;
    }
    snprintf(e->mode, sizeof e->mode, "%s", mode);
    return 0;
}

int engine_rebuild_mode(bm_engine *e, char *err, size_t errlen)
{
    char mode[32];
    snprintf(mode, sizeof mode, "%s", e->mode);
    snprintf(e->mode, sizeof e->mode, "%s", "echo"); /* not live-switchable: a new behaviour is built */
    if (engine_set_mode(e, mode, err, errlen) != 0) {
        snprintf(e->mode, sizeof e->mode, "%s", mode);
        return -1;
    }
    return 0;
}

const char *engine_mode(const bm_engine *e) { return e->mode; }

void engine_collect_garbage(bm_engine *e)
{
    bm_instrument *in;
    while (ring_pop(e->trash, &in) == 0) instrument_destroy(in);
    bm_behaviour *b;
    while (ring_pop(e->mtrash, &b) == 0) b->ops->destroy(b);
    void *block;
    while (e->give_back && ring_pop(e->give_back, &block) == 0) free(block);
}

int engine_prime(bm_engine *e, const bm_event *ev, int n, int part, double length, char *err, size_t errlen)
{
    if (n <= 0) return 0;
    bm_prime_phrase *p = malloc(sizeof *p + (size_t)n * sizeof p->ev[0]);
    if (!p) {
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    p->n = n;
    p->part = part;
    p->length = length;
    memcpy(p->ev, ev, (size_t)n * sizeof p->ev[0]);
    bm_musician_cmd c = {BM_MCMD_PRIME, 0, 0, p, 0};
    if (engine_musician_command(e, &c) != 0) {
        free(p);
        bm_errf(err, errlen, "the musician is busy; try again");
        return -1;
    }
    return 0;
}

const char *engine_part_instrument(const bm_engine *e, int part)
{
    return part >= 0 && part < BM_NUM_PARTS && e->inst[part] ? e->inst[part]->name : "";
}

int engine_set_chart(bm_engine *e, const bm_band_chart *chart, char *err, size_t errlen)
{
    bm_band_chart *copy = NULL;
    if (chart && chart->n > 0) {
        copy = malloc(sizeof *copy);
        if (!copy) {
            bm_errf(err, errlen, "out of memory");
            return -1;
        }
        *copy = *chart;
    }
    bm_musician_cmd c = {BM_MCMD_SET_CHART, 0, 0, copy, 0};
    if (engine_musician_command(e, &c) != 0) {
        free(copy);
        bm_errf(err, errlen, "the musician is busy; try again");
        return -1;
    }
    return 0;
}

ring *engine_feedback_ring(bm_engine *e) { return e->feedback; }

void engine_record_rings(bm_engine *e, ring **events, ring **audio)
{
    *events = e->rec_events;
    *audio = e->rec_audio;
}

int engine_external_midi(bm_engine *e, int64_t frame, const uint8_t *bytes, int n)
{
    bm_event ev = {0};
    if (bm_event_from_midi(bytes, n, &ev) != 0) return -1;
    ev.frame = frame;
    return ring_push(e->ext_midi, &ev);
}

const bm_engine_stats *engine_stats(bm_engine *e) { return &e->stats; }

double engine_musician_control(bm_engine *e, int which)
{
    return which >= 0 && which < BM_NUM_CONTROLS ? e->musician.controls[which] : 0;
}

const bm_musician_stats *engine_musician_stats(bm_engine *e) { return &e->musician.stats; }

void engine_time_anchor(bm_engine *e, int64_t *frame, int64_t *ns)
{
    for (;;) {
        unsigned s1 = atomic_load_explicit(&e->anchor_seq, memory_order_acquire);
        if (s1 & 1) continue;
        int64_t f = atomic_load_explicit(&e->anchor_frame, memory_order_relaxed);
        int64_t t = atomic_load_explicit(&e->anchor_ns, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->anchor_seq, memory_order_relaxed) == s1) {
            *frame = f;
            *ns = t;
            return;
        }
    }
}

int64_t engine_now_frame(bm_engine *e)
{
    int64_t frame, ns;
    engine_time_anchor(e, &frame, &ns);
    bm_clock_map map;
    clock_read_published(&e->clock, &map);
    return frame + (int64_t)((double)(bm_now_ns() - ns) * 1e-9 * map.sample_rate);
}

double engine_sample_rate(bm_engine *e)
{
    bm_clock_map map;
    clock_read_published(&e->clock, &map);
    return map.sample_rate;
}

bm_clock *engine_clock(bm_engine *e) { return &e->clock; }

const bm_engine_config *engine_config(const bm_engine *e) { return &e->cfg; }

static double hist_percentile(const atomic_uint_fast64_t *hist, double p)
{
    uint64_t total = 0;
    for (int i = 0; i < BM_CYCLE_HIST_BINS; i++) total += atomic_load(&hist[i]);
    if (!total) return 0;
    double want = p / 100.0 * (double)total;
    uint64_t acc = 0;
    for (int i = 0; i < BM_CYCLE_HIST_BINS; i++) {
        acc += atomic_load(&hist[i]);
        if ((double)acc >= want) return i + 1; /* upper edge of the bin */
    }
    return BM_CYCLE_HIST_BINS;
}

double engine_cycle_percentile_us(const bm_engine_stats *s, double p) { return hist_percentile(s->cycle_hist, p); }

double engine_wake_percentile_us(const bm_engine_stats *s, double p) { return hist_percentile(s->wake_hist, p); }

void engine_note_cycle_timing(bm_engine *e, int64_t wake_us, int64_t end_us, double period_us)
{
    if (wake_us < 0 || end_us < wake_us) return; /* clocks that disagree: nothing to learn */
    int64_t bin = wake_us < BM_CYCLE_HIST_BINS ? wake_us : BM_CYCLE_HIST_BINS - 1;
    atomic_fetch_add_explicit(&e->stats.wake_hist[bin], 1, memory_order_relaxed);
    if (wake_us > atomic_load_explicit(&e->stats.max_wake_us, memory_order_relaxed))
        atomic_store_explicit(&e->stats.max_wake_us, wake_us, memory_order_relaxed);
    if ((double)end_us > period_us) {
        atomic_fetch_add_explicit(&e->stats.overruns, 1, memory_order_relaxed);
        if (wake_us > end_us - wake_us) atomic_fetch_add_explicit(&e->stats.overruns_woke_late, 1, memory_order_relaxed);
    }
}

void engine_set_sample_rate(bm_engine *e, double sample_rate)
{
    uint64_t bits;
    memcpy(&bits, &sample_rate, sizeof bits);
    atomic_store_explicit(&e->pending_sr_bits, bits, memory_order_release);
}

ring *engine_external_midi_out(bm_engine *e)
{
    atomic_store(&e->ext_out_on, 1);
    return e->ext_out;
}

ring *engine_plan_ring(bm_engine *e) { return e->plan; }

int engine_musician_priority(bm_engine *e, int rt_priority)
{
    if (!e->musician_running) return -1;
    struct sched_param sp = {.sched_priority = rt_priority > 0 ? rt_priority : 0};
    return pthread_setschedparam(e->musician_thread, rt_priority > 0 ? SCHED_FIFO : SCHED_OTHER, &sp) == 0 ? 0 : -1;
}
