/* test_synth.c: the classic instruments: no clicks on note on, off or steal; no denormals; voices
 * come back; every preset and drum sound actually sounds. */
#include "test.h"
#include "engine/synth.h"

#define SR 48000

/* The largest sample-to-sample step in out[from, to). */
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

/* Renders with an action at a given frame (render split there, as the engine does). */
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

TEST(synth_every_preset_sounds_and_falls_silent)
{
    static float buf[SR * 4];
    for (int p = 0; p < BM_NUM_CLASSIC_PRESETS; p++) {
        bm_instrument *in = synth_classic_create(p, 8, SR);
        CHECK(in);
        memset(buf, 0, sizeof buf);
        in->ops->note_on(in, 60, 100);
        in->ops->render(in, buf, SR / 2);
        in->ops->note_off(in, 60);
        in->ops->render(in, buf + SR / 2, 3 * SR + SR / 2);
        CHECKF(peak(buf, 0, SR / 2) > 0.02f, "%s is silent", synth_classic_preset_name(p));
        CHECKF(peak(buf, 0, SR * 4) < 1.0f, "%s clips", synth_classic_preset_name(p));
        CHECKF(in->ops->active_voices(in) == 0, "%s still holds a voice 3.5 s after note off",
               synth_classic_preset_name(p));
        CHECK(peak(buf, SR * 4 - 4800, SR * 4) < 1e-3f);
        instrument_destroy(in);
    }
}

TEST(synth_note_on_off_and_steal_make_no_click)
{
    /* a click is a step far larger than the waveform's own steps: the reference is the largest
     * step of a fresh note over its first 200 ms, bright attack included */
    static float buf[SR];
    for (int p = 0; p < BM_NUM_CLASSIC_PRESETS; p++) {
        const char *name = synth_classic_preset_name(p);
        float ref[2];
        for (int k = 0; k < 2; k++) {
            bm_instrument *in = synth_classic_create(p, 1, SR);
            memset(buf, 0, sizeof buf);
            in->ops->note_on(in, k ? 52 : 45, 127);
            in->ops->render(in, buf, SR / 5);
            ref[k] = max_step(buf, 0, SR / 5);
            instrument_destroy(in);
        }
        float steady = fmaxf(ref[0], ref[1]);

        bm_instrument *in = synth_classic_create(p, 1, SR);
        render_split(in, buf, SR / 4, 1000, do_note_on);
        CHECKF(peak(buf, 0, 1000) == 0, "%s: sound before the note", name);
        CHECKF(fabsf(buf[1000]) < 0.02f, "%s: the first sample jumps to %g", name, buf[1000]);
        float onset = max_step(buf, 995, 1000 + 96); /* the first 2 ms */
        CHECKF(onset <= 1.2f * steady + 1e-4f, "%s: note-on step %g against %g", name, onset, steady);

        render_split(in, buf, SR / 4, 777, do_note_off);
        float off = max_step(buf, 770, 777 + 96);
        CHECKF(off <= 1.2f * steady + 1e-4f, "%s: note-off step %g against %g", name, off, steady);
        instrument_destroy(in);

        in = synth_classic_create(p, 1, SR); /* one voice: the second note must steal it */
        in->ops->note_on(in, 45, 127);
        in->ops->render(in, buf, SR / 8);
        render_split(in, buf, SR / 4, 513, do_steal);
        float steal = max_step(buf, 505, 513 + 96);
        CHECKF(steal <= 1.2f * steady + 1e-4f, "%s: steal step %g against %g", name, steal, steady);
        CHECK_EQ_INT(in->ops->active_voices(in), 1);
        instrument_destroy(in);
    }
}

TEST(synth_drum_steal_makes_no_click)
{
    static float buf[SR];
    bm_instrument *in = synth_drums_create(1, SR);
    in->ops->note_on(in, 49, 127); /* a long crash */
    in->ops->render(in, buf, 2400);
    float before = fabsf(buf[2399]);
    memset(buf, 0, sizeof buf);
    in->ops->note_on(in, 42, 1); /* steals the crash with a very soft hat */
    in->ops->render(in, buf, 480);
    CHECKF(before > 0.001f, "the crash is silent");
    /* the crash's last level carries on and fades: no step from it to the new voice */
    CHECKF(fabsf(buf[0]) > 0.5f * before, "the stolen crash stopped dead (%g after %g)", buf[0], before);
    CHECK(fabsf(buf[479]) < 0.5f * before + 0.05f);
    instrument_destroy(in);
}

TEST(synth_drum_kit_covers_the_gm_map)
{
    static float buf[SR / 2];
    bm_instrument *in = synth_drums_create(24, SR);
    for (int note = 35; note <= 81; note++) {
        memset(buf, 0, sizeof buf);
        in->ops->note_on(in, note, 110);
        in->ops->render(in, buf, SR / 2);
        CHECKF(peak(buf, 0, SR / 2) > 0.01f, "drum note %d is silent", note);
        CHECKF(peak(buf, 0, SR / 2) < 1.0f, "drum note %d clips", note);
        in->ops->all_notes_off(in, 1);
        in->ops->render(in, buf, 4800);
    }
    CHECK_EQ_INT(in->ops->active_voices(in), 0);
    instrument_destroy(in);
}

TEST(synth_release_tails_have_no_denormals)
{
    synth_denormals_off();
    static float buf[SR];
    for (int p = 0; p < BM_NUM_CLASSIC_PRESETS; p++) {
        bm_instrument *in = synth_classic_create(p, 4, SR);
        in->ops->note_on(in, 36, 90);
        in->ops->render(in, buf, 4800);
        in->ops->note_off(in, 36);
        for (int k = 0; k < 10; k++) {
            memset(buf, 0, sizeof buf);
            in->ops->render(in, buf, SR);
            for (int i = 0; i < SR; i++)
                CHECKF(fpclassify(buf[i]) != FP_SUBNORMAL, "%s: a denormal sample in the tail",
                       synth_classic_preset_name(p));
        }
        instrument_destroy(in);
    }
}

TEST(synth_sixteen_notes_and_pitch_bend)
{
    static float a[4800], b[4800];
    bm_instrument *in = synth_classic_create(BM_CLASSIC_LEAD, 16, SR);
    for (int n = 0; n < 16; n++) in->ops->note_on(in, 48 + n, 80);
    CHECK_EQ_INT(in->ops->active_voices(in), 16);
    in->ops->note_on(in, 90, 80); /* a seventeenth steals */
    CHECK_EQ_INT(in->ops->active_voices(in), 16);
    instrument_destroy(in);
    /* a bend of one octave doubles the period: zero crossings double */
    for (int bend = 0; bend < 2; bend++) {
        bm_instrument *s = synth_classic_create(BM_CLASSIC_ORGAN, 1, SR);
        s->ops->pitch_bend(s, bend ? 12.0f : 0.0f);
        s->ops->note_on(s, 57, 100);
        float *x = bend ? b : a;
        memset(x, 0, sizeof a);
        s->ops->render(s, x, 4800);
        instrument_destroy(s);
    }
    int za = 0, zb = 0;
    for (int i = 2400; i < 4800; i++) {
        za += (a[i - 1] < 0) != (a[i] < 0);
        zb += (b[i - 1] < 0) != (b[i] < 0);
    }
    CHECKF(zb > za * 17 / 10 && zb < za * 23 / 10, "bend: %d crossings against %d", zb, za);
}
