/* analysis.c: monophonic audio -> voice_frame features (see analysis.h and docs/voices-data.md).
 *
 * Harmonic amplitudes: each frame is windowed with a zero-phase Hann window 5 periods of f0
 * long (20..170 ms), so neighbouring partials are resolved. Partial frequencies come from
 * spectral reassignment (a second FFT with the window's derivative), which is exact for a
 * steady sinusoid; where no clear peak is found the partial is assumed at its expected place.
 * The complex amplitudes of all partials are then fitted jointly by least squares to the bins
 * around them, using the window's exact transform, so a weak partial beside a strong one is not
 * mistaken for the strong one's sidelobe. The fitted partials are subtracted from the spectrum
 * and what is left is summed into mel-spaced noise bands. */
#include "engine/voice/analysis.h"
#include "engine/util.h"

#include <aubio/aubio.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_LOG2 9
#define MAX_LOG2 18
#define WINDOW_PERIODS 5.0     /* harmonic window length in periods of f0 */
#define MIN_WINDOW_S 0.020
#define MAX_WINDOW_S 0.170
#define NOISE_WINDOW_S 0.040    /* window for frames without any pitch */
#define LOUD_WINDOW_S 0.0427    /* fixed window for loudness (2047 samples at 48 kHz) */
#define PITCH_WINDOW_S 0.085    /* aubio yinfast buffer (4096 samples at 48 kHz) */
#define FIT_HALF 1.5            /* window bins each side of a partial that the fit uses */
#define KERNEL_HALF 10.0        /* window bins each side of a partial that its model covers */
#define SEARCH_HALF 0.3         /* fraction of f0 each side of the expected partial searched */
#define GATE_BELOW_PEAK_DB 60.0

struct voice_analyser {
    int sr;
    int max_m;
    fftwf_plan plan[MAX_LOG2 + 1];
    float *in, *in2;
    fftwf_complex *out, *out2;
    /* harmonic window cache */
    int win_len;
    double *win, *dwin;
    /* loudness */
    int loud_len, loud_m;
    double *loud_win, loud_wsum2, *loud_a2;
    /* pitch */
    aubio_pitch_t *pitch;
    fvec_t *pin, *pout;
    int pitch_len;
    /* onsets */
    aubio_onset_t *onset;
    fvec_t *oin, *oout;
    int onset_hop, onset_buf;
    /* least-squares scratch */
    double *kp, *km, *kd;     /* per partial over its span: model kernels (real and imaginary
                               * parts) and the window transform's derivative */
    int span_lo[VOICE_HARMONICS], span_n[VOICE_HARMONICS], span_w;
    double gp[VOICE_HARMONICS][VOICE_HARMONICS], gm[VOICE_HARMONICS][VOICE_HARMONICS];
    double bp[VOICE_HARMONICS], bm[VOICE_HARMONICS];
    unsigned char *fit;
    double *x0r, *x0i;        /* the frame's spectrum */
    double *xr, *xi;          /* what the fitted partials leave of it */
    double gap[VOICE_HARMONICS + 1];  /* mean residual energy per bin in the gap below each partial */
    double gap_fill[VOICE_HARMONICS]; /* the noise energy per bin taken near each partial */
};

void voice_analysis_defaults(voice_analysis_opts *o)
{
    memset(o, 0, sizeof *o);
    o->f0_min_hz = 25.0f;
    o->f0_max_hz = 4200.0f;
    o->min_periodicity = 0.5f;
    o->onsets = VOICE_ONSETS_DETECT;
}

double voice_a_weight_db(double f)
{
    if (f <= 0.0) return -INFINITY;
    double f2 = f * f;
    double ra = 12194.0 * 12194.0 * f2 * f2 /
                ((f2 + 20.6 * 20.6) * sqrt((f2 + 107.7 * 107.7) * (f2 + 737.9 * 737.9)) *
                 (f2 + 12194.0 * 12194.0));
    return 20.0 * log10(ra) + 2.0;
}

size_t voice_frame_count(size_t n, int sr)
{
    if (!n || sr <= 0) return 0;
    return (size_t)floor((double)(n - 1) * VOICE_FRAME_RATE / sr) + 1;
}

static int odd_len(double samples)
{
    int l = (int)lround(samples);
    if (l < 3) l = 3;
    return l | 1;
}

static int pow2_at_least(int n)
{
    int m = 1 << MIN_LOG2;
    while (m < n) m <<= 1;
    return m;
}

static int log2i(int m)
{
    int k = 0;
    while ((1 << k) < m) k++;
    return k;
}

int voice_analyser_rate(const voice_analyser *a) { return a->sr; }

void voice_analyser_free(voice_analyser *a)
{
    if (!a) return;
    for (int i = 0; i <= MAX_LOG2; i++)
        if (a->plan[i]) fftwf_destroy_plan(a->plan[i]);
    fftwf_free(a->in);
    fftwf_free(a->in2);
    fftwf_free(a->out);
    fftwf_free(a->out2);
    free(a->win);
    free(a->dwin);
    free(a->loud_win);
    free(a->loud_a2);
    if (a->pitch) del_aubio_pitch(a->pitch);
    if (a->pin) del_fvec(a->pin);
    if (a->pout) del_fvec(a->pout);
    if (a->onset) del_aubio_onset(a->onset);
    if (a->oin) del_fvec(a->oin);
    if (a->oout) del_fvec(a->oout);
    free(a->kp);
    free(a->km);
    free(a->fit);
    free(a->xr);
    free(a->xi);
    free(a->x0r);
    free(a->x0i);
    free(a->kd);
    free(a);
}

voice_analyser *voice_analyser_new(int sr, char *err, size_t errlen)
{
    if (sr < VOICE_MIN_RATE || sr > VOICE_MAX_RATE) {
        bm_errf(err, errlen,
                "a sample rate of %d Hz is not supported; use %d to %d Hz (e.g. convert with "
                "'sox IN.wav -r 48000 OUT.wav')",
                sr, VOICE_MIN_RATE, VOICE_MAX_RATE);
        return NULL;
    }
    voice_analyser *a = calloc(1, sizeof *a);
    if (!a) goto oom;
    a->sr = sr;
    int max_len = odd_len(MAX_WINDOW_S * sr) + 40;
    a->max_m = pow2_at_least(2 * max_len);
    a->in = fftwf_malloc(sizeof(float) * (size_t)a->max_m);
    a->in2 = fftwf_malloc(sizeof(float) * (size_t)a->max_m);
    a->out = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(a->max_m / 2 + 1));
    a->out2 = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(a->max_m / 2 + 1));
    a->win = malloc(sizeof(double) * (size_t)max_len);
    a->dwin = malloc(sizeof(double) * (size_t)max_len);
    a->fit = malloc((size_t)a->max_m / 2 + 1);
    a->xr = malloc(sizeof(double) * (size_t)(a->max_m / 2 + 1));
    a->xi = malloc(sizeof(double) * (size_t)(a->max_m / 2 + 1));
    a->x0r = malloc(sizeof(double) * (size_t)(a->max_m / 2 + 1));
    a->x0i = malloc(sizeof(double) * (size_t)(a->max_m / 2 + 1));
    /* a partial's span is at most 2 * KERNEL_HALF window bins of at most 4 FFT bins each */
    a->span_w = (int)(2 * KERNEL_HALF * 4) + 8;
    a->kp = malloc(sizeof(double) * (size_t)(VOICE_HARMONICS * a->span_w));
    a->km = malloc(sizeof(double) * (size_t)(VOICE_HARMONICS * a->span_w));
    a->kd = malloc(sizeof(double) * (size_t)(VOICE_HARMONICS * a->span_w));
    if (!a->in || !a->in2 || !a->out || !a->out2 || !a->win || !a->dwin || !a->fit || !a->xr ||
        !a->xi || !a->x0r || !a->x0i || !a->kp || !a->km || !a->kd)
        goto oom;
    for (int k = MIN_LOG2; k <= MAX_LOG2 && (1 << k) <= a->max_m; k++) {
        a->plan[k] = fftwf_plan_dft_r2c_1d(1 << k, a->in, a->out, FFTW_ESTIMATE);
        if (!a->plan[k]) goto oom;
    }

    a->loud_len = odd_len(LOUD_WINDOW_S * sr);
    if (!(a->loud_len & 2)) a->loud_len -= 2; /* 2047 rather than 2049 at 48 kHz */
    a->loud_m = pow2_at_least(a->loud_len);
    a->loud_win = malloc(sizeof(double) * (size_t)a->loud_len);
    a->loud_a2 = malloc(sizeof(double) * (size_t)(a->loud_m / 2 + 1));
    if (!a->loud_win || !a->loud_a2) goto oom;
    a->loud_wsum2 = 0.0;
    for (int i = 0; i < a->loud_len; i++) {
        double m = i - (a->loud_len - 1) / 2;
        a->loud_win[i] = 0.5 + 0.5 * cos(2.0 * M_PI * m / (a->loud_len + 1));
        a->loud_wsum2 += a->loud_win[i] * a->loud_win[i];
    }
    for (int k = 0; k <= a->loud_m / 2; k++) {
        double g = voice_a_weight_db((double)k * sr / a->loud_m);
        a->loud_a2[k] = isfinite(g) ? pow(10.0, g / 10.0) : 0.0;
    }

    a->pitch_len = pow2_at_least((int)(PITCH_WINDOW_S * sr * 0.75));
    a->pitch = new_aubio_pitch("yinfast", (uint_t)a->pitch_len, (uint_t)a->pitch_len, (uint_t)sr);
    a->pin = new_fvec((uint_t)a->pitch_len);
    a->pout = new_fvec(1);
    a->onset_hop = 1;
    while (a->onset_hop * 2 <= sr / VOICE_FRAME_RATE + 16) a->onset_hop *= 2; /* 256 at 48 kHz */
    a->onset_buf = a->onset_hop * 4;
    a->onset = new_aubio_onset("complex", (uint_t)a->onset_buf, (uint_t)a->onset_hop, (uint_t)sr);
    if (a->onset) {
        aubio_onset_set_minioi_ms(a->onset, 60.0f);
        aubio_onset_set_awhitening(a->onset, 0); /* its memory outlives a signal */
    }
    a->oin = new_fvec((uint_t)a->onset_hop);
    a->oout = new_fvec(1);
    if (!a->pitch || !a->pin || !a->pout || !a->onset || !a->oin || !a->oout) goto oom;
    aubio_pitch_set_unit(a->pitch, "Hz");
    aubio_pitch_set_silence(a->pitch, -120.0f);
    return a;
oom:
    voice_analyser_free(a);
    bm_errf(err, errlen, "out of memory while preparing the analysis");
    return NULL;
}

/* Copies x[c-half .. c+half] (zero outside the signal) times w into buf, centred at index 0
 * (circularly: zero phase), the rest of the M-point buffer zero. */
static void gather(const float *x, size_t n, long c, int len, const double *w, float *buf, int m)
{
    memset(buf, 0, sizeof(float) * (size_t)m);
    int half = (len - 1) / 2;
    for (int i = -half; i <= half; i++) {
        long idx = c + i;
        if (idx < 0 || (size_t)idx >= n) continue;
        buf[(i + m) % m] = (float)(x[idx] * w[i + half]);
    }
}

/* The zero-phase Hann window of odd length l, w(m) = 1/2 + 1/2 cos(2 pi m / (l + 1)), has the
 * real transform W(t) = D(t)/2 + (D(t - a) + D(t + a))/4 with a = 2 pi / (l + 1) and the
 * Dirichlet kernel D(t) = sin(t l / 2) / sin(t / 2). hann_kernel writes W and its derivative W'
 * at t0, t0 + dt, ... (n points; dw may be NULL), advancing the sines by rotation. */
static void hann_kernel(int l, double t0, double dt, int n, double *w, double *dw)
{
    double sa, ca, sA, cA, sB, cB, sdA, cdA, sdB, cdB;
    sincos(M_PI / (l + 1), &sa, &ca); /* half of a */
    sincos(0.5 * t0 * l, &sA, &cA);
    sincos(0.5 * t0, &sB, &cB);
    sincos(0.5 * dt * l, &sdA, &cdA);
    sincos(0.5 * dt, &sdB, &cdB);
    const double k3 = l * ((double)l * l - 1.0) / 12.0;
    for (int i = 0; i < n; i++) {
        /* sin(u l / 2), cos(u l / 2), sin(u / 2), cos(u / 2) for u = t, t - a, t + a */
        double s[3] = {sA, -(sA * ca + cA * sa), -(sA * ca - cA * sa)};
        double c[3] = {cA, -(cA * ca - sA * sa), -(cA * ca + sA * sa)};
        double d[3] = {sB, sB * ca - cB * sa, sB * ca + cB * sa};
        double e[3] = {cB, cB * ca + sB * sa, cB * ca - sB * sa};
        double wv = 0.0, dv = 0.0;
        for (int j = 0; j < 3; j++) {
            double g = j ? 0.25 : 0.5;
            wv += g * (fabs(d[j]) < 1e-9 ? l : s[j] / d[j]);
            if (dw) /* near a peak of D, D'(u) = -u l (l^2 - 1) / 12 with u = 2 d / e */
                dv += g * (fabs(d[j]) < 1e-6 ? -2.0 * d[j] / e[j] * k3
                                             : (0.5 * l * c[j] * d[j] - 0.5 * s[j] * e[j]) / (d[j] * d[j]));
        }
        w[i] = wv;
        if (dw) dw[i] = dv;
        double t;
        t = sA * cdA + cA * sdA;
        cA = cA * cdA - sA * sdA;
        sA = t;
        t = sB * cdB + cB * sdB;
        cB = cB * cdB - sB * sdB;
        sB = t;
    }
}

static void set_window(voice_analyser *a, int len)
{
    if (a->win_len == len) return;
    a->win_len = len;
    int half = (len - 1) / 2;
    double step = 2.0 * M_PI / (len + 1);
    for (int i = -half; i <= half; i++) {
        a->win[i + half] = 0.5 + 0.5 * cos(step * i);
        a->dwin[i + half] = -0.5 * step * sin(step * i);
    }
}

/* Loudness (A-weighted) and unweighted level, in dB re full scale, of the frame centred at c. */
static void frame_levels(voice_analyser *a, const float *x, size_t n, long c, float *loud_db,
                         double *level_db)
{
    gather(x, n, c, a->loud_len, a->loud_win, a->in, a->loud_m);
    fftwf_execute_dft_r2c(a->plan[log2i(a->loud_m)], a->in, a->out);
    double pa = 0.0, p = 0.0;
    for (int k = 0; k <= a->loud_m / 2; k++) {
        double e = (double)a->out[k][0] * a->out[k][0] + (double)a->out[k][1] * a->out[k][1];
        if (k > 0 && k < a->loud_m / 2) e *= 2.0;
        pa += e * a->loud_a2[k];
        p += e;
    }
    double norm = (double)a->loud_m * a->loud_wsum2;
    double db = 10.0 * log10(pa / norm + 1e-30);
    *loud_db = (float)fmax(VOICE_FLOOR_DB, fmin(60.0, db));
    *level_db = 10.0 * log10(p / norm + 1e-30);
}

/* aubio's yinfft estimate and confidence for the frame centred at c. */
static void frame_pitch(voice_analyser *a, const float *x, size_t n, long c, float *f0, float *conf)
{
    long start = c - a->pitch_len / 2;
    for (int i = 0; i < a->pitch_len; i++) {
        long idx = start + i;
        a->pin->data[i] = (idx >= 0 && (size_t)idx < n) ? x[idx] : 0.0f;
    }
    aubio_pitch_do(a->pitch, a->pin, a->pout);
    *f0 = a->pout->data[0];
    float q = aubio_pitch_get_confidence(a->pitch);
    *conf = isfinite(q) ? fminf(1.0f, fmaxf(0.0f, q)) : 0.0f;
    if (!isfinite(*f0) || *f0 < 0.0f) *f0 = 0.0f;
}

/* Solves the symmetric positive definite band system g x = b (bandwidth p) in place (g becomes
 * its Cholesky factor); returns -1 when not positive definite. */
static int band_solve(double g[][VOICE_HARMONICS], double *b, int n, int p)
{
    for (int j = 0; j < n; j++) {
        int k0 = j - p > 0 ? j - p : 0;
        double d = g[j][j];
        for (int k = k0; k < j; k++) d -= g[j][k] * g[j][k];
        if (!(d > 0.0)) return -1;
        d = sqrt(d);
        g[j][j] = d;
        for (int i = j + 1; i < n && i <= j + p; i++) {
            int ki = i - p > 0 ? i - p : 0;
            double s = g[i][j];
            for (int k = (ki > k0 ? ki : k0); k < j; k++) s -= g[i][k] * g[j][k];
            g[i][j] = s / d;
        }
    }
    for (int i = 0; i < n; i++) {
        int k0 = i - p > 0 ? i - p : 0;
        double s = b[i];
        for (int k = k0; k < i; k++) s -= g[i][k] * b[k];
        b[i] = s / g[i][i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int k = i + 1; k < n && k <= i + p; k++) s -= g[k][i] * b[k];
        b[i] = s / g[i][i];
    }
    return 0;
}

/* Fits the complex amplitudes of partials at freq[0..nh) (Hz) jointly by least squares to the
 * FFT bins around them, leaving the coefficients in a->bp (real) and a->bm (imaginary), the
 * derivative kernels in a->kd (when deriv), and the residual spectrum in a->xr/a->xi. */
static int fit_partials(voice_analyser *a, int len, int m, int nh, const double *freq, int deriv)
{
    const int nb = m / 2;
    const double sr = a->sr, bin_hz = sr / m, lbin = (double)m / (len + 1);
    const double dt = 2.0 * M_PI / m, near = 2.0 * M_PI * (KERNEL_HALF + 1) / (len + 1);
    int khalf = (int)ceil(KERNEL_HALF * lbin), fhalf = (int)ceil(FIT_HALF * lbin);
    if (2 * khalf + 1 > a->span_w) khalf = (a->span_w - 1) / 2;
    memcpy(a->xr, a->x0r, sizeof(double) * (size_t)(nb + 1));
    memcpy(a->xi, a->x0i, sizeof(double) * (size_t)(nb + 1));
    memset(a->fit, 0, (size_t)nb + 1);
    double plus[128];
    for (int h = 0; h < nh; h++) {
        double w = 2.0 * M_PI * freq[h] / sr;
        int kc = (int)lround(freq[h] / bin_hz);
        int lo = kc - khalf, hi = kc + khalf;
        if (lo < 0) lo = 0;
        if (hi > nb) hi = nb;
        int cnt = hi - lo + 1;
        a->span_lo[h] = lo;
        a->span_n[h] = cnt;
        double *kp = a->kp + h * a->span_w, *km = a->km + h * a->span_w, *kd = a->kd + h * a->span_w;
        hann_kernel(len, lo * dt - w, dt, cnt, kp, deriv ? kd : NULL);
        /* the mirror image at -freq matters only near 0 Hz and near the Nyquist frequency */
        int mirror = lo * dt + w < near || hi * dt + w > 2.0 * M_PI - near;
        if (mirror) hann_kernel(len, lo * dt + w, dt, cnt, plus, NULL);
        for (int i = 0; i < cnt; i++) {
            double p = mirror ? plus[i] : 0.0;
            km[i] = kp[i] - p;
            kp[i] += p;
        }
        int f_lo = kc - fhalf > 0 ? kc - fhalf : 0, f_hi = kc + fhalf < nb ? kc + fhalf : nb;
        for (int k = f_lo; k <= f_hi; k++) a->fit[k] = 1;
    }
    /* normal equations over the fit bins; the band width is how far spans overlap */
    int p = 0;
    for (int h = 0; h < nh; h++) {
        int hi = a->span_lo[h] + a->span_n[h] - 1;
        for (int j = h + 1; j < nh && a->span_lo[j] <= hi; j++)
            if (j - h > p) p = j - h;
    }
    double maxd = 0.0;
    for (int h = 0; h < nh; h++) {
        a->bp[h] = a->bm[h] = 0.0;
        const double *kph = a->kp + h * a->span_w, *kmh = a->km + h * a->span_w;
        int lo = a->span_lo[h], hi = lo + a->span_n[h] - 1;
        for (int k = lo; k <= hi; k++)
            if (a->fit[k]) {
                a->bp[h] += kph[k - lo] * a->x0r[k];
                a->bm[h] += kmh[k - lo] * a->x0i[k];
            }
        for (int j = h; j < nh && j <= h + p; j++) {
            int lo2 = a->span_lo[j], hi2 = lo2 + a->span_n[j] - 1;
            int s = lo > lo2 ? lo : lo2, e = hi < hi2 ? hi : hi2;
            double sp = 0.0, sm = 0.0;
            const double *kpj = a->kp + j * a->span_w, *kmj = a->km + j * a->span_w;
            for (int k = s; k <= e; k++)
                if (a->fit[k]) {
                    sp += kph[k - lo] * kpj[k - lo2];
                    sm += kmh[k - lo] * kmj[k - lo2];
                }
            a->gp[j][h] = a->gp[h][j] = sp;
            a->gm[j][h] = a->gm[h][j] = sm;
        }
        if (a->gp[h][h] > maxd) maxd = a->gp[h][h];
    }
    double ridge = 1e-9 * maxd + 1e-30;
    for (int h = 0; h < nh; h++) {
        a->gp[h][h] += ridge;
        a->gm[h][h] += ridge;
    }
    if (band_solve(a->gp, a->bp, nh, p) != 0 || band_solve(a->gm, a->bm, nh, p) != 0) return -1;
    for (int h = 0; h < nh; h++) {
        if (!isfinite(a->bp[h]) || !isfinite(a->bm[h])) return -1;
        const double *kph = a->kp + h * a->span_w, *kmh = a->km + h * a->span_w;
        int lo = a->span_lo[h];
        for (int k = lo; k < lo + a->span_n[h]; k++) {
            a->xr[k] -= a->bp[h] * kph[k - lo];
            a->xi[k] -= a->bm[h] * kmh[k - lo];
        }
    }
    return 0;
}

/* Harmonic amplitudes and noise bands of the frame centred at c, measured at fundamental f0
 * (0: no pitch, everything is noise). Returns the fundamental refined from the partials found
 * (f0 itself when none was clear). */
static double frame_harmonics(voice_analyser *a, const float *x, size_t n, long c, double f0,
                              voice_frame *fr)
{
    const double sr = a->sr;
    int len = odd_len(f0 > 0.0 ? fmin(MAX_WINDOW_S * sr, fmax(MIN_WINDOW_S * sr, WINDOW_PERIODS * sr / f0))
                               : NOISE_WINDOW_S * sr);
    /* quantise the half-length so a wavering pitch does not recompute the window every frame */
    int half = ((len - 1) / 2 + 8) / 16 * 16;
    if (half < 8) half = 8;
    len = 2 * half + 1;
    int m = pow2_at_least(2 * len);
    set_window(a, len);
    gather(x, n, c, len, a->win, a->in, m);
    gather(x, n, c, len, a->dwin, a->in2, m);
    fftwf_plan plan = a->plan[log2i(m)];
    fftwf_execute_dft_r2c(plan, a->in, a->out);
    fftwf_execute_dft_r2c(plan, a->in2, a->out2);
    const int nb = m / 2;
    const double bin_hz = sr / m, lbin = (double)m / (len + 1);
    double wsum2 = 0.0;
    for (int i = 0; i < len; i++) wsum2 += a->win[i] * a->win[i];
    for (int k = 0; k <= nb; k++) {
        a->xr[k] = a->x0r[k] = a->out[k][0];
        a->xi[k] = a->x0i[k] = a->out[k][1];
    }
    memset(fr->harm, 0, sizeof fr->harm);

    int nh = 0;
    double freq[VOICE_HARMONICS];
    unsigned char found[VOICE_HARMONICS];
    double f0_ref = f0;
    int fitted = 0;
    if (f0 > 0.0) {
        /* partial frequencies: the reassigned frequency of the strongest bin near where each
         * partial is expected, when that bin is a clear peak */
        double stretch = 1.0;
        const double guard = 2.0 * sr / (len + 1); /* half the main lobe */
        for (int h = 1; h <= VOICE_HARMONICS; h++) {
            double fe = h * f0 * stretch;
            if (nh && fe < freq[nh - 1] + 0.5 * f0) fe = freq[nh - 1] + 0.5 * f0;
            if (fe + guard >= 0.5 * sr) break;
            int k0 = (int)ceil((fe - SEARCH_HALF * f0) / bin_hz);
            int k1 = (int)floor((fe + SEARCH_HALF * f0) / bin_hz);
            if (k0 < 1) k0 = 1;
            if (k1 > nb - 1) k1 = nb - 1;
            int kb = -1;
            double best = 0.0, low = INFINITY;
            for (int k = k0; k <= k1; k++) {
                double e = a->xr[k] * a->xr[k] + a->xi[k] * a->xi[k];
                if (e > best) {
                    best = e;
                    kb = k;
                }
                if (e < low) low = e;
            }
            double f = fe;
            found[nh] = 0;
            if (kb > k0 && kb < k1 && best > 4.0 * low && best > 0.0) {
                /* omega = omega_k - Im(Xd / X) */
                double re = a->xr[kb], im = a->xi[kb];
                double dre = a->out2[kb][0], dim = a->out2[kb][1];
                double q = (dim * re - dre * im) / best;
                double fr_hz = (kb - q * m / (2.0 * M_PI)) * bin_hz;
                if (fabs(fr_hz - kb * bin_hz) <= 0.75 * bin_hz * fmax(1.0, lbin / 2.0) &&
                    fabs(fr_hz - fe) <= SEARCH_HALF * f0) {
                    f = fr_hz;
                    found[nh] = 1;
                    double st = f / (h * f0);
                    if (st > 0.98 && st < 1.08) stretch = st;
                }
            }
            freq[nh++] = f;
        }
    }

    if (nh > 0 && fit_partials(a, len, m, nh, freq, 1) == 0) {
        /* one Gauss-Newton step on the frequency of each clear partial, against the residual
         * (the reassigned frequency is biased by its neighbours' leakage), then a refit */
        const double maxstep = 0.25 * 2.0 * M_PI / (len + 1);
        int fhalf = (int)ceil(FIT_HALF * lbin), moved = 0;
        for (int h = 0; h < nh; h++) {
            double cr = a->bp[h], ci = a->bm[h], c2 = cr * cr + ci * ci;
            if (!found[h] || !(c2 > 0.0)) continue;
            const double *kd = a->kd + h * a->span_w;
            int lo = a->span_lo[h], kc = (int)lround(freq[h] / bin_hz);
            double sr_ = 0.0, si = 0.0, q = 0.0;
            for (int k = kc - fhalf; k <= kc + fhalf; k++) {
                if (k < lo || k >= lo + a->span_n[h]) continue;
                double d = kd[k - lo];
                sr_ += d * a->xr[k];
                si += d * a->xi[k];
                q += d * d;
            }
            if (!(q > 0.0)) continue;
            double step = -(cr * sr_ + ci * si) / (c2 * q);
            if (step > maxstep) step = maxstep;
            if (step < -maxstep) step = -maxstep;
            freq[h] += step * sr / (2.0 * M_PI);
            moved = 1;
        }
        int ok = !moved || fit_partials(a, len, m, nh, freq, 0) == 0;
        if (ok) {
            fitted = 1;
            double acc_w = 0.0, acc_f = 0.0;
            for (int h = 0; h < nh; h++) {
                double amp = 2.0 * hypot(a->bp[h], a->bm[h]);
                fr->harm[h] = (float)fmin(1000.0, amp);
                if (found[h] && h < 8) {
                    acc_w += amp * amp;
                    acc_f += amp * amp * freq[h] / (h + 1);
                }
            }
            if (acc_w > 0.0) f0_ref = acc_f / acc_w;
        } else {
            memset(fr->harm, 0, sizeof fr->harm);
            memcpy(a->xr, a->x0r, sizeof(double) * (size_t)(nb + 1));
            memcpy(a->xi, a->x0i, sizeof(double) * (size_t)(nb + 1));
        }
    }

    /* noise bands of the residual. Near a partial (its fit bins) the residual cannot be trusted:
     * the fit has taken the part of the noise that lies along the partial's kernel, and a
     * partial that is not perfectly steady leaves some of itself behind. There the noise is
     * taken to be the mean of the gaps on either side (the bins between fit regions). */
    if (fitted) {
        int k = 0;
        for (int h = 0; h <= nh; h++) {
            /* the gap below partial h (above the last one when h == nh) and the fit run after it */
            double sum = 0.0;
            int cnt = 0;
            int stop = h < nh ? (int)lround(freq[h] / bin_hz) : nb;
            while (k <= nb && k <= stop && !a->fit[k]) {
                sum += a->xr[k] * a->xr[k] + a->xi[k] * a->xi[k];
                cnt++;
                k++;
            }
            a->gap[h] = cnt ? sum / cnt : -1.0;
            while (k <= nb && a->fit[k]) k++;
            if (h == nh) break;
        }
        for (int h = 0; h < nh; h++) {
            double g = a->gap[h] >= 0.0 && a->gap[h + 1] >= 0.0 ? 0.5 * (a->gap[h] + a->gap[h + 1])
                       : a->gap[h] >= 0.0                     ? a->gap[h]
                                                              : a->gap[h + 1];
            a->gap_fill[h] = g;
        }
    }
    const double *edge = voice_band_edges();
    double band[VOICE_BANDS] = {0};
    int b = 0, cell = 0;
    for (int k = 1; k <= nb; k++) {
        double f = k * bin_hz;
        while (b < VOICE_BANDS && f >= edge[b + 1]) b++;
        if (b == VOICE_BANDS) break;
        double e = a->xr[k] * a->xr[k] + a->xi[k] * a->xi[k];
        if (fitted && a->fit[k]) {
            while (cell < nh - 1 && f > 0.5 * (freq[cell] + freq[cell + 1])) cell++;
            if (a->gap_fill[cell] >= 0.0) e = a->gap_fill[cell];
        }
        band[b] += k == nb ? e : 2.0 * e;
    }
    double norm = (double)m * wsum2;
    for (int i = 0; i < VOICE_BANDS; i++) {
        double db = 10.0 * log10(band[i] / norm + 1e-30);
        fr->noise_db[i] = (float)fmax(VOICE_FLOOR_DB, fmin(100.0, db));
    }
    return f0_ref;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Onset frames from aubio's detector (flags[k] |= VOICE_ONSET). The detector is made once with
 * the analyser (aubio plans FFTs, which is not thread-safe); before each signal it is fed silence
 * until its history is all silence again, as when it was new, and its clock is reset. */
static void detect_onsets(voice_analyser *a, const float *x, size_t n, voice_frame *fr, size_t nf)
{
    aubio_onset_t *o = a->onset;
    memset(a->oin->data, 0, sizeof(float) * (size_t)a->onset_hop);
    for (int i = 0; i < 64; i++) aubio_onset_do(o, a->oin, a->oout);
    aubio_onset_reset(o);
    for (size_t pos = 0; pos < n + (size_t)a->onset_buf; pos += (size_t)a->onset_hop) {
        for (int i = 0; i < a->onset_hop; i++)
            a->oin->data[i] = pos + (size_t)i < n ? x[pos + (size_t)i] : 0.0f;
        aubio_onset_do(o, a->oin, a->oout);
        if (a->oout->data[0] > 0.0f) {
            double t = (double)aubio_onset_get_last(o) / a->sr;
            long k = lround(t * VOICE_FRAME_RATE);
            if (k >= 0 && (size_t)k < nf) fr[k].flags |= VOICE_ONSET;
        }
    }
}

int voice_analyse(voice_analyser *a, const float *x, size_t n, const voice_analysis_opts *opt,
                  voice_frame **frames, size_t *n_frames, char *err, size_t errlen)
{
    *frames = NULL;
    *n_frames = 0;
    voice_analysis_opts defaults;
    if (!opt) {
        voice_analysis_defaults(&defaults);
        opt = &defaults;
    }
    if (n == 0) {
        bm_errf(err, errlen, "there are no samples to analyse");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            bm_errf(err, errlen, "sample %zu is not a number (the audio is damaged)", i);
            return -1;
        }
    size_t nf = voice_frame_count(n, a->sr);
    voice_frame *fr = calloc(nf, sizeof *fr);
    double *level = malloc(nf * sizeof *level);
    double *f0 = malloc(nf * sizeof *f0);
    double *tmp = malloc(21 * sizeof *tmp);
    if (!fr || !level || !f0 || !tmp) {
        free(fr);
        free(level);
        free(f0);
        free(tmp);
        bm_errf(err, errlen, "out of memory analysing %zu frames", nf);
        return -1;
    }
    const double hop = (double)a->sr / VOICE_FRAME_RATE;
    double loudest = -INFINITY;
    /* pass 1: levels, clipping, raw pitch */
    for (size_t k = 0; k < nf; k++) {
        long c = lround(k * hop);
        frame_levels(a, x, n, c, &fr[k].loudness_db, &level[k]);
        if (level[k] > loudest) loudest = level[k];
        long c0 = lround(c - hop / 2), c1 = lround(c + hop / 2);
        for (long i = c0 < 0 ? 0 : c0; i < c1 && (size_t)i < n; i++)
            if (fabsf(x[i]) >= 0.999f) {
                fr[k].flags |= VOICE_CLIPPED;
                break;
            }
        float p, q;
        frame_pitch(a, x, n, c, &p, &q);
        fr[k].periodicity = q;
        f0[k] = p;
    }
    /* pass 2: which frames are voiced */
    double gate = fmax(-100.0, loudest - GATE_BELOW_PEAK_DB);
    for (size_t k = 0; k < nf; k++) {
        double p = f0[k];
        int ok = p > 0.0 && fr[k].periodicity >= opt->min_periodicity && level[k] > gate;
        if (ok && opt->f0_hint_hz > 0.0f) {
            p *= exp2(round(log2(opt->f0_hint_hz / p)));
            ok = fabs(1200.0 * log2(p / opt->f0_hint_hz)) <= 150.0;
        }
        ok = ok && p >= opt->f0_min_hz && p <= opt->f0_max_hz;
        f0[k] = ok ? p : 0.0;
    }
    if (opt->f0_hint_hz <= 0.0f) {
        /* without a hint, fold octave slips towards the local median pitch */
        double *fixed = malloc(nf * sizeof *fixed);
        if (fixed) {
            for (size_t k = 0; k < nf; k++) {
                fixed[k] = f0[k];
                if (f0[k] <= 0.0) continue;
                int cnt = 0;
                for (long j = (long)k - 10; j <= (long)k + 10; j++)
                    if (j >= 0 && (size_t)j < nf && f0[j] > 0.0) tmp[cnt++] = log2(f0[j]);
                qsort(tmp, (size_t)cnt, sizeof *tmp, cmp_double);
                double med = tmp[cnt / 2], d = log2(f0[k]) - med;
                if (fabs(d) > 0.5) {
                    double folded = d - round(d);
                    fixed[k] = fabs(folded) < 0.1 ? exp2(med + folded) : 0.0;
                }
            }
            memcpy(f0, fixed, nf * sizeof *f0);
            free(fixed);
        }
    }
    for (size_t k = 0; k < nf; k++)
        if (f0[k] > 0.0) fr[k].flags |= VOICE_VOICED;
    /* pass 3: harmonics of voiced frames (refining their pitch) */
    for (size_t k = 0; k < nf; k++)
        if (f0[k] > 0.0) f0[k] = frame_harmonics(a, x, n, lround(k * hop), f0[k], &fr[k]);
    /* pass 4: unvoiced frames borrow the nearest voiced frame's pitch */
    size_t prev = (size_t)-1;
    for (size_t k = 0; k < nf; k++) {
        if (fr[k].flags & VOICE_VOICED) {
            prev = k;
            fr[k].f0_hz = (float)f0[k];
            continue;
        }
        size_t next = k + 1;
        while (next < nf && !(fr[next].flags & VOICE_VOICED)) next++;
        double use = opt->f0_hint_hz > 0.0f ? opt->f0_hint_hz : 0.0;
        if (prev != (size_t)-1 && (next >= nf || k - prev <= next - k)) use = f0[prev];
        else if (next < nf) use = f0[next];
        fr[k].f0_hz = (float)use;
        frame_harmonics(a, x, n, lround(k * hop), use, &fr[k]);
    }
    /* onsets and time since onset */
    if (opt->onsets == VOICE_ONSETS_AT_START) fr[0].flags |= VOICE_ONSET;
    else detect_onsets(a, x, n, fr, nf);
    double last = 0.0;
    for (size_t k = 0; k < nf; k++) {
        double t = (double)k / VOICE_FRAME_RATE;
        if (fr[k].flags & VOICE_ONSET) last = t;
        fr[k].since_onset_s = (float)(t - last);
        if (!(fr[k].f0_hz >= 0.0f && fr[k].f0_hz <= 30000.0f)) fr[k].f0_hz = 0.0f;
    }
    free(level);
    free(f0);
    free(tmp);
    *frames = fr;
    *n_frames = nf;
    return 0;
}
