/* voice_kit.c: a small decoder and two voices for tests (voice_kit.h). */
#include "voice_kit.h"
#include "test.h"

#include <sys/stat.h>

void voice_kit_make(voice_kit *k)
{
    voice_model_config cfg = {4, 12, 16, 12, 16};
    char err[256];
    if (voice_model_create(&k->vm, &cfg, 7, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    /* made-up weights: let the latent matter, so that the two voices differ */
    for (int r = 0; r < cfg.dec_in; r++)
        for (int d = 0; d < cfg.zdim; d++) k->vm.dec_win[r * (cfg.zdim + VOICE_DEC_COND) + d] *= 6.0f;
    for (int i = 0; i < VOICE_DEC_OUT * cfg.dec_hidden; i++) k->vm.dec_wout[i] *= 8.0f;
    for (int i = 0; i < 2; i++) {
        voice_def *v = &k->v[i];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, i ? "pluck" : "pad");
        v->zdim = 4;
        v->n_path = 1;
        v->path_pitch[0] = 60;
        for (int d = 0; d < 4; d++) v->path_z[0][d] = i ? 1.5f : -1.5f;
        for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
            float top = -30.0f + 4.0f * (float)l;
            for (int f = 0; f < VOICE_ENV_HOLD; f++)
                v->hold_db[l][f] = i ? top - 20.0f * (float)f / VOICE_FRAME_RATE : top - (f < 4 ? 12.0f - 3.0f * f : 0.0f);
            for (int f = 0; f < VOICE_ENV_RELEASE; f++) v->release_db[l][f] = -200.0f * (float)f / VOICE_FRAME_RATE;
        }
        v->ref_pitch = 60;
        v->tail_slope_db_s = i ? -20.0f : 0.0f;
        v->gain_db = 10;
        v->lowest = 36;
        v->highest = 96;
        v->decoder_id = voice_model_id(&k->vm);
    }
}

void voice_kit_install(voice_kit *k, const char *dir)
{
    char err[512], path[1200];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/decoder.bmnn", dir);
    if (nn_model_save(k->vm.m, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s.bmnn", dir, k->v[i].name);
        if (voice_def_save(&k->v[i], path, NULL, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    }
    setenv("BANDMATE_VOICES", dir, 1);
}
