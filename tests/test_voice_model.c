/* test_voice_model.c: the timbre autoencoder: the loss's gradient and the whole model's against
 * finite differences, the decoder's streaming run against its training forward pass, decoded
 * frames that honour the requested loudness, a tiny training that learns two timbres apart, and
 * model files that are refused with one sentence. */
#include "test.h"
#include "engine/voice/model.h"
#include "engine/voice/train.h"
#include "engine/voice/trainer.h"
#include "nn/nn_mem.h"
#include "nn/nn_optim.h"
#include "nn/nn_rng.h"

#define SR 48000

/* A synthetic frame: a tone of f0 whose harmonics fall by slope dB each, a little noise. */
static void make_frame(voice_frame *f, float f0, float loud, float t, float slope, float noise_rel)
{
    memset(f, 0, sizeof *f);
    f->f0_hz = f0;
    f->periodicity = 1;
    f->loudness_db = loud;
    f->since_onset_s = t;
    f->flags = VOICE_VOICED;
    int nh = voice_harmonics_below(f0, SR);
    float a0 = exp10f((loud + 3.0f) / 20.0f);
    for (int h = 0; h < nh; h++) f->harm[h] = a0 * exp10f(-slope * (float)h / 20.0f);
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++)
        f->noise_db[b] = e[b + 1] <= 0.5 * SR ? loud + noise_rel - 0.3f * (float)b : VOICE_FLOOR_DB;
}

TEST(voice_frame_loss_gradient_matches_finite_differences)
{
    nn_rng r;
    nn_rng_seed(&r, 3);
    voice_frame f;
    make_frame(&f, 220.0f, -30.0f, 0.1f, 2.5f, -35.0f);
    float y[VOICE_DEC_OUT], dy[VOICE_DEC_OUT];
    for (int i = 0; i < VOICE_DEC_OUT; i++) y[i] = 0.8f * (nn_rng_uniform(&r) - 0.5f);
    float F = voice_note_floor_db(&f, 1);
    voice_frame_loss(y, f.loudness_db, &f, F, SR, 0.7f, 0.5f, 1.0f, dy, NULL, NULL, NULL);
    int bad = 0, checked = 0;
    for (int i = 0; i < VOICE_DEC_OUT; i++) {
        float keep = y[i], h = 2e-2f;
        y[i] = keep + h;
        double lp = voice_frame_loss(y, f.loudness_db, &f, F, SR, 0.7f, 0.5f, 1.0f, NULL, NULL, NULL, NULL);
        y[i] = keep - h;
        double lm = voice_frame_loss(y, f.loudness_db, &f, F, SR, 0.7f, 0.5f, 1.0f, NULL, NULL, NULL, NULL);
        y[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        checked++;
        /* an |x| term whose kink lies inside the probe makes the difference meaningless */
        if (fabs(num - dy[i]) > 1e-3 + 3e-2 * fmax(fabs(num), fabs(dy[i]))) bad++;
    }
    CHECKF(bad <= checked / 30, "%d of %d output gradients differ from finite differences", bad, checked);
}

static voice_model_config tiny_cfg(void) { return (voice_model_config){4, 12, 10, 8, 9}; }

/* Two notes of distinct timbres packed into a 2-row batch. */
struct tiny_batch {
    voice_frame frames[2][24];
    const voice_frame *target[24 * 2];
    int seg[24 * 2];
    uint8_t reset[24 * 2];
    float ctx_in[2 * 6 * VOICE_ENC_IN];
    float floor_db[2];
    voice_batch b;
};

static void tiny_batch_init(struct tiny_batch *t)
{
    memset(t, 0, sizeof *t);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 24; k++)
            make_frame(&t->frames[s][k], s ? 330.0f : 196.0f, -25.0f - (float)k * 0.8f, (float)k / 200.0f,
                       s ? 1.0f : 6.0f, s ? -45.0f : -25.0f);
    int T = 24, B = 2;
    for (int k = 0; k < T; k++)
        for (int row = 0; row < B; row++) {
            int i = k * B + row, len = row ? 20 : 24; /* the second row ends early: padding */
            t->seg[i] = k < len ? row : -1;
            t->target[i] = k < len ? &t->frames[row][k] : NULL;
            t->reset[i] = k == 0;
        }
    for (int s = 0; s < 2; s++) {
        for (int c = 0; c < 6; c++) voice_enc_input(&t->frames[s][2 + 3 * c], SR, t->ctx_in + (s * 6 + c) * VOICE_ENC_IN);
        t->floor_db[s] = voice_note_floor_db(t->frames[s], 24);
    }
    t->b = (voice_batch){T, B, t->seg, t->reset, t->target, 2, 6, t->ctx_in, t->floor_db, NULL, NULL, SR};
}

TEST(voice_model_gradient_matches_finite_differences)
{
    voice_model vm;
    char err[256];
    voice_model_config cfg = tiny_cfg();
    CHECKF(voice_model_create(&vm, &cfg, 11, err, sizeof err) == 0, "%s", err);
    static struct tiny_batch tb;
    tiny_batch_init(&tb);
    voice_trainer *tr = voice_trainer_create(&vm, 24, 2, 2, 6, 0.8f, 0.4f, 0.01f, err, sizeof err);
    CHECKF(tr, "%s", err);
    size_t np = nn_model_size(vm.m);
    float *g = nn_alloc_array(np, sizeof(float));
    float *w = nn_model_data(vm.m);
    /* nudge the output layer so that decoded levels are not all at the initial guess */
    for (size_t i = 0; i < np; i++) w[i] *= 1.5f;
    voice_trainer_loss(tr, &tb.b, g, NULL);
    nn_rng r;
    nn_rng_seed(&r, 5);
    int bad = 0, checked = 0;
    for (int probe = 0; probe < 160; probe++) {
        size_t i = nn_rng_below(&r, (uint32_t)np);
        float keep = w[i], h = 2e-3f;
        w[i] = keep + h;
        double lp = voice_trainer_loss(tr, &tb.b, NULL, NULL);
        w[i] = keep - h;
        double lm = voice_trainer_loss(tr, &tb.b, NULL, NULL);
        w[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        if (fabs(num) < 1e-6 && fabs(g[i]) < 1e-6) continue; /* padding between tensors, dead units */
        checked++;
        if (fabs(num - g[i]) > 1e-3 + 5e-2 * fmax(fabs(num), fabs(g[i]))) bad++;
    }
    CHECKF(checked >= 60, "only %d parameters had a gradient", checked);
    CHECKF(bad <= checked / 12, "%d of %d parameter gradients differ from finite differences", bad, checked);
    nn_free(g);
    voice_trainer_free(tr);
    voice_model_free(&vm);
}

TEST(voice_model_learns_two_timbres_and_streams_like_it_trained)
{
    voice_model vm;
    char err[256];
    voice_model_config cfg = tiny_cfg();
    CHECKF(voice_model_create(&vm, &cfg, 2, err, sizeof err) == 0, "%s", err);
    static struct tiny_batch tb;
    tiny_batch_init(&tb);
    voice_trainer *tr = voice_trainer_create(&vm, 24, 2, 2, 6, 1.0f, 0.5f, 1e-3f, err, sizeof err);
    size_t np = nn_model_size(vm.m);
    float *g = nn_alloc_array(np, sizeof(float));
    nn_adam opt;
    CHECK(nn_adam_init(&opt, nn_adam_defaults(), np) == 0);
    voice_loss_parts first, last;
    voice_trainer_loss(tr, &tb.b, NULL, &first);
    for (int step = 0; step < 400; step++) {
        memset(g, 0, np * sizeof(float));
        voice_trainer_loss(tr, &tb.b, g, &last);
        nn_clip_grad_norm(g, np, 1.0f);
        nn_adam_step(&opt, nn_model_data(vm.m), g, 1e-2f);
    }
    voice_trainer_loss(tr, &tb.b, NULL, &last);
    CHECKF(last.harm < 0.25 * first.harm && last.harm < 3.0, "harmonic error %.2f dB after training (from %.2f)",
           last.harm, first.harm);
    CHECKF(last.noise < 3.0, "noise error %.2f dB after training", last.noise);
    /* the encoder puts the two timbres apart, and decoding through the stream gives each its own
     * spectrum back: the dull one's tenth harmonic far below the bright one's */
    float z[2][VOICE_ZDIM_MAX];
    for (int s = 0; s < 2; s++) CHECK(voice_model_place(&vm, tb.frames[s], 24, SR, z[s], NULL) > 0);
    double dist = 0;
    for (int d = 0; d < cfg.zdim; d++) dist += (z[0][d] - z[1][d]) * (z[0][d] - z[1][d]);
    CHECKF(dist > 1e-3, "both timbres landed on the same point");
    voice_frame out[24];
    for (int s = 0; s < 2; s++) {
        CHECKF(voice_model_decode(&vm, z[s], tb.frames[s], 24, SR, out, err, sizeof err) == 0, "%s", err);
        float want = 20 * log10f(tb.frames[s][10].harm[9] / tb.frames[s][10].harm[0]);
        float got = 20 * log10f(out[10].harm[9] / out[10].harm[0]);
        CHECKF(fabsf(want - got) < 8.0f, "timbre %d: tenth harmonic %.1f dB under the first, decoded %.1f", s, want, got);
        /* the decoded frame is exactly as loud as asked */
        CHECK_NEAR(10 * log10f(voice_frame_a_power_fast(&out[10], SR)), tb.frames[s][10].loudness_db, 0.05);
    }
    nn_adam_free(&opt);
    nn_free(g);
    voice_trainer_free(tr);
    voice_model_free(&vm);
}

TEST(voice_model_files_are_checked_on_load)
{
    voice_model vm, back;
    char err[256];
    voice_model_config cfg = tiny_cfg();
    CHECK(voice_model_create(&vm, &cfg, 1, err, sizeof err) == 0);
    CHECK(nn_model_save(vm.m, test_path("d.bmnn"), err, sizeof err) == 0);
    CHECKF(voice_model_load(&back, test_path("d.bmnn"), err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(voice_model_id(&back), voice_model_id(&vm));
    voice_model_free(&back);
    /* a model of another kind */
    nn_model *other = nn_model_create();
    int shape[1] = {4};
    nn_model_add(other, "x", 1, shape);
    nn_model_alloc(other);
    nn_model_set_meta(other, "architecture", "seqnet");
    nn_model_save(other, test_path("o.bmnn"), err, sizeof err);
    nn_model_free(other);
    CHECK(voice_model_load(&back, test_path("o.bmnn"), err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "not a voice decoder");
    CHECK(voice_model_load(&back, test_path("missing.bmnn"), err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "missing.bmnn");
    voice_model_free(&vm);
}
