/* specdist.c: multi-scale log-spectral distance (FFTW). */
#include "engine/voice/specdist.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const int voice_msd_sizes[VOICE_MSD_SCALES] = {2048, 1024, 512, 256, 128, 64};

/* Mean |dB difference| at one FFT size. */
static double one_scale(const float *a, const float *b, size_t n, int len, float *buf,
                        fftwf_complex *xa, fftwf_complex *xb, fftwf_plan plan, double *win)
{
    double wsum = 0.0;
    for (int i = 0; i < len; i++) {
        win[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / len);
        wsum += win[i];
    }
    const double norm = 4.0 / (wsum * wsum); /* a sine of amplitude 1 reads 0 dB at its peak */
    const double floor_p = pow(10.0, VOICE_MSD_FLOOR_DB / 10.0);
    int hop = len / 4, nb = len / 2;
    double sum = 0.0;
    size_t count = 0;
    for (long c = 0; c < (long)n; c += hop) {
        for (int pass = 0; pass < 2; pass++) {
            const float *x = pass ? b : a;
            for (int i = 0; i < len; i++) {
                long idx = c - len / 2 + i;
                buf[i] = idx >= 0 && (size_t)idx < n ? (float)(x[idx] * win[i]) : 0.0f;
            }
            fftwf_execute_dft_r2c(plan, buf, pass ? xb : xa);
        }
        for (int k = 0; k <= nb; k++) {
            double pa = ((double)xa[k][0] * xa[k][0] + (double)xa[k][1] * xa[k][1]) * norm;
            double pb = ((double)xb[k][0] * xb[k][0] + (double)xb[k][1] * xb[k][1]) * norm;
            sum += fabs(10.0 * log10((pa + floor_p) / (pb + floor_p)));
        }
        count += (size_t)nb + 1;
    }
    return count ? sum / (double)count : 0.0;
}

double voice_msd(const float *a, const float *b, size_t n, double *per_scale)
{
    int maxlen = voice_msd_sizes[0];
    float *buf = fftwf_malloc(sizeof(float) * (size_t)maxlen);
    fftwf_complex *xa = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(maxlen / 2 + 1));
    fftwf_complex *xb = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(maxlen / 2 + 1));
    double *win = malloc(sizeof(double) * (size_t)maxlen);
    double total = -1.0;
    if (buf && xa && xb && win) {
        total = 0.0;
        for (int s = 0; s < VOICE_MSD_SCALES && total >= 0.0; s++) {
            int len = voice_msd_sizes[s];
            fftwf_plan plan = fftwf_plan_dft_r2c_1d(len, buf, xa, FFTW_ESTIMATE);
            if (!plan) {
                total = -1.0;
                break;
            }
            double d = one_scale(a, b, n, len, buf, xa, xb, plan, win);
            fftwf_destroy_plan(plan);
            if (per_scale) per_scale[s] = d;
            total += d / VOICE_MSD_SCALES;
        }
    }
    fftwf_free(buf);
    fftwf_free(xa);
    fftwf_free(xb);
    free(win);
    return total;
}
