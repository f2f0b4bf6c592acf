/* test_voice_analysis.c: the voice analysis recovers known f0, loudness, harmonics and noise. */
#include "test.h"

#include "engine/voice/analysis.h"

#include <stdint.h>

/* A steady harmonic tone: amps[h] is the peak amplitude of harmonic h+1. */
static float *tone(int sr, double seconds, double f0, const double *amps, int nh, double noise_rms,
                   uint32_t seed, size_t *n)
{
    *n = (size_t)(seconds * sr);
    float *x = malloc(*n * sizeof *x);
    uint32_t s = seed | 1;
    for (size_t i = 0; i < *n; i++) {
        double t = (double)i / sr, v = 0.0;
        for (int h = 0; h < nh; h++)
            if ((h + 1) * f0 < 0.5 * sr) v += amps[h] * sin(2.0 * M_PI * (h + 1) * f0 * t + 0.3 * h * h);
        if (noise_rms > 0.0) {
            /* sum of 4 uniforms: roughly Gaussian, unit variance after scaling */
            double g = 0.0;
            for (int k = 0; k < 4; k++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                g += s / 4294967296.0 - 0.5;
            }
            v += noise_rms * g * sqrt(3.0);
        }
        x[i] = (float)v;
    }
    return x;
}

static void analyse(int sr, const float *x, size_t n, float hint, voice_frame **fr, size_t *nf)
{
    char err[256];
    voice_analyser *a = voice_analyser_new(sr, err, sizeof err);
    CHECKF(a, "%s", err);
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    o.f0_hint_hz = hint;
    CHECKF(voice_analyse(a, x, n, &o, fr, nf, err, sizeof err) == 0, "%s", err);
    voice_analyser_free(a);
}

static double db(double v) { return 20.0 * log10(v); }

TEST(voice_analysis_recovers_f0_and_harmonics_of_a_steady_tone)
{
    double amps[VOICE_HARMONICS];
    for (int h = 0; h < VOICE_HARMONICS; h++) amps[h] = 0.3 / (h + 1) * ((h % 2) ? 0.1 : 1.0);
    size_t n, nf;
    float *x = tone(48000, 1.0, 220.0, amps, VOICE_HARMONICS, 0.0, 1, &n);
    voice_frame *fr;
    analyse(48000, x, n, 0.0f, &fr, &nf);
    CHECK_EQ_INT(nf, 200);
    double worst_db = 0.0;
    for (size_t k = 40; k < 160; k++) {
        CHECK(fr[k].flags & VOICE_VOICED);
        CHECK_NEAR(fr[k].f0_hz, 220.0, 0.05);
        for (int h = 0; h < VOICE_HARMONICS; h++) {
            if ((h + 1) * 220.0 > 23000.0) break;
            double e = fabs(db(fr[k].harm[h]) - db(amps[h]));
            if (e > worst_db) worst_db = e;
        }
        for (int b = 0; b < VOICE_BANDS; b++) CHECKF(fr[k].noise_db[b] < -70.0f, "frame %zu band %d: %g dB", k, b, fr[k].noise_db[b]);
    }
    printf("worst harmonic error %.3f dB\n", worst_db);
    CHECKF(worst_db < 0.1, "worst harmonic error %.3f dB", worst_db);
    free(fr);
    free(x);
}

TEST(voice_analysis_recovers_a_low_bass_tone)
{
    double amps[VOICE_HARMONICS];
    for (int h = 0; h < VOICE_HARMONICS; h++) amps[h] = 0.2 / (1.0 + 0.3 * h);
    size_t n, nf;
    float *x = tone(48000, 1.5, 41.2, amps, VOICE_HARMONICS, 0.0, 1, &n);
    voice_frame *fr;
    analyse(48000, x, n, 41.2f, &fr, &nf);
    double worst = 0.0;
    for (size_t k = 60; k < nf - 60; k++) {
        CHECK(fr[k].flags & VOICE_VOICED);
        CHECK_NEAR(fr[k].f0_hz, 41.2, 0.005);
        for (int h = 0; h < VOICE_HARMONICS; h++) worst = fmax(worst, fabs(db(fr[k].harm[h]) - db(amps[h])));
    }
    CHECKF(worst < 0.1, "worst harmonic error %.3f dB", worst);
    free(fr);
    free(x);
}

TEST(voice_analysis_gives_no_harmonics_at_or_above_nyquist)
{
    double amps[VOICE_HARMONICS];
    for (int h = 0; h < VOICE_HARMONICS; h++) amps[h] = 0.1 / (h + 1);
    size_t n, nf;
    float *x = tone(48000, 0.6, 1000.0, amps, VOICE_HARMONICS, 0.0, 1, &n);
    voice_frame *fr;
    analyse(48000, x, n, 0.0f, &fr, &nf);
    for (size_t k = 20; k < nf - 20; k++) {
        for (int h = 0; h < 23; h++) CHECK_NEAR(db(fr[k].harm[h]), db(amps[h]), 0.05);
        for (int h = 23; h < VOICE_HARMONICS; h++) CHECK(fr[k].harm[h] == 0.0f); /* 24 kHz and up */
    }
    free(fr);
    free(x);
}

TEST(voice_analysis_measures_noise_beside_harmonics)
{
    /* white noise of standard deviation s puts s^2 * width / (sr / 2) into each band */
    const double s = 0.01;
    const double *e = voice_band_edges();
    double f0s[] = {55.0, 220.0, 660.0};
    for (int t = 0; t < 3; t++) {
        double amps[VOICE_HARMONICS];
        for (int h = 0; h < VOICE_HARMONICS; h++) amps[h] = 0.3 / (h + 1);
        size_t n, nf;
        float *x = tone(48000, 1.2, f0s[t], amps, VOICE_HARMONICS, s, 7, &n);
        voice_frame *fr;
        analyse(48000, x, n, 0.0f, &fr, &nf);
        double mean = 0.0;
        for (int b = 0; b < VOICE_BANDS; b++) {
            double acc = 0.0;
            for (size_t k = 40; k < nf - 40; k++) acc += pow(10.0, fr[k].noise_db[b] / 10.0);
            double got = 10.0 * log10(acc / (nf - 80));
            double want = 10.0 * log10(s * s * (e[b + 1] - e[b]) / 24000.0);
            CHECKF(fabs(got - want) < 1.5, "f0 %g Hz band %d: %.2f dB, expected %.2f dB", f0s[t], b, got, want);
            mean += (got - want) / VOICE_BANDS;
        }
        CHECKF(fabs(mean) < 0.5, "f0 %g Hz: noise bands off by %.2f dB on average", f0s[t], mean);
        /* and the harmonics well above the noise are still right */
        for (int h = 0; h < 8; h++) CHECK_NEAR(db(fr[nf / 2].harm[h]), db(amps[h]), 0.3);
        free(fr);
        free(x);
    }
}

TEST(voice_analysis_loudness_is_a_weighted_power)
{
    double one[1] = {0.5};
    size_t n, nf;
    voice_frame *fr;
    float *x = tone(48000, 0.5, 1000.0, one, 1, 0.0, 1, &n);
    analyse(48000, x, n, 0.0f, &fr, &nf);
    CHECK_NEAR(fr[50].loudness_db, 20.0 * log10(0.5) - 3.0103, 0.05);
    free(fr);
    free(x);
    x = tone(48000, 0.5, 100.0, one, 1, 0.0, 1, &n);
    analyse(48000, x, n, 0.0f, &fr, &nf);
    CHECK_NEAR(voice_a_weight_db(100.0), -19.1, 0.05);
    /* the weighting is applied per FFT bin, so across a steep part of the curve it reads a little
     * high */
    CHECK_NEAR(fr[50].loudness_db, 20.0 * log10(0.5) - 3.0103 + voice_a_weight_db(100.0), 0.3);
    free(fr);
    free(x);
}

TEST(voice_analysis_agrees_across_sample_rates)
{
    double amps[VOICE_HARMONICS];
    for (int h = 0; h < VOICE_HARMONICS; h++) amps[h] = 0.25 / (h + 1);
    int rates[] = {44100, 96000, 16000};
    for (int r = 0; r < 3; r++) {
        size_t n, nf;
        float *x = tone(rates[r], 0.8, 330.0, amps, VOICE_HARMONICS, 0.0, 1, &n);
        voice_frame *fr;
        analyse(rates[r], x, n, 0.0f, &fr, &nf);
        CHECK_EQ_INT(nf, voice_frame_count(n, rates[r]));
        CHECK_EQ_INT(nf, 160);
        CHECK_NEAR(fr[80].f0_hz, 330.0, 0.05);
        for (int h = 0; h < VOICE_HARMONICS; h++) {
            if ((h + 1) * 330.0 < 0.45 * rates[r]) CHECK_NEAR(db(fr[80].harm[h]), db(amps[h]), 0.05);
            if ((h + 1) * 330.0 >= 0.5 * rates[r]) CHECK(fr[80].harm[h] == 0.0f);
        }
        free(fr);
        free(x);
    }
}

TEST(voice_analysis_of_silence_and_tiny_signals)
{
    float *x = calloc(24000, sizeof *x);
    voice_frame *fr;
    size_t nf;
    analyse(48000, x, 24000, 0.0f, &fr, &nf);
    CHECK_EQ_INT(nf, 100);
    for (size_t k = 0; k < nf; k++) {
        CHECK(!(fr[k].flags & VOICE_VOICED));
        CHECK(fr[k].f0_hz == 0.0f);
        CHECK(fr[k].loudness_db == VOICE_FLOOR_DB);
        for (int h = 0; h < VOICE_HARMONICS; h++) CHECK(fr[k].harm[h] == 0.0f);
        for (int b = 0; b < VOICE_BANDS; b++) CHECK(fr[k].noise_db[b] == VOICE_FLOOR_DB);
        CHECK(voice_frame_valid(&fr[k]));
    }
    free(fr);
    x[0] = 0.5f;
    analyse(48000, x, 1, 0.0f, &fr, &nf);
    CHECK_EQ_INT(nf, 1);
    CHECK(voice_frame_valid(&fr[0]));
    free(fr);
    free(x);
}

TEST(voice_analysis_flags_clipping)
{
    double amps[2] = {1.5, 0.3};
    size_t n, nf;
    float *x = tone(48000, 0.5, 220.0, amps, 2, 0.0, 1, &n);
    for (size_t i = 0; i < n; i++) x[i] = fmaxf(-1.0f, fminf(1.0f, x[i]));
    voice_frame *fr;
    analyse(48000, x, n, 0.0f, &fr, &nf);
    for (size_t k = 5; k < nf - 5; k++) CHECK(fr[k].flags & VOICE_CLIPPED);
    free(fr);
    free(x);
}

TEST(voice_analysis_finds_onsets_and_counts_time_since)
{
    const int sr = 48000;
    size_t n = 2 * sr;
    float *x = calloc(n, sizeof *x);
    double starts[] = {0.25, 0.9, 1.5}, pitches[] = {220.0, 330.0, 262.0};
    for (int i = 0; i < 3; i++)
        for (size_t s = 0; s < (size_t)(0.4 * sr); s++) {
            double t = (double)s / sr;
            x[(size_t)(starts[i] * sr) + s] = (float)(0.3 * sin(2 * M_PI * pitches[i] * t) * exp(-3 * t));
        }
    voice_frame *fr;
    size_t nf;
    analyse(sr, x, n, 0.0f, &fr, &nf);
    for (int i = 0; i < 3; i++) {
        long at = lround(starts[i] * VOICE_FRAME_RATE), found = -1;
        for (long k = at - 6; k <= at + 6; k++)
            if (fr[k].flags & VOICE_ONSET) found = k;
        CHECKF(found >= 0, "no onset within 30 ms of %.2f s", starts[i]);
        CHECK_NEAR(fr[found + 10].since_onset_s, 10.0 / VOICE_FRAME_RATE, 1e-4);
        CHECK_NEAR(fr[at + 20].f0_hz, pitches[i], 0.5);
    }
    size_t total = 0;
    for (size_t k = 0; k < nf; k++) total += (fr[k].flags & VOICE_ONSET) != 0;
    CHECK_EQ_INT(total, 3);
    free(fr);
    free(x);
}

TEST(voice_analysis_follows_vibrato)
{
    const int sr = 48000;
    size_t n = sr;
    float *x = malloc(n * sizeof *x);
    double phase = 0.0;
    for (size_t i = 0; i < n; i++) {
        double f = 220.0 * exp2(0.3 / 12.0 * sin(2 * M_PI * 5.0 * i / sr)); /* +-30 cents at 5 Hz */
        phase += 2 * M_PI * f / sr;
        x[i] = (float)(0.3 * sin(phase) + 0.1 * sin(2 * phase) + 0.05 * sin(3 * phase));
    }
    voice_frame *fr;
    size_t nf;
    analyse(sr, x, n, 0.0f, &fr, &nf);
    double worst = 0.0;
    for (size_t k = 30; k < nf - 30; k++) {
        double t = (double)k / VOICE_FRAME_RATE;
        double want = 220.0 * exp2(0.3 / 12.0 * sin(2 * M_PI * 5.0 * t));
        worst = fmax(worst, fabs(1200.0 * log2(fr[k].f0_hz / want)));
    }
    CHECKF(worst < 3.0, "f0 strays %.2f cents from a 30-cent vibrato", worst);
    free(fr);
    free(x);
}

TEST(voice_analysis_refuses_pitches_far_from_the_hint_and_bad_input)
{
    double amps[3] = {0.3, 0.1, 0.05};
    size_t n, nf;
    float *x = tone(48000, 0.5, 220.0, amps, 3, 0.0, 1, &n);
    voice_frame *fr;
    analyse(48000, x, n, 300.0f, &fr, &nf); /* five semitones off: not this note */
    for (size_t k = 0; k < nf; k++) CHECK(!(fr[k].flags & VOICE_VOICED));
    CHECK_NEAR(fr[50].f0_hz, 300.0, 1e-3); /* measured where the hint says, for lack of better */
    free(fr);
    analyse(48000, x, n, 110.0f, &fr, &nf); /* an octave off: folded into the hint's octave */
    CHECK(fr[50].flags & VOICE_VOICED);
    CHECK_NEAR(fr[50].f0_hz, 110.0, 0.05);
    free(fr);
    char err[256];
    voice_analyser *a = voice_analyser_new(48000, err, sizeof err);
    x[100] = NAN;
    CHECK(voice_analyse(a, x, n, NULL, &fr, &nf, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "sample 100 is not a number");
    CHECK(voice_analyse(a, x, 0, NULL, &fr, &nf, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "no samples");
    voice_analyser_free(a);
    CHECK(voice_analyser_new(8000, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "8000 Hz is not supported");
    free(x);
}

TEST(voice_analysis_is_repeatable_on_one_analyser)
{
    /* an analyser keeps no trace of the signal before: the same input gives the same frames */
    double amps[3] = {0.3, 0.2, 0.1};
    size_t n, n2;
    float *x = tone(48000, 0.7, 330.0, amps, 3, 0.01, 3, &n);
    float *other = tone(48000, 0.4, 100.0, amps, 3, 0.05, 4, &n2);
    for (size_t i = 0; i < n; i++) x[i] *= (float)fmin(1.0, (double)i / 4800.0) * (i > n / 2 ? 0.3f : 1.0f);
    char err[256];
    voice_analyser *a = voice_analyser_new(48000, err, sizeof err);
    voice_frame *f1, *f2, *f3;
    size_t nf1, nf2, nf3;
    CHECK(voice_analyse(a, x, n, NULL, &f1, &nf1, err, sizeof err) == 0);
    CHECK(voice_analyse(a, other, n2, NULL, &f2, &nf2, err, sizeof err) == 0);
    CHECK(voice_analyse(a, x, n, NULL, &f3, &nf3, err, sizeof err) == 0);
    CHECK_EQ_INT(nf1, nf3);
    for (size_t k = 0; k < nf1; k++)
        CHECKF(!memcmp(&f1[k], &f3[k], sizeof *f1), "frame %zu differs: f0 %g/%g, loudness %g/%g, flags %u/%u, h1 %g/%g, noise0 %g/%g",
               k, f1[k].f0_hz, f3[k].f0_hz, f1[k].loudness_db, f3[k].loudness_db, f1[k].flags, f3[k].flags,
               f1[k].harm[0], f3[k].harm[0], f1[k].noise_db[0], f3[k].noise_db[0]);
    size_t onsets = 0;
    for (size_t k = 0; k < nf1; k++) onsets += (f1[k].flags & VOICE_ONSET) != 0;
    CHECK(onsets >= 1);
    free(f1);
    free(f2);
    free(f3);
    voice_analyser_free(a);
    free(x);
    free(other);
}
