/* offline.c: the offline driver: a virtual clock feeding engine_process, the musician polled
 * synchronously, the recorder drained in the same loop: deterministic and faster than real time. */
#include "engine/offline.h"
#include "engine/control/control.h"
#include "engine/listen/wav_in.h"
#include "engine/util.h"
#include "engine/recorder.h"
#include "engine/smf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct timed_msg {
    int64_t frame;
    uint8_t size;
    uint8_t bytes[3];
};

struct tempo_change {
    int64_t frame;
    double bpm;
};

void render_opts_defaults(bm_render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->block = 256;
    o->tail_seconds = 2.0;
    o->follow_file_tempo = 1;
}

static int cmp_msg(const void *a, const void *b)
{
    const struct timed_msg *x = a, *y = b;
    return (x->frame > y->frame) - (x->frame < y->frame);
}

/* The performer's events and the file's tempo map, in frames. */
static int load_performance(const char *path, double sr, struct timed_msg **msgs, size_t *nmsgs,
                            struct tempo_change **tempi, size_t *ntempi, int *beats_per_bar,
                            int *beat_unit, char *err, size_t errlen)
{
    smf *s;
    if (smf_read_file(path, &s, err, errlen) != 0) return -1;
    int human_track = -1;
    for (int t = 0; t < s->ntracks; t++)
        if (!strcmp(s->tracks[t].name, "human")) human_track = t;
    smf_tempo_map map;
    if (smf_tempo_map_build(s, &map) != 0) {
        smf_free(s);
        bm_errf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    size_t total = 0;
    for (int t = 0; t < s->ntracks; t++) total += s->tracks[t].n;
    *msgs = malloc((total + 1) * sizeof **msgs);
    *tempi = malloc((map.n + 1) * sizeof **tempi);
    if (!*msgs || !*tempi) {
        smf_tempo_map_free(&map);
        smf_free(s);
        bm_errf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    size_t n = 0, nt = 0;
    for (int t = 0; t < s->ntracks; t++) {
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            int64_t frame = (int64_t)llround(smf_tempo_map_seconds(&map, e->tick) * sr);
            if (e->kind == SMF_META && e->meta_type == SMF_META_TIME_SIGNATURE && e->data_len >= 2 &&
                e->tick == 0) {
                const uint8_t *d = s->blob + e->data_off;
                if (d[0] >= 1 && d[0] <= 32) *beats_per_bar = d[0];
                if (d[1] >= 1 && d[1] <= 4) *beat_unit = 1 << d[1];
            }
            if (e->kind != SMF_MIDI || (human_track >= 0 && t != human_track)) continue;
            if (e->bytes[0] >= 0xf0) continue;
            (*msgs)[n].frame = frame;
            (*msgs)[n].size = e->nbytes;
            memcpy((*msgs)[n].bytes, e->bytes, 3);
            n++;
        }
    }
    for (size_t i = 0; i < map.n; i++) {
        (*tempi)[nt].frame = (int64_t)llround(map.seconds[i] * sr);
        (*tempi)[nt].bpm = 60.0 / (map.sec_per_tick[i] * s->division);
        nt++;
    }
    /* a stable sort keeps the file's order of events at the same frame (note-off before note-on) */
    for (size_t i = 1; i < n; i++) {
        struct timed_msg x = (*msgs)[i];
        size_t j = i;
        while (j > 0 && cmp_msg(&(*msgs)[j - 1], &x) > 0) {
            (*msgs)[j] = (*msgs)[j - 1];
            j--;
        }
        (*msgs)[j] = x;
    }
    *nmsgs = n;
    *ntempi = nt;
    smf_tempo_map_free(&map);
    smf_free(s);
    return 0;
}

struct midi_capture {
    const bm_render_opts *o;
    int64_t start;
};

static int capture_midi(void *ctx, uint32_t offset, const uint8_t *bytes, size_t n)
{
    struct midi_capture *c = ctx;
    if (c->o->on_midi_out) c->o->on_midi_out(c->o->ctx, c->start + offset, bytes, n);
    return 0;
}

int render_file(const bm_engine_config *cfg_in, const bm_render_opts *o, bm_render_result *res,
                char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    double t0 = bm_now_s();
    bm_engine_config cfg = *cfg_in;
    cfg.record = 1;
    struct timed_msg *msgs = NULL;
    struct tempo_change *tempi = NULL;
    size_t nmsgs = 0, ntempi = 0;
    int bpb = cfg.beats_per_bar, unit = cfg.beat_unit;
    bm_wav_in wav = {0};
    if (!o->in_mid && !o->in_wav) {
        bm_errf(err, errlen, "there is no performance to render (give a MIDI file, an audio file or both)");
        return -1;
    }
    if (o->in_wav) {
        if (wav_in_load(o->in_wav, o->wav_sets_rate ? 0 : cfg.sample_rate, &wav, err, errlen) != 0) return -1;
        cfg.sample_rate = wav.sample_rate;
        if (cfg.listen.audio == BM_LISTEN_OFF) cfg.listen.audio = BM_LISTEN_MONO;
        cfg.listen.mix_input = 1;
    }
    if (o->in_mid && load_performance(o->in_mid, cfg.sample_rate, &msgs, &nmsgs, &tempi, &ntempi, &bpb, &unit,
                                      err, errlen) != 0) {
        wav_in_free(&wav);
        free(msgs);
        free(tempi);
        return -1;
    }
    int performer_leads = cfg.tempo_source == BM_TEMPO_PERFORMER;
    if (o->follow_file_tempo) {
        if (ntempi) cfg.bpm = tempi[0].bpm;
        cfg.beats_per_bar = bpb;
        cfg.beat_unit = unit;
        if (!performer_leads) cfg.tempo_source = BM_TEMPO_FILE;
    }
    res->first_bpm = cfg.bpm;
    bm_engine *e = engine_create(&cfg, err, errlen);
    if (!e) {
        wav_in_free(&wav);
        free(msgs);
        free(tempi);
        return -1;
    }
    ring *rev, *raud;
    engine_record_rings(e, &rev, &raud);
    bm_recorder *rec = recorder_create(o->out_mid, o->out_wav, rev, raud, cfg.sample_rate, cfg.bpm,
                                       cfg.beats_per_bar, cfg.beat_unit, err, errlen);
    if (!rec) {
        engine_destroy(e);
        wav_in_free(&wav);
        free(msgs);
        free(tempi);
        return -1;
    }
    uint32_t block = o->block ? o->block : 256;
    if (block > 8192) block = 8192;
    float *outl = calloc(block, sizeof(float)), *outr = calloc(block, sizeof(float));
    bm_midi_in *in = calloc(BM_MAX_EVENTS_PER_BLOCK, sizeof *in);
    float *silence = calloc(block, sizeof(float)), *audio = calloc(block, sizeof(float));
    int rc = 0;
    bm_control *ctl = NULL;
    if (!outl || !outr || !in || !silence || !audio) {
        bm_errf(err, errlen, "out of memory");
        rc = -1;
        goto out;
    }
    if (o->patch && (o->patch->script[0] || o->patch->n_chords)) {
        /* the patch's script and chord chart play offline as they would live: the control step runs
         * every period */
        bm_control_opts co;
        control_opts_defaults(&co);
        co.osc = 0;
        co.watch = 0;
        co.script = o->patch->script[0] ? o->patch->script : NULL;
        co.seed = cfg.seed ? cfg.seed : 1;
        ctl = control_create(e, NULL, o->patch, &co, err, errlen);
        if (!ctl || control_start(ctl, err, errlen) != 0) {
            rc = -1;
            goto out;
        }
    }
    int64_t last = nmsgs ? msgs[nmsgs - 1].frame : 0;
    if (wav.frames > last) last = wav.frames;
    int64_t end = last + (int64_t)(o->tail_seconds * cfg.sample_rate);
    size_t mi = 0, ti = o->follow_file_tempo && ntempi && !performer_leads ? 1 : ntempi;
    struct midi_capture cap = {o, 0};
    uint32_t since_drain = 0;
    for (int64_t start = 0; start < end; start += block) {
        while (ti < ntempi && tempi[ti].frame < start + (int64_t)block) {
            /* tempo changes of the file take effect at the period where they fall */
            bm_command c = {BM_CMD_TEMPO, 0, tempi[ti].bpm, NULL};
            engine_command(e, &c);
            ti++;
        }
        uint32_t nin = 0;
        while (mi < nmsgs && msgs[mi].frame < start + (int64_t)block && nin < BM_MAX_EVENTS_PER_BLOCK) {
            in[nin].offset = msgs[mi].frame < start ? 0 : (uint32_t)(msgs[mi].frame - start);
            in[nin].size = msgs[mi].size;
            memcpy(in[nin].bytes, msgs[mi].bytes, 3);
            nin++;
            mi++;
        }
        cap.start = start;
        bm_io io = {0};
        io.frame = start;
        io.nframes = block;
        io.audio_out[0] = outl;
        io.audio_out[1] = outr;
        io.midi_in = in;
        io.n_midi_in = nin;
        io.midi_write = capture_midi;
        io.midi_ctx = &cap;
        if (wav.samples) {
            /* the performer's audio on the listening input (silence after its end) */
            const float *src = silence;
            if (start + (int64_t)block <= wav.frames) {
                src = wav.samples + start;
            } else if (start < wav.frames) {
                memset(audio, 0, block * sizeof(float));
                memcpy(audio, wav.samples + start, (size_t)(wav.frames - start) * sizeof(float));
                src = audio;
            }
            io.audio_in[cfg.listen.input] = src;
        }
        engine_process(e, &io);
        /* time has advanced to the end of this period: the musician plays what is due */
        engine_musician_poll(e, start + block);
        if (ctl) control_step(ctl, start + block);
        if (o->on_period) o->on_period(o->ctx, e, start, block);
        since_drain += block;
        if (since_drain >= cfg.sample_rate / 4) {
            recorder_drain(rec);
            engine_collect_garbage(e);
            if (!ctl) { /* without a script, nobody reads the feedback offline */
                bm_event junk;
                while (ring_pop(engine_feedback_ring(e), &junk) == 0) {}
                while (ring_pop(engine_plan_ring(e), &junk) == 0) {}
            }
            since_drain = 0;
        }
        res->frames = start + block;
    }
    rc = recorder_finish(rec, err, errlen);
    const bm_engine_stats *st = engine_stats(e);
    const bm_musician_stats *ms = engine_musician_stats(e);
    res->seconds = (double)res->frames / cfg.sample_rate;
    res->human_notes = atomic_load(&st->human_notes);
    res->band_notes = atomic_load(&st->band_notes);
    res->late_events = atomic_load(&st->late_events);
    res->late_steps = atomic_load(&ms->late_steps);
    res->dropped = atomic_load(&st->dropped_events) + atomic_load(&ms->dropped);
    res->last_bpm = engine_clock(e)->map.bpm;
    bm_listen_stats ls;
    listener_stats(engine_listener(e), &ls);
    res->audio_notes = ls.audio_notes + ls.audio_onsets;
    res->phrases = ls.phrases;
    res->mean_latency_ms = res->audio_notes ? ls.latency_sum_frames / (double)res->audio_notes / cfg.sample_rate * 1e3 : 0;
out:
    control_destroy(ctl);
    free(outl);
    free(outr);
    free(in);
    free(silence);
    free(audio);
    wav_in_free(&wav);
    recorder_destroy(rec);
    engine_destroy(e);
    free(msgs);
    free(tempi);
    res->wall_seconds = bm_now_s() - t0;
    return rc;
}
