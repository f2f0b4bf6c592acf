/* listener.c: the glue between the audio analysers, the beat tracker, the phrase segmenter, the
 * harmony estimator and the clock; the snapshot travels through a seqlock of 64-bit words. */
#include "engine/listen/listener.h"
#include "engine/listen/audio_notes.h"
#include "engine/listen/beat_track.h"
#include "engine/listen/chroma.h"
#include "engine/listen/harmony.h"
#include "engine/listen/phrase.h"
#include "engine/util.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STATE_WORDS ((sizeof(bm_listen_state) + 7) / 8)
#define MAX_QUEUED 16
#define AUDIO_MAX 64
#define POLY_RELEASE_HOPS 3   /* chroma hops under the gate before poly audio counts as a rest */

struct bm_listener {
    bm_listen_config cfg;
    double sr;
    bm_audio_notes *mono;
    bm_chroma *poly;
    bm_heard_note heard[AUDIO_MAX];
    bm_beat_track bt;
    bm_phrase_tracker ph;
    bm_harmony hm;
    bm_listen_state st;              /* the process thread's working copy */
    bm_event queued[MAX_QUEUED];     /* phrase starts waiting for the tick */
    int nqueued;
    int end_requested;
    double follow;
    double prev_beat;
    int ticked;
    double reported_bpm;             /* the tempo last worth an event */
    double reported_beat;
    int poly_active, poly_quiet;
    /* published */
    atomic_uint seq;
    _Atomic uint64_t words[STATE_WORDS];
    _Atomic uint64_t s_audio_notes, s_audio_onsets, s_phrases, s_follows;
    _Atomic uint64_t s_latency_bits;
    double latency_sum;
};

bm_listener *listener_create(const bm_listen_config *cfg, double sr, double bpm, char *err, size_t errlen)
{
    if (cfg->audio < BM_LISTEN_OFF || cfg->audio > BM_LISTEN_POLY || cfg->input < 0 || cfg->input > 1) {
        bm_errf(err, errlen, "the listening setup is not valid (audio off, mono or poly; input 1 or 2)");
        return NULL;
    }
    bm_listener *l = calloc(1, sizeof *l);
    if (!l) {
        bm_errf(err, errlen, "out of memory while setting up listening");
        return NULL;
    }
    l->cfg = *cfg;
    l->sr = sr;
    if (cfg->audio == BM_LISTEN_MONO) {
        bm_audio_notes_config ac = {sr, cfg->silence_db, cfg->min_confidence, cfg->onset_threshold,
                                    cfg->hysteresis, cfg->lowest_note, cfg->highest_note, NULL};
        if (!(l->mono = audio_notes_create(&ac, err, errlen))) {
            free(l);
            return NULL;
        }
    } else if (cfg->audio == BM_LISTEN_POLY) {
        bm_chroma_config cc = {sr, cfg->silence_db, cfg->onset_threshold};
        if (!(l->poly = chroma_create(&cc, err, errlen))) {
            free(l);
            return NULL;
        }
    }
    beat_track_init(&l->bt, sr, bpm);
    phrase_init(&l->ph, cfg->phrase_gap, cfg->phrase_bars);
    harmony_init(&l->hm);
    listen_state_clear(&l->st);
    l->follow = cfg->follow < 0 ? 0 : cfg->follow > 1 ? 1 : cfg->follow;
    atomic_init(&l->seq, 0);
    for (size_t i = 0; i < STATE_WORDS; i++) atomic_init(&l->words[i], 0);
    atomic_init(&l->s_audio_notes, 0);
    atomic_init(&l->s_audio_onsets, 0);
    atomic_init(&l->s_phrases, 0);
    atomic_init(&l->s_follows, 0);
    atomic_init(&l->s_latency_bits, 0);
    l->reported_bpm = bpm;
    l->reported_beat = -1e9;
    return l;
}

void listener_destroy(bm_listener *l)
{
    if (!l) return;
    audio_notes_destroy(l->mono);
    chroma_destroy(l->poly);
    free(l);
}

const bm_listen_config *listener_config(const bm_listener *l) { return &l->cfg; }

void listener_prefault(bm_listener *l)
{
    static const float zeros[1024];
    bm_event junk[AUDIO_MAX];
    bm_clock c;
    clock_init(&c, l->sr, 120, 4, 4, 4);
    for (int i = 0; i < 64; i++) listener_audio(l, &c, zeros, 1024, (int64_t)i * 1024, junk, AUDIO_MAX);
    if (l->mono) audio_notes_reset(l->mono);
    if (l->poly) chroma_reset(l->poly);
    l->poly_active = 0;
}

static void publish(bm_listener *l)
{
    uint64_t w[STATE_WORDS];
    memset(w, 0, sizeof w);
    memcpy(w, &l->st, sizeof l->st);
    unsigned s = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < STATE_WORDS; i++) atomic_store_explicit(&l->words[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&l->seq, s + 2, memory_order_release);
}

void listener_read(bm_listener *l, bm_listen_state *out)
{
    uint64_t w[STATE_WORDS];
    for (;;) {
        unsigned s1 = atomic_load_explicit(&l->seq, memory_order_acquire);
        if (s1 & 1) continue;
        for (size_t i = 0; i < STATE_WORDS; i++) w[i] = atomic_load_explicit(&l->words[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&l->seq, memory_order_relaxed) == s1) break;
    }
    if (atomic_load_explicit(&l->seq, memory_order_relaxed) == 0) { /* nothing published yet */
        listen_state_clear(out);
        return;
    }
    memcpy(out, w, sizeof *out);
}

void listener_stats(bm_listener *l, bm_listen_stats *out)
{
    memset(out, 0, sizeof *out);
    out->audio_notes = atomic_load(&l->s_audio_notes);
    out->audio_onsets = atomic_load(&l->s_audio_onsets);
    out->phrases = atomic_load(&l->s_phrases);
    out->tempo_follows = atomic_load(&l->s_follows);
    uint64_t bits = atomic_load(&l->s_latency_bits);
    memcpy(&out->latency_sum_frames, &bits, sizeof bits);
}

static void count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

static bm_event performer_event(int type, int note, int velocity, int64_t frame)
{
    bm_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = (uint8_t)type;
    ev.part = BM_PART_HUMAN;
    ev.note = (uint8_t)note;
    ev.velocity = (uint8_t)velocity;
    ev.frame = frame;
    return ev;
}

static void queue(bm_listener *l, const bm_event *ev)
{
    if (l->nqueued < MAX_QUEUED) l->queued[l->nqueued++] = *ev;
}

static void phrase_started(bm_listener *l, int64_t frame, double beat)
{
    bm_event ev = performer_event(BM_EV_PHRASE_START, 0, 0, frame);
    ev.beat = beat;
    queue(l, &ev);
}

int listener_audio(bm_listener *l, const bm_clock *c, const float *in, uint32_t n, int64_t frame,
                   bm_event *out, int max)
{
    int nout = 0;
    if (l->mono) {
        int k = audio_notes_process(l->mono, in, n, frame, l->heard, AUDIO_MAX);
        for (int i = 0; i < k && nout < max; i++) {
            const bm_heard_note *h = &l->heard[i];
            out[nout++] = performer_event(h->on ? BM_EV_NOTE_ON : BM_EV_NOTE_OFF, h->note, h->velocity, h->frame);
            if (h->on) {
                l->latency_sum += (double)(h->detected - h->frame);
                uint64_t bits;
                memcpy(&bits, &l->latency_sum, sizeof bits);
                atomic_store_explicit(&l->s_latency_bits, bits, memory_order_relaxed);
                count(&l->s_audio_notes);
                l->st.audio_notes++;
            }
        }
        bm_audio_notes_probe p = audio_notes_probe(l->mono);
        l->st.input_db = p.db;
        l->st.audio_note = p.note;
        l->st.audio_pitch = p.pitch;
        l->st.audio_confidence = p.confidence;
    } else if (l->poly) {
        bm_chroma_out co;
        chroma_process(l->poly, in, n, frame, &co);
        for (int i = 0; i < co.n_onsets && nout < max; i++) {
            float x = (co.onset_db[i] - l->cfg.silence_db) / (-3.0f - l->cfg.silence_db);
            int vel = (int)lroundf(10.0f + 117.0f * (x < 0 ? 0 : x > 1 ? 1 : x));
            out[nout++] = performer_event(BM_EV_ONSET, 0, vel, co.onset_frame[i]);
            l->latency_sum += (double)(co.onset_detected[i] - co.onset_frame[i]);
            uint64_t bits;
            memcpy(&bits, &l->latency_sum, sizeof bits);
            atomic_store_explicit(&l->s_latency_bits, bits, memory_order_relaxed);
            count(&l->s_audio_onsets);
            l->st.audio_onsets++;
        }
        if (co.new_chroma) {
            l->st.input_db = co.db;
            double beats = (double)chroma_hop(l->poly) * c->map.beats_per_frame;
            double beat = clock_beat_at(c, frame + n);
            if (co.active) harmony_chroma(&l->hm, co.chroma, beats, co.n_onsets > 0, beat);
            /* the rest after a chord ends the activity a phrase is made of */
            l->poly_quiet = co.active ? 0 : l->poly_quiet + 1;
            if (l->poly_active && l->poly_quiet >= POLY_RELEASE_HOPS) {
                l->poly_active = 0;
                phrase_note_off(&l->ph, 0, frame + n, beat);
            }
        }
    }
    return nout;
}

static float onset_weight(int velocity) { return 0.3f + 0.7f * (float)velocity / 127.0f; }

void listener_hear(bm_listener *l, const bm_event *ev)
{
    switch (ev->type) {
    case BM_EV_NOTE_ON:
        beat_track_onset(&l->bt, ev->frame, onset_weight(ev->velocity));
        if (phrase_note_on(&l->ph, ev->note, ev->frame, ev->beat)) phrase_started(l, ev->frame, ev->beat);
        harmony_note_on(&l->hm, ev->note, ev->velocity, ev->beat);
        l->st.last_note = ev->beat;
        break;
    case BM_EV_NOTE_OFF:
        phrase_note_off(&l->ph, ev->note, ev->frame, ev->beat);
        harmony_note_off(&l->hm, ev->note, ev->beat);
        break;
    case BM_EV_ONSET:
        beat_track_onset(&l->bt, ev->frame, onset_weight(ev->velocity));
        if (!l->poly_active) {
            l->poly_active = 1;
            l->poly_quiet = 0;
            if (phrase_note_on(&l->ph, 0, ev->frame, ev->beat)) phrase_started(l, ev->frame, ev->beat);
        } else if (l->ph.in_phrase) {
            l->ph.cur.notes++;
        }
        l->st.last_note = ev->beat;
        break;
    default:
        break;
    }
}

void listener_end_phrase(bm_listener *l) { l->end_requested = 1; }

void listener_set_follow(bm_listener *l, double s) { l->follow = s < 0 ? 0 : s > 1 ? 1 : s; }

static void phrase_event(bm_listener *l, const bm_phrase *p, int64_t frame, bm_event *out, int *nout, int max)
{
    bm_event ev = performer_event(BM_EV_PHRASE_END, p->reason, 0, frame);
    ev.beat = p->end;
    ev.value_f = (float)(p->end - p->start);
    ev.value = (int16_t)(p->notes > 32767 ? 32767 : p->notes);
    if (*nout < max) out[(*nout)++] = ev;
    l->st.phrases++;
    l->st.last_phrase_start = p->start;
    l->st.last_phrase_end = p->end;
    l->st.last_phrase_notes = p->notes;
    l->st.last_phrase_reason = p->reason;
    count(&l->s_phrases);
}

int listener_tick(bm_listener *l, bm_clock *c, int64_t frame, bm_event *out, int max, int *tempo_changed)
{
    int nout = 0;
    *tempo_changed = 0;
    double beat = clock_beat_at(c, frame);
    if (!l->ticked) {
        l->prev_beat = beat;
        l->ticked = 1;
    }
    for (int i = 0; i < l->nqueued && nout < max; i++) out[nout++] = l->queued[i];
    l->nqueued = 0;
    bm_phrase p;
    if (l->end_requested) {
        l->end_requested = 0;
        l->poly_active = 0;
        if (phrase_end_now(&l->ph, frame, beat, &p)) phrase_event(l, &p, frame, out, &nout, max);
    }
    if (phrase_poll(&l->ph, l->prev_beat, beat, c->map.beats_per_bar, &p)) phrase_event(l, &p, frame, out, &nout, max);
    harmony_update(&l->hm, beat);

    /* the performer's tempo */
    if (!beat_track_locked(&l->bt)) beat_track_set_prior(&l->bt, c->map.bpm);
    if (c->map.source == BM_TEMPO_PERFORMER && l->follow > 0 && beat_track_locked(&l->bt) && c->map.rolling) {
        double theirs = beat_track_position(&l->bt, frame), ours = beat;
        double d = (theirs - floor(theirs)) - (ours - floor(ours));
        d -= floor(d + 0.5);
        clock_follow_performer(c, frame, d, beat_track_bpm_at(&l->bt, frame), l->follow);
        count(&l->s_follows);
        if (fabs(c->map.bpm - l->reported_bpm) >= 0.5 && beat - l->reported_beat >= 1.0) {
            l->reported_bpm = c->map.bpm;
            l->reported_beat = beat;
            *tempo_changed = 1;
        }
    }
    l->prev_beat = beat;

    l->st.beat = beat;
    harmony_fill(&l->hm, &l->st);
    l->st.tempo_bpm = beat_track_bpm(&l->bt);
    l->st.tempo_confidence = beat_track_confidence(&l->bt);
    l->st.in_phrase = l->ph.in_phrase;
    l->st.sounding = l->ph.sounding;
    l->st.phrase_start = l->ph.in_phrase ? l->ph.cur.start : 0;
    l->st.phrase_notes = l->ph.in_phrase ? l->ph.cur.notes : 0;
    publish(l);
    return nout;
}
