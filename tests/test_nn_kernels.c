/* test_nn_kernels.c: the hand-written kernels against their plain counterparts: packed-panel
 * products (AVX-512) against OpenBLAS, AVX2 LSTM/GRU cells against the scalar ones. */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"
#include "test_nn_util.h"

#include <cblas.h>

TEST(nn_kernels_packed_product_matches_openblas)
{
    nn_rng r;
    nn_rng_seed(&r, 1);
    static const int Ms[] = {1, 7, 8, 16, 19}, Ns[] = {5, 32, 40, 100}, Ks[] = {1, 3, 64};
    for (int tb = 0; tb < 2; tb++)
        for (int acc = 0; acc < 2; acc++)
            for (int mi = 0; mi < 5; mi++)
                for (int ni = 0; ni < 4; ni++)
                    for (int ki = 0; ki < 3; ki++) {
                        int M = Ms[mi], N = Ns[ni], K = Ks[ki];
                        float *A = nn_alloc_array((size_t)M * K, 4), *B = nn_alloc_array((size_t)N * K, 4);
                        float *P = nn_alloc_array(nn_packb_size(N, K), 4);
                        float *C = nn_alloc_array((size_t)M * N, 4), *R = nn_alloc_array((size_t)M * N, 4);
                        fill(&r, A, (size_t)M * K, 1), fill(&r, B, (size_t)N * K, 1);
                        fill(&r, C, (size_t)M * N, 1);
                        memcpy(R, C, sizeof(float) * M * N);
                        nn_packb(P, B, tb, N, K);
                        nn_gemm_packed(M, N, K, A, K, P, B, tb, C, N, acc);
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                                    N, K, 1.0f, A, K, B, tb ? K : N, acc ? 1.0f : 0.0f, R, N);
                        CHECK_CLOSE("packed product", C, R, (size_t)M * N, 1e-5, 1e-5);
                        nn_free(A), nn_free(B), nn_free(P), nn_free(C), nn_free(R);
                    }
}

TEST(nn_kernels_avx2_cells_match_scalar)
{
    if (!nn_cpu_has_avx2()) test_skip("this CPU has no AVX2/FMA/F16C");
    nn_rng r;
    nn_rng_seed(&r, 2);
    int B = 3, H = 21; /* a tail after two vectors of 8 */
    float g1[3 * 84], g2[3 * 84], cp[63], c1[63], c2[63], t1[63], t2[63], h1[63], h2[63];
    fill(&r, g1, 3 * 84, 6), fill(&r, cp, 63, 2);
    memcpy(g2, g1, sizeof g1);
    nn_kern_scalar.lstm_cell(g1, cp, c1, t1, h1, B, H);
    nn_kern_avx2.lstm_cell(g2, cp, c2, t2, h2, B, H);
    CHECK_CLOSE("gates", g2, g1, 3 * 84, 1e-6, 1e-6);
    CHECK_CLOSE("c", c2, c1, 63, 1e-6, 1e-6);
    CHECK_CLOSE("h", h2, h1, 63, 1e-6, 1e-6);
    float x1[3 * 63], x2[3 * 63], hg[3 * 63], hn1[63], hn2[63];
    fill(&r, x1, 3 * 63, 6), fill(&r, hg, 3 * 63, 6);
    memcpy(x2, x1, sizeof x1);
    nn_kern_scalar.gru_cell(x1, hg, cp, hn1, h1, B, H);
    nn_kern_avx2.gru_cell(x2, hg, cp, hn2, h2, B, H);
    CHECK_CLOSE("gru gates", x2, x1, 3 * 63, 1e-6, 1e-6);
    CHECK_CLOSE("gru h", h2, h1, 63, 1e-6, 1e-6);
    /* saturation far out stays finite and exact at the limits */
    float big[4 * 8];
    for (int i = 0; i < 32; i++) big[i] = (i & 1) ? 500.0f : -500.0f;
    float z[8] = {0}, c[8], tc[8], h[8];
    nn_kern_avx2.lstm_cell(big, z, c, tc, h, 1, 8);
    for (int i = 0; i < 8; i++) CHECK(isfinite(h[i]) && fabsf(h[i]) <= 1.0f);
}

/* Forward and backward of an LSTM or GRU over 16 rows on `threads` threads; returns h and grads. */
static void run_rnn(int gru, int threads, float *out, size_t *n_out)
{
    nn_set_threads(threads);
    nn_rng r;
    nn_rng_seed(&r, 3);
    int T = 6, B = 16, IN = 10, H = 24, G = gru ? 3 : 4;
    size_t TBH = (size_t)T * B * H, TBI = (size_t)T * B * IN;
    float *x = nn_alloc_array(TBI, 4), *wi = nn_alloc_array((size_t)G * H * IN, 4);
    float *wh = nn_alloc_array((size_t)G * H * H, 4), *b = nn_alloc_array((size_t)2 * G * H, 4);
    float *dh = nn_alloc_array(TBH, 4);
    float *acts = nn_alloc_array(gru ? nn_gru_acts_size(T, B, H) : nn_lstm_acts_size(T, B, H), 4);
    fill(&r, x, TBI, 1), fill(&r, wi, (size_t)G * H * IN, 0.4f), fill(&r, wh, (size_t)G * H * H, 0.4f);
    fill(&r, b, (size_t)2 * G * H, 0.2f), fill(&r, dh, TBH, 1);
    uint8_t reset[96] = {0};
    reset[3 * 16 + 9] = 1;
    float *h = out, *dx = h + TBH, *dwi = dx + TBI, *dwh = dwi + G * H * IN, *db = dwh + G * H * H;
    *n_out = TBH + TBI + (size_t)G * H * IN + (size_t)G * H * H + (size_t)2 * G * H;
    memset(out, 0, sizeof(float) * *n_out);
    if (gru) {
        nn_gru_forward(h, acts, NULL, x, NULL, reset, wi, wh, b, b + G * H, T, B, IN, H);
        nn_gru_backward(dx, dwi, dwh, db, db + G * H, NULL, dh, acts, x, reset, wi, wh, T, B, IN, H);
    } else {
        nn_lstm_forward(h, acts, NULL, NULL, x, NULL, NULL, reset, wi, wh, b, T, B, IN, H);
        nn_lstm_backward(dx, dwi, dwh, db, NULL, NULL, dh, acts, x, reset, wi, wh, T, B, IN, H);
    }
    nn_free(x), nn_free(wi), nn_free(wh), nn_free(b), nn_free(dh), nn_free(acts);
}

TEST(nn_kernels_rows_split_across_threads_give_the_same_results)
{
    for (int gru = 0; gru < 2; gru++) {
        float *one = nn_alloc_array(40000, 4), *two = nn_alloc_array(40000, 4);
        size_t n1, n2;
        run_rnn(gru, 1, one, &n1);
        run_rnn(gru, 2, two, &n2);
        CHECK_EQ_INT(n1, n2);
        CHECK_CLOSE(gru ? "gru" : "lstm", two, one, n1, 1e-5, 1e-5);
        nn_free(one), nn_free(two);
    }
}
