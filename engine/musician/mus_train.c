/* mus_train.c: the musician's training loop. */
#include "engine/musician/mus_train.h"
#include "engine/musician/mus_batch.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_model.h"
#include "engine/musician/mus_plot.h"
#include "engine/util.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"
#include "nn/nn_optim.h"
#include "nn/nn_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mus_train_defaults(mus_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out = "models/musician.bmnn";
    o->layers = 2;
    o->hidden = 256;
    o->T = 64;
    o->B = 32;
    o->steps = 20000;
    o->lr = 2e-3f;
    o->min_lr = 1e-4f;
    o->weight_decay = 0.01f;
    o->clip = 1.0f;
    o->warmup = 300;
    o->valid_every = 500;
    o->ckpt_every = 500;
    o->valid_songs = 96;
    o->valid_steps = 768;
    o->threads = 2;
    o->seed = 1;
}

typedef struct vresult {
    double total, head[MUS_NHEADS];
} vresult;

/* Mean loss per head over the validation streams (each head over the steps it is trained on). */
static void validate(nn_seqnet *vs, mus_batcher *vb, vresult *r)
{
    double sum[MUS_NHEADS] = {0}, cnt[MUS_NHEADS] = {0};
    mus_batcher_rewind(vb);
    nn_seqnet_reset_state(vs);
    nn_seqnet_batch b;
    float hl[MUS_NHEADS];
    while (mus_batcher_next(vb, &b) > 0) {
        nn_seqnet_loss(vs, &b, NULL, hl);
        int TB = b.T * b.B;
        for (int k = 0; k < MUS_NHEADS; k++) {
            double n = 0;
            for (int i = 0; i < TB; i++)
                if (b.mask[i] > 0 && (k == MUS_HEAD_DRUMS || b.targets[k][i] >= 0)) n++;
            sum[k] += hl[k] * n;
            cnt[k] += n;
        }
    }
    r->total = 0;
    for (int k = 0; k < MUS_NHEADS; k++) {
        r->head[k] = cnt[k] > 0 ? sum[k] / cnt[k] : 0;
        /* per step: the chord head counts only on hits, so weigh it by its share of steps */
        r->total += k == MUS_HEAD_CHORD && cnt[MUS_HEAD_DRUMS] > 0 ? sum[k] / cnt[MUS_HEAD_DRUMS] : r->head[k];
    }
}

/* --chords-only: the chord tracker fitted on the corpus's training songs, written into a trained
 * model (the LSTM untouched). */
static int fit_chords_only(const mus_train_opts *o, char *err, size_t errlen)
{
    char why[768];
    mus_model *m = mus_model_load(o->out, why, sizeof why);
    if (!m) {
        bm_errf(err, errlen, "%s", why);
        return -1;
    }
    mus_corpus corpus;
    mus_corpus_opts co = {.max_songs = o->max_songs, .quiet = 1};
    if (mus_corpus_load(o->corpus, &co, &corpus, o->report, err, errlen) != 0) {
        mus_model_free(m);
        return -1;
    }
    int *idx = malloc((size_t)(corpus.n ? corpus.n : 1) * sizeof *idx), n = 0, rc = -1;
    if (!idx) {
        bm_errf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < corpus.n; i++)
        if (corpus.songs[i].split == MUS_SPLIT_TRAIN) idx[n++] = i;
    if (n == 0) {
        bm_errf(err, errlen, "the corpus %s has no training songs", o->corpus);
        goto out;
    }
    if (mus_model_fit_chords(m, &corpus, idx, n, err, errlen) != 0) goto out;
    char note[1200];
    snprintf(note, sizeof note, "fitted on the %d training songs of %s", n, o->corpus);
    if (nn_model_set_meta(m->nn, "chord_tracker_source", note) != 0) {
        bm_errf(err, errlen, "out of memory");
        goto out;
    }
    if (mus_model_save(m, o->out, err, errlen) != 0) goto out;
    if (o->report) fprintf(o->report, "the chord tracker, %s, written into %s\n", note, o->out);
    rc = 0;
out:
    free(idx);
    mus_corpus_free(&corpus);
    mus_model_free(m);
    return rc;
}

int mus_train_run(const mus_train_opts *o, char *err, size_t errlen)
{
    if (o->chords_only) return fit_chords_only(o, err, errlen);
    FILE *rep = o->report;
    double t_start = bm_now_s();
    char ckpt[1100];
    snprintf(ckpt, sizeof ckpt, "%s", o->checkpoint ? o->checkpoint : "");
    if (!o->checkpoint) snprintf(ckpt, sizeof ckpt, "%s.ckpt", o->out);
    nn_set_threads(o->threads);
    /* the corpus */
    mus_corpus corpus;
    mus_corpus_opts co = {.max_songs = o->max_songs, .quiet = 1};
    if (mus_corpus_load(o->corpus, &co, &corpus, rep, err, errlen) != 0) return -1;
    int *train_idx = malloc((size_t)corpus.n * sizeof(int)), *valid_idx = malloc((size_t)corpus.n * sizeof(int));
    int ntrain = 0, nvalid = 0;
    for (int i = 0; i < corpus.n; i++) {
        if (corpus.songs[i].split == MUS_SPLIT_TRAIN) train_idx[ntrain++] = i;
        else if (corpus.songs[i].split == MUS_SPLIT_VALID) valid_idx[nvalid++] = i;
    }
    if (ntrain == 0) {
        bm_errf(err, errlen, "the corpus %s has no training songs", o->corpus);
        free(train_idx);
        free(valid_idx);
        mus_corpus_free(&corpus);
        return -1;
    }
    if (nvalid == 0) { /* tiny corpora: validate on training songs */
        for (int i = 0; i < ntrain && i < o->valid_songs; i++) valid_idx[nvalid++] = train_idx[i];
    }
    /* every k-th validation song, so that all styles are seen */
    if (nvalid > o->valid_songs) {
        int k = 0;
        for (int i = 0; i < o->valid_songs; i++) valid_idx[k++] = valid_idx[(long)i * nvalid / o->valid_songs];
        nvalid = k;
    }
    int rc = -1;
    mus_model *m = mus_model_create(o->layers, o->hidden, o->seed, err, errlen);
    nn_seqnet *tr = NULL, *vs = NULL;
    mus_batcher *tb = NULL, *vb = NULL;
    float *grads = NULL;
    nn_adam opt = {0};
    FILE *log = NULL;
    if (!m) goto out;
    mus_density_fit(m, &corpus, train_idx, ntrain);
    if (mus_model_fit_chords(m, &corpus, train_idx, ntrain, err, errlen) != 0) goto out;
    char why[512];
    if (mus_model_tag(m) != 0) { /* checkpoints carry the metadata too */
        bm_errf(err, errlen, "out of memory setting up training");
        goto out;
    }
    size_t nparams = nn_model_size(m->nn);
    tr = nn_seqnet_create(m->nn, o->T, o->B, err, errlen);
    vs = tr ? nn_seqnet_create(m->nn, o->T, 16, err, errlen) : NULL;
    if (!tr || !vs) goto out;
    nn_seqnet_set_carry(tr, 1);
    nn_seqnet_set_carry(vs, 1);
    grads = nn_alloc(nparams * sizeof(float));
    nn_adam_config ac = nn_adam_defaults();
    ac.lr = o->lr;
    ac.weight_decay = o->weight_decay;
    if (!grads || nn_adam_init(&opt, ac, nparams) != 0) {
        bm_errf(err, errlen, "out of memory setting up training");
        goto out;
    }
    nn_rng rng;
    nn_rng_seed(&rng, o->seed * 0x9E3779B97F4A7C15ull + 7);
    int resumed = 0;
    if (o->resume && access(ckpt, R_OK) == 0) {
        if (nn_checkpoint_load(ckpt, m->nn, &opt, &rng, err, errlen) != 0) goto out;
        resumed = 1;
    }
    mus_batch_opts bo = {.T = o->T, .B = o->B, .augment = o->plain ? 2 : 1, .seed = nn_rng_u64(&rng)};
    mus_batch_opts vo = {.T = o->T, .B = 16, .augment = 0, .max_steps_per_song = o->valid_steps, .seed = 1};
    tb = mus_batcher_create(&corpus, train_idx, ntrain, m, &bo);
    vb = mus_batcher_create(&corpus, valid_idx, nvalid, m, &vo);
    if (!tb || !vb) {
        bm_errf(err, errlen, "out of memory setting up the training streams");
        goto out;
    }
    long total = o->steps;
    if (rep) {
        int width = MUS_DENSE;
        for (int e = 0; e < MUS_N_IDS; e++) width += mus_id_dim[e];
        fprintf(rep, "model: %d x %d LSTM, %d inputs (%d embedded ids, %d dense), heads bass %d, drums %d, "
                "comping %d + %d chords, lead %d; %zu parameters (%.1f MB)\n",
                o->layers, o->hidden, width, MUS_N_IDS, MUS_DENSE, MUS_MONO_VOCAB,
                MUS_DRUM_UNITS, MUS_COMP_RHYTHM_VOCAB, MUS_NCHORDS, MUS_MONO_VOCAB, nparams,
                nparams * 4.0 / 1e6);
        fprintf(rep, "training on %d songs, validating on %d (first %d steps each); batch %d x %d steps; %ld optimiser steps%s\n",
                ntrain, nvalid, o->valid_steps, o->B, o->T, total, resumed ? " (resumed)" : "");
        if (resumed) fprintf(rep, "resumed from %s at step %lld\n", ckpt, (long long)opt.step);
        fflush(rep);
    }
    if (o->log_tsv) {
        log = fopen(o->log_tsv, resumed ? "a" : "w");
        if (!log) {
            bm_errf(err, errlen, "cannot write the training log %s", o->log_tsv);
            goto out;
        }
        if (!resumed)
            fprintf(log, "step\ttokens\tseconds\tlr\ttrain\tvalid\tbass\tdrums\tcomp\tchord\tlead\n");
    }
    nn_schedule sched = {o->lr, o->min_lr, o->warmup, total};
    nn_progress prog;
    nn_progress_start(&prog, opt.step, total, rep);
    double train_sum = 0;
    long train_n = 0;
    double best = 1e30;
    vresult vr;
    double t_loop = bm_now_s();
    long first = (long)opt.step;
    for (long step = first; step < total; step++) {
        nn_seqnet_batch b;
        int real = mus_batcher_next(tb, &b);
        memset(grads, 0, nparams * sizeof(float));
        float loss = nn_seqnet_loss(tr, &b, grads, NULL);
        if (!isfinite(loss)) {
            bm_errf(err, errlen, "training diverged at step %ld (the loss is not finite); lower --lr", step);
            goto out;
        }
        nn_clip_grad_norm(grads, nparams, o->clip);
        nn_adam_step(&opt, nn_model_data(m->nn), grads, nn_schedule_lr(&sched, step));
        train_sum += loss;
        train_n++;
        nn_progress_step(&prog, step, loss, real, 0);
        if (o->minutes > 0 && step == first + 40) { /* fit the run to the time budget */
            double per = (bm_now_s() - t_loop) / 41.0;
            long fit = first + (long)(o->minutes * 60.0 / (per * 1.04));
            if (fit < first + 50) fit = first + 50;
            total = fit;
            sched.total = total;
            prog.total_steps = total;
            if (rep) fprintf(rep, "\n%.0f ms per step: %ld steps fit %.0f minutes\n", per * 1e3, total, o->minutes);
        }
        int last = step + 1 == total;
        if ((step + 1) % o->valid_every == 0 || last) {
            validate(vs, vb, &vr);
            double tl = train_sum / (train_n ? train_n : 1);
            train_sum = 0;
            train_n = 0;
            if (rep) {
                fprintf(rep, "\nstep %ld: train %.4f valid %.4f (bass %.3f drums %.3f comping %.3f chord %.3f lead %.3f)\n",
                        step + 1, tl, vr.total, vr.head[0], vr.head[1], vr.head[2], vr.head[3], vr.head[4]);
                fflush(rep);
            }
            if (log) {
                fprintf(log, "%ld\t%.0f\t%.1f\t%.6f\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\n", step + 1,
                        (double)(step + 1) * o->T * o->B, bm_now_s() - t_start,
                        nn_schedule_lr(&sched, step), tl, vr.total, vr.head[0], vr.head[1], vr.head[2], vr.head[3],
                        vr.head[4]);
                fflush(log);
                if (o->plot_png) mus_plot_losses(o->log_tsv, o->plot_png, "bandmate musician: loss", why, sizeof why);
            }
            if (vr.total < best) {
                best = vr.total;
                if (mus_model_save(m, o->out, err, errlen) != 0) goto out;
            }
        }
        if ((step + 1) % o->ckpt_every == 0 || last) {
            if (nn_checkpoint_save(ckpt, m->nn, &opt, &rng, err, errlen) != 0) goto out;
        }
    }
    if (rep) {
        double secs = bm_now_s() - t_start;
        fprintf(rep, "\ndone: %ld steps, %.0f tokens/s, %.1f minutes in all; best validation loss %.4f, model in %s\n",
                total, nn_progress_rate(&prog), secs / 60, best, o->out);
    }
    rc = 0;
out:
    if (log) fclose(log);
    nn_adam_free(&opt);
    nn_free(grads);
    mus_batcher_free(tb);
    mus_batcher_free(vb);
    nn_seqnet_free(tr);
    nn_seqnet_free(vs);
    mus_model_free(m);
    free(train_idx);
    free(valid_idx);
    mus_corpus_free(&corpus);
    return rc;
}
