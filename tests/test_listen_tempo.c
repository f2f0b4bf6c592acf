/* test_listen_tempo.c: following the performer's tempo: the beat tracker alone, the clock's
 * performer follow (never backwards, bounded), and whole renders of performances whose tempo
 * drifts from 96 to 132 BPM or jumps, played as MIDI and as audio: the error of the band's beat
 * against the performer's, in ms per beat, and the beats it takes to recover from a jump. */
#include "test.h"
#include "test_listen_util.h"
#include "engine/clock.h"
#include "engine/listen/beat_track.h"
#include "engine/offline.h"
#include "engine/perfgen.h"
#include "engine/together.h"
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

/* The tempo-following line of engine/perfgen.h (the same one `bandmate eval together` measures). */
static void make_perf(perf *p, double bpm0, double bpm1, int beats, int jump_at, double jitter_ms, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    static bm_gen_note g[1024];
    p->nnotes = perfgen_tempo_line(bpm0, bpm1, beats, jump_at, jitter_ms, seed, p->beat_s, p->beat_bpm, g, 1024);
    p->nbeats = beats;
    for (int i = 0; i < p->nnotes; i++) {
        p->notes[i].on = (int64_t)(g[i].on * SR);
        p->notes[i].off = p->notes[i].on + (int64_t)((g[i].off - g[i].on) * SR);
        p->notes[i].note = g[i].note;
        p->notes[i].velocity = g[i].velocity;
    }
}

static void write_perf_midi(const perf *p, const char *path)
{
    static bm_gen_note g[1024];
    for (int i = 0; i < p->nnotes; i++)
        g[i] = (bm_gen_note){p->notes[i].on / SR, p->notes[i].off / SR, p->notes[i].note, p->notes[i].velocity};
    char err[256];
    CHECKF(perfgen_write_notes(g, p->nnotes, path, err, sizeof err) == 0, "%s", err);
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

typedef bm_follow_result follow_result;

/* Renders a performance (MIDI or audio) following the performer and measures the band's beat
 * against the performer's true beats (engine/together.h: the measure `bandmate eval together`
 * reports). */
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
    static follow_result r;
    char err[512];
    CHECKF(together_follow(&cfg, &o, p->beat_s, p->beat_bpm, p->nbeats, settle, jump_at, &r, err, sizeof err) == 0,
           "%s", err);
    if (getenv("BM_LISTEN_VERBOSE"))
        for (int k = 0; k < p->nbeats; k++)
            printf("    beat %d: true %.1f BPM, error %+.1f ms\n", k, p->beat_bpm[k], r.err_ms[k]);
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
