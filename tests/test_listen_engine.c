/* test_listen_engine.c: phrases, and listening wired into the engine: what behaviours see in
 * bm_step_ctx.heard and among the human events, phrase events on the feedback ring, the explicit
 * end of a call, and `bandmate render --in-wav` (its errors included). */
#include "test.h"
#include "test_listen_util.h"
#include "engine/behaviour.h"
#include "engine/engine.h"
#include "engine/listen/phrase.h"
#include "engine/offline.h"
#include "engine/smf.h"

#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- the phrase segmenter alone ---- */

TEST(listen_phrase_ends_after_a_gap_measured_in_beats)
{
    bm_phrase_tracker p;
    phrase_init(&p, 1.0, 0);
    bm_phrase out;
    CHECK(phrase_note_on(&p, 60, 0, 0.0) == 1);
    phrase_note_off(&p, 60, 100, 0.9);
    CHECK(phrase_note_on(&p, 62, 200, 1.0) == 0);
    phrase_note_off(&p, 62, 300, 1.5);
    CHECK(!phrase_poll(&p, 1.5, 2.4, 4, &out)); /* 0.9 beats of rest: still the phrase */
    CHECK(phrase_poll(&p, 2.4, 2.5, 4, &out));
    CHECK_NEAR(out.start, 0.0, 1e-9);
    CHECK_NEAR(out.end, 1.5, 1e-9);
    CHECK_EQ_INT(out.notes, 2);
    CHECK_EQ_INT(out.reason, BM_PHRASE_GAP);
    CHECK(!phrase_poll(&p, 2.5, 9, 4, &out)); /* once */
    /* a held note is never a rest */
    CHECK(phrase_note_on(&p, 64, 400, 10.0) == 1);
    CHECK(!phrase_poll(&p, 10, 20, 4, &out));
}

TEST(listen_phrase_ends_at_a_bar_line_in_a_rest)
{
    bm_phrase_tracker p;
    phrase_init(&p, 4.0, 1);
    bm_phrase out;
    phrase_note_on(&p, 60, 0, 0.0);
    phrase_note_off(&p, 60, 0, 2.0);
    phrase_note_on(&p, 62, 0, 2.5);
    phrase_note_off(&p, 62, 0, 3.4);
    CHECK(!phrase_poll(&p, 3.4, 3.9, 4, &out));
    CHECK(phrase_poll(&p, 3.9, 4.05, 4, &out)); /* the bar line at 4 passed 0.6 beats after the release */
    CHECK_EQ_INT(out.reason, BM_PHRASE_BAR);
    CHECK_NEAR(out.end, 3.4, 1e-9);
    /* a release just before the bar line does not end it there */
    phrase_note_on(&p, 60, 0, 5.0);
    phrase_note_off(&p, 60, 0, 7.8);
    CHECK(!phrase_poll(&p, 7.8, 8.1, 4, &out));
}

TEST(listen_phrase_explicit_end_takes_held_notes_along)
{
    bm_phrase_tracker p;
    phrase_init(&p, 1.0, 1);
    bm_phrase out;
    phrase_note_on(&p, 60, 0, 0.0);
    phrase_note_on(&p, 64, 0, 0.5);
    CHECK(phrase_end_now(&p, 1000, 1.25, &out));
    CHECK_EQ_INT(out.reason, BM_PHRASE_EXPLICIT);
    CHECK_NEAR(out.end, 1.25, 1e-9);
    CHECK_EQ_INT(out.notes, 2);
    CHECK(!phrase_end_now(&p, 1000, 1.3, &out)); /* nothing open */
    phrase_note_off(&p, 60, 0, 1.5); /* releases of notes held across the end are ignored */
    CHECK(phrase_note_on(&p, 67, 0, 2.0) == 1);
    phrase_note_off(&p, 64, 0, 2.1);
    CHECK(!phrase_poll(&p, 2.1, 3.5, 4, &out)); /* 67 is still held */
}

/* ---- through the engine ---- */

/* A behaviour that plays nothing and writes down what it was shown. */
#define PROBE_MAX 4096
static struct probe {
    bm_behaviour base;
    int steps;
    double beat[PROBE_MAX];
    bm_listen_state heard[PROBE_MAX];
    int nphrase;
    bm_event phrase[64];
    int nstart;
} probe;

static void probe_reset(bm_behaviour *b) { (void)b; }
static void probe_destroy(bm_behaviour *b) { (void)b; }

static int probe_step(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *human, int nhuman, bm_event *out, int max)
{
    (void)b; (void)out; (void)max;
    CHECK(ctx->heard != NULL);
    if (probe.steps < PROBE_MAX) {
        probe.beat[probe.steps] = ctx->beat;
        probe.heard[probe.steps] = *ctx->heard;
        probe.steps++;
    }
    for (int i = 0; i < nhuman; i++) {
        if (human[i].type == BM_EV_PHRASE_END && probe.nphrase < 64) probe.phrase[probe.nphrase++] = human[i];
        if (human[i].type == BM_EV_PHRASE_START) probe.nstart++;
    }
    return 0;
}

static const bm_behaviour_ops probe_ops = {"probe", probe_reset, probe_step, probe_destroy, NULL, NULL};

typedef struct watch {
    int installed;
    int64_t end_phrase_at;      /* frame at which to send the end-of-call control, or -1 */
    int fb_phrase_ends, fb_phrase_starts;
    bm_event fb_last_end;
} watch;

static void on_period(void *ctx, bm_engine *e, int64_t start, uint32_t n)
{
    watch *w = ctx;
    if (!w->installed) {
        memset(&probe, 0, sizeof probe);
        probe.base.ops = &probe_ops;
        bm_musician_cmd c = {0};
        c.type = BM_MCMD_SET_BEHAVIOUR;
        c.ptr = &probe.base;
        CHECK(engine_musician_command(e, &c) == 0);
        w->installed = 1;
    }
    if (w->end_phrase_at >= 0 && start <= w->end_phrase_at && w->end_phrase_at < start + n) CHECK(engine_end_phrase(e) == 0);
    bm_event ev;
    while (ring_pop(engine_feedback_ring(e), &ev) == 0) {
        if (ev.type == BM_EV_PHRASE_END) {
            w->fb_phrase_ends++;
            w->fb_last_end = ev;
        }
        if (ev.type == BM_EV_PHRASE_START) w->fb_phrase_starts++;
    }
}

static void render_with_probe(const char *mid, const char *wav, watch *w, double bpm_if_no_file)
{
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "silent");
    cfg.bpm = bpm_if_no_file;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = mid;
    o.in_wav = wav;
    o.on_period = on_period;
    o.ctx = w;
    o.tail_seconds = 3;
    bm_render_result res;
    char err[512];
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
}

static const char *examples_path(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/../examples/%s", test_bindir(), name);
    if (access(path, R_OK) != 0) snprintf(path, sizeof path, "examples/%s", name);
    return path;
}

TEST(listen_engine_behaviours_see_the_chords_of_chords_mid)
{
    watch w = {0, -1, 0, 0, {0}};
    render_with_probe(examples_path("chords.mid"), NULL, &w, 92);
    static const int roots[16] = {0, 9, 5, 7, 0, 9, 5, 7, 2, 7, 0, 0, 0, 9, 5, 7};
    static const int quals[16] = {BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN,
                                  BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN7, BM_CHORD_DOM7, BM_CHORD_MAJ7, BM_CHORD_MAJ7,
                                  BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ};
    int checked = 0, right = 0, key_c = 0;
    for (int i = 0; i < probe.steps; i++) {
        double b = probe.beat[i];
        int bar = (int)(b / 4);
        if (bar < 0 || bar >= 16 || fmod(b, 4.0) < 0.5) continue; /* the band plans ahead: skip each bar's start */
        checked++;
        right += probe.heard[i].chord_root == roots[bar] && probe.heard[i].chord_quality == quals[bar];
        key_c += probe.heard[i].key_root == 0 && !probe.heard[i].key_minor;
    }
    CHECKF(checked > 200, "only %d steps", checked);
    CHECKF(right >= checked * 9 / 10, "the chord was right on %d of %d steps", right, checked);
    CHECKF(key_c >= checked * 9 / 10, "the key was C major on %d of %d steps", key_c, checked);
}

/* Two phrases of 14 eighths, four bars apart, at 120 BPM. */
static void write_two_phrases(const char *path)
{
    smf *s = smf_new(480);
    smf_add_track(s, "tempo");
    smf_add_tempo(s, 0, 0, 500000);
    smf_add_track(s, "human");
    for (int ph = 0; ph < 2; ph++)
        for (int k = 0; k < 14; k++) {
            uint64_t t = (uint64_t)(ph * 16 * 480 + k * 240);
            uint8_t on[3] = {0x90, (uint8_t)(60 + k % 5), 90}, off[3] = {0x80, (uint8_t)(60 + k % 5), 0};
            smf_add_midi(s, 1, t, on, 3);
            smf_add_midi(s, 1, t + 200, off, 3);
        }
    char err[256];
    CHECKF(smf_write_file(s, path, err, sizeof err) == 0, "%s", err);
    smf_free(s);
}

TEST(listen_engine_phrase_ends_reach_behaviours_and_the_feedback_ring)
{
    const char *mid = test_path("phrases.mid");
    write_two_phrases(mid);
    watch w = {0, -1, 0, 0, {0}};
    render_with_probe(mid, NULL, &w, 120);
    CHECK_EQ_INT(probe.nphrase, 2);
    CHECK_EQ_INT(probe.nstart, 2);
    CHECK_EQ_INT(w.fb_phrase_ends, 2);
    CHECK_EQ_INT(w.fb_phrase_starts, 2);
    for (int i = 0; i < 2; i++) {
        const bm_event *e = &probe.phrase[i];
        double start = e->beat - e->value_f;
        CHECK_NEAR(start, i * 16.0, 0.01);
        CHECK_NEAR(e->beat, i * 16.0 + 6.5 + 200.0 / 480, 0.01); /* the last release */
        CHECK_EQ_INT(e->value, 14);
        CHECK(e->note == BM_PHRASE_GAP || e->note == BM_PHRASE_BAR);
        CHECK_EQ_INT(e->part, BM_PART_HUMAN);
    }
    /* the snapshot counts them too */
    CHECK_EQ_INT(probe.heard[probe.steps - 1].phrases, 2);
    CHECK_EQ_INT(probe.heard[probe.steps - 1].last_phrase_notes, 14);
}

TEST(listen_engine_end_of_call_control_ends_the_phrase_at_once)
{
    const char *mid = test_path("held.mid");
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    uint8_t on[3] = {0x90, 60, 90}, off[3] = {0x80, 60, 0};
    smf_add_midi(s, 0, 0, on, 3);
    smf_add_midi(s, 0, 480 * 8, off, 3); /* one long held note, 4 s at 120 BPM */
    char err[256];
    CHECKF(smf_write_file(s, mid, err, sizeof err) == 0, "%s", err);
    smf_free(s);
    watch w = {0, 48000, 0, 0, {0}}; /* end of call after one second */
    render_with_probe(mid, NULL, &w, 120);
    CHECK_EQ_INT(w.fb_phrase_ends, 1);
    CHECK_EQ_INT(w.fb_last_end.note, BM_PHRASE_EXPLICIT);
    CHECK_NEAR(w.fb_last_end.beat, 2.0, 0.05);
    CHECK(w.fb_last_end.frame >= 48000 && w.fb_last_end.frame < 48000 + 512);
}

/* ---- render --in-wav ---- */

static void write_wav(const char *path, const float *x, int64_t frames, int rate, int channels)
{
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    CHECK(f);
    if (frames) CHECK(sf_writef_float(f, x, frames / channels) == frames / channels);
    sf_close(f);
}

static float *line_audio(int rate, int64_t *frames)
{
    lt_note line[8];
    for (int i = 0; i < 8; i++) {
        int64_t on = (int64_t)((0.25 + 0.5 * i) * rate);
        line[i] = (lt_note){on, on + (int64_t)(0.4 * rate), 60 + 2 * (i % 4), 90};
    }
    *frames = (int64_t)(4.5 * rate);
    return lt_synth_line(line, 8, rate, *frames, 0, 0, 1);
}

TEST(listen_render_in_wav_finds_the_notes_and_mixes_the_audio_in)
{
    int64_t frames;
    float *x = line_audio(44100, &frames);
    const char *wav = test_path("human.wav"), *omid = test_path("out.mid"), *owav = test_path("out.wav");
    write_wav(wav, x, frames, 44100, 1);
    free(x);
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate render --in-wav %s --mode silent --out-mid %s --out-wav %s", test_bindir(),
             wav, omid, owav);
    CHECKF(test_run(cmd, out, sizeof out, 60) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "heard in the audio: 8 notes");
    /* the session runs at the file's rate, and the performer is in the mix */
    int64_t n;
    double sr;
    float *y = lt_read_wav_channel(owav, 0, &n, &sr);
    CHECK_NEAR(sr, 44100, 0.5);
    double e = 0;
    for (int64_t i = (int64_t)(0.3 * sr); i < (int64_t)(0.6 * sr); i++) e += y[i] * y[i];
    CHECKF(e > 1.0, "the performer's audio is not in the output (energy %.3f)", e);
    free(y);
    lt_note notes[32];
    int k = lt_midi_notes(omid, 44100, notes, 32);
    CHECK_EQ_INT(k, 8);
    for (int i = 0; i < k; i++) {
        CHECK_EQ_INT(notes[i].note, 60 + 2 * (i % 4));
        CHECKF(llabs(notes[i].on - (int64_t)((0.25 + 0.5 * i) * 44100)) < 441, "note %d at %.4f s", i, notes[i].on / 44100.0);
    }
}

static void expect_render_error(const char *args, const char *needle)
{
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate render %s --out-mid %s", test_bindir(), args, test_path("o.mid"));
    int rc = test_run(cmd, out, sizeof out, 20);
    CHECKF(rc == 1 || rc == 2, "exit %d for %s: %s", rc, args, out);
    CHECK_STR_CONTAINS(out, needle);
    CHECKF(strchr(out, '\n') == out + strlen(out) - 1, "more than one line for %s: %s", args, out);
}

TEST(listen_render_in_wav_errors_are_one_sentence)
{
    char args[1024];
    snprintf(args, sizeof args, "--in-wav %s", test_path("missing.wav"));
    expect_render_error(args, "does not exist");
    FILE *f = fopen(test_path("empty.wav"), "w");
    fclose(f);
    snprintf(args, sizeof args, "--in-wav %s", test_path("empty.wav"));
    expect_render_error(args, "is empty");
    f = fopen(test_path("text.wav"), "w");
    fputs("this is not a sound file\n", f);
    fclose(f);
    snprintf(args, sizeof args, "--in-wav %s", test_path("text.wav"));
    expect_render_error(args, "is not a sound file");
    write_wav(test_path("zero.wav"), NULL, 0, 48000, 1);
    snprintf(args, sizeof args, "--in-wav %s", test_path("zero.wav"));
    expect_render_error(args, "holds no sound");
    float st[2000] = {0};
    write_wav(test_path("stereo.wav"), st, 2000, 48000, 2);
    snprintf(args, sizeof args, "--in-wav %s", test_path("stereo.wav"));
    expect_render_error(args, "has 2 channels");
    write_wav(test_path("mono22.wav"), st, 2000, 22050, 1);
    snprintf(args, sizeof args, "--in-wav %s --sample-rate 48000", test_path("mono22.wav"));
    expect_render_error(args, "is sampled at 22050 Hz but the session runs at 48000 Hz");
    snprintf(args, sizeof args, "--in-wav %s", test_tmpdir());
    expect_render_error(args, "is a folder");
    snprintf(args, sizeof args, "--in-wav %s --listen chords", test_path("mono22.wav"));
    expect_render_error(args, "--listen 'chords' is not one of mono, poly");
    snprintf(args, sizeof args, "--in-wav %s --tempo-source jack", test_path("mono22.wav"));
    expect_render_error(args, "--tempo-source 'jack' is not one of file, performer");
    snprintf(args, sizeof args, "--in-wav %s --follow 2", test_path("mono22.wav"));
    expect_render_error(args, "--follow");
}

/* ---- configuration ---- */

#include "engine/patch.h"

static int load_patch_text(const char *text, bm_patch *p, char *err, size_t errlen)
{
    const char *path = test_path("p.lua");
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return patch_load(path, p, err, errlen);
}

TEST(listen_patch_table_configures_listening)
{
    bm_patch p;
    char err[1024];
    CHECKF(load_patch_text("return { tempo_source = 'performer', listen = { audio = 'poly', input = 2, silence_db = -40,"
                           " confidence = 0.9, hysteresis = 0.5, lowest = 48, highest = 84, follow = 0.5,"
                           " phrase_gap = 2, phrase_bars = false, input_gain = 0.5 } }",
                           &p, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(p.cfg.tempo_source, BM_TEMPO_PERFORMER);
    CHECK_EQ_INT(p.cfg.listen.audio, BM_LISTEN_POLY);
    CHECK_EQ_INT(p.cfg.listen.input, 1);
    CHECK_NEAR(p.cfg.listen.silence_db, -40, 1e-6);
    CHECK_NEAR(p.cfg.listen.min_confidence, 0.9, 1e-6);
    CHECK_EQ_INT(p.cfg.listen.lowest_note, 48);
    CHECK_EQ_INT(p.cfg.listen.highest_note, 84);
    CHECK_NEAR(p.cfg.listen.follow, 0.5, 1e-9);
    CHECK_NEAR(p.cfg.listen.phrase_gap, 2, 1e-9);
    CHECK_EQ_INT(p.cfg.listen.phrase_bars, 0);
    /* defaults without the table */
    CHECKF(load_patch_text("return { mode = 'echo' }", &p, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(p.cfg.listen.audio, BM_LISTEN_OFF);
    CHECK_NEAR(p.cfg.listen.follow, 1.0, 1e-9);
    static const struct { const char *text, *needle; } bad[] = {
        {"return { listen = { audio = 'stereo' } }", "listen.audio 'stereo' is not one of off, mono, poly"},
        {"return { listen = { input = 3 } }", "listen.input = 3 is outside 1..2"},
        {"return { listen = { follow = 'tight' } }", "listen.follow must be a number"},
        {"return { listen = { folow = 1 } }", "'folow' is not a field bandmate knows in listen"},
        {"return { listen = { lowest = 80, highest = 60 } }", "listen.lowest (80) must be below listen.highest (60)"},
        {"return { listen = { phrase_bars = 1 } }", "listen.phrase_bars must be true or false"},
        {"return { listen = 'mono' }", "listen must be a table"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(load_patch_text(bad[i].text, &p, err, sizeof err) != 0, "accepted: %s", bad[i].text);
        CHECK_STR_CONTAINS(err, bad[i].needle);
    }
}

TEST(listen_run_options_are_checked_before_anything_starts)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s/bandmate run --listen chords", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "--listen 'chords' is not one of off, mono, poly");
    snprintf(cmd, sizeof cmd, "%s/bandmate run --follow -1", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    snprintf(cmd, sizeof cmd, "%s/bandmate run --listen mono --listen-input 2 --audio-inputs 1", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "needs --audio-inputs 2");
    snprintf(cmd, sizeof cmd, "%s/bandmate run --help", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    CHECK_STR_CONTAINS(out, "performer");
}

/* ---- polyphonic audio: onsets and chroma ---- */

typedef struct poly_watch {
    watch w;
    int64_t onset[512];
    int nonset;
} poly_watch;

static void on_period_poly(void *ctx, bm_engine *e, int64_t start, uint32_t n)
{
    poly_watch *pw = ctx;
    if (!pw->w.installed) {
        memset(&probe, 0, sizeof probe);
        probe.base.ops = &probe_ops;
        bm_musician_cmd c = {0};
        c.type = BM_MCMD_SET_BEHAVIOUR;
        c.ptr = &probe.base;
        CHECK(engine_musician_command(e, &c) == 0);
        pw->w.installed = 1;
    }
    (void)start;
    (void)n;
    bm_event ev;
    while (ring_pop(engine_feedback_ring(e), &ev) == 0)
        if (ev.type == BM_EV_ONSET && pw->nonset < 512) pw->onset[pw->nonset++] = ev.frame;
}

TEST_TIMEOUT(listen_poly_audio_chords_and_onsets_from_a_rendered_piano, 120)
{
    /* examples/chords.mid played by a piano and by a strummed guitar (each chord's notes 12 ms
     * apart), rendered with fluidsynth; listened to as polyphonic audio */
    static const struct { const char *name; int program, strum_ms; } inst[] = {{"piano", 0, 0}, {"strummed guitar", 25, 12}};
    static const int roots[16] = {0, 9, 5, 7, 0, 9, 5, 7, 2, 7, 0, 0, 0, 9, 5, 7};
    static const int quals[16] = {BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN,
                                  BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN7, BM_CHORD_DOM7, BM_CHORD_MAJ7, BM_CHORD_MAJ7,
                                  BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ};
    for (size_t k = 0; k < sizeof inst / sizeof inst[0]; k++) {
        smf *s;
        char err[512];
        CHECKF(smf_read_file(examples_path("chords.mid"), &s, err, sizeof err) == 0, "%s", err);
        /* the program and the strum, written into a copy */
        smf *c = smf_new(s->division);
        smf_add_track(c, "tempo");
        smf_add_tempo(c, 0, 0, (uint32_t)llround(60e6 / 92));
        smf_add_track(c, "human");
        uint8_t pc[2] = {(uint8_t)0xc0, (uint8_t)inst[k].program};
        smf_add_midi(c, 1, 0, pc, 2);
        uint64_t last_tick = UINT64_MAX;
        int in_chord = 0;
        for (int t = 0; t < s->ntracks; t++)
            for (size_t i = 0; i < s->tracks[t].n; i++) {
                const smf_event *e = &s->tracks[t].events[i];
                if (e->kind != SMF_MIDI || e->nbytes != 3) continue;
                uint64_t tick = e->tick;
                if ((e->bytes[0] & 0xf0) == 0x90 && e->bytes[2]) {
                    in_chord = tick == last_tick ? in_chord + 1 : 0;
                    last_tick = tick;
                    tick += (uint64_t)(in_chord * inst[k].strum_ms * 1e-3 * 92 / 60 * s->division);
                }
                smf_add_midi(c, 1, tick, e->bytes, 3);
            }
        smf_free(s);
        const char *mid = test_path("chords.mid"), *wav = test_path("chords.wav");
        CHECKF(smf_write_file(c, mid, err, sizeof err) == 0, "%s", err);
        smf_free(c);
        lt_render_fluidsynth(mid, wav, 48000);
        bm_engine_config cfg;
        engine_config_defaults(&cfg);
        snprintf(cfg.mode, sizeof cfg.mode, "silent");
        cfg.bpm = 92;
        cfg.listen.audio = BM_LISTEN_POLY;
        bm_render_opts o;
        render_opts_defaults(&o);
        o.in_wav = wav;
        o.wav_sets_rate = 1;
        static poly_watch pw;
        memset(&pw, 0, sizeof pw);
        o.on_period = on_period_poly;
        o.ctx = &pw;
        bm_render_result res;
        CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
        int checked = 0, right = 0, root_right = 0;
        for (int i = 0; i < probe.steps; i++) {
            double b = probe.beat[i];
            int bar = (int)(b / 4);
            if (bar < 0 || bar >= 16) continue;
            checked++;
            root_right += probe.heard[i].chord_root == roots[bar];
            right += probe.heard[i].chord_root == roots[bar] && probe.heard[i].chord_quality == quals[bar];
        }
        /* onsets: the chord hits on beats 1, 3 and 4+ of each bar */
        lt_note truth[48];
        lt_found found[512];
        for (int bar = 0; bar < 16; bar++)
            for (int h = 0; h < 3; h++) {
                static const double at[3] = {0, 2, 3.5};
                int64_t f = (int64_t)llround((bar * 4 + at[h]) * 60.0 / 92 * 48000);
                truth[bar * 3 + h] = (lt_note){f, f, 0, 0};
            }
        for (int i = 0; i < pw.nonset; i++) found[i] = (lt_found){pw.onset[i], pw.onset[i], 0, 0};
        lt_score sc = lt_score_notes(truth, 48, found, pw.nonset, 48000, 50);
        if (lt_report())
            printf("  %-16s chroma chord exact %.1f %% (root %.1f %%) over %d sixteenths; onsets %d of 48 found, "
                   "%d extra, stamp error median %.1f ms p95 %.1f ms\n",
                   inst[k].name, 100.0 * right / checked, 100.0 * root_right / checked, checked, sc.matched,
                   pw.nonset - sc.matched, sc.stamp_med_ms, sc.stamp_p95_ms);
        CHECKF(root_right >= checked * 8 / 10 && right >= checked * 6 / 10, "%s: the chord was right on %d, its root on %d of %d steps",
               inst[k].name, right, root_right, checked);
        CHECKF(sc.recall >= 0.9 && sc.precision >= 0.8, "%s: onsets precision %.2f recall %.2f", inst[k].name,
               sc.precision, sc.recall);
    }
}
