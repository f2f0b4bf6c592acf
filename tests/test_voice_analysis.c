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
