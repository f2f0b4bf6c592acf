/* test_voice_resynth.c: harmonic-plus-noise resynthesis, the multi-scale spectral distance and
 * the average-spectrum baseline. */
#include "test.h"

#include "engine/voice/analysis.h"
#include "engine/voice/baseline.h"
#include "engine/voice/evaluate.h"
#include "engine/voice/resynth.h"
#include "engine/voice/specdist.h"

static voice_frame *steady_frames(size_t nf, double f0, const double *amps, int nh, float noise_db)
{
    voice_frame *fr = calloc(nf, sizeof *fr);
    for (size_t k = 0; k < nf; k++) {
        fr[k].f0_hz = (float)f0;
        fr[k].loudness_db = -20.0f;
        for (int h = 0; h < nh; h++) fr[k].harm[h] = (float)amps[h];
        for (int b = 0; b < VOICE_BANDS; b++) fr[k].noise_db[b] = noise_db;
    }
    return fr;
}

TEST(voice_resynth_of_steady_frames_is_the_additive_tone)
{
    const int sr = 48000;
    double amps[8] = {0.3, 0.15, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001};
    voice_frame *fr = steady_frames(100, 220.0, amps, 8, VOICE_FLOOR_DB);
    size_t n = 24000;
    float *y = malloc(n * sizeof *y);
    CHECK(voice_resynth(fr, 100, sr, 1, y, n) == 0);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double want = 0.0;
        for (int h = 0; h < 8; h++) want += amps[h] * sin(2 * M_PI * (h + 1) * 220.0 * (i + 1) / sr);
        worst = fmax(worst, fabs(y[i] - want));
    }
    CHECKF(worst < 1e-4, "largest difference %g", worst);
    free(y);
    free(fr);
}

TEST(voice_resynth_glides_without_clicks)
{
    /* a frame-to-frame jump in pitch and level must not make a step in the waveform */
    const int sr = 48000;
    double a1[1] = {0.5}, a2[1] = {0.1};
    voice_frame *fr = steady_frames(40, 200.0, a1, 1, VOICE_FLOOR_DB);
    for (size_t k = 20; k < 40; k++) {
        fr[k].f0_hz = 400.0f;
        fr[k].harm[0] = (float)a2[0];
    }
    size_t n = 40 * sr / VOICE_FRAME_RATE;
    float *y = malloc(n * sizeof *y);
    CHECK(voice_resynth(fr, 40, sr, 1, y, n) == 0);
    double step = 0.0;
    for (size_t i = 1; i < n; i++) step = fmax(step, fabs(y[i] - y[i - 1]));
    /* the steepest a 400 Hz sine of amplitude 0.5 can move in one sample */
    CHECKF(step <= 0.5 * 2 * M_PI * 400.0 / sr * 1.01, "largest sample step %g", step);
    free(y);
    free(fr);
}

TEST(voice_resynth_noise_has_the_band_levels_it_was_given)
{
    const int sr = 48000;
    voice_frame *fr = steady_frames(200, 0.0, NULL, 0, -50.0f);
    for (int b = 0; b < VOICE_BANDS; b++) fr[0].noise_db[b] = fr[199].noise_db[b] = -50.0f - 0.5f * b;
    for (size_t k = 1; k < 199; k++) memcpy(fr[k].noise_db, fr[0].noise_db, sizeof fr[0].noise_db);
    size_t n = sr;
    float *y = malloc(n * sizeof *y);
    CHECK(voice_resynth(fr, 200, sr, 5, y, n) == 0);
    char err[256];
    voice_analyser *a = voice_analyser_new(sr, err, sizeof err);
    voice_frame *got;
    size_t nf;
    CHECK(voice_analyse(a, y, n, NULL, &got, &nf, err, sizeof err) == 0);
    double mean = 0.0;
    for (int b = 0; b < VOICE_BANDS; b++) {
        double acc = 0.0;
        for (size_t k = 20; k < nf - 20; k++) acc += pow(10.0, got[k].noise_db[b] / 10.0);
        double d = 10.0 * log10(acc / (nf - 40)) - fr[0].noise_db[b];
        CHECKF(fabs(d) < 1.5, "band %d is %+.2f dB off", b, d);
        mean += d / VOICE_BANDS;
    }
    CHECKF(fabs(mean) < 0.3, "the bands are %+.2f dB off on average", mean);
    free(got);
    voice_analyser_free(a);
    free(y);
    free(fr);
}

TEST(voice_spectral_distance_is_zero_for_equal_and_6db_for_double)
{
    size_t n = 24000;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        a[i] = (float)(s / 4294967296.0 - 0.5) * 0.2f;
        b[i] = 2.0f * a[i];
    }
    double per[VOICE_MSD_SCALES];
    CHECK_NEAR(voice_msd(a, a, n, per), 0.0, 1e-12);
    CHECK_NEAR(voice_msd(a, b, n, per), 6.0206, 0.01);
    for (int k = 0; k < VOICE_MSD_SCALES; k++) CHECK_NEAR(per[k], 6.0206, 0.01);
    for (size_t i = 0; i < n; i++) b[i] = (float)(0.1 * sin(2 * M_PI * 440.0 * i / 48000.0));
    CHECK(voice_msd(a, b, n, NULL) > 10.0);
    free(a);
    free(b);
}

/* A decaying harmonic tone with a little noise (seeded). Its harmonics start in sine phase, as
 * the resynthesis's do: the spectral distance's short FFT sizes (64..256 samples, less than a
 * period) see the waveform's shape, and a resynthesis without the original phases cannot have
 * it (real instruments pay for that; this test is about everything else). */
static float *noisy_tone(size_t n, int sr, uint32_t seed)
{
    float *x = malloc(n * sizeof *x);
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr, v = 0.0, env = fmin(1.0, t / 0.05) * exp(-1.5 * t);
        for (int h = 1; h <= 30; h++) v += 0.3 / (h * h * 0.5 + 0.5) * sin(2 * M_PI * h * 196.0 * t);
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = (float)(env * (v + 0.003 * (s / 4294967296.0 - 0.5)));
    }
    return x;
}

TEST(voice_resynth_of_an_analysed_tone_matches_it)
{
    const int sr = 48000;
    size_t n = sr;
    float *x = noisy_tone(n, sr, 99), *x2 = noisy_tone(n, sr, 12345);
    /* two takes of the same tone differ only in their noise: the closest any resynthesis can be */
    double floor_db = voice_msd(x, x2, n, NULL);
    char err[256];
    voice_analyser *a = voice_analyser_new(sr, err, sizeof err);
    voice_frame *fr;
    size_t nf;
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    o.onsets = VOICE_ONSETS_AT_START;
    CHECK(voice_analyse(a, x, n, &o, &fr, &nf, err, sizeof err) == 0);
    voice_eval_result r;
    CHECKF(voice_eval_frames(a, x, n, fr, nf, fr, nf, &o, &r, err, sizeof err) == 0, "%s", err);
    printf("tone: distance %.2f dB (another take: %.2f dB), f0 %.3f cents, loudness %.3f dB\n",
           r.msd_db, floor_db, r.f0_cents, r.loud_db);
    CHECKF(r.msd_db < floor_db + 0.5, "resynthesis is %.2f dB from the original, another take %.2f dB",
           r.msd_db, floor_db);
    CHECK(r.f0_frames > 150);
    CHECK(r.f0_cents < 0.5);
    CHECK(r.loud_db < 0.2);
    /* a wrong timbre at the right pitch and loudness is measurably further away */
    voice_frame *flat = malloc(nf * sizeof *flat);
    for (size_t k = 0; k < nf; k++) {
        flat[k] = fr[k];
        for (int h = 0; h < VOICE_HARMONICS; h++) flat[k].harm[h] = h < 30 ? fr[k].harm[0] / 4 : 0.0f;
    }
    voice_eval_result rf;
    CHECK(voice_eval_frames(a, x, n, fr, nf, flat, nf, &o, &rf, err, sizeof err) == 0);
    CHECKF(rf.msd_db > r.msd_db + 3.0, "flat timbre %.2f dB vs resynthesis %.2f dB", rf.msd_db, r.msd_db);
    free(flat);
    free(fr);
    voice_analyser_free(a);
    free(x);
    free(x2);
}

TEST(voice_baseline_averages_timbre_and_follows_loudness)
{
    const int sr = 48000;
    double amps[4] = {0.4, 0.2, 0.1, 0.05};
    voice_frame *fr = steady_frames(50, 300.0, amps, 4, -70.0f);
    for (size_t k = 0; k < 50; k++) fr[k].loudness_db = -25.0f;
    voice_timbre_avg avg;
    voice_timbre_avg_init(&avg);
    voice_timbre_avg_add(&avg, fr, 50, sr);
    voice_timbre_avg_finish(&avg);
    CHECK_EQ_INT(avg.frames, 50);
    /* the average keeps the shape: ratios between harmonics and to the noise */
    for (int h = 1; h < 4; h++) CHECK_NEAR(avg.harm[h] / avg.harm[0], amps[h] / amps[0], 1e-5);
    CHECK_NEAR(10.0 * log10(avg.noise[3] / (avg.harm[0] * avg.harm[0] / 2)),
               -70.0 - 10.0 * log10(0.4 * 0.4 / 2), 1e-3);
    voice_frame *out = malloc(50 * sizeof *out);
    for (size_t k = 0; k < 50; k++) fr[k].loudness_db = -40.0f + (float)k * 0.2f;
    voice_timbre_avg_frames(&avg, fr, 50, sr, out);
    for (size_t k = 0; k < 50; k++) {
        CHECK_NEAR(10.0 * log10(voice_frame_a_power(&out[k], sr)), fr[k].loudness_db, 1e-3);
        CHECK_NEAR(out[k].harm[1] / out[k].harm[0], 0.5, 1e-5);
        CHECK(out[k].f0_hz == fr[k].f0_hz);
    }
    free(out);
    free(fr);
}
