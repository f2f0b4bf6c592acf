/* nn_gru.c: GRU layer over a time-major batch (PyTorch's formulation: the reset gate multiplies
 * the hidden part of the candidate, h = (1 - z) n + z h_prev). Structured as the LSTM: one sgemm
 * for the input projections, packed recurrent products, batch rows split across cores. */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_ops.h"
#include "nn/nn_par.h"

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

struct gru_job {
    int T, B, H, chunks;
    float *h, *acts;
    const float *h0, *dh, *w_hh, *pk;
    const uint8_t *reset;
};

static void rows_of(const struct gru_job *j, int i, int *b0, int *b1)
{
    *b0 = (int)((long)j->B * i / j->chunks);
    *b1 = (int)((long)j->B * (i + 1) / j->chunks);
}

static void fwd_rows(void *ctx, int chunk)
{
    const struct gru_job *j = ctx;
    const nn_kern *k = nn_kern_get();
    int T = j->T, B = j->B, H = j->H, b0, b1;
    rows_of(j, chunk, &b0, &b1);
    int nb = b1 - b0;
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H, rb = (size_t)b0 * H;
    float *xg = j->acts + packed_floats(H), *hg = xg + TB * G, *hn = hg + TB * G, *hps = hn + TB * H;
    for (int t = 0; t < T; t++) {
        float *hp = hps + t * BH + rb;
        const float *hsrc = t ? j->h + (t - 1) * BH : j->h0;
        if (hsrc) memcpy(hp, hsrc + rb, sizeof(float) * nb * H);
        else memset(hp, 0, sizeof(float) * nb * H);
        if (j->reset)
            for (int bb = b0; bb < b1; bb++)
                if (j->reset[(size_t)t * B + bb]) memset(hp + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
        size_t g0 = ((size_t)t * B + b0) * G;
        nn_gemm_packed(nb, (int)G, H, hp, H, j->pk, j->w_hh, 1, hg + g0, (int)G, 1);
        k->gru_cell(xg + g0, hg + g0, hp, hn + t * BH + rb, j->h + t * BH + rb, nb, H);
    }
}

void nn_gru_forward(float *h, float *acts, float *hT, const float *x, const float *h0,
                    const uint8_t *reset, const float *w_ih, const float *w_hh, const float *b_ih,
                    const float *b_hh, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H;
    float *xg = acts + packed_floats(H), *hg = xg + TB * G;
    nn_packb(acts, w_hh, 1, (int)G, H);
    for (size_t r = 0; r < TB; r++) {
        memcpy(xg + r * G, b_ih, sizeof(float) * G);
        memcpy(hg + r * G, b_hh, sizeof(float) * G);
    }
    nn_gemm(0, 1, (int)TB, (int)G, I, 1.0f, x, w_ih, 1.0f, xg);
    struct gru_job j = {T, B, H, nn_row_chunks(B), h, acts, h0, NULL, w_hh, acts, reset};
    nn_parallel(j.chunks, fwd_rows, &j);
    if (hT) memmove(hT, h + (T - 1) * BH, sizeof(float) * BH);
}

static void bwd_rows(void *ctx, int chunk)
{
    const struct gru_job *j = ctx;
    int T = j->T, B = j->B, H = j->H, b0, b1;
    rows_of(j, chunk, &b0, &b1);
    int nb = b1 - b0;
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H, rb = (size_t)b0 * H;
    float *xg = j->acts + packed_floats(H), *hg = xg + TB * G, *hn = hg + TB * G, *hps = hn + TB * H;
    float *dhn = hps + TB * H + rb, *dhd = hps + TB * H + BH + rb;
    memset(dhn, 0, sizeof(float) * nb * H);
    for (int t = T - 1; t >= 0; t--) {
        size_t g0 = ((size_t)t * B + b0) * G;
        float *gx = xg + g0, *gh = hg + g0; /* become gradients in place */
        const float *hp = hps + t * BH + rb, *hnt = hn + t * BH + rb, *dht = j->dh + t * BH + rb;
        for (int bb = 0; bb < nb; bb++) {
            float *r = gx + bb * G, *z = r + H, *n = z + H;
            float *hr = gh + bb * G, *hz = hr + H, *hh = hz + H;
            size_t o = (size_t)bb * H;
            for (int q = 0; q < H; q++) {
                float rv = r[q], zv = z[q], nv = n[q];
                float d = dht[o + q] + dhn[o + q];
                float dan = d * (1.0f - zv) * (1.0f - nv * nv);
                float dz = d * (hp[o + q] - nv);
                float dar = dan * hnt[o + q] * rv * (1.0f - rv);
                float daz = dz * zv * (1.0f - zv);
                dhd[o + q] = d * zv;
                r[q] = hr[q] = dar;
                z[q] = hz[q] = daz;
                n[q] = dan;
                hh[q] = dan * rv;
            }
        }
        memcpy(dhn, dhd, sizeof(float) * nb * H);
        nn_gemm_packed(nb, H, (int)G, gh, (int)G, j->pk, j->w_hh, 0, dhn, H, 1);
        if (j->reset)
            for (int bb = b0; bb < b1; bb++)
                if (j->reset[(size_t)t * B + bb]) memset(dhn + (size_t)(bb - b0) * H, 0, sizeof(float) * H);
    }
}

void nn_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *dh0,
                     const float *dh, float *acts, const float *x, const uint8_t *reset,
                     const float *w_ih, const float *w_hh, int T, int B, int I, int H)
{
    size_t TB = (size_t)T * B, BH = (size_t)B * H, G = 3 * (size_t)H;
    float *xg = acts + packed_floats(H), *hg = xg + TB * G, *hn = hg + TB * G, *hps = hn + TB * H;
    float *dhn = hps + TB * H, *pk = acts + nn_packb_size((int)G, H);
    nn_packb(pk, w_hh, 0, H, (int)G);
    struct gru_job j = {T, B, H, nn_row_chunks(B), NULL, acts, NULL, dh, w_hh, pk, reset};
    nn_parallel(j.chunks, bwd_rows, &j);
    if (dh0)
        for (size_t i = 0; i < BH; i++) dh0[i] += dhn[i];
    if (dw_ih) nn_gemm(1, 0, (int)G, I, (int)TB, 1.0f, xg, x, 1.0f, dw_ih);
    if (dw_hh) nn_gemm(1, 0, (int)G, H, (int)TB, 1.0f, hg, hps, 1.0f, dw_hh);
    if (dx) nn_gemm(0, 0, (int)TB, I, (int)G, 1.0f, xg, w_ih, 1.0f, dx);
    for (size_t r = 0; r < TB; r++)
        for (size_t q = 0; q < G; q++) {
            if (db_ih) db_ih[q] += xg[r * G + q];
            if (db_hh) db_hh[q] += hg[r * G + q];
        }
}
