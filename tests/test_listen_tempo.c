/* test_listen_tempo.c: following the performer's tempo: the beat tracker alone, the clock's
 * performer follow (never backwards, bounded), and whole renders of performances whose tempo
 * drifts from 96 to 132 BPM or jumps, played as MIDI and as audio: the error of the band's beat
 * against the performer's, in ms per beat, and the beats it takes to recover from a jump. */
#include "test.h"
#include "test_listen_util.h"
#include "engine/clock.h"
#include "engine/listen/beat_track.h"
#include "engine/offline.h"
#include "engine/smf.h"

#include <sndfile.h>
#include <stdlib.h>

#define SR 48000.0

/* ---- the beat tracker alone ---- */

static void feed_steady(bm_beat_track *b, double bpm, int beats, int eighths, double start_s, double jitter_ms)
{
    uint64_t s = 99;
    for (int k = 0; k < beats; k++) {
        double t = start_s + k * 60.0 / bpm;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double j = ((double)(s % 1000) / 1000.0 - 0.5) * 2 * jitter_ms * 1e-3;
        beat_track_onset(b, (int64_t)((t + j) * SR), k % 4 == 0 ? 1.0f : 0.7f);
        if (eighths) beat_track_onset(b, (int64_t)((t + 30.0 / bpm) * SR), 0.5f);
    }
}

TEST(listen_beat_tracker_locks_on_a_steady_beat)
{
    bm_beat_track b;
    beat_track_init(&b, SR, 120);
    feed_steady(&b, 108, 16, 0, 1.0, 10);
    CHECK(beat_track_locked(&b));
    CHECK_NEAR(beat_track_bpm(&b), 108, 1.5);
    double pos = beat_track_position(&b, (int64_t)((1.0 + 16 * 60.0 / 108) * SR));
    CHECK_NEAR(pos - floor(pos + 0.5), 0, 0.05); /* its beats fall on the performer's */
    CHECKF(beat_track_confidence(&b) > 0.8f, "confidence %.2f", beat_track_confidence(&b));
}

TEST(listen_beat_tracker_prefers_the_clock_tempo_over_its_octaves)
{
    bm_beat_track b;
    beat_track_init(&b, SR, 100);
    feed_steady(&b, 100, 16, 1, 0.5, 5); /* steady eighths: 200 per minute */
    CHECK(beat_track_locked(&b));
    CHECK_NEAR(beat_track_bpm(&b), 100, 1.5);
    double pos = beat_track_position(&b, (int64_t)(0.5 * SR));
    CHECKF(fabs(pos - floor(pos + 0.5)) < 0.08, "the beat landed on the off-beat (phase %.2f)", pos - floor(pos));
}

TEST(listen_beat_tracker_follows_a_tempo_jump)
{
    bm_beat_track b;
    beat_track_init(&b, SR, 100);
    feed_steady(&b, 100, 16, 0, 0.5, 0);
    double t0 = 0.5 + 16 * 0.6;
    feed_steady(&b, 130, 16, 0, t0, 0);
    CHECK_NEAR(beat_track_bpm(&b), 130, 1.5);
}

/* ---- the clock never glitches ---- */

TEST(listen_clock_follow_never_runs_backwards_and_bends_gently)
{
    bm_clock c;
    clock_init(&c, SR, 100, 4, 4, 4);
    clock_set_source(&c, BM_TEMPO_PERFORMER);
    double last_beat = 0, last_bpm = 100;
    uint64_t s = 5;
    int64_t f = 0;
    double bpm_at_beat_start = 100, beat_start = 0;
    for (int i = 0; i < 20000; i++) {
        f += 64;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        /* wild input: phase errors all over the place, tempo jumping between 40 and 300 */
        double err = (double)(s % 1000) / 1000.0 - 0.5;
        double want = i % 3000 < 1500 ? 40 : 300;
        clock_follow_performer(&c, f, err, want, 1.0);
        double beat = clock_beat_at(&c, f);
        CHECKF(beat >= last_beat, "the beat went back from %.6f to %.6f", last_beat, beat);
        double rate = c.map.beats_per_frame / (c.map.bpm / 60.0 / SR);
        CHECKF(rate > 0.84 && rate < 1.16, "the rate left the 15 %% band: %.3f", rate);
        if (beat - beat_start >= 1.0) { /* at most 10 % per beat (with a little slack for the last period) */
            CHECKF(fabs(c.map.bpm - bpm_at_beat_start) <= 0.105 * bpm_at_beat_start * (beat - beat_start) + 0.5,
                   "tempo moved from %.1f to %.1f in %.2f beats", bpm_at_beat_start, c.map.bpm, beat - beat_start);
            bpm_at_beat_start = c.map.bpm;
            beat_start = beat;
        }
        last_beat = beat;
        last_bpm = c.map.bpm;
    }
    (void)last_bpm;
    /* strength 0 ignores the performer */
    bm_clock d;
    clock_init(&d, SR, 100, 4, 4, 4);
    clock_set_source(&d, BM_TEMPO_PERFORMER);
    for (int i = 1; i < 1000; i++) clock_follow_performer(&d, i * 64, 0.4, 150, 0.0);
    CHECK_NEAR(d.map.bpm, 100, 1e-9);
    CHECK_NEAR(clock_beat_at(&d, 64000), 64000 * 100 / 60.0 / SR, 1e-9);
}

/* ---- whole performances ---- */

typedef struct perf {
    double beat_s[512];     /* true beat times */
    double beat_bpm[512];
    int nbeats;
    lt_note notes[1024];    /* in frames */
    int nnotes;
} perf;

/* A melody line whose tempo goes from bpm0 to bpm1 linearly over the beats, or (jump_at > 0)
 * holds bpm0 and jumps to bpm1 at beat jump_at; quarter notes, eighths, a rest now and then,
 * accents on the bar, and up to jitter_ms of human timing. */
static void make_perf(perf *p, double bpm0, double bpm1, int beats, int jump_at, double jitter_ms, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    double t = 0.5;
    for (int k = 0; k <= beats; k++) {
        double bpm = jump_at > 0 ? (k < jump_at ? bpm0 : bpm1) : bpm0 + (bpm1 - bpm0) * k / (double)beats;
        p->beat_s[k] = t;
        p->beat_bpm[k] = bpm;
        t += 60.0 / bpm;
    }
    p->nbeats = beats;
    static const int scale[] = {60, 62, 64, 65, 67, 69, 71, 72};
    uint64_t s = seed;
    int deg = 0;
    for (int k = 0; k < beats; k++) {
        int pat = k % 8; /* q q ee q q rest ee q */
        double len = p->beat_s[k + 1] - p->beat_s[k];
        int sub = pat == 2 || pat == 6 ? 2 : pat == 5 ? 0 : 1;
        for (int i = 0; i < sub; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            double j = ((double)(s % 1000) / 1000.0 - 0.5) * 2 * jitter_ms * 1e-3;
            double on = p->beat_s[k] + i * len / sub + j;
            deg = (deg + (int)(s >> 20) % 3 + 7) % 8;
            lt_note *n = &p->notes[p->nnotes++];
            n->on = (int64_t)(on * SR);
            n->off = n->on + (int64_t)(0.8 * len / sub * SR);
            n->note = scale[deg];
            n->velocity = k % 4 == 0 && i == 0 ? 105 : i == 0 ? 85 : 70;
        }
    }
}

static void write_perf_midi(const perf *p, const char *path)
{
    smf *s = smf_new(960);
    smf_add_track(s, "tempo");
    smf_add_tempo(s, 0, 0, 1000000); /* 60 BPM: a tick is a 960th of a second */
    smf_add_track(s, "human");
    for (int i = 0; i < p->nnotes; i++) {
        const lt_note *n = &p->notes[i];
        uint8_t on[3] = {0x90, (uint8_t)n->note, (uint8_t)n->velocity}, off[3] = {0x80, (uint8_t)n->note, 0};
        smf_add_midi(s, 1, (uint64_t)llround(n->on / SR * 960), on, 3);
        smf_add_midi(s, 1, (uint64_t)llround(n->off / SR * 960), off, 3);
    }
    char err[256];
    CHECKF(smf_write_file(s, path, err, sizeof err) == 0, "%s", err);
    smf_free(s);
}

static void write_perf_wav(const perf *p, const char *path)
{
    int64_t frames = (int64_t)((p->beat_s[p->nbeats] + 1.0) * SR);
    float *x = lt_synth_line(p->notes, p->nnotes, SR, frames, 0, 0.0005, 4);
    SF_INFO info = {0};
    info.samplerate = (int)SR;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    CHECK(f);
    CHECK(sf_writef_float(f, x, frames) == frames);
    sf_close(f);
    free(x);
}

/* The clock's beat at each period end, to interpolate its trajectory. */
typedef struct trace {
    int64_t *frame;
    double *beat, *bpm, *heard_bpm;
    int n, cap;
} trace;

static void on_period(void *ctx, bm_engine *e, int64_t start, uint32_t n)
{
    trace *t = ctx;
    if (t->n == t->cap) return;
    t->frame[t->n] = start + n;
    t->beat[t->n] = clock_beat_at(engine_clock(e), start + n);
    t->bpm[t->n] = engine_clock(e)->map.bpm;
    bm_listen_state st;
    engine_listen_state(e, &st);
    t->heard_bpm[t->n] = st.tempo_bpm;
    t->n++;
}

static double beat_at(const trace *t, double frame)
{
    int lo = 0, hi = t->n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if ((double)t->frame[mid] <= frame) lo = mid;
        else hi = mid;
    }
    double f0 = (double)t->frame[lo], f1 = (double)t->frame[hi];
    return t->beat[lo] + (t->beat[hi] - t->beat[lo]) * (frame - f0) / (f1 - f0);
}

typedef struct follow_result {
    double mean_abs_ms, p95_ms, max_ms;   /* from beat `settle` on */
    int recover_beats;                   /* after the jump: beats until 4 in a row within 30 ms */
    double err_ms[512];
} follow_result;

/* Renders a performance (MIDI or audio) following the performer and measures the band's beat
 * against the performer's true beats. */
static follow_result follow(const perf *p, int audio, double start_bpm, int settle, int jump_at, double strength)
{
    const char *in = test_path(audio ? "perf.wav" : "perf.mid");
    if (audio) write_perf_wav(p, in);
    else write_perf_midi(p, in);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "silent");
    cfg.tempo_source = BM_TEMPO_PERFORMER;
    cfg.bpm = start_bpm;
    cfg.listen.follow = strength;
    bm_render_opts o;
    render_opts_defaults(&o);
    if (audio) o.in_wav = in;
    else o.in_mid = in;
    o.follow_file_tempo = 0;
    o.block = 128;
    o.tail_seconds = 0.5;
    static trace t;
    static int64_t fr[200000];
    static double be[200000], bp[200000], hb[200000];
    t = (trace){fr, be, bp, hb, 0, 200000};
    o.on_period = on_period;
    o.ctx = &t;
    bm_render_result res;
    char err[512];
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    follow_result r;
    memset(&r, 0, sizeof r);
    double abs_sum = 0, errs[512];
    int n = 0;
    for (int k = 0; k < p->nbeats; k++) {
        double b = beat_at(&t, p->beat_s[k] * SR);
        double e = b - floor(b + 0.5);
        r.err_ms[k] = e * 60000.0 / p->beat_bpm[k];
        if (getenv("BM_LISTEN_VERBOSE")) {
            int i = 0;
            while (i + 1 < t.n && t.frame[i] < p->beat_s[k] * SR) i++;
            printf("    beat %d: true %.1f BPM, clock %.1f BPM, heard %.1f BPM, error %+.1f ms\n", k, p->beat_bpm[k],
                   t.bpm[i], t.heard_bpm[i], r.err_ms[k]);
        }
        if (k < settle) continue;
        errs[n++] = fabs(r.err_ms[k]);
        abs_sum += fabs(r.err_ms[k]);
        if (fabs(r.err_ms[k]) > r.max_ms) r.max_ms = fabs(r.err_ms[k]);
    }
    r.mean_abs_ms = n ? abs_sum / n : 0;
    r.p95_ms = lt_percentile(errs, n, 95);
    r.recover_beats = -1;
    if (jump_at > 0)
        for (int k = jump_at; k + 3 < p->nbeats; k++) {
            int ok = 1;
            for (int i = 0; i < 4; i++) ok &= fabs(r.err_ms[k + i]) < 30;
            if (ok) {
                r.recover_beats = k - jump_at;
                break;
            }
        }
    return r;
}

static void drift_case(int audio)
{
    static perf p;
    make_perf(&p, 96, 132, 96, 0, 8, 17);
    follow_result r = follow(&p, audio, 100, 8, 0, 1.0);
    if (lt_report())
        printf("  %s, 96 -> 132 BPM over 96 beats: beat error mean %.1f ms, p95 %.1f ms, max %.1f ms (after 8 beats)\n",
               audio ? "audio" : "MIDI ", r.mean_abs_ms, r.p95_ms, r.max_ms);
    CHECKF(r.mean_abs_ms < 10 && r.p95_ms < 25, "%s: mean %.1f ms, p95 %.1f ms", audio ? "audio" : "MIDI",
           r.mean_abs_ms, r.p95_ms);
}

TEST_TIMEOUT(listen_tempo_follows_a_drift_from_96_to_132_bpm_midi, 60) { drift_case(0); }

TEST_TIMEOUT(listen_tempo_follows_a_drift_from_96_to_132_bpm_audio, 60) { drift_case(1); }

static void jump_case(int audio, double from, double to)
{
    static perf p;
    make_perf(&p, from, to, 48, 20, 5, 23);
    follow_result r = follow(&p, audio, from, 8, 20, 1.0);
    if (lt_report())
        printf("  %s, jump %.0f -> %.0f BPM: %d beats to recover (4 beats in a row within 30 ms)\n",
               audio ? "audio" : "MIDI ", from, to, r.recover_beats);
    CHECKF(r.recover_beats >= 0 && r.recover_beats <= 10, "%s: %d beats to recover from %.0f to %.0f BPM",
           audio ? "audio" : "MIDI", r.recover_beats, from, to);
}

TEST_TIMEOUT(listen_tempo_recovers_from_a_jump_midi, 60)
{
    jump_case(0, 100, 125);
    jump_case(0, 120, 96);
}

TEST_TIMEOUT(listen_tempo_recovers_from_a_jump_audio, 60) { jump_case(1, 100, 125); }

TEST_TIMEOUT(listen_tempo_follow_strength_zero_ignores_the_performer, 60)
{
    static perf p;
    make_perf(&p, 96, 132, 32, 0, 0, 3);
    follow_result r = follow(&p, 0, 100, 0, 0, 0.0);
    /* the clock kept its own 100 BPM: by the end it is far off the performer's beat */
    CHECKF(r.mean_abs_ms > 40, "mean error %.1f ms: the clock followed after all", r.mean_abs_ms);
}
