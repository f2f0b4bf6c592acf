/* specdist.c: multi-scale log-spectral distance (FFTW). */
#include "engine/voice/specdist.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const int voice_msd_sizes[VOICE_MSD_SCALES] = {2048, 1024, 512, 256, 128, 64};

/* Power spectrum of frame c (centred at sample c) of x into p[0..len/2], a sine of amplitude 1
 * reading 1 at its peak. */
static void frame_power(const float *x, size_t n, long c, int len, const double *win, double norm,
                        float *buf, fftwf_complex *spec, fftwf_plan plan, double *p)
{
    for (int i = 0; i < len; i++) {
        long idx = c - len / 2 + i;
        buf[i] = idx >= 0 && (size_t)idx < n ? (float)(x[idx] * win[i]) : 0.0f;
    }
    fftwf_execute_dft_r2c(plan, buf, spec);
    for (int k = 0; k <= len / 2; k++)
        p[k] = ((double)spec[k][0] * spec[k][0] + (double)spec[k][1] * spec[k][1]) * norm;
}

/* Mean |dB difference| at one FFT size. */
static double one_scale(const float *a, const float *b, size_t n, int len, float *buf,
                        fftwf_complex *spec, fftwf_plan plan, double *win, double *pa, double *pb)
{
    double wsum = 0.0;
    for (int i = 0; i < len; i++) {
        win[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / len);
        wsum += win[i];
    }
    const double norm = 4.0 / (wsum * wsum);
    const int hop = len / 4, nb = len / 2;
    /* the floor: VOICE_MSD_RANGE_DB below the original's loudest bin at this size */
    double top = 0.0;
    for (long c = 0; c < (long)n; c += hop) {
        frame_power(a, n, c, len, win, norm, buf, spec, plan, pa);
        for (int k = 0; k <= nb; k++)
            if (pa[k] > top) top = pa[k];
    }
    const double floor_p = fmax(top * pow(10.0, -VOICE_MSD_RANGE_DB / 10.0), 1e-30);
    double sum = 0.0;
    size_t count = 0;
    for (long c = 0; c < (long)n; c += hop) {
        frame_power(a, n, c, len, win, norm, buf, spec, plan, pa);
        frame_power(b, n, c, len, win, norm, buf, spec, plan, pb);
        for (int k = 0; k <= nb; k++) sum += fabs(10.0 * log10((pa[k] + floor_p) / (pb[k] + floor_p)));
        count += (size_t)nb + 1;
    }
    return count ? sum / (double)count : 0.0;
}

double voice_msd(const float *a, const float *b, size_t n, double *per_scale)
{
    int maxlen = voice_msd_sizes[0];
    float *buf = fftwf_malloc(sizeof(float) * (size_t)maxlen);
    fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(maxlen / 2 + 1));
    double *win = malloc(sizeof(double) * (size_t)maxlen);
    double *pa = malloc(sizeof(double) * (size_t)(maxlen / 2 + 1));
    double *pb = malloc(sizeof(double) * (size_t)(maxlen / 2 + 1));
    double total = -1.0;
    if (buf && spec && win && pa && pb) {
        total = 0.0;
        for (int s = 0; s < VOICE_MSD_SCALES; s++) {
            int len = voice_msd_sizes[s];
            fftwf_plan plan = fftwf_plan_dft_r2c_1d(len, buf, spec, FFTW_ESTIMATE);
            if (!plan) {
                total = -1.0;
                break;
            }
            double d = one_scale(a, b, n, len, buf, spec, plan, win, pa, pb);
            fftwf_destroy_plan(plan);
            if (per_scale) per_scale[s] = d;
            total += d / VOICE_MSD_SCALES;
        }
    }
    fftwf_free(buf);
    fftwf_free(spec);
    free(win);
    free(pa);
    free(pb);
    return total;
}
