/* nn_ops.c: OpenBLAS products, activations, softmax, layer norm, CPU checks. */
#include "nn/nn_ops.h"
#include "nn/nn_par.h"

#include <cblas.h>
#include <cpuid.h>
#include <math.h>
#include <unistd.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

static int n_threads;

struct gemm_job {
    int ta, tb, M, N, K, chunks, split_n;
    float alpha, beta;
    const float *A, *B;
    float *C;
};

/* One block of rows (or columns) of C, on one thread with single-threaded OpenBLAS. */
static void gemm_part(void *ctx, int i)
{
    const struct gemm_job *g = ctx;
    int len = g->split_n ? g->N : g->M;
    int a = (int)((long)len * i / g->chunks), b = (int)((long)len * (i + 1) / g->chunks);
    a &= ~15; /* keep blocks aligned for the kernels */
    if (i + 1 < g->chunks) b &= ~15;
    if (b <= a) return;
    int lda = g->ta ? g->M : g->K, ldb = g->tb ? g->K : g->N;
    const float *A = g->A, *B = g->B;
    float *C = g->C;
    int M = g->M, N = g->N;
    if (g->split_n) {
        B += g->tb ? (size_t)a * g->K : (size_t)a;
        C += a;
        N = b - a;
    } else {
        A += g->ta ? (size_t)a : (size_t)a * g->K;
        C += (size_t)a * g->N;
        M = b - a;
    }
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                M, N, g->K, g->alpha, A, lda, B, ldb, g->beta, C, g->N);
}

void nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, const float *B,
             float beta, float *C)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (size_t i = 0; i < (size_t)M * (size_t)N; i++) C[i] = beta == 0 ? 0 : beta * C[i];
        return;
    }
    if (!n_threads) nn_set_threads(0);
    struct gemm_job g = {ta, tb, M, N, K, 1, 0, alpha, beta, A, B, C};
    /* Large products are split across threads here rather than inside OpenBLAS: its own workers
     * spin after each call and would steal the cores from the recurrences that follow. */
    if (n_threads > 1 && !nn_in_parallel() && (double)M * N * K > 4e6) {
        g.chunks = n_threads;
        g.split_n = M < 32 * n_threads;
        if ((g.split_n ? N : M) >= 32 * n_threads) {
            nn_parallel(g.chunks, gemm_part, &g);
            return;
        }
        g.chunks = 1;
        g.split_n = 0;
    }
    gemm_part(&g, 0);
}

void nn_set_threads(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    n_threads = n;
    openblas_set_num_threads(1);
}

int nn_threads(void)
{
    if (!n_threads) nn_set_threads(0);
    return n_threads;
}

static float gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

static float gelu_grad(float x)
{
    float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
    return cdf + x * pdf;
}

void nn_act_forward(nn_act act, float *y, const float *x, size_t n)
{
    switch (act) {
    case NN_ACT_NONE:
        for (size_t i = 0; i < n; i++) y[i] = x[i];
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case NN_ACT_GELU:
        for (size_t i = 0; i < n; i++) y[i] = gelu(x[i]);
        break;
    }
}

void nn_act_backward(nn_act act, float *dx, const float *dy, const float *x, const float *y,
                     size_t n)
{
    switch (act) {
    case NN_ACT_NONE:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i];
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
        break;
    case NN_ACT_GELU:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * gelu_grad(x[i]);
        break;
    }
}

void nn_softmax(float *y, const float *x, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float mx = xr[0];
        for (int j = 1; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
        float sum = 0;
        for (int j = 0; j < cols; j++) sum += (yr[j] = expf(xr[j] - mx));
        float inv = 1.0f / sum;
        for (int j = 0; j < cols; j++) yr[j] *= inv;
    }
}

void nn_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        const float *dyr = dy + (size_t)r * cols, *yr = y + (size_t)r * cols;
        float *dxr = dx + (size_t)r * cols;
        double dot = 0;
        for (int j = 0; j < cols; j++) dot += (double)dyr[j] * yr[j];
        for (int j = 0; j < cols; j++) dxr[j] += yr[j] * (dyr[j] - (float)dot);
    }
}

void nn_layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g,
                          const float *b, int n, int c)
{
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * c;
        double m = 0, v = 0;
        for (int j = 0; j < c; j++) m += xi[j];
        m /= c;
        for (int j = 0; j < c; j++) v += (xi[j] - m) * (xi[j] - m);
        v /= c;
        float rs = (float)(1.0 / sqrt(v + 1e-5));
        float *yi = y + (size_t)i * c;
        for (int j = 0; j < c; j++) yi[j] = ((xi[j] - (float)m) * rs) * g[j] + b[j];
        mean[i] = (float)m;
        rstd[i] = rs;
    }
}

void nn_layernorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *g, int n, int c)
{
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * c, *dyi = dy + (size_t)i * c;
        float *dxi = dx + (size_t)i * c;
        double sum_dn = 0, sum_dn_xhat = 0;
        for (int j = 0; j < c; j++) {
            float xhat = (xi[j] - mean[i]) * rstd[i];
            float dn = dyi[j] * g[j];
            sum_dn += dn;
            sum_dn_xhat += dn * xhat;
            dg[j] += dyi[j] * xhat;
            db[j] += dyi[j];
        }
        float a = (float)(sum_dn / c), b2 = (float)(sum_dn_xhat / c);
        for (int j = 0; j < c; j++) {
            float xhat = (xi[j] - mean[i]) * rstd[i];
            dxi[j] += (dyi[j] * g[j] - a - xhat * b2) * rstd[i];
        }
    }
}

void nn_denormals_off(void)
{
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

int nn_cpu_has_avx2(void)
{
    static int cached = -1;
    if (cached >= 0) return cached;
    unsigned a, b, c, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    __builtin_cpu_init();
    cached = f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached;
}
