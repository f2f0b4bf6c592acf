/* resynth.c: offline harmonic-plus-noise synthesis from voice_frame features. */
#include "engine/voice/resynth.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void harmonic_part(const voice_frame *fr, size_t nf, int sr, float *out, size_t n)
{
    const double nyq = 0.5 * sr, fade_from = 0.45 * sr;
    double phase = 0.0;
    for (size_t i = 0; i < n; i++) {
        double u = (double)i * VOICE_FRAME_RATE / sr;
        size_t k0 = (size_t)u;
        double frac = u - (double)k0;
        if (k0 >= nf - 1) {
            k0 = nf - 1;
            frac = 0.0;
        }
        size_t k1 = k0 + 1 < nf ? k0 + 1 : k0;
        const voice_frame *a = &fr[k0], *b = &fr[k1];
        double fa = a->f0_hz, fb = b->f0_hz;
        /* a frame without a pitch has no harmonics: keep the other frame's pitch while fading */
        double ga = fa > 0.0 ? 1.0 : 0.0, gb = fb > 0.0 ? 1.0 : 0.0;
        if (fa <= 0.0) fa = fb;
        if (fb <= 0.0) fb = fa;
        double f0 = fa + frac * (fb - fa);
        if (f0 <= 0.0) continue;
        phase += 2.0 * M_PI * f0 / sr;
        if (phase > 2.0 * M_PI) phase -= 2.0 * M_PI * floor(phase / (2.0 * M_PI));
        double s1 = sin(phase), c2 = 2.0 * cos(phase), sm = 0.0, sh = s1, acc = 0.0;
        double wa = (1.0 - frac) * ga, wb = frac * gb;
        for (int h = 1; h <= VOICE_HARMONICS; h++) {
            double fh = h * f0;
            if (fh >= nyq) break;
            double amp = wa * a->harm[h - 1] + wb * b->harm[h - 1];
            if (fh > fade_from) amp *= (nyq - fh) / (nyq - fade_from);
            acc += amp * sh;
            double next = c2 * sh - sm;
            sm = sh;
            sh = next;
        }
        out[i] += (float)acc;
    }
}

static int noise_part(const voice_frame *fr, size_t nf, int sr, uint32_t seed, float *out, size_t n)
{
    int big = 8 * sr / VOICE_FRAME_RATE, len = 256;
    while (len < big) len *= 2; /* 2048 at 48 kHz: 23 Hz bins, a block every 10.7 ms */
    int hop = len / 4, nb = len / 2;
    float *buf = fftwf_malloc(sizeof(float) * (size_t)len);
    fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(nb + 1));
    int *band_of = malloc(sizeof(int) * (size_t)(nb + 1));
    double *pos = malloc(sizeof(double) * (size_t)(nb + 1));
    double *win = malloc(sizeof(double) * (size_t)len);
    fftwf_plan plan = buf && spec ? fftwf_plan_dft_c2r_1d(len, spec, buf, FFTW_ESTIMATE) : NULL;
    if (!plan || !band_of || !pos || !win) {
        if (plan) fftwf_destroy_plan(plan);
        fftwf_free(buf);
        fftwf_free(spec);
        free(band_of);
        free(pos);
        free(win);
        return -1;
    }
    /* The noise of each band is spread over its bins as a power density interpolated in dB
     * between band centres, so that narrow bands, a few bins wide, keep their level. */
    const double *edge = voice_band_edges();
    double centre[VOICE_BANDS];
    for (int b = 0; b < VOICE_BANDS; b++) centre[b] = voice_band_centre(b);
    const double df = (double)sr / len;
    for (int k = 0; k <= nb; k++) {
        double f = k * df;
        int b = 0;
        while (b < VOICE_BANDS - 1 && centre[b + 1] <= f) b++;
        band_of[k] = k == 0 || k == nb || f >= edge[VOICE_BANDS] ? -1 : b;
        /* weight of centre b + 1 against centre b */
        pos[k] = f <= centre[0] || b == VOICE_BANDS - 1 ? 0.0 : (f - centre[b]) / (centre[b + 1] - centre[b]);
    }
    for (int i = 0; i < len; i++) win[i] = sin(M_PI * (i + 0.5) / len) / sqrt(2.0);
    uint32_t rng = seed * 2654435761u + 0x9e3779b9u;
    if (!rng) rng = 1;
    for (long c = 0; c - len / 2 < (long)n; c += hop) {
        double u = (double)c * VOICE_FRAME_RATE / sr;
        size_t k0 = (size_t)u;
        double frac = u - (double)k0;
        if (k0 >= nf - 1) {
            k0 = nf - 1;
            frac = 0.0;
        }
        size_t k1 = k0 + 1 < nf ? k0 + 1 : k0;
        double level[VOICE_BANDS], total = 0.0; /* power density per band in dB re 1/Hz */
        for (int b = 0; b < VOICE_BANDS; b++) {
            double pa = fr[k0].noise_db[b] <= VOICE_FLOOR_DB + 0.01f ? 0.0 : pow(10.0, fr[k0].noise_db[b] / 10.0);
            double pb = fr[k1].noise_db[b] <= VOICE_FLOOR_DB + 0.01f ? 0.0 : pow(10.0, fr[k1].noise_db[b] / 10.0);
            double p = pa + frac * (pb - pa);
            total += p;
            level[b] = 10.0 * log10(p / (edge[b + 1] - edge[b]) + 1e-30);
        }
        if (total <= 0.0) continue;
        for (int k = 0; k <= nb; k++) {
            int b = band_of[k];
            double p = 0.0;
            if (b >= 0) {
                double d = b + 1 < VOICE_BANDS ? level[b] + pos[k] * (level[b + 1] - level[b]) : level[b];
                p = pow(10.0, d / 10.0) * df;
            }
            double mag = sqrt(0.5 * p);
            double th = 2.0 * M_PI * (rng_next(&rng) / 4294967296.0);
            spec[k][0] = (float)(mag * cos(th));
            spec[k][1] = (float)(mag * sin(th));
        }
        spec[0][1] = spec[nb][1] = 0.0f;
        fftwf_execute(plan);
        for (int i = 0; i < len; i++) {
            long idx = c - len / 2 + i;
            if (idx >= 0 && (size_t)idx < n) out[idx] += (float)(buf[i] * win[i]);
        }
    }
    fftwf_destroy_plan(plan);
    fftwf_free(buf);
    fftwf_free(spec);
    free(band_of);
    free(pos);
    free(win);
    return 0;
}

int voice_resynth_parts(const voice_frame *frames, size_t n_frames, int sample_rate, uint32_t seed,
                        int parts, float *out, size_t n_out)
{
    memset(out, 0, n_out * sizeof *out);
    if (!n_frames || !n_out) return 0;
    if (parts & VOICE_RESYNTH_HARMONIC) harmonic_part(frames, n_frames, sample_rate, out, n_out);
    if (parts & VOICE_RESYNTH_NOISE)
        return noise_part(frames, n_frames, sample_rate, seed, out, n_out);
    return 0;
}

int voice_resynth(const voice_frame *frames, size_t n_frames, int sample_rate, uint32_t seed,
                  float *out, size_t n_out)
{
    return voice_resynth_parts(frames, n_frames, sample_rate, seed,
                               VOICE_RESYNTH_HARMONIC | VOICE_RESYNTH_NOISE, out, n_out);
}
