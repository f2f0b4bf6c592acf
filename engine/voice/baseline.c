/* baseline.c: the average-spectrum baseline. */
#include "engine/voice/baseline.h"
#include "engine/voice/analysis.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

static double band_a2[VOICE_BANDS];
static pthread_once_t band_a2_once = PTHREAD_ONCE_INIT;

/* The mean of the squared A-weighting over each band. */
static void band_a2_init(void)
{
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++) {
        double s = 0.0;
        for (int i = 0; i < 32; i++) {
            double f = e[b] + (e[b + 1] - e[b]) * (i + 0.5) / 32.0;
            s += pow(10.0, voice_a_weight_db(f) / 10.0);
        }
        band_a2[b] = s / 32.0;
    }
}

double voice_frame_a_power(const voice_frame *f, int sr)
{
    pthread_once(&band_a2_once, band_a2_init);
    double p = 0.0;
    for (int h = 0; h < VOICE_HARMONICS; h++) {
        double fh = (h + 1) * (double)f->f0_hz;
        if (f->f0_hz <= 0.0f || fh >= 0.5 * sr) break;
        p += 0.5 * f->harm[h] * f->harm[h] * pow(10.0, voice_a_weight_db(fh) / 10.0);
    }
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS && e[b] < 0.5 * sr; b++)
        if (f->noise_db[b] > VOICE_FLOOR_DB) p += pow(10.0, f->noise_db[b] / 10.0) * band_a2[b];
    return p;
}

void voice_timbre_avg_init(voice_timbre_avg *t) { memset(t, 0, sizeof *t); }

void voice_timbre_avg_add(voice_timbre_avg *t, const voice_frame *fr, size_t n, int sr)
{
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < n; k++)
        if (fr[k].loudness_db > loudest) loudest = fr[k].loudness_db;
    const double *e = voice_band_edges();
    for (size_t k = 0; k < n; k++) {
        const voice_frame *f = &fr[k];
        if (f->f0_hz <= 0.0f || f->loudness_db < loudest - 30.0f) continue;
        double p = 0.0, noise[VOICE_BANDS];
        int nh = 0;
        while (nh < VOICE_HARMONICS && (nh + 1) * (double)f->f0_hz < 0.5 * sr) nh++;
        for (int h = 0; h < nh; h++) p += 0.5 * f->harm[h] * f->harm[h];
        for (int b = 0; b < VOICE_BANDS; b++) {
            noise[b] = f->noise_db[b] > VOICE_FLOOR_DB ? pow(10.0, f->noise_db[b] / 10.0) : 0.0;
            if (e[b + 1] <= 0.5 * sr) p += noise[b];
        }
        if (!(p > 0.0)) continue;
        /* averaged in dB (a geometric mean): a few noisy or odd frames do not swamp the rest */
        double g = 1.0 / sqrt(p);
        for (int h = 0; h < nh; h++) {
            t->harm_sum[h] += 20.0 * log10(fmax(f->harm[h] * g, 1e-6));
            t->harm_n[h]++;
        }
        for (int b = 0; b < VOICE_BANDS; b++)
            if (e[b + 1] <= 0.5 * sr) {
                t->noise_sum[b] += 10.0 * log10(fmax(noise[b] * g * g, 1e-12));
                t->noise_n[b]++;
            }
        t->frames++;
    }
}

void voice_timbre_avg_finish(voice_timbre_avg *t)
{
    for (int h = 0; h < VOICE_HARMONICS; h++)
        t->harm[h] = t->harm_n[h] ? (float)pow(10.0, t->harm_sum[h] / t->harm_n[h] / 20.0) : 0.0f;
    for (int b = 0; b < VOICE_BANDS; b++)
        t->noise[b] = t->noise_n[b] ? (float)pow(10.0, t->noise_sum[b] / t->noise_n[b] / 10.0) : 0.0f;
}

void voice_timbre_avg_frames(const voice_timbre_avg *t, const voice_frame *src, size_t n, int sr,
                             voice_frame *out)
{
    for (size_t k = 0; k < n; k++) {
        voice_frame *f = &out[k];
        memset(f, 0, sizeof *f);
        f->f0_hz = src[k].f0_hz;
        f->periodicity = src[k].periodicity;
        f->loudness_db = src[k].loudness_db;
        f->since_onset_s = src[k].since_onset_s;
        f->flags = src[k].flags;
        for (int b = 0; b < VOICE_BANDS; b++) f->noise_db[b] = VOICE_FLOOR_DB;
        if (src[k].loudness_db <= VOICE_FLOOR_DB + 1.0f) continue;
        for (int h = 0; h < VOICE_HARMONICS; h++)
            f->harm[h] = f->f0_hz > 0.0f && (h + 1) * (double)f->f0_hz < 0.5 * sr ? t->harm[h] : 0.0f;
        for (int b = 0; b < VOICE_BANDS; b++)
            f->noise_db[b] = t->noise[b] > 0.0f ? (float)(10.0 * log10(t->noise[b])) : VOICE_FLOOR_DB;
        double pa = voice_frame_a_power(f, sr);
        if (!(pa > 0.0)) continue;
        double g2 = pow(10.0, src[k].loudness_db / 10.0) / pa;
        double g = sqrt(g2), gdb = 10.0 * log10(g2);
        for (int h = 0; h < VOICE_HARMONICS; h++) f->harm[h] = (float)fmin(1000.0, f->harm[h] * g);
        for (int b = 0; b < VOICE_BANDS; b++)
            if (t->noise[b] > 0.0f)
                f->noise_db[b] = (float)fmax(VOICE_FLOOR_DB, fmin(100.0, f->noise_db[b] + gdb));
    }
}
