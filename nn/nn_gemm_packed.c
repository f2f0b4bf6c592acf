/* nn_gemm_packed.c: packed-panel products for the per-step recurrences: each 32-column panel is
 * K x 32 floats (K x 2 AVX-512 vectors), swept once per group of 8 rows of A with 16 independent
 * accumulators; no packing per call, unlike a general sgemm. */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_ops.h"

#include <cblas.h>
#include <immintrin.h>
#include <string.h>

static int use_blas;

void nn_gemm_packed_use_blas(int on) { use_blas = on; }

size_t nn_packb_size(int N, int K) { return (size_t)((N + 31) / 32) * 32 * (size_t)K; }

void nn_packb(float *P, const float *B, int tb, int N, int K)
{
    int panels = (N + 31) / 32;
    for (int p = 0; p < panels; p++)
        for (int k = 0; k < K; k++) {
            float *dst = P + ((size_t)p * K + k) * 32;
            for (int c = 0; c < 32; c++) {
                int n = 32 * p + c;
                dst[c] = n >= N ? 0.0f : tb ? B[(size_t)n * K + k] : B[(size_t)k * N + n];
            }
        }
}

#define AVX512 __attribute__((target("avx512f")))

/* Rows r0..r0+7 of A against panel pp; writes the 32 (or fewer, masked) columns of C. */
AVX512 static void rows8(int K, const float *A, int lda, const float *pp, float *C, int ldc,
                         __mmask16 m0, __mmask16 m1, int acc)
{
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
           a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00,
           a61 = a00, a70 = a00, a71 = a00;
    const float *r0 = A, *r1 = A + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda,
                *r5 = r4 + lda, *r6 = r5 + lda, *r7 = r6 + lda;
    for (int k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(pp + 32 * (size_t)k), w1 = _mm512_loadu_ps(pp + 32 * (size_t)k + 16);
        __m512 x;
#define ROW(i)                                            \
    x = _mm512_set1_ps(r##i[k]);                          \
    a##i##0 = _mm512_fmadd_ps(w0, x, a##i##0);            \
    a##i##1 = _mm512_fmadd_ps(w1, x, a##i##1);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
    __m512 out[16] = {a00, a01, a10, a11, a20, a21, a30, a31,
                      a40, a41, a50, a51, a60, a61, a70, a71};
    for (int i = 0; i < 8; i++) {
        float *c = C + (size_t)i * ldc;
        __m512 v0 = out[2 * i], v1 = out[2 * i + 1];
        if (acc) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, c));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, c + 16));
        }
        _mm512_mask_storeu_ps(c, m0, v0);
        _mm512_mask_storeu_ps(c + 16, m1, v1);
    }
}

/* Fewer than 8 rows. */
AVX512 static void rows_n(int rows, int K, const float *A, int lda, const float *pp, float *C,
                          int ldc, __mmask16 m0, __mmask16 m1, int acc)
{
    for (int i = 0; i < rows; i++) {
        const float *r = A + (size_t)i * lda;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, t0 = s0, t1 = s0;
        int k = 0;
        for (; k + 2 <= K; k += 2) {
            __m512 x = _mm512_set1_ps(r[k]), y = _mm512_set1_ps(r[k + 1]);
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k), x, s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k + 16), x, s1);
            t0 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k + 32), y, t0);
            t1 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k + 48), y, t1);
        }
        if (k < K) {
            __m512 x = _mm512_set1_ps(r[k]);
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k), x, s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(pp + 32 * (size_t)k + 16), x, s1);
        }
        s0 = _mm512_add_ps(s0, t0);
        s1 = _mm512_add_ps(s1, t1);
        float *c = C + (size_t)i * ldc;
        if (acc) {
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m0, c));
            s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m1, c + 16));
        }
        _mm512_mask_storeu_ps(c, m0, s0);
        _mm512_mask_storeu_ps(c + 16, m1, s1);
    }
}

AVX512 static void packed_avx512(int M, int N, int K, const float *A, int lda, const float *P,
                                 float *C, int ldc, int acc)
{
    int panels = (N + 31) / 32;
    for (int p = 0; p < panels; p++) {
        int cols = N - 32 * p < 32 ? N - 32 * p : 32;
        __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xffff : (1u << cols) - 1);
        __mmask16 m1 = (__mmask16)(cols <= 16 ? 0 : cols >= 32 ? 0xffff : (1u << (cols - 16)) - 1);
        const float *pp = P + (size_t)p * K * 32;
        float *cp = C + 32 * p;
        int r = 0;
        for (; r + 8 <= M; r += 8)
            rows8(K, A + (size_t)r * lda, lda, pp, cp + (size_t)r * ldc, ldc, m0, m1, acc);
        if (r < M) rows_n(M - r, K, A + (size_t)r * lda, lda, pp, cp + (size_t)r * ldc, ldc, m0, m1, acc);
    }
}

static int have_avx512(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") != 0;
    }
    return cached;
}

void nn_gemm_packed(int M, int N, int K, const float *A, int lda, const float *P, const float *B,
                    int tb, float *C, int ldc, int accumulate)
{
    if (M <= 0 || N <= 0) return;
    if (!use_blas && have_avx512() && K > 0) {
        packed_avx512(M, N, K, A, lda, P, C, ldc, accumulate);
        return;
    }
    if (K <= 0) {
        for (int i = 0; i < M && !accumulate; i++) memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda,
                B, tb ? K : N, accumulate ? 1.0f : 0.0f, C, ldc);
}
