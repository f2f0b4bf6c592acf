/* nn_kern_avx2.c: AVX2/FMA/F16C kernels: element-wise LSTM/GRU cells with a vector exp, and the
 * streaming layer step over packed panels (f32 or half weights), one or two streams at a time. */
#include "nn/nn_kern.h"
#include "nn/nn_ops.h"

#include <immintrin.h>
#include <math.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TGT

/* e^x for x clamped to [-87, 88]: 2^n * p(r), r = x - n ln2, |r| <= ln2/2, p the degree-7 Taylor
 * polynomial (relative error below 2e-7). */
INL __m256 v_exp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

INL __m256 v_sigm(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, v_exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

INL __m256 v_tanh(__m256 x)
{
    __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 t = v_exp(_mm256_mul_ps(_mm256_min_ps(ax, _mm256_set1_ps(9.0f)), _mm256_set1_ps(-2.0f)));
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 y = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
    return _mm256_or_ps(y, sign);
}

static float s_sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

TGT static void lstm_cell(float *g, const float *cp, float *c, float *tc, float *h, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        size_t o = (size_t)b * H;
        int j = 0;
        for (; j + 8 <= H; j += 8) {
            __m256 i = v_sigm(_mm256_loadu_ps(gi + j)), f = v_sigm(_mm256_loadu_ps(gf + j));
            __m256 gv = v_tanh(_mm256_loadu_ps(gg + j)), ov = v_sigm(_mm256_loadu_ps(go + j));
            __m256 cv = _mm256_fmadd_ps(f, _mm256_loadu_ps(cp + o + j), _mm256_mul_ps(i, gv));
            __m256 t = v_tanh(cv);
            _mm256_storeu_ps(gi + j, i);
            _mm256_storeu_ps(gf + j, f);
            _mm256_storeu_ps(gg + j, gv);
            _mm256_storeu_ps(go + j, ov);
            _mm256_storeu_ps(c + o + j, cv);
            _mm256_storeu_ps(tc + o + j, t);
            _mm256_storeu_ps(h + o + j, _mm256_mul_ps(ov, t));
        }
        for (; j < H; j++) {
            gi[j] = s_sigm(gi[j]);
            gf[j] = s_sigm(gf[j]);
            gg[j] = tanhf(gg[j]);
            go[j] = s_sigm(go[j]);
            c[o + j] = gf[j] * cp[o + j] + gi[j] * gg[j];
            tc[o + j] = tanhf(c[o + j]);
            h[o + j] = go[j] * tc[o + j];
        }
    }
}

TGT static void gru_cell(float *xg, const float *hg, const float *hp, float *hn, float *h, int B,
                         int H)
{
    __m256 one = _mm256_set1_ps(1.0f);
    for (int b = 0; b < B; b++) {
        float *r = xg + (size_t)b * 3 * H, *z = r + H, *n = z + H;
        const float *hr = hg + (size_t)b * 3 * H, *hz = hr + H, *hh = hz + H;
        size_t o = (size_t)b * H;
        int j = 0;
        for (; j + 8 <= H; j += 8) {
            __m256 rv = v_sigm(_mm256_add_ps(_mm256_loadu_ps(r + j), _mm256_loadu_ps(hr + j)));
            __m256 zv = v_sigm(_mm256_add_ps(_mm256_loadu_ps(z + j), _mm256_loadu_ps(hz + j)));
            __m256 hhv = _mm256_loadu_ps(hh + j);
            __m256 nv = v_tanh(_mm256_fmadd_ps(rv, hhv, _mm256_loadu_ps(n + j)));
            _mm256_storeu_ps(r + j, rv);
            _mm256_storeu_ps(z + j, zv);
            _mm256_storeu_ps(n + j, nv);
            _mm256_storeu_ps(hn + o + j, hhv);
            __m256 hv = _mm256_fmadd_ps(_mm256_sub_ps(one, zv), nv,
                                        _mm256_mul_ps(zv, _mm256_loadu_ps(hp + o + j)));
            _mm256_storeu_ps(h + o + j, hv);
        }
        for (; j < H; j++) {
            r[j] = s_sigm(r[j] + hr[j]);
            z[j] = s_sigm(z[j] + hz[j]);
            hn[o + j] = hh[j];
            n[j] = tanhf(n[j] + r[j] * hh[j]);
            h[o + j] = (1.0f - z[j]) * n[j] + z[j] * hp[o + j];
        }
    }
}

/* ---- streaming ---- */

INL __m256 ldw(const void *w, size_t i, int f16)
{
    if (f16) return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)((const uint16_t *)w + i)));
    return _mm256_load_ps((const float *)w + i);
}

/* acc[0..R) += panel columns [*pos, ...) times src[0..cols), one stream; R = 3 or 4 vectors. */
INL void acc_1(const void *w, int f16, size_t *pos, const float *src, int cols, __m256 *acc, int R)
{
    __m256 b0 = _mm256_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
    size_t p = *pos, stride = (size_t)R * 8;
    int c = 0;
    for (; c + 2 <= cols; c += 2) {
        __m256 x0 = _mm256_broadcast_ss(src + c), x1 = _mm256_broadcast_ss(src + c + 1);
        acc[0] = _mm256_fmadd_ps(ldw(w, p, f16), x0, acc[0]);
        acc[1] = _mm256_fmadd_ps(ldw(w, p + 8, f16), x0, acc[1]);
        acc[2] = _mm256_fmadd_ps(ldw(w, p + 16, f16), x0, acc[2]);
        if (R == 4) acc[3] = _mm256_fmadd_ps(ldw(w, p + 24, f16), x0, acc[3]);
        b0 = _mm256_fmadd_ps(ldw(w, p + stride, f16), x1, b0);
        b1 = _mm256_fmadd_ps(ldw(w, p + stride + 8, f16), x1, b1);
        b2 = _mm256_fmadd_ps(ldw(w, p + stride + 16, f16), x1, b2);
        if (R == 4) b3 = _mm256_fmadd_ps(ldw(w, p + stride + 24, f16), x1, b3);
        p += 2 * stride;
    }
    if (c < cols) {
        __m256 x0 = _mm256_broadcast_ss(src + c);
        acc[0] = _mm256_fmadd_ps(ldw(w, p, f16), x0, acc[0]);
        acc[1] = _mm256_fmadd_ps(ldw(w, p + 8, f16), x0, acc[1]);
        acc[2] = _mm256_fmadd_ps(ldw(w, p + 16, f16), x0, acc[2]);
        if (R == 4) acc[3] = _mm256_fmadd_ps(ldw(w, p + 24, f16), x0, acc[3]);
        p += stride;
    }
    acc[0] = _mm256_add_ps(acc[0], b0);
    acc[1] = _mm256_add_ps(acc[1], b1);
    acc[2] = _mm256_add_ps(acc[2], b2);
    if (R == 4) acc[3] = _mm256_add_ps(acc[3], b3);
    *pos = p;
}

/* The same for two streams sharing each weight load. */
INL void acc_2(const void *w, int f16, size_t *pos, const float *s0, const float *s1, int cols,
               __m256 *a, __m256 *b, int R)
{
    size_t p = *pos, stride = (size_t)R * 8;
    for (int c = 0; c < cols; c++) {
        __m256 x0 = _mm256_broadcast_ss(s0 + c), x1 = _mm256_broadcast_ss(s1 + c);
        __m256 w0 = ldw(w, p, f16), w1 = ldw(w, p + 8, f16), w2 = ldw(w, p + 16, f16);
        a[0] = _mm256_fmadd_ps(w0, x0, a[0]);
        b[0] = _mm256_fmadd_ps(w0, x1, b[0]);
        a[1] = _mm256_fmadd_ps(w1, x0, a[1]);
        b[1] = _mm256_fmadd_ps(w1, x1, b[1]);
        a[2] = _mm256_fmadd_ps(w2, x0, a[2]);
        b[2] = _mm256_fmadd_ps(w2, x1, b[2]);
        if (R == 4) {
            __m256 w3 = ldw(w, p + 24, f16);
            a[3] = _mm256_fmadd_ps(w3, x0, a[3]);
            b[3] = _mm256_fmadd_ps(w3, x1, b[3]);
        }
        p += stride;
    }
    *pos = p;
}

INL void lstm_out(__m256 *acc, float *c, float *out)
{
    __m256 i = v_sigm(acc[0]), f = v_sigm(acc[1]), g = v_tanh(acc[2]), o = v_sigm(acc[3]);
    __m256 cv = _mm256_fmadd_ps(f, _mm256_loadu_ps(c), _mm256_mul_ps(i, g));
    _mm256_storeu_ps(c, cv);
    _mm256_storeu_ps(out, _mm256_mul_ps(o, v_tanh(cv)));
}

INL __m256 v_act(int act, __m256 v)
{
    switch (act) {
    case NN_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case NN_ACT_TANH: return v_tanh(v);
    case NN_ACT_SIGMOID: return v_sigm(v);
    default: return v;
    }
}

INL void dense_out(int act, __m256 *acc, float *out)
{
    if (act == NN_ACT_GELU) {
        float tmp[32];
        for (int k = 0; k < 4; k++) _mm256_storeu_ps(tmp + 8 * k, acc[k]);
        nn_act_forward(NN_ACT_GELU, out, tmp, 32);
        return;
    }
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(out + 8 * k, v_act(act, acc[k]));
}

INL void gru_out(__m256 *ax, __m256 *ah, const float *hp, float *out)
{
    __m256 r = v_sigm(_mm256_add_ps(ax[0], ah[0])), z = v_sigm(_mm256_add_ps(ax[1], ah[1]));
    __m256 n = v_tanh(_mm256_fmadd_ps(r, ah[2], ax[2]));
    __m256 h = _mm256_loadu_ps(hp);
    _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), z), n,
                                          _mm256_mul_ps(z, h)));
}

INL void load_init(__m256 *acc, const float *src, int R)
{
    for (int k = 0; k < R; k++) acc[k] = _mm256_loadu_ps(src + 8 * k);
}

INL void stream_body(const nn_pack *p, int f16, int n, const float *const *x,
                     const float *const *pre, const float *const *h, float *const *c,
                     float *const *out)
{
    const void *w = p->w;
    int cols = p->in_cols;
    if (p->kind == NN_PK_LSTM || p->kind == NN_PK_DENSE) {
        int lstm = p->kind == NN_PK_LSTM;
        int blocks = p->up / (lstm ? 8 : 32);
        size_t panel = (size_t)(cols + (lstm ? p->up : 0)) * 32;
        for (int blk = 0; blk < blocks; blk++) {
            int s = 0;
            for (; s + 2 <= n; s += 2) {
                __m256 a[4], b[4];
                load_init(a, (pre ? pre[s] : p->bias) + blk * 32, 4);
                load_init(b, (pre ? pre[s + 1] : p->bias) + blk * 32, 4);
                size_t pos = panel * (size_t)blk;
                acc_2(w, f16, &pos, x[s], x[s + 1], cols, a, b, 4);
                if (!lstm) {
                    dense_out(p->act, a, out[s] + blk * 32);
                    dense_out(p->act, b, out[s + 1] + blk * 32);
                    continue;
                }
                acc_2(w, f16, &pos, h[s], h[s + 1], p->up, a, b, 4);
                lstm_out(a, c[s] + blk * 8, out[s] + blk * 8);
                lstm_out(b, c[s + 1] + blk * 8, out[s + 1] + blk * 8);
            }
            if (s < n) {
                __m256 a[4];
                load_init(a, (pre ? pre[s] : p->bias) + blk * 32, 4);
                size_t pos = panel * (size_t)blk;
                acc_1(w, f16, &pos, x[s], cols, a, 4);
                if (!lstm) {
                    dense_out(p->act, a, out[s] + blk * 32);
                    continue;
                }
                acc_1(w, f16, &pos, h[s], p->up, a, 4);
                lstm_out(a, c[s] + blk * 8, out[s] + blk * 8);
            }
        }
        return;
    }
    size_t panel = (size_t)(cols + p->up) * 24;
    for (int blk = 0; blk < p->up / 8; blk++) {
        __m256 hn0 = _mm256_loadu_ps(p->bias_hn + blk * 8);
        int s = 0;
        for (; s + 2 <= n; s += 2) {
            __m256 ax[3], bx[3], ah[3], bh[3];
            load_init(ax, (pre ? pre[s] : p->bias) + blk * 24, 3);
            load_init(bx, (pre ? pre[s + 1] : p->bias) + blk * 24, 3);
            ah[0] = ah[1] = bh[0] = bh[1] = _mm256_setzero_ps();
            ah[2] = bh[2] = hn0;
            size_t pos = panel * (size_t)blk;
            acc_2(w, f16, &pos, x[s], x[s + 1], cols, ax, bx, 3);
            acc_2(w, f16, &pos, h[s], h[s + 1], p->up, ah, bh, 3);
            gru_out(ax, ah, h[s] + blk * 8, out[s] + blk * 8);
            gru_out(bx, bh, h[s + 1] + blk * 8, out[s + 1] + blk * 8);
        }
        if (s < n) {
            __m256 ax[3], ah[3];
            load_init(ax, (pre ? pre[s] : p->bias) + blk * 24, 3);
            ah[0] = ah[1] = _mm256_setzero_ps();
            ah[2] = hn0;
            size_t pos = panel * (size_t)blk;
            acc_1(w, f16, &pos, x[s], cols, ax, 3);
            acc_1(w, f16, &pos, h[s], p->up, ah, 3);
            gru_out(ax, ah, h[s] + blk * 8, out[s] + blk * 8);
        }
    }
}

TGT static void stream_layer_f32(const nn_pack *p, int n, const float *const *x,
                                 const float *const *pre, const float *const *h, float *const *c,
                                 float *const *out)
{
    stream_body(p, 0, n, x, pre, h, c, out);
}

TGT static void stream_layer_f16(const nn_pack *p, int n, const float *const *x,
                                 const float *const *pre, const float *const *h, float *const *c,
                                 float *const *out)
{
    stream_body(p, 1, n, x, pre, h, c, out);
}

static void stream_layer(const nn_pack *p, int n, const float *const *x, const float *const *pre,
                         const float *const *h, float *const *c, float *const *out)
{
    if (p->f16) stream_layer_f16(p, n, x, pre, h, c, out);
    else stream_layer_f32(p, n, x, pre, h, c, out);
}

const nn_kern nn_kern_avx2 = {"avx2", lstm_cell, gru_cell, stream_layer};
