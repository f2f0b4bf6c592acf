/* train.c: the timbre autoencoder's training run over the voice data set. */
#include "engine/voice/train.h"
#include "engine/voice/augment.h"
#include "engine/voice/trainer.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"
#include "nn/nn_optim.h"
#include "nn/nn_rng.h"
#include "nn/nn_train.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void voice_train_defaults(voice_train_opts *o)
{
    memset(o, 0, sizeof *o);
    voice_model_defaults(&o->model);
    o->epochs = 60;
    o->rows = 32;
    o->T = 512;
    o->ctx = 32;
    o->lr = 2e-3f;
    o->min_lr = 5e-5f;
    o->warmup = 200;
    o->noise_weight = 1.0f;
    o->loud_weight = 0.5f;
    o->z_l2 = 1e-3f;
    o->z_noise = 0.05f;
    o->pitch_jitter = 1.5f;
    o->augment = 0.5f;
    o->self_ctx = 0.6f;
    o->threads = 2;
    o->seed = 1;
}

static int seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A note as training sees it. */
typedef struct tnote {
    const voice_note *n;
    int inst;
    float floor_db;
    int *pool;   /* frames that may serve as context */
    int npool;
} tnote;

typedef struct tdata {
    voice_set **sets;
    int nsets;
    tnote *train, *val;
    int ntrain, nval;
    int *inst_first, *inst_count; /* train notes sorted by instrument */
    int ninst;
    int sample_rate;
} tdata;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_features(const char *dir, char ***out, int *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) return seterr(err, errlen, "cannot open the data folder %s (%s); build it with 'make voices-data'", dir, strerror(errno));
    char **names = NULL;
    int cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".bmvf")) continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 32;
            char **g = realloc(names, sizeof *names * (size_t)cap);
            if (!g) break;
            names = g;
        }
        size_t plen = strlen(dir) + len + 2;
        names[cnt] = malloc(plen);
        if (!names[cnt]) break;
        snprintf(names[cnt], plen, "%s/%s", dir, e->d_name);
        cnt++;
    }
    closedir(d);
    if (!cnt) {
        free(names);
        return seterr(err, errlen, "%s holds no feature files (*.bmvf); build them with 'make voices-data'", dir);
    }
    qsort(names, (size_t)cnt, sizeof *names, cmp_str);
    *out = names;
    *n = cnt;
    return 0;
}

static int make_tnote(tnote *t, const voice_note *n, int inst)
{
    t->n = n;
    t->inst = inst;
    t->floor_db = voice_note_floor_db(n->frames, n->n_frames);
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < n->n_frames; k++)
        if (n->frames[k].loudness_db > loudest) loudest = n->frames[k].loudness_db;
    t->pool = malloc(sizeof(int) * (n->n_frames ? n->n_frames : 1));
    if (!t->pool) return -1;
    t->npool = 0;
    float tmp[VOICE_ENC_IN];
    for (size_t k = 0; k < n->n_frames; k++)
        if (voice_frame_pools(&n->frames[k], loudest) && voice_enc_input(&n->frames[k], n->sample_rate, tmp))
            t->pool[t->npool++] = (int)k;
    return 0;
}

static void tdata_free(tdata *d)
{
    for (int i = 0; i < d->ntrain; i++) free(d->train[i].pool);
    for (int i = 0; i < d->nval; i++) free(d->val[i].pool);
    free(d->train);
    free(d->val);
    free(d->inst_first);
    free(d->inst_count);
    for (int i = 0; i < d->nsets; i++) voice_set_free(d->sets[i]);
    free(d->sets);
    memset(d, 0, sizeof *d);
}

static int tdata_load(tdata *d, const voice_train_opts *o, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    char **files = NULL;
    int nf = 0;
    if (list_features(o->data_dir, &files, &nf, err, errlen) != 0) return -1;
    int rc = -1;
    d->sets = calloc((size_t)nf, sizeof *d->sets);
    d->inst_first = calloc((size_t)nf, sizeof(int));
    d->inst_count = calloc((size_t)nf, sizeof(int));
    size_t cap_notes = 0;
    if (!d->sets || !d->inst_first || !d->inst_count) goto oom;
    for (int i = 0; i < nf; i++) {
        voice_set *s;
        if (voice_features_read_file(files[i], &s, err, errlen) != 0) goto done;
        d->sets[d->nsets++] = s;
        cap_notes += s->n_notes;
    }
    d->train = calloc(cap_notes ? cap_notes : 1, sizeof *d->train);
    d->val = calloc(cap_notes ? cap_notes : 1, sizeof *d->val);
    if (!d->train || !d->val) goto oom;
    for (int i = 0; i < d->nsets; i++) {
        voice_set *s = d->sets[i];
        if (!s->n_notes || s->notes[0].split == VOICE_SPLIT_INSTRUMENT) continue; /* held out entirely */
        int inst = d->ninst++;
        d->inst_first[inst] = d->ntrain;
        int taken = 0;
        for (size_t k = 0; k < s->n_notes; k++) {
            const voice_note *n = &s->notes[k];
            if (!d->sample_rate) d->sample_rate = n->sample_rate;
            if (n->sample_rate != d->sample_rate) {
                seterr(err, errlen, "%s: notes at %d Hz among notes at %d Hz; the data set has one rate", files[i],
                       n->sample_rate, d->sample_rate);
                goto done;
            }
            if (n->n_frames < 8) continue;
            if (n->split == VOICE_SPLIT_TRAIN) {
                if (o->max_notes_per_inst && taken >= o->max_notes_per_inst) continue;
                if (make_tnote(&d->train[d->ntrain], n, inst) != 0) goto oom;
                d->ntrain++;
                taken++;
            } else if (n->split == VOICE_SPLIT_PITCH && (k % 3 == 0 || o->max_notes_per_inst)) {
                if (make_tnote(&d->val[d->nval], n, inst) != 0) goto oom;
                d->nval++;
            }
        }
        d->inst_count[inst] = d->ntrain - d->inst_first[inst];
        /* a note without context frames cannot be pooled: an instrument needs some */
        int pooled = 0;
        for (int k = d->inst_first[inst]; k < d->ntrain; k++) pooled += d->train[k].npool > 0;
        if (!pooled) {
            seterr(err, errlen, "%s has no pitched training frames to learn from", files[i]);
            goto done;
        }
    }
    if (!d->ntrain) {
        seterr(err, errlen, "%s holds no training notes", o->data_dir);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    seterr(err, errlen, "out of memory loading the voice data set");
done:
    for (int i = 0; i < nf; i++) free(files[i]);
    free(files);
    if (rc != 0) tdata_free(d);
    return rc;
}

/* ---- batches ---- */

typedef struct batcher {
    int T, B, ctx, max_seg, Z;
    int *seg;
    uint8_t *reset;
    const voice_frame **target;
    float *ctx_in, *floor_db, *z_noise, *pitch_shift;
    voice_frame *frames;     /* [T * B] the targets, through each note's timbre filter */
    int n_seg;
    int *order, norder, pos; /* the epoch's note order */
} batcher;

static int batcher_init(batcher *b, const voice_train_opts *o, int ntrain)
{
    memset(b, 0, sizeof *b);
    b->T = o->T;
    b->B = o->rows;
    b->ctx = o->ctx;
    b->Z = o->model.zdim;
    b->max_seg = o->rows * (o->T / 8 + 1);
    size_t TB = (size_t)b->T * b->B;
    b->seg = malloc(sizeof(int) * TB);
    b->reset = malloc(TB);
    b->target = malloc(sizeof *b->target * TB);
    b->ctx_in = malloc(sizeof(float) * (size_t)b->max_seg * b->ctx * VOICE_ENC_IN);
    b->floor_db = malloc(sizeof(float) * (size_t)b->max_seg);
    b->z_noise = malloc(sizeof(float) * (size_t)b->max_seg * b->Z);
    b->pitch_shift = malloc(sizeof(float) * (size_t)b->max_seg);
    b->frames = malloc(sizeof *b->frames * TB);
    b->order = malloc(sizeof(int) * (size_t)(ntrain > 0 ? ntrain : 1));
    return b->seg && b->reset && b->target && b->ctx_in && b->floor_db && b->z_noise && b->pitch_shift && b->order &&
                   b->frames
               ? 0
               : -1;
}

static void batcher_free(batcher *b)
{
    free(b->seg);
    free(b->reset);
    free(b->target);
    free(b->ctx_in);
    free(b->floor_db);
    free(b->z_noise);
    free(b->pitch_shift);
    free(b->frames);
    free(b->order);
}

static void shuffle(int *a, int n, nn_rng *r)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)nn_rng_below(r, (uint32_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Fills the context of segment s for note t: ctx frames of a sibling (or itself), at random. */
static void fill_context(batcher *b, const tdata *d, const tnote *t, int s, float self_ctx,
                         const voice_timbre_aug *aug, nn_rng *r)
{
    const tnote *c = t;
    if (nn_rng_uniform(r) >= self_ctx || !t->npool) {
        for (int tries = 0; tries < 8; tries++) {
            int k = d->inst_first[t->inst] + (int)nn_rng_below(r, (uint32_t)d->inst_count[t->inst]);
            if (d->train[k].npool) {
                c = &d->train[k];
                break;
            }
        }
    }
    for (int i = 0; i < b->ctx; i++) {
        float *x = b->ctx_in + ((size_t)s * b->ctx + i) * VOICE_ENC_IN;
        if (!c->npool) {
            memset(x, 0, sizeof(float) * VOICE_ENC_IN);
            continue;
        }
        int k = c->pool[nn_rng_below(r, (uint32_t)c->npool)];
        voice_frame f;
        voice_aug_frame(&c->n->frames[k], &f, aug, c->n->sample_rate);
        voice_enc_input(&f, c->n->sample_rate, x);
    }
}

/* Packs notes from the order into rows (each note restarts the GRU); returns the frames filled
 * (0 when the order is used up). */
static int batcher_fill(batcher *b, const tdata *d, const tnote *notes, float self_ctx, float z_noise,
                        float jitter, float aug_share, nn_rng *r)
{
    size_t TB = (size_t)b->T * b->B;
    for (size_t i = 0; i < TB; i++) {
        b->seg[i] = -1;
        b->reset[i] = 0;
        b->target[i] = NULL;
    }
    b->n_seg = 0;
    int filled = 0;
    for (int row = 0; row < b->B && b->pos < b->norder; row++) {
        int fill = 0;
        for (;;) {
            /* the next note that fits, looking a little ahead */
            int found = -1;
            for (int k = b->pos; k < b->norder && k < b->pos + 48; k++) {
                const tnote *t = &notes[b->order[k]];
                int len = (int)t->n->n_frames < b->T ? (int)t->n->n_frames : b->T;
                if (fill + len <= b->T) {
                    found = k;
                    break;
                }
            }
            if (found < 0 || b->n_seg >= b->max_seg) break;
            int tmp = b->order[found];
            b->order[found] = b->order[b->pos];
            b->order[b->pos] = tmp;
            const tnote *t = &notes[b->order[b->pos++]];
            int len = (int)t->n->n_frames < b->T ? (int)t->n->n_frames : b->T;
            int s = b->n_seg++;
            voice_timbre_aug aug;
            voice_aug_random(r, aug_share > 0 && nn_rng_uniform(r) < aug_share ? 1.0f : 0.0f, &aug);
            float top = 0;
            for (int k = 0; k < len; k++) {
                size_t i = (size_t)(fill + k) * b->B + row;
                b->seg[i] = s;
                voice_aug_frame(&t->n->frames[k], &b->frames[i], &aug, t->n->sample_rate);
                for (int h = 0; h < VOICE_HARMONICS; h++) top = fmaxf(top, b->frames[i].harm[h]);
                b->target[i] = &b->frames[i];
                b->reset[i] = k == 0;
            }
            b->floor_db[s] = aug.on ? (top > 0 ? 20.0f * log10f(top) : VOICE_FLOOR_DB) - VOICE_LOSS_RANGE_DB : t->floor_db;
            fill_context(b, d, t, s, self_ctx, &aug, r);
            for (int z = 0; z < b->Z; z++) b->z_noise[(size_t)s * b->Z + z] = z_noise * nn_rng_normal(r);
            b->pitch_shift[s] = jitter * (2.0f * nn_rng_uniform(r) - 1.0f);
            fill += len;
            filled += len;
            if (b->pos >= b->norder) break;
        }
    }
    return filled;
}

static voice_batch batch_view(const batcher *b, int sr, int with_noise)
{
    voice_batch vb = {b->T, b->B, b->seg, b->reset, b->target, b->n_seg, b->ctx, b->ctx_in, b->floor_db,
                      with_noise ? b->z_noise : NULL, with_noise ? b->pitch_shift : NULL, sr};
    return vb;
}

static double validate(voice_trainer *tr, batcher *b, const tdata *d, uint64_t seed, voice_loss_parts *sum)
{
    if (!d->nval) return 0;
    nn_rng r;
    nn_rng_seed(&r, seed);
    b->norder = d->nval;
    for (int i = 0; i < d->nval; i++) b->order[i] = i;
    b->pos = 0;
    double total = 0, fr = 0;
    memset(sum, 0, sizeof *sum);
    while (batcher_fill(b, d, d->val, 0.0f, 0.0f, 0.0f, 0.0f, &r) > 0) {
        voice_loss_parts p;
        voice_batch vb = batch_view(b, d->sample_rate, 0);
        float l = voice_trainer_loss(tr, &vb, NULL, &p);
        total += (double)l * p.frames;
        sum->harm += p.harm * p.frames;
        sum->noise += p.noise * p.frames;
        sum->loud += p.loud * p.frames;
        fr += p.frames;
    }
    if (fr > 0) {
        sum->harm /= fr;
        sum->noise /= fr;
        sum->loud /= fr;
        sum->frames = (int)fr;
    }
    return fr > 0 ? total / fr : 0;
}

static void iso_date(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

int voice_train(const voice_train_opts *o, char *err, size_t errlen)
{
    nn_set_threads(o->threads > 0 ? o->threads : 0);
    tdata d;
    if (tdata_load(&d, o, err, errlen) != 0) return -1;
    int rc = -1;
    voice_model vm;
    memset(&vm, 0, sizeof vm);
    voice_trainer *tr = NULL;
    float *grads = NULL;
    nn_adam opt;
    memset(&opt, 0, sizeof opt);
    batcher b;
    if (batcher_init(&b, o, d.ntrain > d.nval ? d.ntrain : d.nval) != 0) {
        seterr(err, errlen, "out of memory");
        goto done;
    }
    if (voice_model_create(&vm, &o->model, o->seed, err, errlen) != 0) goto done;
    tr = voice_trainer_create(&vm, o->T, o->rows, b.max_seg, o->ctx, o->noise_weight, o->loud_weight, o->z_l2, err,
                              errlen);
    if (!tr) goto done;
    size_t np = nn_model_size(vm.m);
    grads = nn_alloc_array(np, sizeof(float));
    nn_adam_config ac = nn_adam_defaults();
    ac.lr = o->lr;
    if (!grads || nn_adam_init(&opt, ac, np) != 0) {
        seterr(err, errlen, "out of memory");
        goto done;
    }
    nn_rng rng;
    nn_rng_seed(&rng, o->seed * 7919 + 17);
    /* steps per epoch: one dry packing */
    b.norder = d.ntrain;
    for (int i = 0; i < d.ntrain; i++) b.order[i] = i;
    int per_epoch = 0;
    {
        nn_rng dry = rng;
        b.pos = 0;
        shuffle(b.order, b.norder, &dry);
        while (batcher_fill(&b, &d, d.train, o->self_ctx, 0.0f, 0.0f, 0.0f, &dry) > 0) per_epoch++;
    }
    int64_t total = (int64_t)per_epoch * o->epochs;
    if (o->checkpoint) {
        struct stat st;
        if (stat(o->checkpoint, &st) == 0) {
            if (nn_checkpoint_load(o->checkpoint, vm.m, &opt, &rng, err, errlen) != 0) goto done;
            if (!o->quiet) printf("resuming from %s at step %lld\n", o->checkpoint, (long long)opt.step);
        }
    }
    if (!o->quiet) {
        printf("voice training: %d instruments, %d notes (%d held-out pitch notes for validation), %d Hz\n",
               d.ninst, d.ntrain, d.nval, d.sample_rate);
        printf("model: z %d, encoder 2x%d, decoder %d -> GRU %d -> %d -> %d; %zu parameters\n", o->model.zdim,
               o->model.enc_hidden, o->model.dec_in, o->model.dec_gru, o->model.dec_hidden, VOICE_DEC_OUT, np);
        printf("batches of %d x %d frames, %d per epoch, %d epochs: %lld steps; Adam %g -> %g, warm-up %d\n", o->rows,
               o->T, per_epoch, o->epochs, (long long)total, o->lr, o->min_lr, o->warmup);
        printf("loss: harmonics + %g noise + %g loudness (dB) + %g |z|^2; z from %d context frames (%.0f%% the note's "
               "own), z noise %g, pitch jitter %g semitones, %.0f%% of notes through a random timbre filter, seed %llu, "
               "%d threads\n",
               o->noise_weight, o->loud_weight, o->z_l2, o->ctx, 100 * o->self_ctx, o->z_noise, o->pitch_jitter,
               100 * o->augment, (unsigned long long)o->seed, nn_threads());
        fflush(stdout);
    }
    nn_schedule sched = {o->lr, o->min_lr, o->warmup, total};
    nn_progress prog;
    nn_progress_start(&prog, opt.step, total, o->quiet ? NULL : stdout);
    int64_t step = opt.step;
    int epoch = per_epoch ? (int)(step / per_epoch) : 0;
    while (step < total) {
        /* an epoch: every training note once, in a new order (the order's seed follows the epoch,
         * so a resumed run sees the same batches) */
        nn_rng er;
        nn_rng_seed(&er, o->seed * 1000003 + (uint64_t)epoch);
        for (int i = 0; i < d.ntrain; i++) b.order[i] = i;
        b.norder = d.ntrain;
        b.pos = 0;
        shuffle(b.order, b.norder, &er);
        int in_epoch = 0;
        double esum = 0, eh = 0, en = 0, el = 0;
        int64_t skip = step - (int64_t)epoch * per_epoch; /* batches already done in this epoch */
        int frames;
        while (step < total && (frames = batcher_fill(&b, &d, d.train, o->self_ctx, o->z_noise, o->pitch_jitter, o->augment, &er)) > 0) {
            if (in_epoch++ < skip) continue;
            memset(grads, 0, np * sizeof(float));
            voice_loss_parts p;
            voice_batch vb = batch_view(&b, d.sample_rate, 1);
            float loss = voice_trainer_loss(tr, &vb, grads, &p);
            if (!isfinite(loss)) {
                seterr(err, errlen, "training diverged at step %lld (the loss is not finite); lower the learning rate",
                       (long long)step);
                goto done;
            }
            nn_clip_grad_norm(grads, np, 1.0f);
            nn_adam_step(&opt, nn_model_data(vm.m), grads, nn_schedule_lr(&sched, step));
            nn_progress_step(&prog, step, loss, frames, 0);
            esum += loss;
            eh += p.harm;
            en += p.noise;
            el += p.loud;
            step++;
            if (o->checkpoint && step % 200 == 0 &&
                nn_checkpoint_save(o->checkpoint, vm.m, &opt, &rng, err, errlen) != 0)
                goto done;
        }
        int done_batches = in_epoch - (int)skip;
        if (done_batches > 0 && !o->quiet) {
            voice_loss_parts vp;
            double vl = validate(tr, &b, &d, o->seed + 99, &vp);
            printf("epoch %d/%d: train loss %.3f (harmonics %.2f dB, noise %.2f dB, loudness %.2f dB)  held-out "
                   "pitches %.3f (harmonics %.2f dB, noise %.2f dB, loudness %.2f dB)\n",
                   epoch + 1, o->epochs, esum / done_batches, eh / done_batches, en / done_batches, el / done_batches,
                   vl, vp.harm, vp.noise, vp.loud);
            fflush(stdout);
        }
        epoch++;
    }
    nn_progress_step(&prog, step > 0 ? step - 1 : 0, 0, 0, 1);
    {
        char date[32];
        iso_date(date, sizeof date);
        nn_model_set_meta(vm.m, "date", date);
        if (o->command_line) nn_model_set_meta(vm.m, "command_line", o->command_line);
        if (o->data_sha256) nn_model_set_meta(vm.m, "data_sha256", o->data_sha256);
        char info[256];
        snprintf(info, sizeof info, "%d instruments, %d training notes, %lld steps of %d x %d frames", d.ninst,
                 d.ntrain, (long long)step, o->rows, o->T);
        nn_model_set_meta(vm.m, "training", info);
        /* the checkpoint's optimiser tensors do not belong in the shipped file */
        if (nn_model_save(vm.m, o->out_path, err, errlen) != 0) goto done;
    }
    if (!o->quiet) printf("wrote %s\n", o->out_path);
    rc = 0;
done:
    nn_adam_free(&opt);
    nn_free(grads);
    voice_trainer_free(tr);
    voice_model_free(&vm);
    batcher_free(&b);
    tdata_free(&d);
    return rc;
}
