/* nn_kern.c: scalar kernels (the reference the AVX2 ones are tested against), dispatch, halves. */
#include "nn/nn_kern.h"
#include "nn/nn_ops.h"

#include <math.h>
#include <string.h>

static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

static void lstm_cell(float *g, const float *cp, float *c, float *tc, float *h, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        size_t o = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            gi[j] = sigm(gi[j]);
            gf[j] = sigm(gf[j]);
            gg[j] = tanhf(gg[j]);
            go[j] = sigm(go[j]);
            c[o + j] = gf[j] * cp[o + j] + gi[j] * gg[j];
            tc[o + j] = tanhf(c[o + j]);
            h[o + j] = go[j] * tc[o + j];
        }
    }
}

static void gru_cell(float *xg, const float *hg, const float *hp, float *hn, float *h, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *r = xg + (size_t)b * 3 * H, *z = r + H, *n = z + H;
        const float *hr = hg + (size_t)b * 3 * H, *hz = hr + H, *hh = hz + H;
        size_t o = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            r[j] = sigm(r[j] + hr[j]);
            z[j] = sigm(z[j] + hz[j]);
            hn[o + j] = hh[j];
            n[j] = tanhf(n[j] + r[j] * hh[j]);
            h[o + j] = (1.0f - z[j]) * n[j] + z[j] * hp[o + j];
        }
    }
}

static float wat(const nn_pack *p, size_t i)
{
    return p->f16 ? nn_f16_to_f32(((const uint16_t *)p->w)[i]) : ((const float *)p->w)[i];
}

/* Accumulates rows of width `rows` over cols columns of src, from panel position *pos. */
static void accum(const nn_pack *p, size_t *pos, const float *src, int cols, float *acc, int rows)
{
    for (int c = 0; c < cols; c++) {
        float v = src[c];
        for (int k = 0; k < rows; k++) acc[k] += wat(p, *pos + k) * v;
        *pos += (size_t)rows;
    }
}

static void stream_layer(const nn_pack *p, int n, const float *const *x, const float *const *pre,
                         const float *const *h, float *const *c, float *const *out)
{
    int cols = p->in_cols;
    if (p->kind == NN_PK_LSTM || p->kind == NN_PK_DENSE) {
        int blocks = p->up / (p->kind == NN_PK_LSTM ? 8 : 32);
        size_t panel = (size_t)(cols + (p->kind == NN_PK_LSTM ? p->up : 0)) * 32;
        for (int blk = 0; blk < blocks; blk++) {
            for (int s = 0; s < n; s++) {
                float acc[32];
                memcpy(acc, (pre ? pre[s] : p->bias) + blk * 32, sizeof acc);
                size_t pos = panel * (size_t)blk;
                accum(p, &pos, x[s], cols, acc, 32);
                if (p->kind == NN_PK_DENSE) {
                    nn_act_forward((nn_act)p->act, out[s] + blk * 32, acc, 32);
                    continue;
                }
                accum(p, &pos, h[s], p->up, acc, 32);
                for (int l = 0; l < 8; l++) {
                    int u = blk * 8 + l;
                    float gi = sigm(acc[l]), gf = sigm(acc[8 + l]);
                    float gg = tanhf(acc[16 + l]), go = sigm(acc[24 + l]);
                    c[s][u] = gf * c[s][u] + gi * gg;
                    out[s][u] = go * tanhf(c[s][u]);
                }
            }
        }
        return;
    }
    /* GRU: per block of 8 units, x columns carry (r,z,n) and h columns (r,z,n). */
    size_t panel = (size_t)(cols + p->up) * 24;
    for (int blk = 0; blk < p->up / 8; blk++) {
        for (int s = 0; s < n; s++) {
            float ax[24], ah[24];
            memcpy(ax, (pre ? pre[s] : p->bias) + blk * 24, sizeof ax);
            memset(ah, 0, sizeof ah);
            for (int l = 0; l < 8; l++) ah[16 + l] = p->bias_hn[blk * 8 + l];
            size_t pos = panel * (size_t)blk;
            accum(p, &pos, x[s], cols, ax, 24);
            accum(p, &pos, h[s], p->up, ah, 24);
            for (int l = 0; l < 8; l++) {
                int u = blk * 8 + l;
                float r = sigm(ax[l] + ah[l]), z = sigm(ax[8 + l] + ah[8 + l]);
                float nn = tanhf(ax[16 + l] + r * ah[16 + l]);
                out[s][u] = (1.0f - z) * nn + z * h[s][u];
            }
        }
    }
}

const nn_kern nn_kern_scalar = {"scalar", lstm_cell, gru_cell, stream_layer};

static int force_scalar;

void nn_kern_use_scalar(int on) { force_scalar = on; }

const nn_kern *nn_kern_get(void)
{
    return (!force_scalar && nn_cpu_has_avx2()) ? &nn_kern_avx2 : &nn_kern_scalar;
}

uint16_t nn_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    int exp = (int)((x >> 23) & 0xff);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    int e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* subnormal half (or zero) */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        int shift = 14 - e;
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; /* may carry into the exponent */
    return (uint16_t)(sign | half);
}

float nn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu, x;
    if (e == 0x1f) x = sign | 0x7f800000u | (m << 13);
    else if (e) x = sign | ((e + 112) << 23) | (m << 13);
    else if (!m) x = sign;
    else {
        int k = -1;
        do {
            k++;
            m <<= 1;
        } while (!(m & 0x400u));
        x = sign | ((uint32_t)(112 - k) << 23) | ((m & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}
