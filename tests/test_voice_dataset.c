/* test_voice_dataset.c: the voice data set's instrument table, note plan and split, the MIDI it
 * renders from, slicing, and one instrument rendered for real with fluidsynth end to end. */
#include "test.h"

#include "engine/smf.h"
#include "engine/voice/analysis.h"
#include "engine/voice/audio_file.h"
#include "engine/voice/dataset.h"
#include "engine/voice/evaluate.h"

#include <unistd.h>

static const char *write_text(const char *name, const char *text)
{
    const char *path = test_path(name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(voice_dataset_table_is_read_strictly)
{
    voice_instrument *ins;
    size_t n;
    char err[256];
    const char *good = write_text("good.tsv", "# comment\n73\t60\t96\ttrain\tFlute\n\n41\t48\t88\theldout\tViola\n");
    CHECKF(voice_instruments_read(good, &ins, &n, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(n, 2);
    CHECK(ins[0].program == 73 && ins[0].lowest == 60 && ins[0].highest == 96 && !ins[0].held_out);
    CHECK(!strcmp(ins[1].name, "Viola") && ins[1].held_out);
    free(ins);
    const struct {
        const char *text, *why;
    } bad[] = {
        {"73\t60\t96\ttrain\n", "5 tab-separated fields"},
        {"128\t60\t96\ttrain\tX\n", "program is not 0..127"},
        {"73\t96\t60\ttrain\tX\n", "lowest first"},
        {"73\t60\t96\tmaybe\tX\n", "neither 'train' nor 'heldout'"},
        {"73\t60\t96\ttrain\tA\n73\t60\t96\ttrain\tB\n", "listed twice"},
        {"# nothing\n", "lists no instruments"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = write_text("bad.tsv", bad[i].text);
        CHECK(voice_instruments_read(path, &ins, &n, err, sizeof err) == -1);
        CHECK_STR_CONTAINS(err, bad[i].why);
    }
    CHECK(voice_instruments_read(write_text("bad.tsv", "\n\n73\tx\t96\ttrain\tX\n"), &ins, &n, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "line 3");
}

TEST(voice_dataset_shipped_table_covers_the_voices_and_holds_some_out)
{
    voice_instrument *ins;
    size_t n;
    char err[256];
    CHECKF(voice_instruments_read("tools/voices/instruments.tsv", &ins, &n, err, sizeof err) == 0, "%s", err);
    CHECK(n >= 24 && n <= 32);
    int held = 0;
    const int wanted[] = {48, 73, 56, 71, 4, 33, 20, 52}; /* strings, flute, trumpet, clarinet, EP, bass, organ, choir */
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            if (ins[i].program == wanted[w] && !ins[i].held_out) found = 1;
        CHECKF(found, "program %d is not a training instrument", wanted[w]);
    }
    for (size_t i = 0; i < n; i++) held += ins[i].held_out;
    CHECK(held >= 2);
    free(ins);
}

TEST(voice_dataset_plan_and_split_are_deterministic)
{
    voice_instrument ins = {.program = 73, .lowest = 60, .highest = 72, .held_out = 0, .name = "Flute"};
    size_t n = voice_plan_notes(&ins, NULL, 0);
    /* pitches 60 63 66 69 72; 4 velocities x 3 lengths + the held-out velocity once */
    CHECK_EQ_INT(n, 5 * (VOICE_PLAN_VELOCITIES * VOICE_PLAN_LENGTHS + 1));
    voice_planned_note *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    CHECK_EQ_INT(voice_plan_notes(&ins, p, n), n);
    CHECK_EQ_INT(voice_plan_notes(&ins, q, n), n);
    CHECK(!memcmp(p, q, n * sizeof *p));
    int per_split[VOICE_SPLIT_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        per_split[p[i].split]++;
        if (p[i].pitch == 66) CHECK_EQ_INT(p[i].split, VOICE_SPLIT_PITCH);
        else if (p[i].velocity == VOICE_PLAN_HELD_VELOCITY) CHECK_EQ_INT(p[i].split, VOICE_SPLIT_VELOCITY);
        else CHECK_EQ_INT(p[i].split, VOICE_SPLIT_TRAIN);
        if (p[i].velocity == VOICE_PLAN_HELD_VELOCITY) CHECK_NEAR(p[i].length_s, 0.6, 1e-6);
        if (i) CHECK(p[i].start_ms >= p[i - 1].start_ms + (int)(p[i - 1].length_s * 1000) + 1500 - 1);
    }
    CHECK_EQ_INT(per_split[VOICE_SPLIT_PITCH], 13);
    CHECK_EQ_INT(per_split[VOICE_SPLIT_VELOCITY], 4);
    CHECK_EQ_INT(per_split[VOICE_SPLIT_TRAIN], 48);
    ins.held_out = 1;
    voice_plan_notes(&ins, p, n);
    for (size_t i = 0; i < n; i++) CHECK_EQ_INT(p[i].split, VOICE_SPLIT_INSTRUMENT);
    free(p);
    free(q);
}

TEST(voice_dataset_midi_plays_the_plan)
{
    voice_instrument ins = {.program = 71, .lowest = 50, .highest = 56, .held_out = 0, .name = "Clarinet"};
    char err[256];
    const char *path = test_path("plan.mid");
    CHECKF(voice_plan_write_midi(&ins, path, err, sizeof err) == 0, "%s", err);
    smf *s;
    CHECKF(smf_read_file(path, &s, err, sizeof err) == 0, "%s", err);
    smf_tempo_map map;
    CHECK(smf_tempo_map_build(s, &map) == 0);
    size_t n = voice_plan_notes(&ins, NULL, 0), ons = 0;
    voice_planned_note *p = malloc(n * sizeof *p);
    voice_plan_notes(&ins, p, n);
    int program = -1;
    for (size_t i = 0; i < s->tracks[0].n; i++) {
        const smf_event *e = &s->tracks[0].events[i];
        if (e->kind != SMF_MIDI) continue;
        if ((e->bytes[0] & 0xf0) == 0xC0) program = e->bytes[1];
        if ((e->bytes[0] & 0xf0) == 0x90 && e->bytes[2]) {
            CHECK(ons < n);
            CHECK_EQ_INT(e->bytes[1], p[ons].pitch);
            CHECK_EQ_INT(e->bytes[2], p[ons].velocity);
            CHECK_NEAR(smf_tempo_map_seconds(&map, e->tick), p[ons].start_ms / 1000.0, 1e-9);
            ons++;
        }
    }
    CHECK_EQ_INT(program, 71);
    CHECK_EQ_INT(ons, n);
    smf_tempo_map_free(&map);
    smf_free(s);
    free(p);
}

TEST(voice_dataset_note_end_finds_where_the_release_dies)
{
    const int sr = 48000;
    size_t n = 2 * sr, off = sr / 2;
    float *x = calloc(n, sizeof *x);
    /* full level until note-off, then -60 dB after 0.3 s of exponential release */
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr, g = i < off ? 1.0 : pow(10.0, -3.0 * (t - 0.5) / 0.3);
        x[i] = (float)(0.5 * g * sin(2 * M_PI * 440.0 * t));
    }
    size_t end = voice_note_end(x, n, off, sr);
    CHECK_NEAR((double)end / sr, 0.8, 0.02);
    for (size_t i = off; i < n; i++) x[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / sr));
    CHECK_EQ_INT(voice_note_end(x, n, off, sr), off + (size_t)(VOICE_PLAN_TAIL_S * sr)); /* never dies */
    CHECK_EQ_INT(voice_note_end(x, off + 100, off, sr), off + 100);                     /* the data ends */
    free(x);
}

TEST(voice_dataset_leaves_silent_notes_out)
{
    /* a rendering where the soundfont had nothing for one pitch: only the sounding notes stay */
    voice_instrument ins = {.program = 40, .lowest = 60, .highest = 63, .held_out = 0, .name = "Violin"};
    size_t n = voice_plan_notes(&ins, NULL, 0);
    voice_planned_note *p = malloc(n * sizeof *p);
    voice_plan_notes(&ins, p, n);
    const int sr = 48000;
    size_t len = (size_t)((p[n - 1].start_ms / 1000.0 + 3.0) * sr);
    float *x = calloc(len, sizeof *x);
    for (size_t i = 0; i < n; i++) {
        if (p[i].pitch != 60) continue;
        size_t on = (size_t)(p[i].start_ms / 1000.0 * sr);
        for (size_t k = 0; k < (size_t)(p[i].length_s * sr); k++)
            x[on + k] = (float)(0.2 * sin(2 * M_PI * 261.63 * k / sr));
    }
    char err[256];
    const char *wav = test_path("r.wav"), *feat = test_path("r.bmvf");
    CHECK(voice_audio_write(wav, x, len, sr, 1, err, sizeof err) == 0);
    CHECKF(voice_dataset_analyse(&ins, wav, feat, 0, err, sizeof err) == 0, "%s", err);
    voice_set *s;
    CHECKF(voice_features_read_file(feat, &s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(s->n_notes, n / 2);
    for (size_t i = 0; i < s->n_notes; i++) CHECK_EQ_INT(s->notes[i].pitch, 60);
    voice_set_free(s);
    /* a rendering shorter than the plan is not this plan's */
    CHECK(voice_audio_write(wav, x, len / 2, sr, 1, err, sizeof err) == 0);
    CHECK(voice_dataset_analyse(&ins, wav, feat, 0, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "shorter than the plan");
    free(x);
    free(p);
}

TEST_TIMEOUT(voice_dataset_renders_and_analyses_an_instrument_for_real, 120)
{
    const char *sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
    if (access(sf2, R_OK) != 0) test_skip("no FluidR3 soundfont (make deps)");
    if (test_run("command -v fluidsynth", NULL, 0, 10) != 0) test_skip("no fluidsynth (make deps)");
    /* one pitch of the clarinet: 13 notes, about 30 s of audio */
    voice_instrument ins = {.program = 71, .lowest = 58, .highest = 58, .held_out = 0, .name = "Clarinet"};
    char err[512], cmd[2048], out[4096];
    const char *mid = test_path("clarinet.mid"), *wav = test_path("clarinet.wav");
    const char *feat = test_path("clarinet.bmvf");
    CHECK(voice_plan_write_midi(&ins, mid, err, sizeof err) == 0);
    snprintf(cmd, sizeof cmd, "fluidsynth -ni -q -R 0 -C 0 -g 1.0 -r 48000 -O float -T wav -F %s %s %s", wav, sf2, mid);
    CHECKF(test_run(cmd, out, sizeof out, 60) == 0, "fluidsynth failed: %s", out);
    CHECKF(voice_dataset_analyse(&ins, wav, feat, 0, err, sizeof err) == 0, "%s", err);
    voice_set *s;
    CHECKF(voice_features_read_file(feat, &s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(s->n_notes, 13);
    for (size_t i = 0; i < s->n_notes; i++) {
        const voice_note *nt = &s->notes[i];
        CHECK_EQ_INT(nt->pitch, 58);
        CHECK(nt->peak > 0.01f && nt->peak < 0.99f); /* neither silent nor clipped */
        CHECK(nt->frames[0].flags & VOICE_ONSET);
        CHECK_EQ_INT(nt->n_audio != 0, nt->split != VOICE_SPLIT_TRAIN);
        CHECK(nt->n_frames >= (size_t)(nt->length_s * VOICE_FRAME_RATE));
        size_t voiced = 0, on = 0;
        for (size_t k = 0; k < (size_t)(nt->length_s * VOICE_FRAME_RATE); k++) {
            on++;
            if (!(nt->frames[k].flags & VOICE_VOICED)) continue;
            voiced++;
            CHECK_NEAR(1200.0 * log2(nt->frames[k].f0_hz / (440.0 * exp2((58 - 69) / 12.0))), 0.0, 30.0);
        }
        CHECKF(voiced * 10 >= on * 8, "note %zu: only %zu of %zu sounding frames voiced", i, voiced, on);
    }
    voice_set_free(s);
    voice_eval_summary sum;
    CHECKF(voice_eval_file(feat, 2, &sum, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(sum.notes, 1); /* the one note at the held-out velocity */
    CHECKF(sum.resynth_msd < sum.baseline_msd, "resynthesis %.2f dB, baseline %.2f dB", sum.resynth_msd,
           sum.baseline_msd);
    CHECK(sum.resynth_f0_cents < 5.0);
    CHECK(sum.resynth_loud_db < 1.0);
}
