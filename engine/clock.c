/* clock.c: tempo map on the frame timeline; MIDI clock, JACK transport and tap-tempo sources. */
#include "engine/clock.h"

#include <math.h>
#include <string.h>

static double clamp_bpm(double bpm)
{
    if (!(bpm >= BM_MIN_BPM)) return BM_MIN_BPM; /* also catches NaN */
    if (bpm > BM_MAX_BPM) return BM_MAX_BPM;
    return bpm;
}

static double base_rate(const bm_clock_map *m) { return m->bpm / 60.0 / m->sample_rate; }

void clock_init(bm_clock *c, double sample_rate, double bpm, int beats_per_bar, int beat_unit,
                int steps_per_beat)
{
    memset(c, 0, sizeof *c);
    c->map.sample_rate = sample_rate > 0 ? sample_rate : 48000;
    c->map.bpm = clamp_bpm(bpm);
    c->map.beats_per_frame = base_rate(&c->map);
    c->map.beats_per_bar = beats_per_bar > 0 ? beats_per_bar : 4;
    c->map.beat_unit = beat_unit > 0 ? beat_unit : 4;
    c->map.steps_per_beat = steps_per_beat > 0 ? steps_per_beat : 4;
    c->map.rolling = 1;
    c->map.source = BM_TEMPO_INTERNAL;
    atomic_init(&c->pub_seq, 0);
    clock_publish(c);
}

double clock_map_beat_at(const bm_clock_map *m, int64_t frame)
{
    if (!m->rolling) return m->anchor_beat;
    return m->anchor_beat + (double)(frame - m->anchor_frame) * m->beats_per_frame;
}

int64_t clock_map_frame_at(const bm_clock_map *m, double beat)
{
    if (!m->rolling || m->beats_per_frame <= 0) return beat <= m->anchor_beat ? m->anchor_frame : INT64_MAX;
    double f = (double)m->anchor_frame + (beat - m->anchor_beat) / m->beats_per_frame;
    if (f > 9.0e18) return INT64_MAX;
    if (f < -9.0e18) return INT64_MIN;
    return (int64_t)llround(f);
}

double clock_beat_at(const bm_clock *c, int64_t frame) { return clock_map_beat_at(&c->map, frame); }

int64_t clock_frame_at(const bm_clock *c, double beat) { return clock_map_frame_at(&c->map, beat); }

/* Moves the anchor to frame, keeping the beat position there. */
static void reanchor(bm_clock *c, int64_t frame)
{
    c->map.anchor_beat = clock_map_beat_at(&c->map, frame);
    c->map.anchor_frame = frame;
}

void clock_set_tempo(bm_clock *c, int64_t frame, double bpm)
{
    reanchor(c, frame);
    c->map.bpm = clamp_bpm(bpm);
    c->map.beats_per_frame = base_rate(&c->map);
}

void clock_set_meter(bm_clock *c, int beats_per_bar, int beat_unit)
{
    if (beats_per_bar >= 1 && beats_per_bar <= 32) c->map.beats_per_bar = beats_per_bar;
    if (beat_unit == 2 || beat_unit == 4 || beat_unit == 8 || beat_unit == 16) c->map.beat_unit = beat_unit;
}

void clock_set_sample_rate(bm_clock *c, int64_t frame, double sample_rate)
{
    if (!(sample_rate > 0)) return;
    reanchor(c, frame);
    double ratio = c->map.beats_per_frame / base_rate(&c->map);
    c->map.sample_rate = sample_rate;
    c->map.beats_per_frame = base_rate(&c->map) * ratio;
}

void clock_locate(bm_clock *c, int64_t frame, double beat)
{
    c->map.anchor_frame = frame;
    c->map.anchor_beat = beat;
    c->map.beats_per_frame = base_rate(&c->map);
}

void clock_set_rolling(bm_clock *c, int64_t frame, int rolling)
{
    if (!!rolling == c->map.rolling) return;
    reanchor(c, frame);
    c->map.rolling = !!rolling;
}

void clock_set_source(bm_clock *c, int source)
{
    c->map.source = source;
    c->pf_seen = 0;
    c->mc_seen = 0;
    c->ntaps = 0;
}

/* Phase-locked following: bend the rate so that the beat position reaches target within about one
 * beat, or relocate when the error is too large to bend away. */
static void follow(bm_clock *c, int64_t frame, double target_beat, double bpm)
{
    double err = target_beat - clock_beat_at(c, frame);
    c->map.bpm = clamp_bpm(bpm);
    if (fabs(err) > 0.5) {
        clock_locate(c, frame, target_beat);
        return;
    }
    reanchor(c, frame);
    double base = base_rate(&c->map);
    double horizon = c->map.sample_rate * 60.0 / c->map.bpm; /* one beat */
    double corr = err / horizon;
    if (corr > 0.1 * base) corr = 0.1 * base;
    if (corr < -0.1 * base) corr = -0.1 * base;
    c->map.beats_per_frame = base + corr;
}

int clock_midi_realtime(bm_clock *c, int64_t frame, uint8_t byte)
{
    double old = c->map.bpm;
    switch (byte) {
    case 0xfa: /* start: the next tick is beat 0 */
        c->mc_ticks = -1;
        c->mc_seen = 0;
        clock_locate(c, frame, 0);
        clock_set_rolling(c, frame, 0);
        return 0;
    case 0xfb: /* continue from the song position */
        c->mc_ticks = (int64_t)llround(c->map.anchor_beat * 24.0) - 1;
        c->mc_seen = 0;
        return 0;
    case 0xfc:
        clock_set_rolling(c, frame, 0);
        return 0;
    case 0xf8:
        break;
    default:
        return 0;
    }
    if (c->map.source != BM_TEMPO_MIDI_CLOCK) return 0;
    if (!c->map.rolling) {
        /* first tick after start/continue: it marks the current position */
        c->mc_ticks++;
        clock_locate(c, frame, (double)c->mc_ticks / 24.0);
        c->map.rolling = 1;
        c->mc_last_frame = frame;
        c->mc_seen = 1;
        return 0;
    }
    c->mc_ticks++;
    if (c->mc_seen == 0) {
        c->mc_last_frame = frame;
        c->mc_seen = 1;
        c->mc_ticks = (int64_t)llround(clock_beat_at(c, frame) * 24.0);
        return 0;
    }
    double dt = (double)(frame - c->mc_last_frame);
    c->mc_last_frame = frame;
    if (dt <= 0) return 0;
    if (c->mc_seen == 1 || fabs(dt - c->mc_interval) > 0.5 * c->mc_interval) {
        c->mc_interval = dt; /* first interval, or a real jump in tempo */
    } else {
        c->mc_interval += 0.08 * (dt - c->mc_interval);
    }
    c->mc_seen = 2;
    double bpm = 60.0 * c->map.sample_rate / (24.0 * c->mc_interval);
    follow(c, frame, (double)c->mc_ticks / 24.0, bpm);
    return fabs(c->map.bpm - old) > 0.05;
}

void clock_midi_song_position(bm_clock *c, int64_t frame, int sixteenths)
{
    if (sixteenths < 0) sixteenths = 0;
    int was_rolling = c->map.rolling;
    clock_locate(c, frame, sixteenths / 4.0);
    c->map.rolling = was_rolling;
    c->mc_ticks = (int64_t)sixteenths * 6 - 1;
}

int clock_tap(bm_clock *c, int64_t frame)
{
    double sr = c->map.sample_rate;
    if (c->ntaps > 0 && (double)(frame - c->taps[c->ntaps - 1]) > 2.0 * sr) c->ntaps = 0;
    if (c->ntaps > 0 && frame <= c->taps[c->ntaps - 1]) return 0;
    if (c->ntaps == 5) {
        memmove(c->taps, c->taps + 1, 4 * sizeof c->taps[0]);
        c->ntaps = 4;
    }
    c->taps[c->ntaps++] = frame;
    if (c->ntaps < 2) return 0;
    double mean = (double)(c->taps[c->ntaps - 1] - c->taps[0]) / (c->ntaps - 1);
    double bpm = 60.0 * sr / mean;
    if (bpm < BM_MIN_BPM || bpm > BM_MAX_BPM) return 0;
    clock_set_tempo(c, frame, bpm);
    return 1;
}

void clock_follow_transport(bm_clock *c, int64_t frame, const bm_transport_info *t)
{
    if (c->map.source != BM_TEMPO_JACK) return;
    if (!t->rolling) {
        clock_set_rolling(c, frame, 0);
        if (!t->valid) return;
    }
    if (!t->valid) {
        clock_set_rolling(c, frame, t->rolling);
        return;
    }
    if (t->beats_per_bar >= 1) c->map.beats_per_bar = (int)(t->beats_per_bar + 0.5f);
    if (t->beat_type >= 1) c->map.beat_unit = (int)(t->beat_type + 0.5f);
    double tpb = t->ticks_per_beat > 0 ? t->ticks_per_beat : 1920.0;
    double target = (double)(t->bar - 1) * t->beats_per_bar + (t->beat - 1) + t->tick / tpb;
    if (!t->rolling) {
        clock_locate(c, frame, target);
        c->map.rolling = 0;
        return;
    }
    if (!c->map.rolling) {
        clock_locate(c, frame, target);
        c->map.bpm = clamp_bpm(t->bpm);
        c->map.beats_per_frame = base_rate(&c->map);
        c->map.rolling = 1;
        return;
    }
    follow(c, frame, target, t->bpm);
}

void clock_follow_performer(bm_clock *c, int64_t frame, double phase_err, double bpm, double strength)
{
    if (c->map.source != BM_TEMPO_PERFORMER) return;
    double elapsed = c->pf_seen && frame > c->pf_last_frame
                         ? (double)(frame - c->pf_last_frame) * c->map.beats_per_frame
                         : 0;
    if (elapsed > 1) elapsed = 1;
    c->pf_last_frame = frame;
    c->pf_seen = 1;
    if (!(strength > 0) || !c->map.rolling || !(bpm > 0)) return;
    if (strength > 1) strength = 1;
    reanchor(c, frame);
    /* tempo: an exponential approach (time constant half a beat at full strength), rate-limited */
    double cur = c->map.bpm;
    double step = (clamp_bpm(bpm) - cur) * (1.0 - exp(-2.0 * strength * elapsed));
    double lim = 0.10 * cur * elapsed;
    if (step > lim) step = lim;
    if (step < -lim) step = -lim;
    c->map.bpm = clamp_bpm(cur + step);
    /* phase: bend the rate so the error closes in about 1/strength beats */
    if (!(phase_err >= -0.5)) phase_err = -0.5; /* also catches NaN */
    if (phase_err > 0.5) phase_err = 0.5;
    double base = base_rate(&c->map);
    double horizon = c->map.sample_rate * 60.0 / c->map.bpm / strength;
    double corr = phase_err / horizon;
    if (corr > 0.15 * base) corr = 0.15 * base;
    if (corr < -0.15 * base) corr = -0.15 * base;
    c->map.beats_per_frame = base + corr;
}

void clock_fill_transport(const bm_clock *c, int64_t frame, double ticks_per_beat, bm_transport_info *t)
{
    double beat = clock_beat_at(c, frame);
    if (beat < 0) beat = 0;
    int bpb = c->map.beats_per_bar;
    int64_t whole = (int64_t)floor(beat);
    t->valid = 1;
    t->rolling = c->map.rolling;
    t->bar = (int32_t)(whole / bpb) + 1;
    t->beat = (int32_t)(whole % bpb) + 1;
    t->ticks_per_beat = ticks_per_beat;
    t->tick = (int32_t)((beat - (double)whole) * ticks_per_beat);
    if (t->tick >= ticks_per_beat) t->tick = (int32_t)ticks_per_beat - 1;
    t->bpm = c->map.bpm;
    t->beats_per_bar = (float)bpb;
    t->beat_type = (float)c->map.beat_unit;
}

int clock_midi_ticks_in(const bm_clock *c, int64_t start, uint32_t nframes, uint32_t *offsets, int max)
{
    if (!c->map.rolling || nframes == 0) return 0;
    double b0 = clock_beat_at(c, start) * 24.0;
    double b1 = clock_beat_at(c, start + nframes) * 24.0;
    int n = 0;
    /* decide by the rounded frame of each tick, so that a tick on a period boundary belongs to
     * exactly one period whatever the rounding of the beat positions */
    for (double k = floor(b0) - 1; k <= ceil(b1) + 1 && n < max; k += 1.0) {
        int64_t f = clock_frame_at(c, k / 24.0);
        if (f < start) continue;
        if (f >= start + (int64_t)nframes) break;
        offsets[n++] = (uint32_t)(f - start);
    }
    return n;
}

/* The published map travels as ten 64-bit words through a seqlock: the writer never waits, a
 * reader retries if it overlapped a write. */
static void pack(const bm_clock_map *m, uint64_t w[10])
{
    memcpy(&w[0], &m->sample_rate, 8);
    memcpy(&w[1], &m->anchor_frame, 8);
    memcpy(&w[2], &m->anchor_beat, 8);
    memcpy(&w[3], &m->beats_per_frame, 8);
    memcpy(&w[4], &m->bpm, 8);
    w[5] = (uint64_t)m->beats_per_bar;
    w[6] = (uint64_t)m->beat_unit;
    w[7] = (uint64_t)m->steps_per_beat;
    w[8] = (uint64_t)m->rolling;
    w[9] = (uint64_t)m->source;
}

static void unpack(const uint64_t w[10], bm_clock_map *m)
{
    memset(m, 0, sizeof *m); /* padding too: copies of the same map compare equal */
    memcpy(&m->sample_rate, &w[0], 8);
    memcpy(&m->anchor_frame, &w[1], 8);
    memcpy(&m->anchor_beat, &w[2], 8);
    memcpy(&m->beats_per_frame, &w[3], 8);
    memcpy(&m->bpm, &w[4], 8);
    m->beats_per_bar = (int)w[5];
    m->beat_unit = (int)w[6];
    m->steps_per_beat = (int)w[7];
    m->rolling = (int)w[8];
    m->source = (int)w[9];
}

void clock_publish(bm_clock *c)
{
    uint64_t w[10];
    pack(&c->map, w);
    unsigned s = atomic_load_explicit(&c->pub_seq, memory_order_relaxed);
    atomic_store_explicit(&c->pub_seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (int i = 0; i < 10; i++) atomic_store_explicit(&c->pub_words[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&c->pub_seq, s + 2, memory_order_release);
}

void clock_read_published(bm_clock *c, bm_clock_map *out)
{
    uint64_t w[10];
    for (;;) {
        unsigned s1 = atomic_load_explicit(&c->pub_seq, memory_order_acquire);
        if (s1 & 1) continue;
        for (int i = 0; i < 10; i++) w[i] = atomic_load_explicit(&c->pub_words[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        unsigned s2 = atomic_load_explicit(&c->pub_seq, memory_order_relaxed);
        if (s1 == s2) break;
    }
    unpack(w, out);
}
