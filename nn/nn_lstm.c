/* nn_lstm.c: LSTM layer over a time-major batch: one sgemm for the input projection of the whole
 * sequence, one small sgemm per step for the recurrence, fused element-wise gate math; the
 * recurrence is independent per batch row, so rows are split across cores with no per-step
 * synchronisation. The backward pass mirrors it and gathers the weight gradients in three large
 * sgemms. */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_ops.h"
#include "nn/nn_par.h"

#include <string.h>

/* acts layout: W_hh packed for the forward and for the backward product; then per T*B row:
 * gates 4H | c H | tanh(c) H | h_prev H | c_prev H; then 2*B*H work. */
static size_t packed_floats(int H)
{
    return nn_packb_size(4 * H, H) + nn_packb_size(H, 4 * H);
}

size_t nn_lstm_acts_size(int T, int B, int H)
{
    return packed_floats(H) + (size_t)T * B * 8 * H + (size_t)2 * B * H;
}

struct lstm_job {
    int T, B, H, chunks;
    float *h, *acts, *hT, *cT;
    const float *h0, *c0, *dh, *w_hh, *pk;
    const uint8_t *reset;
};

/* Rows [b0, b1) of chunk i. */
static void chunk_rows(const struct lstm_job *j, int i, int *b0, int *b1)
{
    *b0 = (int)((long)j->B * i / j->chunks);
    *b1 = (int)((long)j->B * (i + 1) / j->chunks);
}

/* Number of row chunks: one per thread, with at least 4 rows each. */
int nn_row_chunks(int B)
{
    int n = nn_threads();
    while (n > 1 && B / n < 4) n--;
    return n;
}

static void fwd_rows(void *ctx, int chunk)
{
    const struct lstm_job *j = ctx;
    const nn_kern *k = nn_kern_get();
    int T = j->T, B = j->B, H = j->H, b0, b1;
    chunk_rows(j, chunk, &b0, &b1);
    int nb = b1 - b0;
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H;
    float *gates = j->acts + packed_floats(H), *cs = gates + TB * G, *tcs = cs + TB * H;
    float *hps = tcs + TB * H, *cps = hps + TB * H;
    size_t rb = (size_t)b0 * H, len = sizeof(float) * (size_t)nb * H;
    for (int t = 0; t < T; t++) {
        float *hp = hps + t * BH + rb, *cp = cps + t * BH + rb;
        const float *hsrc = t ? j->h + (t - 1) * BH : j->h0, *csrc = t ? cs + (t - 1) * BH : j->c0;
        if (hsrc) memcpy(hp, hsrc + rb, len);
        else memset(hp, 0, len);
        if (csrc) memcpy(cp, csrc + rb, len);
        else memset(cp, 0, len);
        if (j->reset)
            for (int bb = b0; bb < b1; bb++)
                if (j->reset[(size_t)t * B + bb]) {
                    memset(hp + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
                    memset(cp + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
                }
        float *g = gates + ((size_t)t * B + b0) * G;
        nn_gemm_packed(nb, (int)G, H, hp, H, j->pk, j->w_hh, 1, g, (int)G, 1);
        k->lstm_cell(g, cp, cs + t * BH + rb, tcs + t * BH + rb, j->h + t * BH + rb, nb, H);
    }
}

void nn_lstm_forward(float *h, float *acts, float *hT, float *cT, const float *x, const float *h0,
                     const float *c0, const uint8_t *reset, const float *w_ih, const float *w_hh,
                     const float *b, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H;
    float *gates = acts + packed_floats(H), *cs = gates + TB * G;
    nn_packb(acts, w_hh, 1, (int)G, H);
    for (size_t r = 0; r < TB; r++) memcpy(gates + r * G, b, sizeof(float) * G);
    nn_gemm(0, 1, (int)TB, (int)G, I, 1.0f, x, w_ih, 1.0f, gates);
    struct lstm_job j = {T, B, H, nn_row_chunks(B), h, acts, hT, cT, h0, c0, NULL, w_hh, acts, reset};
    nn_parallel(j.chunks, fwd_rows, &j);
    if (hT) memmove(hT, h + (T - 1) * BH, sizeof(float) * BH);
    if (cT) memmove(cT, cs + (T - 1) * BH, sizeof(float) * BH);
}

static void bwd_rows(void *ctx, int chunk)
{
    const struct lstm_job *j = ctx;
    int T = j->T, B = j->B, H = j->H, b0, b1;
    chunk_rows(j, chunk, &b0, &b1);
    int nb = b1 - b0;
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H, rb = (size_t)b0 * H;
    float *gates = j->acts + packed_floats(H), *cs = gates + TB * G, *tcs = cs + TB * H;
    float *hps = tcs + TB * H, *cps = hps + TB * H, *dhn = cps + TB * H + rb;
    float *dcn = cps + TB * H + BH + rb;
    memset(dhn, 0, sizeof(float) * (size_t)nb * H);
    memset(dcn, 0, sizeof(float) * (size_t)nb * H);
    for (int t = T - 1; t >= 0; t--) {
        float *g = gates + ((size_t)t * B + b0) * G; /* becomes the pre-activation gradient */
        const float *cp = cps + t * BH + rb, *tc = tcs + t * BH + rb, *dht = j->dh + t * BH + rb;
        for (int bb = 0; bb < nb; bb++) {
            float *gi = g + bb * G, *gf = gi + H, *gg = gf + H, *go = gg + H;
            size_t o = (size_t)bb * H;
            for (int q = 0; q < H; q++) {
                float i = gi[q], f = gf[q], gv = gg[q], ov = go[q], tcv = tc[o + q];
                float dhv = dht[o + q] + dhn[o + q];
                float dc = dcn[o + q] + dhv * ov * (1.0f - tcv * tcv);
                gi[q] = dc * gv * i * (1.0f - i);
                gf[q] = dc * cp[o + q] * f * (1.0f - f);
                gg[q] = dc * i * (1.0f - gv * gv);
                go[q] = dhv * tcv * ov * (1.0f - ov);
                dcn[o + q] = dc * f;
            }
        }
        nn_gemm_packed(nb, H, (int)G, g, (int)G, j->pk, j->w_hh, 0, dhn, H, 0);
        if (j->reset)
            for (int bb = b0; bb < b1; bb++)
                if (j->reset[(size_t)t * B + bb]) {
                    memset(dhn + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
                    memset(dcn + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
                }
    }
}

void nn_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db, float *dh0, float *dc0,
                      const float *dh, float *acts, const float *x, const uint8_t *reset,
                      const float *w_ih, const float *w_hh, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H;
    float *gates = acts + packed_floats(H), *hps = gates + TB * G + 2 * TB * H;
    float *dhn = hps + 2 * TB * H, *dcn = dhn + BH, *pk = acts + nn_packb_size((int)G, H);
    nn_packb(pk, w_hh, 0, H, (int)G);
    struct lstm_job j = {T, B, H, nn_row_chunks(B), NULL, acts, NULL, NULL, NULL, NULL, dh, w_hh,
                         pk, reset};
    nn_parallel(j.chunks, bwd_rows, &j);
    if (dh0)
        for (size_t i = 0; i < BH; i++) dh0[i] += dhn[i];
    if (dc0)
        for (size_t i = 0; i < BH; i++) dc0[i] += dcn[i];
    const float *dg = gates;
    if (dw_ih) nn_gemm(1, 0, (int)G, I, (int)TB, 1.0f, dg, x, 1.0f, dw_ih);
    if (dw_hh) nn_gemm(1, 0, (int)G, H, (int)TB, 1.0f, dg, hps, 1.0f, dw_hh);
    if (dx) nn_gemm(0, 0, (int)TB, I, (int)G, 1.0f, dg, w_ih, 1.0f, dx);
    if (db)
        for (size_t r = 0; r < TB; r++)
            for (size_t q = 0; q < G; q++) db[q] += dg[r * G + q];
}
