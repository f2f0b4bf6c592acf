/* test_nn_ref.c: nn/ against PyTorch: fixtures written by tools/nn_reference.py (float64 PyTorch,
 * stored as float32) recomputed here. Tolerances (docs/nn.md): forward values 1e-5 absolute +
 * 1e-4 relative; gradients and optimiser steps 1e-5 absolute + 1e-3 relative. */
#include "nn/nn_layers.h"
#include "nn/nn_loss.h"
#include "nn/nn_mem.h"
#include "nn/nn_model.h"
#include "nn/nn_ops.h"
#include "nn/nn_optim.h"
#include "nn/nn_seqnet.h"
#include "test_nn_util.h"

#define FWD_ATOL 1e-5
#define FWD_RTOL 1e-4
#define GRAD_ATOL 1e-5
#define GRAD_RTOL 1e-3

static nn_model *fixture(const char *name)
{
    char path[256], err[512];
    snprintf(path, sizeof path, "tests/fixtures/nn/%s", name);
    nn_model *m = nn_model_load(path, err, sizeof err);
    CHECKF(m, "%s", err);
    return m;
}

static float *T_(nn_model *m, const char *name, size_t n)
{
    const nn_tensor *t = nn_model_find(m, name);
    CHECKF(t, "fixture tensor '%s' is missing", name);
    CHECKF(t->size == n, "fixture tensor '%s' has %zu values, expected %zu", name, t->size, n);
    return t->data;
}

static float *zeros(size_t n) { return nn_alloc_array(n, sizeof(float)); }

TEST(nn_ref_dense)
{
    nn_model *m = fixture("dense.bmnn");
    float y[20], *dx = zeros(35), *dw = zeros(28), *db = zeros(4);
    nn_dense_forward(y, T_(m, "x", 35), T_(m, "w", 28), T_(m, "b", 4), 5, 7, 4);
    CHECK_CLOSE("y", y, T_(m, "y", 20), 20, FWD_ATOL, FWD_RTOL);
    nn_dense_backward(dx, dw, db, T_(m, "dy", 20), T_(m, "x", 35), T_(m, "w", 28), 5, 7, 4);
    CHECK_CLOSE("dx", dx, T_(m, "dx", 35), 35, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("dw", dw, T_(m, "dw", 28), 28, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("db", db, T_(m, "db", 4), 4, GRAD_ATOL, GRAD_RTOL);
    nn_free(dx), nn_free(dw), nn_free(db);
    nn_model_free(m);
}

static void recurrent(int gru)
{
    nn_model *m = fixture(gru ? "gru.bmnn" : "lstm.bmnn");
    int T = 5, B = 3, I = 4, H = 6, G = gru ? 3 : 4;
    size_t TBH = (size_t)T * B * H;
    float *x = T_(m, "x", (size_t)T * B * I), *h0 = T_(m, "h0", B * H), *c0 = T_(m, "c0", B * H);
    float *wi = T_(m, "w_ih", G * H * I), *wh = T_(m, "w_hh", G * H * H), *rf = T_(m, "reset", T * B);
    uint8_t reset[15];
    for (int i = 0; i < T * B; i++) reset[i] = rf[i] != 0;
    float *h = zeros(TBH), *hT = zeros(B * H), *cT = zeros(B * H);
    float *acts = zeros(gru ? nn_gru_acts_size(T, B, H) : nn_lstm_acts_size(T, B, H));
    float *dx = zeros((size_t)T * B * I), *dwi = zeros(G * H * I), *dwh = zeros(G * H * H);
    float *db = zeros(G * H), *db2 = zeros(G * H), *dh0 = zeros(B * H), *dc0 = zeros(B * H);
    for (int pass = 0; pass < 2; pass++) { /* 0: no restarts, as torch.nn.LSTM/GRU; 1: restarts */
        const uint8_t *rs = pass ? reset : NULL;
        if (gru)
            nn_gru_forward(h, acts, hT, x, h0, rs, wi, wh, T_(m, "b_ih", G * H),
                           T_(m, "b_hh", G * H), T, B, I, H);
        else
            nn_lstm_forward(h, acts, hT, cT, x, h0, c0, rs, wi, wh, T_(m, "b", G * H), T, B, I, H);
        CHECK_CLOSE(pass ? "h" : "h (module)", h, T_(m, pass ? "h" : "h_plain", TBH), TBH,
                    FWD_ATOL, FWD_RTOL);
    }
    CHECK_CLOSE("hT", hT, T_(m, "hT", B * H), B * H, FWD_ATOL, FWD_RTOL);
    if (!gru) CHECK_CLOSE("cT", cT, T_(m, "cT", B * H), B * H, FWD_ATOL, FWD_RTOL);
    if (gru)
        nn_gru_backward(dx, dwi, dwh, db, db2, dh0, T_(m, "dh", TBH), acts, x, reset, wi, wh, T, B,
                        I, H);
    else
        nn_lstm_backward(dx, dwi, dwh, db, dh0, dc0, T_(m, "dh", TBH), acts, x, reset, wi, wh, T,
                         B, I, H);
    CHECK_CLOSE("dx", dx, T_(m, "dx", (size_t)T * B * I), (size_t)T * B * I, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("dw_ih", dwi, T_(m, "dw_ih", G * H * I), G * H * I, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("dw_hh", dwh, T_(m, "dw_hh", G * H * H), G * H * H, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("dh0", dh0, T_(m, "dh0", B * H), B * H, GRAD_ATOL, GRAD_RTOL);
    if (gru) {
        CHECK_CLOSE("db_ih", db, T_(m, "db_ih", G * H), G * H, GRAD_ATOL, GRAD_RTOL);
        CHECK_CLOSE("db_hh", db2, T_(m, "db_hh", G * H), G * H, GRAD_ATOL, GRAD_RTOL);
    } else {
        CHECK_CLOSE("db", db, T_(m, "db", G * H), G * H, GRAD_ATOL, GRAD_RTOL);
        CHECK_CLOSE("dc0", dc0, T_(m, "dc0", B * H), B * H, GRAD_ATOL, GRAD_RTOL);
    }
    float *all[] = {h, hT, cT, acts, dx, dwi, dwh, db, db2, dh0, dc0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nn_free(all[i]);
    nn_model_free(m);
}

TEST(nn_ref_lstm) { recurrent(0); }
TEST(nn_ref_gru) { recurrent(1); }

TEST(nn_ref_activations_layernorm_softmax)
{
    nn_model *m = fixture("activations.bmnn");
    float *x = T_(m, "x", 24), *dy = T_(m, "dy", 24), y[24], dx[24];
    const char *names[4] = {"tanh", "sigmoid", "relu", "gelu"};
    nn_act acts[4] = {NN_ACT_TANH, NN_ACT_SIGMOID, NN_ACT_RELU, NN_ACT_GELU};
    char key[32];
    for (int a = 0; a < 4; a++) {
        nn_act_forward(acts[a], y, x, 24);
        snprintf(key, sizeof key, "%s.y", names[a]);
        CHECK_CLOSE(key, y, T_(m, key, 24), 24, FWD_ATOL, FWD_RTOL);
        memset(dx, 0, sizeof dx);
        nn_act_backward(acts[a], dx, dy, x, y, 24);
        snprintf(key, sizeof key, "%s.dx", names[a]);
        CHECK_CLOSE(key, dx, T_(m, key, 24), 24, GRAD_ATOL, GRAD_RTOL);
    }
    nn_softmax(y, x, 4, 6);
    CHECK_CLOSE("softmax", y, T_(m, "softmax.y", 24), 24, FWD_ATOL, FWD_RTOL);
    float mean[4], rstd[4], dg[6] = {0}, db[6] = {0};
    nn_layernorm_forward(y, mean, rstd, x, T_(m, "ln.g", 6), T_(m, "ln.b", 6), 4, 6);
    CHECK_CLOSE("layernorm", y, T_(m, "ln.y", 24), 24, FWD_ATOL, FWD_RTOL);
    memset(dx, 0, sizeof dx);
    nn_layernorm_backward(dx, dg, db, dy, x, mean, rstd, T_(m, "ln.g", 6), 4, 6);
    CHECK_CLOSE("ln.dx", dx, T_(m, "ln.dx", 24), 24, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("ln.dg", dg, T_(m, "ln.dg", 6), 6, GRAD_ATOL, GRAD_RTOL);
    CHECK_CLOSE("ln.db", db, T_(m, "ln.db", 6), 6, GRAD_ATOL, GRAD_RTOL);
    nn_model_free(m);
}

TEST(nn_ref_losses)
{
    nn_model *m = fixture("losses.bmnn");
    int n = 6, k = 5, tg[6];
    float *logits = T_(m, "logits", 30), *mask = T_(m, "mask", 6), *tf = T_(m, "targets", 6), d[30];
    for (int i = 0; i < n; i++) tg[i] = (int)tf[i];
    float l = nn_softmax_xent(d, logits, tg, mask, n, k, 1.0f);
    CHECK_NEAR(l, T_(m, "xent.loss", 1)[0], 1e-5);
    CHECK_CLOSE("xent.d", d, T_(m, "xent.d", 30), 30, GRAD_ATOL, GRAD_RTOL);
    l = nn_sigmoid_bce(d, logits, T_(m, "multi", 30), mask, n, k, 1.0f);
    CHECK_NEAR(l, T_(m, "bce.loss", 1)[0], 1e-5);
    CHECK_CLOSE("bce.d", d, T_(m, "bce.d", 30), 30, GRAD_ATOL, GRAD_RTOL);
    l = nn_mse(d, logits, T_(m, "target", 30), mask, n, k, 1.0f);
    CHECK_NEAR(l, T_(m, "mse.loss", 1)[0], 1e-5);
    CHECK_CLOSE("mse.d", d, T_(m, "mse.d", 30), 30, GRAD_ATOL, GRAD_RTOL);
    l = nn_l1(d, logits, T_(m, "target", 30), mask, n, k, 1.0f);
    CHECK_NEAR(l, T_(m, "l1.loss", 1)[0], 1e-5);
    CHECK_CLOSE("l1.d", d, T_(m, "l1.d", 30), 30, GRAD_ATOL, GRAD_RTOL);
    int sizes[3] = {64, 128, 256};
    nn_specloss *s = nn_specloss_create(sizes, 3, 600, 1.0f, 1e-5f);
    float *ds = zeros(600);
    l = nn_specloss_eval(s, ds, T_(m, "spec.pred", 600), T_(m, "spec.target", 600), 600, 1.0f);
    CHECK_NEAR(l, T_(m, "spec.loss", 1)[0], 1e-4 * fabs(T_(m, "spec.loss", 1)[0]));
    CHECK_CLOSE("spec.d", ds, T_(m, "spec.d", 600), 600, 1e-6, 1e-2);
    nn_free(ds);
    nn_specloss_free(s);
    nn_model_free(m);
}

TEST(nn_ref_adam_adamw_clipping)
{
    nn_model *m = fixture("adam.bmnn");
    for (int w = 0; w < 2; w++) {
        float p[50], g[50];
        memcpy(p, T_(m, "p0", 50), sizeof p);
        nn_adam a;
        nn_adam_config cfg = nn_adam_defaults();
        cfg.lr = 1e-2f;
        cfg.weight_decay = w ? 0.1f : 0.0f;
        CHECK(nn_adam_init(&a, cfg, 50) == 0);
        for (int s = 0; s < 3; s++) {
            char key[8];
            snprintf(key, sizeof key, "g%d", s);
            memcpy(g, T_(m, key, 50), sizeof g);
            nn_clip_grad_norm(g, 50, 1.0f);
            nn_adam_step(&a, p, g, cfg.lr);
        }
        CHECK_CLOSE(w ? "adamw" : "adam", p, T_(m, w ? "adamw.p" : "adam.p", 50), 50, GRAD_ATOL,
                    GRAD_RTOL);
        nn_adam_free(&a);
    }
    float g[50];
    memcpy(g, T_(m, "g2", 50), sizeof g);
    float norm = nn_clip_grad_norm(g, 50, 1.0f);
    CHECK_NEAR(norm, T_(m, "clip.norm", 1)[0], 1e-5);
    CHECK_CLOSE("clipped", g, T_(m, "clip.g", 50), 50, 1e-6, 1e-5);
    nn_model_free(m);
}

TEST(nn_ref_seqnet_loss_gradients_and_adam_steps)
{
    nn_model *fx = fixture("seqnet.bmnn");
    nn_seqnet_config cfg;
    char err[256];
    CHECKF(nn_seqnet_config_from_model(&cfg, fx, err, sizeof err) == 0, "%s", err);
    nn_model *m = nn_seqnet_model_create(&cfg, 1, err, sizeof err);
    CHECKF(m, "%s", err);
    for (int i = 0; i < nn_model_count(m); i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        memcpy(t->data, T_(fx, t->name, t->size), sizeof(float) * t->size);
    }
    int T = 4, B = 3;
    nn_seqnet *s = nn_seqnet_create(m, T, B, err, sizeof err);
    CHECKF(s, "%s", err);
    int ids[24], tg[12];
    uint8_t reset[12];
    float *fi = T_(fx, "batch.ids", 24), *ft = T_(fx, "batch.targets", 12), *fr = T_(fx, "batch.reset", 12);
    for (int i = 0; i < 24; i++) ids[i] = (int)fi[i];
    for (int i = 0; i < 12; i++) tg[i] = (int)ft[i], reset[i] = fr[i] != 0;
    nn_seqnet_batch b = {T, B, ids, T_(fx, "batch.dense", 24), reset, T_(fx, "batch.mask", 12),
                         {tg, NULL}, {NULL, T_(fx, "batch.multi", 36)}};
    size_t n = nn_model_size(m);
    float *g = zeros(n), hl[2];
    float loss = nn_seqnet_loss(s, &b, g, hl);
    CHECK_NEAR(loss, T_(fx, "expect.loss", 1)[0], 1e-5);
    CHECK_CLOSE("head losses", hl, T_(fx, "expect.head_loss", 2), 2, FWD_ATOL, FWD_RTOL);
    CHECK_CLOSE("logits", nn_seqnet_logits(s, NULL), T_(fx, "expect.logits", 96), 96, FWD_ATOL,
                FWD_RTOL);
    char key[96];
    for (int i = 0; i < nn_model_count(m); i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        snprintf(key, sizeof key, "grad.%s", t->name);
        CHECK_CLOSE(key, g + t->offset, T_(fx, key, t->size), t->size, GRAD_ATOL, GRAD_RTOL);
    }
    nn_adam a;
    nn_adam_config cfg2 = nn_adam_defaults();
    cfg2.lr = 1e-2f;
    CHECK(nn_adam_init(&a, cfg2, n) == 0);
    for (int step = 0; step < 2; step++) {
        memset(g, 0, sizeof(float) * n);
        nn_seqnet_loss(s, &b, g, NULL);
        nn_clip_grad_norm(g, n, 1.0f);
        nn_adam_step(&a, nn_model_data(m), g, cfg2.lr);
    }
    for (int i = 0; i < nn_model_count(m); i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        snprintf(key, sizeof key, "after.%s", t->name);
        CHECK_CLOSE(key, t->data, T_(fx, key, t->size), t->size, GRAD_ATOL, GRAD_RTOL);
    }
    nn_adam_free(&a);
    nn_free(g);
    nn_seqnet_free(s);
    nn_model_free(m);
    nn_model_free(fx);
}
