/* trainer.c: forward and backward passes of the timbre autoencoder over a packed batch. */
#include "engine/voice/trainer.h"
#include "nn/nn_layers.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A noise band's power in dB, seen as the level of a sine in a 2048-point spectrum at 48 kHz,
 * is its power density per Hz plus this (what makes its floor comparable with the harmonics'). */
#define NOISE_TO_SINE_DB 18.5f

struct voice_trainer {
    voice_model *vm;
    int T, B, max_seg, ctx;
    float noise_weight, loud_weight, z_l2;
    /* encoder */
    float *e_h0, *e_h1, *e_z, *e_dz, *e_dh1, *e_dh0;
    float *zseg, *dzseg;
    /* decoder */
    float *x, *a0, *h, *acts, *a2, *y, *dy, *da2, *dh, *da0, *dx;
};

static float noise_w[VOICE_BANDS], noise_floor_off[VOICE_BANDS];

static void init_tables(void)
{
    if (noise_w[0] > 0) return;
    const double *e = voice_band_edges();
    double mean = (e[VOICE_BANDS] - e[0]) / VOICE_BANDS;
    for (int b = 0; b < VOICE_BANDS; b++) {
        double w = e[b + 1] - e[b];
        noise_w[b] = (float)(0.5 + 0.5 * w / mean);
        noise_floor_off[b] = (float)(10.0 * log10(w)) - NOISE_TO_SINE_DB;
    }
}

float voice_note_floor_db(const voice_frame *fr, size_t n)
{
    float top = 0;
    for (size_t k = 0; k < n; k++)
        for (int h = 0; h < VOICE_HARMONICS; h++)
            if (fr[k].harm[h] > top) top = fr[k].harm[h];
    return (top > 0 ? 20.0f * log10f(top) : VOICE_FLOOR_DB) - VOICE_LOSS_RANGE_DB;
}

static inline float sgn(float d) { return d > 0 ? 1.0f : d < 0 ? -1.0f : 0.0f; }

float voice_frame_loss(const float *y, float in_loud, const voice_frame *tgt, float F, int sr,
                       float noise_weight, float loud_weight, float scale, float *dy, float *harm_out,
                       float *noise_out, float *loud_out)
{
    init_tables();
    voice_model_tables_init();
    float l = in_loud < VOICE_LOUD_MIN_DB ? VOICE_LOUD_MIN_DB : in_loud;
    if (dy) memset(dy, 0, sizeof(float) * VOICE_DEC_OUT);
    /* harmonics: P_h = A + 10 log10 p_h, A = l + s y0, p = softmax(logits over nh) */
    int nh = voice_harmonics_below(tgt->f0_hz, sr);
    float hl = 0;
    /* the A-weighted power the frame makes, for the loudness term: every harmonic and band adds
     * its share, and the term's gradient reaches each in proportion to it */
    const double *e = voice_band_edges();
    int nb = 0;
    while (nb < VOICE_BANDS && e[nb + 1] <= 0.5 * sr) nb++;
    float share_h[VOICE_HARMONICS], share_n[VOICE_BANDS], apow = 0, lg = 0;
    int use_loud = loud_weight > 0 && tgt->loudness_db > VOICE_LOUD_MIN_DB;
    float Ph[VOICE_HARMONICS];
    float p[VOICE_HARMONICS];
    float lse = 0, A = 0;
    const float db_per_nat = 10.0f / logf(10.0f);
    float logit[VOICE_HARMONICS];
    if (nh > 0) {
        voice_harm_logits(y, tgt->f0_hz, nh, logit);
        float mx = -1e30f;
        for (int h = 0; h < nh; h++)
            if (logit[h] > mx) mx = logit[h];
        double se = 0;
        for (int h = 0; h < nh; h++) se += (p[h] = expf(logit[h] - mx));
        lse = mx + (float)log(se);
        A = l + VOICE_AMP_SCALE_DB * y[0];
        for (int h = 0; h < nh; h++) {
            p[h] = (float)(p[h] / se);
            Ph[h] = A + db_per_nat * (logit[h] - lse);
            share_h[h] = use_loud ? 0.5f * exp10f(Ph[h] / 10.0f) * voice_aw_power((float)(h + 1) * tgt->f0_hz) : 0;
            apow += share_h[h];
        }
    }
    for (int b = 0; b < nb && use_loud; b++) {
        float Q = l + VOICE_NOISE_SCALE_DB * y[VOICE_OUT_NOISE + b];
        share_n[b] = exp10f(Q / 10.0f) * voice_aw_band_power(b);
        apow += share_n[b];
    }
    float ll = 0;
    if (use_loud && apow > 0) {
        float d = 10.0f * log10f(apow) - tgt->loudness_db;
        ll = fabsf(d);
        lg = loud_weight * sgn(d) / apow; /* d loss / d (each share's dB) = lg * share */
    }
    if (nh > 0) {
        float g[VOICE_HARMONICS], gsum = 0;
        for (int h = 0; h < nh; h++) {
            float P = Ph[h];
            float Tt = tgt->harm[h] > 1e-6f ? 20.0f * log10f(tgt->harm[h]) : -120.0f;
            float cp = P > F ? P : F, ct = Tt > F ? Tt : F;
            hl += fabsf(cp - ct);
            g[h] = P > F ? sgn(cp - ct) / (float)nh : 0.0f;
            g[h] += lg * share_h[h];
            gsum += g[h];
        }
        hl /= (float)nh;
        if (dy) {
            dy[0] = scale * VOICE_AMP_SCALE_DB * gsum;
            for (int h = 0; h < nh; h++) {
                float dl = scale * db_per_nat * (g[h] - p[h] * gsum);
                dy[1 + h] = dl;
                int k;
                float w;
                voice_env_pos((float)(h + 1) * tgt->f0_hz, &k, &w);
                dy[VOICE_OUT_ENV + k] += VOICE_ENV_SCALE * (1.0f - w) * dl;
                dy[VOICE_OUT_ENV + k + 1] += VOICE_ENV_SCALE * w * dl;
            }
        }
    }
    /* noise: Q_b = l + s y_b, against its floor in band-power terms */
    float nl = 0, wsum = 0;
    for (int b = 0; b < nb; b++) wsum += noise_w[b];
    for (int b = 0; b < nb; b++) {
        float G = F + noise_floor_off[b];
        float Q = l + VOICE_NOISE_SCALE_DB * y[VOICE_OUT_NOISE + b];
        float Tt = tgt->noise_db[b];
        float cq = Q > G ? Q : G, ct = Tt > G ? Tt : G;
        float w = noise_w[b] / wsum;
        nl += w * fabsf(cq - ct);
        if (dy) {
            float gq = Q > G ? noise_weight * w * sgn(cq - ct) : 0.0f;
            if (use_loud) gq += lg * share_n[b];
            dy[VOICE_OUT_NOISE + b] = scale * VOICE_NOISE_SCALE_DB * gq;
        }
    }
    if (harm_out) *harm_out = hl;
    if (noise_out) *noise_out = nl;
    if (loud_out) *loud_out = ll;
    return hl + noise_weight * nl + loud_weight * ll;
}

voice_trainer *voice_trainer_create(voice_model *vm, int T, int B, int max_seg, int ctx,
                                    float noise_weight, float loud_weight, float z_l2, char *err,
                                    size_t errlen)
{
    voice_trainer *t = nn_alloc(sizeof *t);
    if (!t) goto oom;
    t->vm = vm;
    t->T = T;
    t->B = B;
    t->max_seg = max_seg;
    t->ctx = ctx;
    t->noise_weight = noise_weight;
    t->loud_weight = loud_weight;
    t->z_l2 = z_l2;
    const voice_model_config *c = &vm->cfg;
    size_t TB = (size_t)T * B, NC = (size_t)max_seg * ctx;
    int Din = c->zdim + VOICE_DEC_COND;
#define A(p, n) if (!(t->p = nn_alloc_array((n), sizeof(float)))) goto oom
    A(e_h0, NC * c->enc_hidden);
    A(e_h1, NC * c->enc_hidden);
    A(e_z, NC * c->zdim);
    A(e_dz, NC * c->zdim);
    A(e_dh1, NC * c->enc_hidden);
    A(e_dh0, NC * c->enc_hidden);
    A(zseg, (size_t)max_seg * c->zdim);
    A(dzseg, (size_t)max_seg * c->zdim);
    A(x, TB * Din);
    A(dx, TB * Din);
    A(a0, TB * c->dec_in);
    A(da0, TB * c->dec_in);
    A(h, TB * c->dec_gru);
    A(dh, TB * c->dec_gru);
    A(acts, nn_gru_acts_size(T, B, c->dec_gru));
    A(a2, TB * c->dec_hidden);
    A(da2, TB * c->dec_hidden);
    A(y, TB * VOICE_DEC_OUT);
    A(dy, TB * VOICE_DEC_OUT);
#undef A
    return t;
oom:
    voice_trainer_free(t);
    snprintf(err, errlen, "out of memory for a training batch of %d x %d frames", T, B);
    return NULL;
}

void voice_trainer_free(voice_trainer *t)
{
    if (!t) return;
    float *p[] = {t->e_h0, t->e_h1, t->e_z, t->e_dz, t->e_dh1, t->e_dh0, t->zseg, t->dzseg, t->x, t->dx,
                  t->a0, t->da0, t->h, t->dh, t->acts, t->a2, t->da2, t->y, t->dy};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) nn_free(p[i]);
    nn_free(t);
}

/* The gradient block's view of a tensor. */
static float *gview(const voice_model *vm, float *grads, const float *param)
{
    return grads + (param - nn_model_data(vm->m));
}

float voice_trainer_loss(voice_trainer *t, const voice_batch *b, float *grads, voice_loss_parts *parts)
{
    voice_model *vm = t->vm;
    const voice_model_config *c = &vm->cfg;
    const int Z = c->zdim, E = c->enc_hidden, Din = Z + VOICE_DEC_COND, T = b->T, B = b->B;
    const int NC = b->n_seg * b->ctx;
    const size_t TB = (size_t)T * B;
    /* encoder over every context frame, pooled per segment */
    nn_dense_forward(t->e_h0, b->ctx_in, vm->enc_w0, vm->enc_b0, NC, VOICE_ENC_IN, E);
    nn_act_forward(NN_ACT_RELU, t->e_h0, t->e_h0, (size_t)NC * E);
    nn_dense_forward(t->e_h1, t->e_h0, vm->enc_w1, vm->enc_b1, NC, E, E);
    nn_act_forward(NN_ACT_RELU, t->e_h1, t->e_h1, (size_t)NC * E);
    nn_dense_forward(t->e_z, t->e_h1, vm->enc_w2, vm->enc_b2, NC, E, Z);
    double zreg = 0;
    for (int s = 0; s < b->n_seg; s++) {
        float *zs = t->zseg + (size_t)s * Z;
        for (int d = 0; d < Z; d++) {
            double acc = 0;
            for (int i = 0; i < b->ctx; i++) acc += t->e_z[((size_t)s * b->ctx + i) * Z + d];
            zs[d] = (float)(acc / b->ctx);
            zreg += (double)zs[d] * zs[d];
        }
    }
    zreg = b->n_seg ? zreg / b->n_seg : 0;
    /* decoder inputs */
    int frames = 0;
    for (size_t i = 0; i < TB; i++) {
        float *xi = t->x + i * Din;
        int s = b->seg[i];
        if (s < 0 || !b->target[i]) {
            memset(xi, 0, sizeof(float) * (size_t)Din);
            continue;
        }
        frames++;
        for (int d = 0; d < Z; d++) xi[d] = t->zseg[(size_t)s * Z + d] + (b->z_noise ? b->z_noise[(size_t)s * Z + d] : 0.0f);
        const voice_frame *f = b->target[i];
        voice_dec_cond(f->f0_hz, f->loudness_db, f->since_onset_s, xi + Z);
        if (b->pitch_shift) xi[Z] += b->pitch_shift[s] / 12.0f;
    }
    nn_dense_forward(t->a0, t->x, vm->dec_win, vm->dec_bin, (int)TB, Din, c->dec_in);
    nn_act_forward(NN_ACT_RELU, t->a0, t->a0, TB * c->dec_in);
    nn_gru_forward(t->h, t->acts, NULL, t->a0, NULL, b->reset, vm->gru_wih, vm->gru_whh, vm->gru_bih,
                   vm->gru_bhh, T, B, c->dec_in, c->dec_gru);
    nn_dense_forward(t->a2, t->h, vm->dec_wmid, vm->dec_bmid, (int)TB, c->dec_gru, c->dec_hidden);
    nn_act_forward(NN_ACT_RELU, t->a2, t->a2, TB * c->dec_hidden);
    nn_dense_forward(t->y, t->a2, vm->dec_wout, vm->dec_bout, (int)TB, c->dec_hidden, VOICE_DEC_OUT);
    /* loss */
    double hsum = 0, nsum = 0, lsum = 0;
    float scale = frames ? 1.0f / (float)frames : 0.0f;
    for (size_t i = 0; i < TB; i++) {
        float *dyi = t->dy + i * VOICE_DEC_OUT;
        int s = b->seg[i];
        if (s < 0 || !b->target[i]) {
            memset(dyi, 0, sizeof(float) * VOICE_DEC_OUT);
            continue;
        }
        float hl, nl, ll;
        voice_frame_loss(t->y + i * VOICE_DEC_OUT, b->target[i]->loudness_db, b->target[i], b->floor_db[s],
                         b->sample_rate, t->noise_weight, t->loud_weight, scale, grads ? dyi : NULL, &hl, &nl, &ll);
        hsum += hl;
        nsum += nl;
        lsum += ll;
    }
    double hmean = frames ? hsum / frames : 0, nmean = frames ? nsum / frames : 0, lmean = frames ? lsum / frames : 0;
    float loss = (float)(hmean + t->noise_weight * nmean + t->loud_weight * lmean + t->z_l2 * zreg);
    if (parts) *parts = (voice_loss_parts){hmean, nmean, lmean, zreg, frames};
    if (!grads) return loss;

    /* backward through the decoder */
    memset(t->da2, 0, sizeof(float) * TB * c->dec_hidden);
    nn_dense_backward(t->da2, gview(vm, grads, vm->dec_wout), gview(vm, grads, vm->dec_bout), t->dy, t->a2,
                      vm->dec_wout, (int)TB, c->dec_hidden, VOICE_DEC_OUT);
    memset(t->dh, 0, sizeof(float) * TB * c->dec_gru);
    /* ReLU backward in place: zero where the output was zero */
    for (size_t i = 0; i < TB * c->dec_hidden; i++)
        if (!(t->a2[i] > 0)) t->da2[i] = 0;
    nn_dense_backward(t->dh, gview(vm, grads, vm->dec_wmid), gview(vm, grads, vm->dec_bmid), t->da2, t->h,
                      vm->dec_wmid, (int)TB, c->dec_gru, c->dec_hidden);
    memset(t->da0, 0, sizeof(float) * TB * c->dec_in);
    nn_gru_backward(t->da0, gview(vm, grads, vm->gru_wih), gview(vm, grads, vm->gru_whh),
                    gview(vm, grads, vm->gru_bih), gview(vm, grads, vm->gru_bhh), NULL, t->dh, t->acts, t->a0,
                    b->reset, vm->gru_wih, vm->gru_whh, T, B, c->dec_in, c->dec_gru);
    for (size_t i = 0; i < TB * c->dec_in; i++)
        if (!(t->a0[i] > 0)) t->da0[i] = 0;
    memset(t->dx, 0, sizeof(float) * TB * Din);
    nn_dense_backward(t->dx, gview(vm, grads, vm->dec_win), gview(vm, grads, vm->dec_bin), t->da0, t->x,
                      vm->dec_win, (int)TB, Din, c->dec_in);
    /* into the pooled latents, then the encoder */
    memset(t->dzseg, 0, sizeof(float) * (size_t)b->n_seg * Z);
    for (size_t i = 0; i < TB; i++) {
        int s = b->seg[i];
        if (s < 0 || !b->target[i]) continue;
        for (int d = 0; d < Z; d++) t->dzseg[(size_t)s * Z + d] += t->dx[i * Din + d];
    }
    float rg = b->n_seg ? 2.0f * t->z_l2 / (float)b->n_seg : 0.0f;
    for (int s = 0; s < b->n_seg; s++)
        for (int d = 0; d < Z; d++) {
            float g = t->dzseg[(size_t)s * Z + d] + rg * t->zseg[(size_t)s * Z + d];
            for (int i = 0; i < b->ctx; i++) t->e_dz[((size_t)s * b->ctx + i) * Z + d] = g / (float)b->ctx;
        }
    memset(t->e_dh1, 0, sizeof(float) * (size_t)NC * E);
    nn_dense_backward(t->e_dh1, gview(vm, grads, vm->enc_w2), gview(vm, grads, vm->enc_b2), t->e_dz, t->e_h1,
                      vm->enc_w2, NC, E, Z);
    for (size_t i = 0; i < (size_t)NC * E; i++)
        if (!(t->e_h1[i] > 0)) t->e_dh1[i] = 0;
    memset(t->e_dh0, 0, sizeof(float) * (size_t)NC * E);
    nn_dense_backward(t->e_dh0, gview(vm, grads, vm->enc_w1), gview(vm, grads, vm->enc_b1), t->e_dh1, t->e_h0,
                      vm->enc_w1, NC, E, E);
    for (size_t i = 0; i < (size_t)NC * E; i++)
        if (!(t->e_h0[i] > 0)) t->e_dh0[i] = 0;
    nn_dense_backward(NULL, gview(vm, grads, vm->enc_w0), gview(vm, grads, vm->enc_b0), t->e_dh0, b->ctx_in,
                      vm->enc_w0, NC, VOICE_ENC_IN, E);
    return loss;
}
