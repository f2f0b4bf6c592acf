/* test_nn_stream.c: the streaming runner against the training forward pass, AVX2 against scalar
 * kernels, batched streams against single ones, state reset, no allocation per step. */
#include "nn/nn_layers.h"
#include "nn/nn_mem.h"
#include "nn/nn_seqnet.h"
#include "nn/nn_stream.h"
#include "test_nn_util.h"

#include <malloc.h>

static nn_seqnet_config small_cfg(void)
{
    return (nn_seqnet_config){.n_embed = 2, .embed_vocab = {7, 5}, .embed_dim = {4, 3},
                              .dense_in = 3, .layers = 2, .hidden = 20, .n_heads = 2,
                              .head_kind = {NN_HEAD_SOFTMAX, NN_HEAD_SIGMOID},
                              .head_size = {7, 5}};
}

/* Runs the seqnet through nn_stream (flags) and compares with the training forward pass. */
static void seqnet_vs_stream(int flags, double atol, double rtol)
{
    nn_seqnet_config cfg = small_cfg();
    char err[256];
    nn_model *m = nn_seqnet_model_create(&cfg, 5, err, sizeof err);
    CHECKF(m, "%s", err);
    int T = 6, B = 3, HO = 12;
    nn_seqnet *s = nn_seqnet_create(m, T, B, err, sizeof err);
    CHECKF(s, "%s", err);
    nn_rng r;
    nn_rng_seed(&r, 1);
    int ids[36], tg[18] = {0};
    float dense[54], multi[90] = {0};
    for (int i = 0; i < 18; i++) ids[2 * i] = (int)nn_rng_below(&r, 7), ids[2 * i + 1] = (int)nn_rng_below(&r, 5);
    fill(&r, dense, 54, 1);
    nn_seqnet_batch b = {T, B, ids, dense, NULL, NULL, {tg, NULL}, {NULL, multi}};
    nn_seqnet_loss(s, &b, NULL, NULL);
    int width;
    const float *logits = nn_seqnet_logits(s, &width);
    CHECK_EQ_INT(width, HO);

    nn_stream_desc d;
    nn_seqnet_stream_desc(&cfg, 4, flags, &d);
    nn_stream *st = nn_stream_create(&d, m, err, sizeof err);
    CHECKF(st, "%s", err);
    CHECK_EQ_INT(nn_stream_out_size(st), HO);
    float *states[3];
    for (int k = 0; k < B; k++) {
        states[k] = nn_alloc_array(nn_stream_state_size(st), sizeof(float));
        nn_stream_state_reset(st, states[k]);
    }
    float y[3 * 12];
    for (int t = 0; t < T; t++) {
        nn_stream_step(st, B, states, ids + t * B * 2, dense + t * B * 3, y);
        CHECK_CLOSE("stream logits", y, logits + (size_t)t * B * HO, (size_t)B * HO, atol, rtol);
    }
    for (int k = 0; k < B; k++) nn_free(states[k]);
    nn_stream_free(st);
    nn_seqnet_free(s);
    nn_model_free(m);
}

TEST(nn_stream_matches_training_forward_avx2)
{
    if (!nn_cpu_has_avx2()) test_skip("this CPU has no AVX2/FMA/F16C");
    seqnet_vs_stream(0, 2e-6, 1e-5);
}

TEST(nn_stream_matches_training_forward_scalar) { seqnet_vs_stream(NN_STREAM_SCALAR, 2e-6, 1e-5); }

TEST(nn_stream_half_weights_stay_close)
{
    seqnet_vs_stream(NN_STREAM_F16, 5e-3, 5e-3);
    seqnet_vs_stream(NN_STREAM_F16 | NN_STREAM_SCALAR, 5e-3, 5e-3);
}

/* A decoder-like stack: dense(relu) -> GRU -> dense(tanh) -> dense(sigmoid), against the layers. */
static nn_model *gru_model(nn_rng *r)
{
    nn_model *m = nn_model_create();
    CHECK(nn_model_add(m, "in.w", 2, (int[]){16, 6}) >= 0);
    CHECK(nn_model_add(m, "in.b", 1, (int[]){16}) >= 0);
    CHECK(nn_model_add(m, "gru.w_ih", 2, (int[]){72, 16}) >= 0);
    CHECK(nn_model_add(m, "gru.w_hh", 2, (int[]){72, 24}) >= 0);
    CHECK(nn_model_add(m, "gru.b_ih", 1, (int[]){72}) >= 0);
    CHECK(nn_model_add(m, "gru.b_hh", 1, (int[]){72}) >= 0);
    CHECK(nn_model_add(m, "mid.w", 2, (int[]){40, 24}) >= 0);
    CHECK(nn_model_add(m, "mid.b", 1, (int[]){40}) >= 0);
    CHECK(nn_model_add(m, "out.w", 2, (int[]){10, 40}) >= 0);
    CHECK(nn_model_add(m, "out.b", 1, (int[]){10}) >= 0);
    CHECK(nn_model_alloc(m) == 0);
    fill(r, nn_model_data(m), nn_model_size(m), 0.4f);
    return m;
}

static void gru_desc(nn_stream_desc *d, int flags, int max_batch)
{
    *d = (nn_stream_desc){.dense_in = 6, .n_layers = 4, .max_batch = max_batch, .flags = flags};
    d->layer[0] = (nn_stream_layer){NN_STREAM_DENSE, 16, NN_ACT_RELU, "in"};
    d->layer[1] = (nn_stream_layer){NN_STREAM_GRU, 24, NN_ACT_NONE, "gru"};
    d->layer[2] = (nn_stream_layer){NN_STREAM_DENSE, 40, NN_ACT_TANH, "mid"};
    d->layer[3] = (nn_stream_layer){NN_STREAM_DENSE, 10, NN_ACT_SIGMOID, "out"};
}

static void gru_vs_stream(int flags)
{
    nn_rng r;
    nn_rng_seed(&r, 2);
    nn_model *m = gru_model(&r);
    int T = 5, B = 16;
    size_t TB = (size_t)T * B;
    float *mem = nn_alloc_array(200000, sizeof(float)), *p = mem;
    float *x = p, *a1 = (p += TB * 6), *h = (p += TB * 16), *a2 = (p += TB * 24);
    float *y = (p += TB * 40), *acts = (p += TB * 10);
    fill(&r, x, TB * 6, 1);
#define T_(n) nn_model_find(m, n)->data
    nn_dense_forward(a1, x, T_("in.w"), T_("in.b"), (int)TB, 6, 16);
    nn_act_forward(NN_ACT_RELU, a1, a1, TB * 16);
    nn_gru_forward(h, acts, NULL, a1, NULL, NULL, T_("gru.w_ih"), T_("gru.w_hh"), T_("gru.b_ih"),
                   T_("gru.b_hh"), T, B, 16, 24);
    nn_dense_forward(a2, h, T_("mid.w"), T_("mid.b"), (int)TB, 24, 40);
    nn_act_forward(NN_ACT_TANH, a2, a2, TB * 40);
    nn_dense_forward(y, a2, T_("out.w"), T_("out.b"), (int)TB, 40, 10);
    nn_act_forward(NN_ACT_SIGMOID, y, y, TB * 10);
#undef T_
    nn_stream_desc d;
    gru_desc(&d, flags, B);
    char err[256];
    nn_stream *st = nn_stream_create(&d, m, err, sizeof err);
    CHECKF(st, "%s", err);
    float *states[16], out[160];
    for (int k = 0; k < B; k++) states[k] = nn_alloc_array(nn_stream_state_size(st), 4);
    for (int t = 0; t < T; t++) {
        nn_stream_step(st, B, states, NULL, x + (size_t)t * B * 6, out);
        CHECK_CLOSE("gru stream", out, y + (size_t)t * B * 10, (size_t)B * 10, 2e-6, 1e-5);
    }
    for (int k = 0; k < B; k++) nn_free(states[k]);
    nn_stream_free(st);
    nn_free(mem);
    nn_model_free(m);
}

TEST(nn_stream_gru_decoder_matches_layers)
{
    gru_vs_stream(NN_STREAM_SCALAR);
    if (nn_cpu_has_avx2()) gru_vs_stream(0);
}

TEST(nn_stream_batched_equals_single_and_reset_restarts)
{
    nn_rng r;
    nn_rng_seed(&r, 3);
    nn_model *m = gru_model(&r);
    nn_stream_desc d;
    gru_desc(&d, 0, 5);
    char err[256];
    nn_stream *st = nn_stream_create(&d, m, err, sizeof err);
    CHECKF(st, "%s", err);
    size_t ss = nn_stream_state_size(st);
    float *sb[5], *s1[5], x[30], yb[50], y1[10];
    for (int k = 0; k < 5; k++) sb[k] = nn_alloc_array(ss, 4), s1[k] = nn_alloc_array(ss, 4);
    for (int t = 0; t < 4; t++) {
        fill(&r, x, 30, 1);
        nn_stream_step(st, 5, sb, NULL, x, yb);
        for (int k = 0; k < 5; k++) {
            nn_stream_step(st, 1, &s1[k], NULL, x + 6 * k, y1);
            CHECK_CLOSE("batched", yb + 10 * k, y1, 10, 1e-6, 1e-6);
        }
    }
    float first[10], again[10];
    nn_stream_state_reset(st, s1[0]);
    nn_stream_step(st, 1, &s1[0], NULL, x, first);
    nn_stream_step(st, 1, &s1[0], NULL, x, y1);
    nn_stream_state_reset(st, s1[0]);
    nn_stream_step(st, 1, &s1[0], NULL, x, again);
    CHECK_CLOSE("after reset", again, first, 10, 0, 0);
    for (int k = 0; k < 5; k++) nn_free(sb[k]), nn_free(s1[k]);
    nn_stream_free(st);
    nn_model_free(m);
}

TEST(nn_stream_step_does_not_allocate)
{
#ifdef BM_SANITIZED
    test_skip("malloc statistics are not kept under AddressSanitizer");
#else
    nn_seqnet_config cfg = small_cfg();
    char err[256];
    nn_model *m = nn_seqnet_model_create(&cfg, 5, err, sizeof err);
    nn_stream_desc d;
    nn_seqnet_stream_desc(&cfg, 2, 0, &d);
    nn_stream *st = nn_stream_create(&d, m, err, sizeof err);
    CHECKF(st, "%s", err);
    float *states[2] = {nn_alloc_array(nn_stream_state_size(st), 4),
                        nn_alloc_array(nn_stream_state_size(st), 4)};
    int ids[4] = {1, 2, 3, 4};
    float x[6] = {0}, y[24];
    nn_stream_step(st, 2, states, ids, x, y);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 1000; i++) {
        nn_stream_step(st, 2, states, ids, x, y);
        nn_stream_state_reset(st, states[i & 1]);
    }
    struct mallinfo2 after = mallinfo2();
    CHECK_EQ_INT(after.uordblks, before.uordblks);
    CHECK_EQ_INT(after.hblks, before.hblks);
    nn_free(states[0]), nn_free(states[1]);
    nn_stream_free(st);
    nn_model_free(m);
#endif
}

TEST(nn_stream_refuses_misshapen_models)
{
    nn_rng r;
    nn_rng_seed(&r, 4);
    nn_model *m = gru_model(&r);
    nn_stream_desc d;
    gru_desc(&d, 0, 1);
    d.layer[1].units = 32; /* the model's GRU has 24 */
    char err[256] = "";
    CHECK(!nn_stream_create(&d, m, err, sizeof err));
    CHECK_STR_CONTAINS(err, "gru.w_ih");
    gru_desc(&d, 0, 1);
    snprintf(d.layer[2].prefix, sizeof d.layer[2].prefix, "nope");
    CHECK(!nn_stream_create(&d, m, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no tensor 'nope.w'");
    nn_model_free(m);
}
