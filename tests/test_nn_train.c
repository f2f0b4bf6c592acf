/* test_nn_train.c: training end to end: a tiny LSTM overfits a short sequence; checkpoints resume
 * bit-exactly; learning-rate schedule; progress line; `bandmate bench nn --help`. */
#include "nn/nn_mem.h"
#include "nn/nn_optim.h"
#include "nn/nn_seqnet.h"
#include "nn/nn_train.h"
#include "test_nn_util.h"

/* A tiny next-token model over a 12-step repeating phrase with 6 symbols and a multi-hot head. */
struct toy {
    nn_model *m;
    nn_seqnet *s;
    nn_adam opt;
    float *g;
    int ids[16 * 2], tg[16 * 2];
    float multi[16 * 2 * 3];
    nn_seqnet_batch b;
};

static void toy_init(struct toy *t, uint64_t seed)
{
    static const int phrase[13] = {0, 2, 4, 2, 0, 5, 3, 1, 3, 5, 1, 1, 0};
    nn_seqnet_config cfg = {.n_embed = 1, .embed_vocab = {6}, .embed_dim = {8}, .layers = 2,
                            .hidden = 24, .n_heads = 2,
                            .head_kind = {NN_HEAD_SOFTMAX, NN_HEAD_SIGMOID},
                            .head_size = {6, 3}};
    char err[256];
    t->m = nn_seqnet_model_create(&cfg, seed, err, sizeof err);
    CHECKF(t->m, "%s", err);
    t->s = nn_seqnet_create(t->m, 12, 2, err, sizeof err);
    CHECKF(t->s, "%s", err);
    nn_adam_config ac = nn_adam_defaults();
    ac.lr = 1e-2f;
    ac.weight_decay = 1e-4f;
    CHECK(nn_adam_init(&t->opt, ac, nn_model_size(t->m)) == 0);
    t->g = nn_alloc_array(nn_model_size(t->m), sizeof(float));
    for (int step = 0; step < 12; step++)
        for (int b = 0; b < 2; b++) { /* two copies of the phrase, the second shifted */
            int i = (step + 5 * b) % 12;
            t->ids[step * 2 + b] = phrase[i];
            t->tg[step * 2 + b] = phrase[i + 1];
            for (int k = 0; k < 3; k++) t->multi[(step * 2 + b) * 3 + k] = (float)((phrase[i + 1] >> k) & 1);
        }
    t->b = (nn_seqnet_batch){.T = 12, .B = 2, .ids = t->ids, .targets = {t->tg, NULL},
                             .multi = {NULL, t->multi}};
}

static float toy_step(struct toy *t, const nn_schedule *sch)
{
    size_t n = nn_model_size(t->m);
    memset(t->g, 0, sizeof(float) * n);
    float loss = nn_seqnet_loss(t->s, &t->b, t->g, NULL);
    nn_clip_grad_norm(t->g, n, 5.0f);
    nn_adam_step(&t->opt, nn_model_data(t->m), t->g, nn_schedule_lr(sch, t->opt.step));
    return loss;
}

static void toy_free(struct toy *t)
{
    nn_free(t->g);
    nn_adam_free(&t->opt);
    nn_seqnet_free(t->s);
    nn_model_free(t->m);
}

TEST(nn_train_tiny_lstm_overfits_a_short_sequence)
{
    struct toy t;
    toy_init(&t, 42);
    nn_schedule sch = {1e-2f, 1e-3f, 10, 400};
    float first = toy_step(&t, &sch), loss = first;
    for (int i = 1; i < 400; i++) loss = toy_step(&t, &sch);
    CHECKF(first > 2.0f, "initial loss %g", first);
    CHECKF(loss < 0.02f, "the loss only fell from %g to %g", first, loss);
    /* and the streaming runner, fed its own inputs, predicts the phrase */
    nn_seqnet_config cfg;
    char err[256];
    CHECK(nn_seqnet_config_from_model(&cfg, t.m, err, sizeof err) == 0);
    nn_stream_desc d;
    nn_seqnet_stream_desc(&cfg, 1, 0, &d);
    nn_stream *st = nn_stream_create(&d, t.m, err, sizeof err);
    CHECKF(st, "%s", err);
    float *state = nn_alloc_array(nn_stream_state_size(st), 4), y[9];
    for (int step = 0; step < 12; step++) {
        nn_stream_step(st, 1, &state, &t.ids[step * 2], NULL, y);
        int best = 0;
        for (int k = 1; k < 6; k++) best = y[k] > y[best] ? k : best;
        CHECK_EQ_INT(best, t.tg[step * 2]);
    }
    nn_free(state);
    nn_stream_free(st);
    toy_free(&t);
}

TEST(nn_train_checkpoint_resumes_exactly)
{
    nn_schedule sch = {1e-2f, 1e-3f, 5, 40};
    struct toy a, b;
    toy_init(&a, 7);
    for (int i = 0; i < 20; i++) toy_step(&a, &sch);
    nn_rng rng, rng2;
    nn_rng_seed(&rng, 99);
    nn_rng_u64(&rng);
    char err[256];
    const char *path = test_path("ckpt.bmnn");
    nn_model_set_meta(a.m, "command_line", "bandmate train --steps 40");
    CHECKF(nn_checkpoint_save(path, a.m, &a.opt, &rng, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < 20; i++) toy_step(&a, &sch);

    toy_init(&b, 1234); /* other weights: all of them must come from the checkpoint */
    CHECKF(nn_checkpoint_load(path, b.m, &b.opt, &rng2, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(b.opt.step, 20);
    CHECK(rng2.s[0] == rng.s[0] && rng2.s[3] == rng.s[3]);
    for (int i = 0; i < 20; i++) toy_step(&b, &sch);
    CHECK(memcmp(nn_model_data(a.m), nn_model_data(b.m), nn_model_size(a.m) * 4) == 0);

    /* a model file is not a checkpoint */
    const char *mpath = test_path("model.bmnn");
    CHECK(nn_model_save(a.m, mpath, err, sizeof err) == 0);
    CHECK(nn_checkpoint_load(mpath, b.m, &b.opt, NULL, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "not a checkpoint");
    toy_free(&a);
    toy_free(&b);
}

TEST(nn_train_schedule_warms_up_and_decays)
{
    nn_schedule s = {1e-3f, 1e-5f, 100, 1100};
    CHECK_NEAR(nn_schedule_lr(&s, 0), 1e-5, 1e-9);
    CHECK_NEAR(nn_schedule_lr(&s, 99), 1e-3, 1e-9);
    CHECK_NEAR(nn_schedule_lr(&s, 600), 0.5 * (1e-3 + 1e-5), 1e-7);
    CHECK_NEAR(nn_schedule_lr(&s, 1100), 1e-5, 1e-9);
    CHECK_NEAR(nn_schedule_lr(&s, 5000), 1e-5, 1e-9);
}

TEST(nn_train_progress_line)
{
    FILE *f = fopen(test_path("progress.txt"), "w+");
    nn_progress p;
    nn_progress_start(&p, 0, 1000, f);
    nn_progress_step(&p, 9, 2.5f, 2048, 1);
    rewind(f);
    char line[256] = "";
    CHECK(fgets(line, sizeof line, f));
    fclose(f);
    CHECK_STR_CONTAINS(line, "step 10/1000");
    CHECK_STR_CONTAINS(line, "loss 2.5000");
    CHECK_STR_CONTAINS(line, "tok/s");
    CHECK_STR_CONTAINS(line, "left");
}

TEST(nn_bench_has_help_and_refuses_unknown_options)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate bench nn --help", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    CHECK_STR_CONTAINS(out, "--quick");
    snprintf(cmd, sizeof cmd, "%s/bandmate bench nn --fast", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "unknown option '--fast'");
}
