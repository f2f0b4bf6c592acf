/* nn_gru.c: GRU layer over a time-major batch (PyTorch's formulation: the reset gate multiplies
 * the hidden part of the candidate, h = (1 - z) n + z h_prev). */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_ops.h"

#include <string.h>

/* acts layout: W_hh packed for the forward and the backward product; then per T*B row:
 * x gates 3H | h gates 3H | hn H | h_prev H; then 2*B*H work. */
static size_t packed_floats(int H)
{
    return nn_packb_size(3 * H, H) + nn_packb_size(H, 3 * H);
}

size_t nn_gru_acts_size(int T, int B, int H)
{
    return packed_floats(H) + (size_t)T * B * 8 * H + (size_t)2 * B * H;
}

void nn_gru_forward(float *h, float *acts, float *hT, const float *x, const float *h0,
                    const uint8_t *reset, const float *w_ih, const float *w_hh, const float *b_ih,
                    const float *b_hh, int T, int B, int I, int H)
{
    const nn_kern *k = nn_kern_get();
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H;
    float *xg = acts + packed_floats(H), *hg = xg + TB * G, *hn = hg + TB * G, *hps = hn + TB * H;
    nn_packb(acts, w_hh, 1, (int)G, H);
    for (size_t r = 0; r < TB; r++) {
        memcpy(xg + r * G, b_ih, sizeof(float) * G);
        memcpy(hg + r * G, b_hh, sizeof(float) * G);
    }
    nn_gemm(0, 1, (int)TB, (int)G, I, 1.0f, x, w_ih, 1.0f, xg);
    for (int t = 0; t < T; t++) {
        float *hp = hps + t * BH;
        const float *hsrc = t ? h + (t - 1) * BH : h0;
        if (hsrc) memcpy(hp, hsrc, sizeof(float) * BH);
        else memset(hp, 0, sizeof(float) * BH);
        if (reset)
            for (int bb = 0; bb < B; bb++)
                if (reset[(size_t)t * B + bb]) memset(hp + (size_t)bb * H, 0, sizeof(float) * H);
        nn_gemm_packed(B, (int)G, H, hp, H, acts, w_hh, 1, hg + t * B * G, (int)G, 1);
        k->gru_cell(xg + t * B * G, hg + t * B * G, hp, hn + t * BH, h + t * BH, B, H);
    }
    if (hT) memmove(hT, h + (T - 1) * BH, sizeof(float) * BH);
}

void nn_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *dh0,
                     const float *dh, float *acts, const float *x, const uint8_t *reset,
                     const float *w_ih, const float *w_hh, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H;
    float *xg = acts + packed_floats(H), *hg = xg + TB * G, *hn = hg + TB * G, *hps = hn + TB * H;
    float *dhn = hps + TB * H, *dhd = dhn + BH, *pk = acts + nn_packb_size((int)G, H);
    nn_packb(pk, w_hh, 0, H, (int)G);
    memset(dhn, 0, sizeof(float) * BH);
    for (int t = T - 1; t >= 0; t--) {
        float *gx = xg + t * B * G, *gh = hg + t * B * G; /* become gradients in place */
        const float *hp = hps + t * BH, *hnt = hn + t * BH, *dht = dh + t * BH;
        for (int bb = 0; bb < B; bb++) {
            float *r = gx + bb * G, *z = r + H, *n = z + H;
            float *hr = gh + bb * G, *hz = hr + H, *hh = hz + H;
            size_t o = (size_t)bb * H;
            for (int j = 0; j < H; j++) {
                float rv = r[j], zv = z[j], nv = n[j];
                float d = dht[o + j] + dhn[o + j];
                float dan = d * (1.0f - zv) * (1.0f - nv * nv);
                float dz = d * (hp[o + j] - nv);
                float dar = dan * hnt[o + j] * rv * (1.0f - rv);
                float daz = dz * zv * (1.0f - zv);
                dhd[o + j] = d * zv;
                r[j] = hr[j] = dar;
                z[j] = hz[j] = daz;
                n[j] = dan;
                hh[j] = dan * rv;
            }
        }
        memcpy(dhn, dhd, sizeof(float) * BH);
        nn_gemm_packed(B, H, (int)G, gh, (int)G, pk, w_hh, 0, dhn, H, 1);
        if (reset)
            for (int bb = 0; bb < B; bb++)
                if (reset[(size_t)t * B + bb]) memset(dhn + (size_t)bb * H, 0, sizeof(float) * H);
    }
    if (dh0)
        for (size_t i = 0; i < BH; i++) dh0[i] += dhn[i];
    if (dw_ih) nn_gemm(1, 0, (int)G, I, (int)TB, 1.0f, xg, x, 1.0f, dw_ih);
    if (dw_hh) nn_gemm(1, 0, (int)G, H, (int)TB, 1.0f, hg, hps, 1.0f, dw_hh);
    if (dx) nn_gemm(0, 0, (int)TB, I, (int)G, 1.0f, xg, w_ih, 1.0f, dx);
    for (size_t r = 0; r < TB; r++)
        for (size_t j = 0; j < G; j++) {
            if (db_ih) db_ih[j] += xg[r * G + j];
            if (db_hh) db_hh[j] += hg[r * G + j];
        }
}
