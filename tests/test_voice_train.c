/* test_voice_train.c: `bandmate voice train --wav`: a performer's monophonic recording becomes a
 * voice placed by the encoder and plays; silence, chords, a short take and a file that is not
 * audio each get one sentence and a non-zero exit. Recordings are synthesised at 16 kHz to keep
 * the analysis quick. */
#include "test.h"
#include "voice_kit.h"

#include "engine/voice/voice_bank.h"
#include "engine/voice/voicedef.h"

#include <sndfile.h>

#define RATE 16000

enum { TAKE_MELODY, TAKE_SILENCE, TAKE_CHORDS };

/* A take of `seconds`: a melody of plucked notes with a few harmonics, silence, or chords. */
static const char *write_take(const char *name, int kind, double seconds)
{
    const char *path = test_path(name);
    SF_INFO info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) test_fail(__FILE__, __LINE__, "cannot write %s", path);
    size_t n = (size_t)(seconds * RATE);
    float *x = calloc(n, sizeof *x);
    static const int melody[] = {57, 60, 64, 62, 65, 69, 67, 64, 60, 62, 59, 55};
    size_t note_len = (size_t)(0.4 * RATE);
    for (size_t i = 0; i < n && kind != TAKE_SILENCE; i++) {
        size_t k = i / note_len, t = i % note_len;
        double env = exp(-2.5 * t / (double)RATE) * (t < 80 ? t / 80.0 : 1.0) * (t > note_len - 200 ? (note_len - t) / 200.0 : 1.0);
        double v = 0;
        if (kind == TAKE_MELODY) {
            double f0 = 440.0 * pow(2.0, (melody[k % 12] - 69) / 12.0);
            for (int h = 1; h <= 6; h++) v += sin(2 * M_PI * h * f0 * t / RATE) / (h * h);
        } else { /* a chord of three notes a major third and a tritone apart: no common pitch */
            static const double ratio[3] = {1.0, 1.2599, 1.4142};
            for (int c = 0; c < 3; c++)
                for (int h = 1; h <= 4; h++) v += sin(2 * M_PI * h * 196.0 * ratio[c] * (1 + 0.01 * (k % 3)) * t / RATE) / h;
            v *= 0.4;
        }
        x[i] = (float)(0.3 * env * v);
    }
    sf_writef_float(f, x, (sf_count_t)n);
    sf_close(f);
    free(x);
    return path;
}

static int train(char *out, size_t cap, const char *wav, const char *name)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/bandmate voice train --wav %s --name %s --out %s", test_bindir(), wav, name,
             test_path("voices"));
    return test_run(cmd, out, cap, 120);
}

static void check_one_sentence(const char *out)
{
    size_t len = strlen(out);
    CHECKF(len > 20 && out[len - 1] == '\n' && out[len - 2] == '.' && !memchr(out, '\n', len - 1),
           "not one sentence: '%s'", out);
}

TEST_TIMEOUT(voice_train_makes_a_voice_from_a_recording, 120)
{
    static voice_kit kit;
    voice_kit_make(&kit);
    voice_kit_install(&kit, test_path("voices"));
    char out[8192];
    const char *wav = write_take("take.wav", TAKE_MELODY, 31);
    int rc = train(out, sizeof out, wav, "mine");
    CHECKF(rc == 0, "exit %d: %s", rc, out);
    CHECK_STR_CONTAINS(out, "made the voice 'mine'");
    CHECK_STR_CONTAINS(out, "nearest voices in the map");
    /* the voice loads against the decoder and plays in the part of a morph too */
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/mine.bmnn", test_path("voices"));
    voice_def v;
    CHECKF(voice_def_load(&v, path, &kit.vm, err, sizeof err) == 0, "%s", err);
    CHECKF(v.lowest >= 50 && v.highest <= 74, "placed over pitches %.0f-%.0f", v.lowest, v.highest);
    CHECK(strstr(v.source, "take.wav"));
    bm_instrument *in = voice_instrument_create("mine,pad@0.5", 8, 48000, err, sizeof err);
    CHECKF(in, "%s", err);
    static float buf[24000];
    in->ops->note_on(in, 60, 100);
    in->ops->render(in, buf, 24000);
    float m = 0;
    for (int i = 0; i < 24000; i++) m = fmaxf(m, fabsf(buf[i]));
    CHECK(m > 0.01f && m < 2.0f);
    instrument_destroy(in);
    /* an existing name is kept unless asked */
    CHECK(train(out, sizeof out, wav, "mine") != 0);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "already exists");
    voice_model_free(&kit.vm);
}

TEST_TIMEOUT(voice_train_refuses_bad_recordings_with_one_sentence, 120)
{
    static voice_kit kit;
    voice_kit_make(&kit);
    voice_kit_install(&kit, test_path("voices"));
    char out[8192];
    struct {
        const char *wav, *says;
    } bad[] = {
        {write_take("short.wav", TAKE_MELODY, 8), "is 8.0 s long"},
        {write_take("silent.wav", TAKE_SILENCE, 31), "is silent"},
        {write_take("chords.wav", TAKE_CHORDS, 31), "polyphonic"},
        {test_path("missing.wav"), "missing.wav"},
    };
    FILE *f = fopen(test_path("text.wav"), "w");
    fputs("this is not audio, only words in a file called .wav\n", f);
    fclose(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = train(out, sizeof out, bad[i].wav, "x");
        CHECKF(rc != 0, "%s was accepted: %s", bad[i].wav, out);
        check_one_sentence(out);
        CHECK_STR_CONTAINS(out, bad[i].says);
    }
    CHECK(train(out, sizeof out, test_path("text.wav"), "x") != 0);
    check_one_sentence(out);
    CHECK(train(out, sizeof out, bad[0].wav, "bad/name") != 0);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "cannot be a voice name");
    voice_model_free(&kit.vm);
}
