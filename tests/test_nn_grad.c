/* test_nn_grad.c: finite-difference gradient checks for every nn layer and loss. */
#include "nn/nn_gemm_packed.h"
#include "nn/nn_kern.h"
#include "nn/nn_layers.h"
#include "nn/nn_loss.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"
#include "nn/nn_seqnet.h"
#include "test_nn_util.h"

/* ---- dense ---- */
struct dense_ctx {
    int n, in, out;
    float *x, *w, *b, *y, *r, *dx, *dw, *db;
};

static double dense_loss(void *p)
{
    struct dense_ctx *c = p;
    nn_dense_forward(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
    return dotd(c->r, c->y, (size_t)c->n * c->out);
}

TEST(nn_grad_dense)
{
    nn_rng r;
    nn_rng_seed(&r, 1);
    struct dense_ctx c = {.n = 5, .in = 7, .out = 4};
    float x[35], w[28], b[4], y[20], rr[20], dx[35] = {0}, dw[28] = {0}, db[4] = {0};
    c.x = x, c.w = w, c.b = b, c.y = y, c.r = rr, c.dx = dx, c.dw = dw, c.db = db;
    fill(&r, x, 35, 1), fill(&r, w, 28, 0.5f), fill(&r, b, 4, 0.5f), fill(&r, rr, 20, 1);
    dense_loss(&c);
    nn_dense_backward(dx, dw, db, rr, x, w, 5, 7, 4);
    GRADCHECK("dense dx", dense_loss, &c, x, dx, 35);
    GRADCHECK("dense dw", dense_loss, &c, w, dw, 28);
    GRADCHECK("dense db", dense_loss, &c, b, db, 4);
}

/* ---- embedding ---- */
struct emb_ctx {
    int ids[6];
    float *table, *y, *r;
};

static double emb_loss(void *p)
{
    struct emb_ctx *c = p;
    nn_embed_forward(c->y, 3, c->ids, c->table, 6, 5, 3);
    return dotd(c->r, c->y, 18);
}

TEST(nn_grad_embedding)
{
    nn_rng r;
    nn_rng_seed(&r, 2);
    float table[15], y[18], rr[18], dt[15] = {0};
    struct emb_ctx c = {{0, 4, 4, 2, -1, 7}, table, y, rr};
    fill(&r, table, 15, 1), fill(&r, rr, 18, 1);
    emb_loss(&c);
    CHECK_EQ_INT(y[12], 0); /* out-of-range ids give zero rows */
    nn_embed_backward(dt, rr, 3, c.ids, 6, 5, 3);
    GRADCHECK("embedding", emb_loss, &c, table, dt, 15);
}

/* ---- LSTM and GRU ---- */
struct rnn_ctx {
    int gru, T, B, I, H;
    float *x, *h0, *c0, *w_ih, *w_hh, *b, *b2, *h, *acts, *r, *hT, *cT;
    uint8_t *reset;
};

static double rnn_loss(void *p)
{
    struct rnn_ctx *c = p;
    if (c->gru)
        nn_gru_forward(c->h, c->acts, c->hT, c->x, c->h0, c->reset, c->w_ih, c->w_hh, c->b, c->b2,
                       c->T, c->B, c->I, c->H);
    else
        nn_lstm_forward(c->h, c->acts, c->hT, c->cT, c->x, c->h0, c->c0, c->reset, c->w_ih,
                        c->w_hh, c->b, c->T, c->B, c->I, c->H);
    return dotd(c->r, c->h, (size_t)c->T * c->B * c->H);
}

static void rnn_check(int gru)
{
    nn_rng r;
    nn_rng_seed(&r, 3 + gru);
    int T = 4, B = 3, I = 5, H = 6, G = gru ? 3 : 4;
    size_t TBH = (size_t)T * B * H;
    struct rnn_ctx c = {.gru = gru, .T = T, .B = B, .I = I, .H = H};
    float *mem = nn_alloc_array(20000, sizeof(float)), *p = mem;
    c.x = p, p += T * B * I;
    c.h0 = p, p += B * H;
    c.c0 = p, p += B * H;
    c.w_ih = p, p += G * H * I;
    c.w_hh = p, p += G * H * H;
    c.b = p, p += G * H;
    c.b2 = p, p += G * H;
    c.h = p, p += TBH;
    c.r = p, p += TBH;
    c.hT = p, p += B * H;
    c.cT = p, p += B * H;
    float *dx = p, *dh0 = (p += T * B * I), *dc0 = (p += B * H), *dwi = (p += B * H);
    float *dwh = (p += G * H * I), *db = (p += G * H * H), *db2 = (p += G * H);
    p += G * H;
    c.acts = p;
    uint8_t reset[12] = {0};
    reset[2 * B + 1] = 1; /* sequence 1 restarts at t = 2 */
    c.reset = reset;
    fill(&r, c.x, (size_t)T * B * I, 1), fill(&r, c.h0, B * H, 0.5f), fill(&r, c.c0, B * H, 0.5f);
    fill(&r, c.w_ih, G * H * I, 0.5f), fill(&r, c.w_hh, G * H * H, 0.5f);
    fill(&r, c.b, G * H, 0.3f), fill(&r, c.b2, G * H, 0.3f), fill(&r, c.r, TBH, 1);
    rnn_loss(&c);
    if (gru)
        nn_gru_backward(dx, dwi, dwh, db, db2, dh0, c.r, c.acts, c.x, reset, c.w_ih, c.w_hh, T, B,
                        I, H);
    else
        nn_lstm_backward(dx, dwi, dwh, db, dh0, dc0, c.r, c.acts, c.x, reset, c.w_ih, c.w_hh, T, B,
                         I, H);
    GRADCHECK("rnn dw_ih", rnn_loss, &c, c.w_ih, dwi, (size_t)G * H * I);
    GRADCHECK("rnn dw_hh", rnn_loss, &c, c.w_hh, dwh, (size_t)G * H * H);
    GRADCHECK("rnn db", rnn_loss, &c, c.b, db, (size_t)G * H);
    GRADCHECK("rnn dh0", rnn_loss, &c, c.h0, dh0, (size_t)B * H);
    GRADCHECK("rnn dx", rnn_loss, &c, c.x, dx, (size_t)T * B * I);
    if (gru) GRADCHECK("gru db_hh", rnn_loss, &c, c.b2, db2, (size_t)G * H);
    else GRADCHECK("lstm dc0", rnn_loss, &c, c.c0, dc0, (size_t)B * H);
    nn_free(mem);
}

TEST(nn_grad_lstm) { rnn_check(0); }
TEST(nn_grad_gru) { rnn_check(1); }

TEST(nn_grad_lstm_scalar_kernels)
{
    nn_kern_use_scalar(1);
    nn_gemm_packed_use_blas(1);
    rnn_check(0);
    rnn_check(1);
}

/* ---- activations and layer norm ---- */
struct act_ctx {
    nn_act act;
    float *x, *y, *r;
    int n;
};

static double act_loss(void *p)
{
    struct act_ctx *c = p;
    nn_act_forward(c->act, c->y, c->x, (size_t)c->n);
    return dotd(c->r, c->y, (size_t)c->n);
}

TEST(nn_grad_activations)
{
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (int a = NN_ACT_NONE; a <= NN_ACT_GELU; a++) {
        float x[32], y[32], rr[32], dx[32] = {0};
        fill(&r, x, 32, 3), fill(&r, rr, 32, 1);
        for (int i = 0; i < 32; i++)
            if (fabsf(x[i]) < 0.1f) x[i] = 0.5f; /* keep ReLU's kink away from the probes */
        struct act_ctx c = {(nn_act)a, x, y, rr, 32};
        act_loss(&c);
        nn_act_backward((nn_act)a, dx, rr, x, y, 32);
        GRADCHECK("activation", act_loss, &c, x, dx, 32);
    }
}

struct sm_ctx {
    float *x, *y, *r;
};

static double sm_loss(void *p)
{
    struct sm_ctx *c = p;
    nn_softmax(c->y, c->x, 3, 5);
    return dotd(c->r, c->y, 15);
}

TEST(nn_grad_softmax)
{
    nn_rng r;
    nn_rng_seed(&r, 12);
    float x[15], y[15], rr[15], dx[15] = {0};
    fill(&r, x, 15, 3), fill(&r, rr, 15, 1);
    struct sm_ctx c = {x, y, rr};
    sm_loss(&c);
    nn_softmax_backward(dx, rr, y, 3, 5);
    GRADCHECK("softmax", sm_loss, &c, x, dx, 15);
}

TEST(nn_softmax_rows_sum_to_one)
{
    float x[6] = {1, 2, 3, -100, 0, 100}, y[6];
    nn_softmax(y, x, 2, 3);
    CHECK_NEAR(y[0] + y[1] + y[2], 1, 1e-6);
    CHECK_NEAR(y[5], 1, 1e-6);
    CHECK(y[2] > y[1] && y[1] > y[0]);
}

struct ln_ctx {
    float *x, *g, *b, *y, *mean, *rstd, *r;
};

static double ln_loss(void *p)
{
    struct ln_ctx *c = p;
    nn_layernorm_forward(c->y, c->mean, c->rstd, c->x, c->g, c->b, 4, 6);
    return dotd(c->r, c->y, 24);
}

TEST(nn_grad_layernorm)
{
    nn_rng r;
    nn_rng_seed(&r, 6);
    float x[24], g[6], b[6], y[24], mean[4], rstd[4], rr[24], dx[24] = {0}, dg[6] = {0},
                                                              db[6] = {0};
    fill(&r, x, 24, 2), fill(&r, g, 6, 1), fill(&r, b, 6, 1), fill(&r, rr, 24, 1);
    struct ln_ctx c = {x, g, b, y, mean, rstd, rr};
    ln_loss(&c);
    nn_layernorm_backward(dx, dg, db, rr, x, mean, rstd, g, 4, 6);
    GRADCHECK("layernorm dx", ln_loss, &c, x, dx, 24);
    GRADCHECK("layernorm dg", ln_loss, &c, g, dg, 6);
    GRADCHECK("layernorm db", ln_loss, &c, b, db, 6);
}

/* ---- losses ---- */
struct loss_ctx {
    int kind;
    float *in, *tf, *mask;
    int *ti;
    nn_specloss *spec;
};

static double loss_only(void *p)
{
    struct loss_ctx *c = p;
    switch (c->kind) {
    case 0: return nn_softmax_xent(NULL, c->in, c->ti, c->mask, 5, 4, 1.5f);
    case 1: return nn_sigmoid_bce(NULL, c->in, c->tf, c->mask, 5, 4, 1.5f);
    case 2: return nn_mse(NULL, c->in, c->tf, c->mask, 5, 4, 1.5f);
    case 3: return nn_l1(NULL, c->in, c->tf, c->mask, 5, 4, 1.5f);
    default: return nn_specloss_eval(c->spec, NULL, c->in, c->tf, 600, 1.0f);
    }
}

TEST(nn_grad_losses)
{
    nn_rng r;
    nn_rng_seed(&r, 7);
    float in[20], tf[20], d[20], mask[5] = {1, 0.5f, 0, 2, 1};
    int ti[5] = {0, 3, 2, -1, 1};
    for (int kind = 0; kind < 4; kind++) {
        fill(&r, in, 20, 2);
        for (int i = 0; i < 20; i++) {
            tf[i] = kind == 1 ? (float)(nn_rng_u64(&r) & 1) : in[i] + 0.2f + nn_rng_uniform(&r);
            if (kind >= 2 && (i & 1)) tf[i] = in[i] - 0.3f;
        }
        struct loss_ctx c = {kind, in, tf, mask, ti, NULL};
        float l;
        switch (kind) {
        case 0: l = nn_softmax_xent(d, in, ti, mask, 5, 4, 1.5f); break;
        case 1: l = nn_sigmoid_bce(d, in, tf, mask, 5, 4, 1.5f); break;
        case 2: l = nn_mse(d, in, tf, mask, 5, 4, 1.5f); break;
        default: l = nn_l1(d, in, tf, mask, 5, 4, 1.5f); break;
        }
        CHECK(l > 0);
        for (int i = 0; i < 20; i++) d[i] /= 1.5f; /* scale applies to the gradient only */
        GRADCHECK("loss", loss_only, &c, in, d, 20);
        for (int j = 0; j < 4; j++) CHECK_NEAR(d[2 * 4 + j], 0, 0); /* mask 0 row */
    }
}

static void spectral_check(float log_weight, float eps)
{
    nn_rng r;
    nn_rng_seed(&r, 8);
    int sizes[3] = {64, 128, 256};
    nn_specloss *s = nn_specloss_create(sizes, 3, 600, log_weight, eps);
    CHECK(s);
    float *pred = nn_alloc(600 * 4), *tgt = nn_alloc(600 * 4), *d = nn_alloc(600 * 4);
    for (int i = 0; i < 600; i++) {
        pred[i] = 0.5f * sinf(0.05f * i) + 0.2f * (2 * nn_rng_uniform(&r) - 1);
        tgt[i] = 0.3f * sinf(0.11f * i) + 0.1f * (2 * nn_rng_uniform(&r) - 1);
    }
    float l = nn_specloss_eval(s, d, pred, tgt, 600, 1.0f);
    CHECK(l > 0);
    CHECK_NEAR(nn_specloss_eval(s, NULL, tgt, tgt, 600, 1.0f), 0, 1e-6);
    struct loss_ctx c = {4, pred, tgt, NULL, NULL, s};
    gradcheck_at(__FILE__, __LINE__, "spectral", loss_only, &c, pred, d, 600, 40, 1e-3f, 3e-2,
                 2e-4);
    nn_specloss_free(s);
    nn_free(pred), nn_free(tgt), nn_free(d);
}

/* The L1 terms have kinks where two magnitudes meet, so the probes are small (1e-3); the log term
 * is also checked with a large floor, where near-zero magnitudes would make float probes useless. */
TEST(nn_grad_spectral_loss)
{
    spectral_check(0.0f, 1e-5f);
    spectral_check(1.0f, 0.5f);
}

/* ---- the whole sequence model ---- */
struct seq_ctx {
    nn_seqnet *s;
    nn_seqnet_batch *b;
};

static double seq_loss(void *p)
{
    struct seq_ctx *c = p;
    return nn_seqnet_loss(c->s, c->b, NULL, NULL);
}

TEST(nn_grad_seqnet)
{
    nn_seqnet_config cfg = {.n_embed = 2, .embed_vocab = {5, 4}, .embed_dim = {3, 2},
                            .dense_in = 2, .layers = 2, .hidden = 5, .n_heads = 2,
                            .head_kind = {NN_HEAD_SOFTMAX, NN_HEAD_SIGMOID},
                            .head_size = {4, 3}, .head_weight = {1.0f, 0.5f}};
    char err[256];
    nn_model *m = nn_seqnet_model_create(&cfg, 11, err, sizeof err);
    CHECKF(m, "%s", err);
    int T = 3, B = 2;
    nn_seqnet *s = nn_seqnet_create(m, T, B, err, sizeof err);
    CHECKF(s, "%s", err);
    nn_rng r;
    nn_rng_seed(&r, 9);
    int ids[12], tg[6] = {0, 3, 1, -1, 2, 2};
    float dense[12], multi[18], mask[6] = {1, 1, 0.5f, 1, 0, 1};
    uint8_t reset[6] = {0, 0, 0, 1, 0, 0};
    for (int i = 0; i < 6; i++) ids[2 * i] = (int)nn_rng_below(&r, 5), ids[2 * i + 1] = (int)nn_rng_below(&r, 4);
    fill(&r, dense, 12, 1);
    for (int i = 0; i < 18; i++) multi[i] = (float)(nn_rng_u64(&r) & 1);
    nn_seqnet_batch b = {T, B, ids, dense, reset, mask, {tg, NULL}, {NULL, multi}};
    size_t n = nn_model_size(m);
    float *g = nn_alloc_array(n, sizeof(float));
    float loss = nn_seqnet_loss(s, &b, g, NULL);
    CHECK(loss > 0);
    struct seq_ctx c = {s, &b};
    gradcheck_at(__FILE__, __LINE__, "seqnet", seq_loss, &c, nn_model_data(m), g, n, 300, 1e-2f,
                 2e-2, 2e-4);
    nn_free(g);
    nn_seqnet_free(s);
    nn_model_free(m);
}
