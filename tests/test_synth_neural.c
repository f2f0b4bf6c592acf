/* test_synth_neural.c: the neural instrument: notes start at the sample they are played, with no
 * click on note on, note off or steal; no denormals; 16 notes and stealing; pitch bend and
 * velocity; morphing moves the timbre; all-notes-off silences; and every shipped voice plays.
 * A small decoder made in the test drives the mechanics; the shipped one is checked at the end. */
#include "test.h"
#include "engine/synth.h"
#include "engine/voice/analysis.h"
#include "engine/voice/synth_neural.h"
#include "engine/voice/voice_bank.h"
#include "engine/voice/voicedef.h"
#include "engine/patch.h"
#include "voice_kit.h"

#include "engine/engine.h"
#include "nn/nn_model.h"

#include <sys/stat.h>
#include <unistd.h>

#define SR 48000

static float max_step(const float *x, int from, int to)
{
    float m = 0;
    for (int i = from + 1; i < to; i++) m = fmaxf(m, fabsf(x[i] - x[i - 1]));
    return m;
}

static float peak(const float *x, int from, int to)
{
    float m = 0;
    for (int i = from; i < to; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

static float rms(const float *x, int from, int to)
{
    double s = 0;
    for (int i = from; i < to; i++) s += (double)x[i] * x[i];
    return (float)sqrt(s / (to - from));
}

static bm_instrument *kit_instrument(voice_kit *k, int which, int poly)
{
    char err[256];
    const voice_def *p[1] = {&k->v[which]};
    bm_instrument *in = synth_neural_create(&k->vm, p, 1, poly, SR, err, sizeof err);
    CHECKF(in, "%s", err);
    return in;
}

static void render_split(bm_instrument *in, float *out, int total, int at, void (*act)(bm_instrument *))
{
    memset(out, 0, sizeof(float) * (size_t)total);
    in->ops->render(in, out, (uint32_t)at);
    act(in);
    in->ops->render(in, out + at, (uint32_t)(total - at));
}

static void do_note_on(bm_instrument *in) { in->ops->note_on(in, 45, 127); }
static void do_note_off(bm_instrument *in) { in->ops->note_off(in, 45); }
static void do_steal(bm_instrument *in) { in->ops->note_on(in, 52, 127); }

TEST(synth_neural_notes_start_on_their_sample_without_clicks)
{
    static voice_kit k;
    voice_kit_make(&k);
    static float buf[SR];
    for (int which = 0; which < 2; which++) {
        /* the reference: the largest step of fresh notes over their first 200 ms */
        float steady = 0;
        for (int n = 0; n < 2; n++) {
            bm_instrument *in = kit_instrument(&k, which, 1);
            memset(buf, 0, sizeof buf);
            in->ops->note_on(in, n ? 52 : 45, 127);
            in->ops->render(in, buf, SR / 5);
            steady = fmaxf(steady, max_step(buf, 400, SR / 5));
            instrument_destroy(in);
        }
        CHECKF(steady > 1e-4f, "voice %d is silent", which);
        bm_instrument *in = kit_instrument(&k, which, 1);
        render_split(in, buf, SR / 4, 1000, do_note_on);
        CHECKF(peak(buf, 0, 1000) == 0, "sound before the note");
        CHECKF(fabsf(buf[1000]) < 0.02f, "the first sample jumps to %g", buf[1000]);
        CHECKF(peak(buf, 1000, 1000 + 480) > 0.05f * peak(buf, 0, SR / 4), "the note has not started 10 ms after note-on");
        float onset = max_step(buf, 995, 1000 + 240);
        CHECKF(onset <= 1.2f * steady + 1e-4f, "voice %d: note-on step %g against %g", which, onset, steady);
        render_split(in, buf, SR / 4, 777, do_note_off);
        float off = max_step(buf, 770, 777 + 480);
        CHECKF(off <= 1.2f * steady + 1e-4f, "voice %d: note-off step %g against %g", which, off, steady);
        instrument_destroy(in);

        in = kit_instrument(&k, which, 1); /* one note at a time: the second steals the first */
        in->ops->note_on(in, 45, 127);
        in->ops->render(in, buf, SR / 8);
        render_split(in, buf, SR / 4, 513, do_steal);
        float steal = max_step(buf, 505, 513 + 480);
        CHECKF(steal <= 1.2f * steady + 1e-4f, "voice %d: steal step %g against %g", which, steal, steady);
        in->ops->render(in, buf, SR / 10);
        CHECK_EQ_INT(in->ops->active_voices(in), 1);
        instrument_destroy(in);
    }
    voice_model_free(&k.vm);
}

TEST(synth_neural_release_tails_end_without_denormals)
{
    synth_denormals_off();
    static voice_kit k;
    voice_kit_make(&k);
    static float buf[SR];
    for (int which = 0; which < 2; which++) {
        bm_instrument *in = kit_instrument(&k, which, 4);
        in->ops->note_on(in, 36, 90);
        in->ops->note_on(in, 67, 60);
        in->ops->render(in, buf, 4800);
        in->ops->note_off(in, 36);
        in->ops->note_off(in, 67);
        for (int r = 0; r < 3; r++) {
            memset(buf, 0, sizeof buf);
            in->ops->render(in, buf, SR);
            for (int i = 0; i < SR; i++) CHECKF(fpclassify(buf[i]) != FP_SUBNORMAL, "a denormal sample in the tail");
        }
        CHECK_EQ_INT(in->ops->active_voices(in), 0);
        CHECK(peak(buf, SR - 4800, SR) == 0);
        instrument_destroy(in);
    }
    voice_model_free(&k.vm);
}

TEST(synth_neural_sixteen_notes_steal_bend_and_velocity)
{
    static voice_kit k;
    voice_kit_make(&k);
    static float a[SR / 2], b[SR / 2];
    bm_instrument *in = kit_instrument(&k, 0, 16);
    for (int n = 0; n < 16; n++) in->ops->note_on(in, 48 + n, 80);
    CHECK_EQ_INT(in->ops->active_voices(in), 16);
    in->ops->render(in, a, 4800);
    in->ops->note_on(in, 90, 80); /* a seventeenth steals; the stolen note fades out in 5 ms */
    in->ops->render(in, a, 960);
    CHECK_EQ_INT(in->ops->active_voices(in), 16);
    instrument_destroy(in);
    /* an octave of bend doubles the pitch the analysis finds */
    float f0[2];
    for (int bend = 0; bend < 2; bend++) {
        bm_instrument *s = kit_instrument(&k, 0, 1);
        s->ops->pitch_bend(s, bend ? 12.0f : 0.0f);
        s->ops->note_on(s, 57, 100);
        float *x = bend ? b : a;
        memset(x, 0, sizeof a);
        s->ops->render(s, x, SR / 2);
        instrument_destroy(s);
        char err[256];
        voice_analyser *an = voice_analyser_new(SR, err, sizeof err);
        voice_analysis_opts o;
        voice_analysis_defaults(&o);
        voice_frame *fr;
        size_t nf;
        CHECKF(voice_analyse(an, x, SR / 2, &o, &fr, &nf, err, sizeof err) == 0, "%s", err);
        f0[bend] = fr[nf / 2].f0_hz;
        free(fr);
        voice_analyser_free(an);
    }
    CHECKF(fabsf(f0[0] - 220.0f) < 2.0f, "A3 sounds at %.1f Hz", f0[0]);
    CHECKF(fabsf(f0[1] - 440.0f) < 4.0f, "A3 bent an octave up sounds at %.1f Hz", f0[1]);
    /* velocity: a hard note is louder than a soft one */
    float level[2];
    for (int v = 0; v < 2; v++) {
        bm_instrument *s = kit_instrument(&k, 0, 1);
        s->ops->note_on(s, 60, v ? 127 : 40);
        memset(a, 0, sizeof a);
        s->ops->render(s, a, SR / 4);
        level[v] = rms(a, SR / 8, SR / 4);
        instrument_destroy(s);
    }
    CHECKF(level[1] > 2.0f * level[0], "velocity 127 at %.4f against velocity 40 at %.4f", level[1], level[0]);
    voice_model_free(&k.vm);
}

/* Renders 100 ms of middle C on a fresh instrument of voices (a morph at x when two). */
static void render_morph(voice_kit *k, const int *which, int n, float x, int by_cc, float *out)
{
    char err[256];
    const voice_def *p[2] = {&k->v[which[0]], &k->v[which[n - 1]]};
    bm_instrument *in = synth_neural_create(&k->vm, p, n, 8, SR, err, sizeof err);
    CHECKF(in, "%s", err);
    if (by_cc) in->ops->control(in, 16, (int)(x * 127));
    else if (n > 1) in->ops->set_param(in, BM_SYNTH_MORPH_X, x);
    in->ops->note_on(in, 60, 100);
    memset(out, 0, sizeof(float) * SR / 10);
    in->ops->render(in, out, SR / 10);
    instrument_destroy(in);
}

static float rms_diff(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return (float)sqrt(s / n);
}

TEST(synth_neural_morph_sustain_and_panic)
{
    static voice_kit k;
    voice_kit_make(&k);
    static float a[SR / 10], b[SR / 10], m[SR / 10];
    int only_a[1] = {0}, only_b[1] = {1}, both[2] = {0, 1};
    render_morph(&k, only_a, 1, 0, 0, a);
    render_morph(&k, only_b, 1, 0, 0, b);
    CHECKF(rms_diff(a, b, SR / 10) > 0.1f * rms(a, 0, SR / 10), "the two voices sound the same");
    /* a morph at either end is that voice; in between it is neither */
    render_morph(&k, both, 2, 0, 0, m);
    CHECKF(rms_diff(a, m, SR / 10) < 1e-5f, "the morph at 0 is not the first voice");
    render_morph(&k, both, 2, 1, 0, m);
    CHECKF(rms_diff(b, m, SR / 10) < 1e-5f, "the morph at 1 is not the second voice");
    render_morph(&k, both, 2, 0.5f, 0, m);
    CHECK(rms_diff(a, m, SR / 10) > 1e-3f && rms_diff(b, m, SR / 10) > 1e-3f);
    /* MIDI CC 16 moves it too */
    render_morph(&k, both, 2, 1, 1, m);
    CHECKF(rms_diff(b, m, SR / 10) < 1e-5f, "CC 16 = 127 is not the far end of the morph");
    char err[256];
    const voice_def *p[2] = {&k.v[0], &k.v[1]};
    bm_instrument *in = synth_neural_create(&k.vm, p, 2, 8, SR, err, sizeof err);
    static float buf[SR / 2];
    /* a live morph while a note sounds: no step larger than the notes' own */
    in->ops->note_on(in, 45, 110);
    memset(buf, 0, sizeof buf);
    in->ops->render(in, buf, SR / 10);
    float steady = max_step(buf, 400, SR / 10);
    for (int i = 0; i < 40; i++) {
        in->ops->set_param(in, BM_SYNTH_MORPH_X, (float)(i % 20) / 19.0f);
        in->ops->render(in, buf + SR / 10 + i * 480, 480);
    }
    float moving = max_step(buf, SR / 10 - 1, SR / 10 + 40 * 480);
    CHECKF(moving < 2.5f * steady, "morphing live makes steps of %g against %g", moving, steady);
    /* panic: silent within 6 ms */
    in->ops->all_notes_off(in, 1);
    memset(buf, 0, sizeof buf);
    in->ops->render(in, buf, SR / 20);
    CHECK(peak(buf, 300, SR / 20) < 1e-6f);
    CHECK_EQ_INT(in->ops->active_voices(in), 0);
    /* the sustain pedal holds a released note until it lifts */
    in->ops->control(in, 64, 127);
    in->ops->note_on(in, 62, 100);
    in->ops->render(in, buf, 4800);
    in->ops->note_off(in, 62);
    memset(buf, 0, sizeof buf);
    in->ops->render(in, buf, SR / 2);
    CHECK(rms(buf, SR / 2 - 4800, SR / 2) > 1e-4f);
    in->ops->control(in, 64, 0);
    in->ops->render(in, buf, SR / 2);
    in->ops->render(in, buf, SR / 2);
    CHECK_EQ_INT(in->ops->active_voices(in), 0);
    instrument_destroy(in);
    voice_model_free(&k.vm);
}

TEST(synth_neural_voice_files_fall_back_with_one_message)
{
    static voice_kit k;
    voice_kit_make(&k);
    char err[512], dir[600], path[700];
    snprintf(dir, sizeof dir, "%s", test_path("voices"));
    voice_kit_install(&k, dir);
    snprintf(path, sizeof path, "%s/pad.bmnn", dir);
    bm_instrument *in = voice_instrument_create("pad", 8, SR, err, sizeof err);
    CHECKF(in, "%s", err);
    instrument_destroy(in);
    /* a missing voice names the voices that are there */
    CHECK(!voice_instrument_create("oboe", 8, SR, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no voice 'oboe'");
    CHECK_STR_CONTAINS(err, "pad");
    /* a damaged one */
    FILE *f = fopen(path, "r+b");
    CHECK(f);
    fseek(f, 200, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    CHECK(!voice_instrument_create("pad", 8, SR, err, sizeof err));
    CHECK_STR_CONTAINS(err, "damaged");
    /* a voice placed for another decoder */
    voice_def other = k.v[1];
    other.decoder_id ^= 1;
    snprintf(path, sizeof path, "%s/pluck.bmnn", dir);
    CHECK(voice_def_save(&other, path, NULL, err, sizeof err) == 0);
    CHECK(!voice_instrument_create("pluck", 8, SR, err, sizeof err));
    CHECK_STR_CONTAINS(err, "another decoder");
    /* specs */
    voice_spec sp;
    CHECK(voice_spec_parse("pad,pluck@0.25", &sp, err, sizeof err) == 0);
    CHECK_EQ_INT(sp.n, 2);
    CHECK_NEAR(sp.x, 0.25, 1e-6);
    CHECK(voice_spec_parse("a,b,c,d@0.5,1", &sp, err, sizeof err) == 0);
    CHECK_NEAR(sp.y, 1.0, 1e-6);
    CHECK(voice_spec_parse("pad@0.5", &sp, err, sizeof err) != 0);
    CHECK(voice_spec_parse("a,b@2", &sp, err, sizeof err) != 0);
    CHECK(voice_spec_parse("a,b,c,d,e", &sp, err, sizeof err) != 0);
    CHECK(voice_spec_parse("no good", &sp, err, sizeof err) != 0);
    /* an engine whose part asks for a missing voice plays its classic instrument */
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.voice[BM_PART_LEAD], sizeof cfg.voice[0], "nothere");
    snprintf(cfg.voice[BM_PART_COMPING], sizeof cfg.voice[0], "pluck,pad@0.5"); /* placed for another decoder */
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECKF(e, "%s", err);
    engine_destroy(e);
    voice_model_free(&k.vm);
}

TEST(synth_neural_every_shipped_voice_plays)
{
    char dir[1024], err[512];
    unsetenv("BANDMATE_VOICES");
    if (voice_dir_find(dir, sizeof dir) != 0) test_skip("no voices folder with a decoder (make voices)");
    char names[64][64];
    int n = voice_list(dir, names, 64);
    CHECKF(n >= 8, "only %d voices in %s", n, dir);
    static float buf[SR * 3];
    for (int i = 0; i < n; i++) {
        bm_instrument *in = voice_instrument_create(names[i], 16, SR, err, sizeof err);
        CHECKF(in, "%s: %s", names[i], err);
        memset(buf, 0, sizeof buf);
        int pitch[3] = {48, 55, 64};
        for (int j = 0; j < 3; j++) in->ops->note_on(in, pitch[j], 100);
        in->ops->render(in, buf, SR / 2);
        for (int j = 0; j < 3; j++) in->ops->note_off(in, pitch[j]);
        in->ops->render(in, buf + SR / 2, SR * 5 / 2);
        for (int s = 0; s < SR * 3; s++) CHECKF(isfinite(buf[s]), "%s: a sample that is not a number", names[i]);
        CHECKF(rms(buf, 0, SR / 2) > 0.01f, "%s is nearly silent (%.4f)", names[i], rms(buf, 0, SR / 2));
        CHECKF(peak(buf, 0, SR * 3) < 1.5f, "%s is far too loud (%.2f)", names[i], peak(buf, 0, SR * 3));
        CHECKF(in->ops->active_voices(in) == 0, "%s still sounds 2.5 s after its notes ended", names[i]);
        instrument_destroy(in);
    }
}

TEST(synth_neural_patches_name_voices_and_morphs)
{
    const char *src =
        "return { parts = { lead = { voice = 'flute' }, comping = { voice = { 'strings', 'choir', morph = 0.25 } },\n"
        "                   bass = { voice = { 'bass', 'cello', 'organ', 'epiano', x = 0.5, y = 1 } } } }\n";
    FILE *f = fopen(test_path("p.lua"), "w");
    fputs(src, f);
    fclose(f);
    bm_patch p;
    char err[512];
    CHECKF(patch_load(test_path("p.lua"), &p, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(p.cfg.voice[BM_PART_LEAD], "flute"));
    CHECK(!strcmp(p.cfg.voice[BM_PART_COMPING], "strings,choir@0.25"));
    CHECK(!strcmp(p.cfg.voice[BM_PART_BASS], "bass,cello,organ,epiano@0.5,1"));
    CHECK(!p.cfg.voice[BM_PART_HUMAN][0]);
    static const char *bad[][2] = {
        {"return { parts = { lead = { voice = 'no good' } } }", "not a usable voice name"},
        {"return { parts = { lead = { voice = { 'a', 'b', morph = 2 } } } }", "outside"},
        {"return { parts = { lead = { voice = { 'a', 'b', 'c', 'd', 'e' } } } }", "2 to 4"},
        {"return { parts = { lead = { voice = { 'a', 'b', mroph = 0.5 } } } }", "mroph"},
        {"return { parts = { lead = { voice = 3 } } }", "voice name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = fopen(test_path("bad.lua"), "w");
        fputs(bad[i][0], f);
        fclose(f);
        CHECKF(patch_load(test_path("bad.lua"), &p, err, sizeof err) != 0, "accepted: %s", bad[i][0]);
        CHECK_STR_CONTAINS(err, bad[i][1]);
    }
}
