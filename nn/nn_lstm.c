/* nn_lstm.c: LSTM layer over a time-major batch: one sgemm for the input projection of the whole
 * sequence, one small sgemm per step for the recurrence, fused element-wise gate math; the
 * backward pass mirrors it and gathers the weight gradients in three large sgemms. */
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_ops.h"

#include <string.h>

/* acts layout (per T*B row): gates 4H | c H | tanh(c) H | h_prev H | c_prev H; then 3*B*H work. */
size_t nn_lstm_acts_size(int T, int B, int H)
{
    return (size_t)T * B * 8 * H + (size_t)3 * B * H;
}

void nn_lstm_forward(float *h, float *acts, float *hT, float *cT, const float *x, const float *h0,
                     const float *c0, const uint8_t *reset, const float *w_ih, const float *w_hh,
                     const float *b, int T, int B, int I, int H)
{
    const nn_kern *k = nn_kern_get();
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H;
    float *gates = acts, *cs = gates + TB * G, *tcs = cs + TB * H, *hps = tcs + TB * H;
    float *cps = hps + TB * H;
    for (size_t r = 0; r < TB; r++) memcpy(gates + r * G, b, sizeof(float) * G);
    nn_gemm(0, 1, (int)TB, (int)G, I, 1.0f, x, w_ih, 1.0f, gates);
    for (int t = 0; t < T; t++) {
        float *hp = hps + t * BH, *cp = cps + t * BH;
        const float *hsrc = t ? h + (t - 1) * BH : h0, *csrc = t ? cs + (t - 1) * BH : c0;
        if (hsrc) memcpy(hp, hsrc, sizeof(float) * BH);
        else memset(hp, 0, sizeof(float) * BH);
        if (csrc) memcpy(cp, csrc, sizeof(float) * BH);
        else memset(cp, 0, sizeof(float) * BH);
        if (reset)
            for (int bb = 0; bb < B; bb++)
                if (reset[(size_t)t * B + bb]) {
                    memset(hp + (size_t)bb * H, 0, sizeof(float) * H);
                    memset(cp + (size_t)bb * H, 0, sizeof(float) * H);
                }
        float *g = gates + t * B * G;
        nn_gemm(0, 1, B, (int)G, H, 1.0f, hp, w_hh, 1.0f, g);
        k->lstm_cell(g, cp, cs + t * BH, tcs + t * BH, h + t * BH, B, H);
    }
    if (hT) memmove(hT, h + (T - 1) * BH, sizeof(float) * BH);
    if (cT) memmove(cT, cs + (T - 1) * BH, sizeof(float) * BH);
}

void nn_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db, float *dh0, float *dc0,
                      const float *dh, float *acts, const float *x, const uint8_t *reset,
                      const float *w_ih, const float *w_hh, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 4 * (size_t)H;
    float *gates = acts, *cs = gates + TB * G, *tcs = cs + TB * H, *hps = tcs + TB * H;
    float *cps = hps + TB * H, *dhn = cps + TB * H, *dcn = dhn + BH;
    memset(dhn, 0, sizeof(float) * 2 * BH);
    for (int t = T - 1; t >= 0; t--) {
        float *g = gates + t * B * G; /* becomes the pre-activation gradient in place */
        const float *cp = cps + t * BH, *tc = tcs + t * BH, *dht = dh + t * BH;
        for (int bb = 0; bb < B; bb++) {
            float *gi = g + bb * G, *gf = gi + H, *gg = gf + H, *go = gg + H;
            size_t o = (size_t)bb * H;
            for (int j = 0; j < H; j++) {
                float i = gi[j], f = gf[j], gv = gg[j], ov = go[j], tcv = tc[o + j];
                float dhv = dht[o + j] + dhn[o + j];
                float dc = dcn[o + j] + dhv * ov * (1.0f - tcv * tcv);
                gi[j] = dc * gv * i * (1.0f - i);
                gf[j] = dc * cp[o + j] * f * (1.0f - f);
                gg[j] = dc * i * (1.0f - gv * gv);
                go[j] = dhv * tcv * ov * (1.0f - ov);
                dcn[o + j] = dc * f;
            }
        }
        nn_gemm(0, 0, B, H, (int)G, 1.0f, g, w_hh, 0.0f, dhn);
        if (reset)
            for (int bb = 0; bb < B; bb++)
                if (reset[(size_t)t * B + bb]) {
                    memset(dhn + (size_t)bb * H, 0, sizeof(float) * H);
                    memset(dcn + (size_t)bb * H, 0, sizeof(float) * H);
                }
    }
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
            for (size_t j = 0; j < G; j++) db[j] += dg[r * G + j];
}
