/* test_voice_cli.c: `bandmate voice analyse` on good and bad recordings: one clear sentence and a
 * non-zero exit for each kind of bad input. */
#include "test.h"

#include "engine/voice/features.h"

#include <sndfile.h>
#include <unistd.h>

/* Writes a WAV (or other format) file of frames x channels of a 220 Hz tone. */
static const char *write_audio(const char *name, int rate, int channels, size_t frames, int format)
{
    const char *path = test_path(name);
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) test_fail(__FILE__, __LINE__, "cannot write %s: %s", path, sf_strerror(NULL));
    float *buf = malloc((frames * channels + 1) * sizeof *buf);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (float)(0.3 * sin(2 * M_PI * 220.0 * i / rate) + 0.1 * sin(2 * M_PI * 440.0 * i / rate));
    sf_writef_float(f, buf, (sf_count_t)frames);
    sf_close(f);
    free(buf);
    return path;
}

static int run(char *out, size_t cap, const char *fmt, const char *arg)
{
    char args[2048], cmd[4096];
    snprintf(args, sizeof args, fmt, arg);
    snprintf(cmd, sizeof cmd, "%s/bandmate voice %s", test_bindir(), args);
    return test_run(cmd, out, cap, 60);
}

/* One line of output, ending with a full stop: one sentence. */
static void check_one_sentence(const char *out)
{
    size_t len = strlen(out);
    CHECKF(len > 20 && out[len - 1] == '\n' && out[len - 2] == '.' && !memchr(out, '\n', len - 1),
           "not one sentence: '%s'", out);
}

TEST(voice_cli_analyses_a_recording_and_writes_features_and_audio)
{
    char out[8192];
    const char *wav = write_audio("tone.wav", 48000, 1, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const char *feat = test_path("tone.bmvf"), *re = test_path("tone-resynth.wav");
    char args[4096];
    snprintf(args, sizeof args, "analyse %s --out %s --resynth %s", wav, feat, re);
    CHECK_EQ_INT(run(out, sizeof out, "%s", args), 0);
    CHECK_STR_CONTAINS(out, "1.00 s at 48000 Hz, 200 frames");
    CHECK_STR_CONTAINS(out, "median 220.0 Hz (A3 +0 cents)");
    CHECK_STR_CONTAINS(out, "multi-scale spectral distance");
    voice_set *s;
    char err[256];
    CHECKF(voice_features_read_file(feat, &s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(s->n_notes, 1);
    CHECK_EQ_INT(s->notes[0].split, VOICE_SPLIT_RECORDING);
    CHECK_EQ_INT(s->notes[0].n_frames, 200);
    CHECK(!strcmp(s->notes[0].instrument, "tone.wav"));
    voice_set_free(s);
    CHECK(access(re, R_OK) == 0);
    /* FLAC and 44.1 kHz are fine too; --frames prints a row per frame */
    wav = write_audio("tone.flac", 44100, 1, 22050, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    static char big[200000];
    CHECK_EQ_INT(run(big, sizeof big, "analyse %s --frames", wav), 0);
    CHECK_STR_CONTAINS(big, "time\tf0\tperiodicity");
    CHECK_STR_CONTAINS(big, "\n0.250\t220.0");
}

TEST(voice_cli_refuses_bad_recordings_with_one_sentence)
{
    char out[8192];
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", "/nonexistent/take.wav"), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "cannot open /nonexistent/take.wav");
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", test_tmpdir()), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "is a directory");
    FILE *f = fopen(test_path("empty.wav"), "w");
    fclose(f);
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", test_path("empty.wav")), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "is empty");
    f = fopen(test_path("notes.txt"), "w");
    fputs("these are my notes, not a recording\n", f);
    fclose(f);
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", test_path("notes.txt")), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "is not an audio file");
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", write_audio("stereo.wav", 48000, 2, 4800, SF_FORMAT_WAV | SF_FORMAT_FLOAT)), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "has 2 channels");
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", write_audio("nothing.wav", 48000, 1, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_16)), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "holds no samples");
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", write_audio("phone.wav", 8000, 1, 8000, SF_FORMAT_WAV | SF_FORMAT_PCM_16)), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "sampled at 8000 Hz");
    /* a float WAV with a NaN in it */
    const char *nan_path = test_path("nan.wav");
    SF_INFO info = {.samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(nan_path, SFM_WRITE, &info);
    float v[4] = {0.1f, NAN, 0.2f, 0.0f};
    sf_writef_float(sf, v, 4);
    sf_close(sf);
    CHECK_EQ_INT(run(out, sizeof out, "analyse %s", nan_path), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "sample 1 is not a number");
}

TEST(voice_cli_usage_errors_and_help)
{
    char out[8192];
    CHECK_EQ_INT(run(out, sizeof out, "%s", "--help"), 0);
    CHECK_STR_CONTAINS(out, "analyse IN.wav [--out FEATURES]");
    CHECK_EQ_INT(run(out, sizeof out, "%s", "analyse --help"), 0);
    CHECK_EQ_INT(run(out, sizeof out, "%s", ""), 2);
    CHECK_EQ_INT(run(out, sizeof out, "%s", "analyse"), 2);
    check_one_sentence(out);
    CHECK_EQ_INT(run(out, sizeof out, "%s", "frobnicate"), 2);
    CHECK_STR_CONTAINS(out, "'frobnicate' is not a voice command");
    const char *wav = write_audio("t.wav", 48000, 1, 4800, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char args[2048];
    snprintf(args, sizeof args, "analyse %s --pitch 200", wav);
    CHECK_EQ_INT(run(out, sizeof out, "%s", args), 2);
    check_one_sentence(out);
    snprintf(args, sizeof args, "analyse %s --loud", wav);
    CHECK_EQ_INT(run(out, sizeof out, "%s", args), 2);
    CHECK_STR_CONTAINS(out, "unknown option '--loud'");
    snprintf(args, sizeof args, "analyse %s --out /nonexistent/dir/x.bmvf", wav);
    CHECK_EQ_INT(run(out, sizeof out, "%s", args), 1);
    check_one_sentence(out);
    CHECK_STR_CONTAINS(out, "cannot write /nonexistent/dir/x.bmvf");
    CHECK_EQ_INT(run(out, sizeof out, "data-listen %s 0 /tmp/x", "/nonexistent.bmvf"), 1);
    check_one_sentence(out);
    CHECK_EQ_INT(run(out, sizeof out, "data-midi tools/voices/instruments.tsv 127 %s", test_path("x.mid")), 1);
    CHECK_STR_CONTAINS(out, "program '127' is not in tools/voices/instruments.tsv");
}
