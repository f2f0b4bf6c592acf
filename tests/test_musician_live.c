/* test_musician_live.c: the musician trained and played: training overfits a tiny corpus and
 * resumes from its checkpoint, the live step allocates nothing, the live controls act as they
 * should, priming, the default patch with the shipped model (and its fallback when the model is
 * missing or damaged), and the train and eval commands. */
#include "test.h"
#include "test_musician.h"

#include "engine/behaviour.h"
#include "engine/musician.h"
#include "engine/musician/mus_accompany.h"
#include "engine/musician/mus_band.h"
#include "engine/musician/mus_chart.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_sample.h"
#include "engine/musician/mus_train.h"
#include "engine/smf.h"
#include "nn/nn_mem.h"

#include <malloc.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer's allocation hooks (its public interface; declared here because gcc ships no
 * header for them) */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
#endif

/* The bass head's mean negative log-likelihood over a song, the model hearing the past only. */
static double bass_nll(const mus_model *m, const mus_song *s)
{
    char err[256];
    mus_band *b = mus_band_create(m, err, sizeof err);
    CHECKF(b, "%s", err);
    mus_band_ctl c = mus_band_ctl_defaults();
    c.style = s->style;
    double nll = 0;
    for (int t = 0; t < s->nsteps; t++) {
        const float *l = mus_band_observe(b, &c, t, s->beats_per_bar, NULL, NULL, &s->frame[t]);
        nll -= mus_log_softmax_at(l + mus_head_offset(MUS_HEAD_BASS), MUS_MONO_VOCAB, s->frame[t].bass);
    }
    mus_band_free(b);
    return nll / s->nsteps;
}

TEST_TIMEOUT(musician_training_overfits_a_tiny_corpus_and_resumes, 120)
{
    const char *dir = tm_tiny_corpus(test_path("corpus"), 5);
    char model[1024], ckpt[1024], log[1024];
    snprintf(model, sizeof model, "%s", test_path("m.bmnn"));
    snprintf(ckpt, sizeof ckpt, "%s", test_path("m.ckpt"));
    snprintf(log, sizeof log, "%s", test_path("log.tsv"));
    mus_train_opts o;
    mus_train_defaults(&o);
    o.corpus = dir;
    o.out = model;
    o.checkpoint = ckpt;
    o.log_tsv = log;
    o.layers = 1;
    o.hidden = 48;
    o.T = 32;
    o.B = 4;
    o.steps = 200;
    o.plain = 1; /* the songs as written: learnt by heart */
    o.lr = 1e-2f;
    o.min_lr = 1e-3f;
    o.warmup = 20;
    o.valid_every = o.ckpt_every = 100;
    o.threads = 1;
    char err[512];
    CHECKF(mus_train_run(&o, err, sizeof err) == 0, "%s", err);
    mus_corpus c;
    CHECKF(mus_corpus_load(dir, NULL, &c, NULL, err, sizeof err) == 0, "%s", err);
    mus_model *m = mus_model_load(model, err, sizeof err);
    CHECKF(m, "%s", err);
    double half = bass_nll(m, &c.songs[0]);
    mus_model_free(m);
    /* resume to 600 steps: the checkpoint carries the step, the optimiser and the random state */
    o.steps = 500;
    o.resume = 1;
    CHECKF(mus_train_run(&o, err, sizeof err) == 0, "%s", err);
    m = mus_model_load(model, err, sizeof err);
    CHECKF(m, "%s", err);
    double full = bass_nll(m, &c.songs[0]);
    /* a fresh model knows nothing: about log(50) = 3.9 nats */
    mus_model *fresh = mus_model_create(1, 48, 3, err, sizeof err);
    double before = bass_nll(fresh, &c.songs[0]);
    mus_model_free(fresh);
    CHECKF(before > 3.0, "an untrained model already knew the bass (%.3f nats)", before);
    CHECKF(full < 0.2 && full < half, "the tiny corpus was not learnt: %.3f nats after 200 steps, %.3f after 500",
           half, full);
    /* the log holds one line per validation, across the resume */
    FILE *f = fopen(log, "r");
    CHECK(f);
    int lines = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    CHECK_EQ_INT(lines, 1 + 5);
    mus_model_free(m);
    mus_corpus_free(&c);
}

/* A step context like the musician's. */
typedef struct fake_musician {
    bm_step_ctx ctx;
    double controls[BM_NUM_CONTROLS];
    uint8_t channel[BM_NUM_PARTS];
    uint64_t rng;
} fake_musician;

static void fake_init(fake_musician *f, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    static const double defaults[BM_NUM_CONTROLS] = {1.0, 0.95, 0.5, -1, 0, -1, 0, 0.3, 0};
    memcpy(f->controls, defaults, sizeof defaults);
    static const uint8_t ch[BM_NUM_PARTS] = {0, 1, 9, 2, 3};
    memcpy(f->channel, ch, sizeof ch);
    f->rng = seed;
    f->ctx.steps_per_beat = 4;
    f->ctx.step_beats = 0.25;
    f->ctx.beats_per_bar = 4;
    f->ctx.bpm = 120;
    f->ctx.parts_enabled = (1u << BM_NUM_PARTS) - 1;
    f->ctx.human_role = BM_PART_HUMAN;
    f->ctx.channel = f->channel;
    f->ctx.rng = &f->rng;
    f->ctx.controls = f->controls;
}

/* The performer's melody for step k (a note every beat, C major), into ev; returns the count. */
static int melody(int64_t k, bm_event *ev)
{
    static const int tune[8] = {60, 62, 64, 65, 67, 65, 64, 62};
    int n = 0;
    if (k % 4 == 0) {
        memset(ev, 0, 2 * sizeof *ev);
        if (k >= 4) {
            ev[n].type = BM_EV_NOTE_OFF;
            ev[n].note = (uint8_t)tune[(k / 4 - 1) % 8];
            ev[n].beat = k / 4.0 - 0.05;
            n++;
        }
        ev[n].type = BM_EV_NOTE_ON;
        ev[n].note = (uint8_t)tune[(k / 4) % 8];
        ev[n].velocity = 90;
        ev[n].beat = k / 4.0;
        n++;
    }
    return n;
}

/* Runs a behaviour for nsteps engine steps; the band's events go to out (up to cap). */
static int play(bm_behaviour *b, fake_musician *f, int nsteps, bm_event *out, int cap)
{
    int total = 0;
    bm_event ev[BM_MUSICIAN_MAX_OUT], human[4];
    for (int64_t k = 0; k < nsteps; k++) {
        f->ctx.step = k;
        f->ctx.beat = k * f->ctx.step_beats;
        int nh = f->ctx.step_beats == 0.25 ? melody(k, human) : 0;
        int n = b->ops->step(b, &f->ctx, human, nh, ev, BM_MUSICIAN_MAX_OUT);
        for (int i = 0; i < n && total < cap; i++) out[total++] = ev[i];
    }
    return total;
}

static bm_behaviour *make_band(const char *model)
{
    char err[512];
    bm_behaviour *b = behaviour_accompany_create(model, err, sizeof err);
    CHECKF(b, "%s", err);
    return b;
}

static int count_part(const bm_event *e, int n, int part, int type)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += e[i].part == part && e[i].type == type;
    return k;
}

#define MAXEV 65536
static bm_event ev_a[MAXEV], ev_b[MAXEV];

TEST(musician_controls_act_as_they_should)
{
    /* a random model made confident (its heads scaled up), so that temperature matters */
    mus_model *m = tm_random_model(test_path("r.bmnn"), 1, 64);
    const char *path = test_path("r.bmnn");
    for (int i = 0; i < nn_model_count(m->nn); i++) {
        const nn_tensor *t = nn_model_tensor(m->nn, i);
        if (!strncmp(t->name, "heads.", 6))
            for (size_t k = 0; k < t->size; k++) t->data[k] *= 40.0f;
    }
    char err[512];
    CHECKF(mus_model_save(m, path, err, sizeof err) == 0, "%s", err);
    fake_musician f;
    /* temperature 0.05: the same music whatever the seed */
    bm_behaviour *b = make_band(path);
    fake_init(&f, 1);
    f.controls[BM_CTL_TEMPERATURE] = 0.05;
    int na = play(b, &f, 256, ev_a, MAXEV);
    b->ops->reset(b);
    fake_init(&f, 987654321);
    f.controls[BM_CTL_TEMPERATURE] = 0.05;
    int nb = play(b, &f, 256, ev_b, MAXEV);
    CHECK(na > 0);
    for (int i = 0; i < na && i < nb; i++)
        CHECKF(ev_a[i].note == ev_b[i].note && ev_a[i].type == ev_b[i].type && ev_a[i].beat == ev_b[i].beat,
               "event %d (%s, beat %g) differs at temperature 0.05", i, bm_part_name(ev_a[i].part), ev_a[i].beat);
    CHECK_EQ_INT(na, nb);
    for (int i = 0; i < na; i++)
        CHECKF(ev_a[i].note == ev_b[i].note && ev_a[i].type == ev_b[i].type && ev_a[i].beat == ev_b[i].beat,
               "event %d differs at temperature 0.05", i);
    /* at temperature 1 the seed matters */
    b->ops->reset(b);
    fake_init(&f, 1);
    na = play(b, &f, 256, ev_a, MAXEV);
    b->ops->reset(b);
    fake_init(&f, 2);
    nb = play(b, &f, 256, ev_b, MAXEV);
    int differ = na != nb;
    for (int i = 0; i < na && i < nb && !differ; i++) differ = ev_a[i].note != ev_b[i].note || ev_a[i].beat != ev_b[i].beat;
    CHECK(differ);
    /* key lock: D major, hot sampling: every pitched note in the scale */
    b->ops->reset(b);
    fake_init(&f, 3);
    f.controls[BM_CTL_TEMPERATURE] = 1.5;
    f.controls[BM_CTL_KEY] = 2;
    f.controls[BM_CTL_SCALE] = 0;
    na = play(b, &f, 512, ev_a, MAXEV);
    int pitched = 0;
    for (int i = 0; i < na; i++) {
        if (ev_a[i].type != BM_EV_NOTE_ON || ev_a[i].part == BM_PART_DRUMS) continue;
        pitched++;
        int deg = (ev_a[i].note - 2 + 120) % 12;
        CHECKF(deg == 0 || deg == 2 || deg == 4 || deg == 5 || deg == 7 || deg == 9 || deg == 11,
               "%s note %d is outside D major", bm_part_name(ev_a[i].part), ev_a[i].note);
    }
    CHECK(pitched > 20);
    /* part off: no bass at all (and the rest still plays) */
    b->ops->reset(b);
    fake_init(&f, 4);
    f.ctx.parts_enabled &= ~(1u << BM_PART_BASS);
    na = play(b, &f, 256, ev_a, MAXEV);
    CHECK_EQ_INT(count_part(ev_a, na, BM_PART_BASS, BM_EV_NOTE_ON), 0);
    CHECK(count_part(ev_a, na, BM_PART_DRUMS, BM_EV_NOTE_ON) + count_part(ev_a, na, BM_PART_COMPING, BM_EV_NOTE_ON) > 0);
    /* density: a busier band at 1 than at 0 (with the model as initialised, whose logits are small) */
    b->ops->destroy(b);
    mus_model *plain = tm_random_model(test_path("p.bmnn"), 1, 64);
    b = make_band(test_path("p.bmnn"));
    int busy[2];
    for (int d = 0; d < 2; d++) {
        b->ops->reset(b);
        fake_init(&f, 5);
        f.controls[BM_CTL_DENSITY] = d;
        na = play(b, &f, 256, ev_a, MAXEV);
        busy[d] = 0;
        for (int p = BM_PART_BASS; p <= BM_PART_LEAD; p++) busy[d] += count_part(ev_a, na, p, BM_EV_NOTE_ON);
    }
    CHECKF(busy[1] > 2 * busy[0] + 10, "density 0 played %d notes, density 1 %d", busy[0], busy[1]);
    /* the performer as the lead: in accompany the band's lead stays out; in call-and-response it
     * answers only in their rests, and with memory weight 1 in their own notes */
    for (int mode = 0; mode < 2; mode++) {
        CHECK_EQ_INT(behaviour_set_mode(b, mode ? "call-and-response" : "accompany"), 0);
        b->ops->reset(b);
        fake_init(&f, 6);
        f.ctx.human_role = BM_PART_LEAD;
        f.ctx.parts_enabled &= ~(1u << BM_PART_LEAD); /* as the musician gives it: the performer's part */
        f.controls[BM_CTL_MEMORY] = 1.0;
        int total = 0, lead_on = 0;
        bm_event ev[BM_MUSICIAN_MAX_OUT], human[4];
        for (int64_t k = 0; k < 512; k++) {
            f.ctx.step = k;
            f.ctx.beat = k * 0.25;
            int nh = k < 128 ? melody(k, human) : 0; /* eight bars of melody, then silence */
            if (k == 128) { /* the last note ends */
                memset(human, 0, sizeof human[0]);
                human[0].type = BM_EV_NOTE_OFF;
                human[0].note = 62; /* the tune's last note */
                human[0].beat = 31.9;
                nh = 1;
            }
            int n = b->ops->step(b, &f.ctx, human, nh, ev, BM_MUSICIAN_MAX_OUT);
            for (int i = 0; i < n; i++) {
                if (ev[i].part != BM_PART_LEAD || ev[i].type != BM_EV_NOTE_ON) continue;
                CHECKF(k >= 128, "the band's lead played over the performer at step %lld", (long long)k);
                static const int tune_pcs = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 7);
                CHECKF(tune_pcs >> (ev[i].note % 12) & 1, "an answer used %d, not one of the performer's notes", ev[i].note);
                lead_on++;
            }
            total += n;
        }
        if (mode) CHECK(lead_on > 0);
        else CHECKF(lead_on == 0, "accompany answered a lead performer with %d notes", lead_on);
    }
    CHECK_EQ_INT(behaviour_set_mode(b, "echo"), -1);
    b->ops->destroy(b);
    mus_model_free(m);
    mus_model_free(plain);
}

TEST(musician_runs_on_any_engine_grid_and_can_be_primed)
{
    mus_model *m = tm_random_model(test_path("r.bmnn"), 1, 32);
    bm_behaviour *b = make_band(test_path("r.bmnn"));
    fake_musician f;
    fake_init(&f, 1);
    f.ctx.steps_per_beat = 8; /* an engine grid of 32nds: the band still plays 16ths */
    f.ctx.step_beats = 0.125;
    int n = play(b, &f, 256, ev_a, MAXEV);
    int ons = 0;
    for (int i = 0; i < n; i++)
        if (ev_a[i].type == BM_EV_NOTE_ON) {
            ons++;
            CHECKF(fabs(ev_a[i].beat * 4 - round(ev_a[i].beat * 4)) < 1e-9, "a note at beat %g, off the 16th grid",
                   ev_a[i].beat);
            CHECK(ev_a[i].beat >= 0 && ev_a[i].beat < 32);
        }
    CHECK(ons > 0);
    /* priming: the phrase changes what follows; echo cannot be primed */
    bm_event phrase[32];
    int np = 0;
    for (int k = 0; k < 64 && np < 30; k += 4) np += melody(k, phrase + np);
    fake_init(&f, 1);
    f.controls[BM_CTL_TEMPERATURE] = 0.05;
    b->ops->reset(b);
    int plain = play(b, &f, 64, ev_a, MAXEV);
    b->ops->reset(b);
    fake_init(&f, 1);
    f.controls[BM_CTL_TEMPERATURE] = 0.05;
    CHECK_EQ_INT(behaviour_prime(b, &f.ctx, phrase, np), 0);
    int primed = play(b, &f, 64, ev_b, MAXEV);
    int differ = plain != primed;
    for (int i = 0; i < plain && i < primed && !differ; i++) differ = ev_a[i].note != ev_b[i].note;
    CHECK(differ);
    bm_behaviour *echo = behaviour_create("echo");
    CHECK_EQ_INT(behaviour_prime(echo, &f.ctx, phrase, np), -1);
    echo->ops->destroy(echo);
    b->ops->destroy(b);
    mus_model_free(m);
}

#if defined(__SANITIZE_ADDRESS__)
static long allocations;
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    allocations++;
}
static void on_free(const volatile void *p) { (void)p; }
#endif

TEST(musician_step_allocates_nothing)
{
    mus_model *m = tm_random_model(test_path("r.bmnn"), 2, 64);
    { /* with a chord tracker, as the shipped model has */
        mus_corpus c;
        char why[512];
        CHECKF(mus_corpus_load(tm_tiny_corpus(test_path("corpus"), 5), NULL, &c, NULL, why, sizeof why) == 0, "%s", why);
        int songs[5];
        for (int i = 0; i < c.n && i < 5; i++) songs[i] = i;
        CHECKF(mus_model_fit_chords(m, &c, songs, c.n < 5 ? c.n : 5, why, sizeof why) == 0, "%s", why);
        CHECKF(mus_model_save(m, test_path("r.bmnn"), why, sizeof why) == 0, "%s", why);
        mus_corpus_free(&c);
    }
    bm_behaviour *b = make_band(test_path("r.bmnn"));
    fake_musician f;
    fake_init(&f, 1);
    play(b, &f, 64, ev_a, MAXEV); /* warm up */
    bm_event ev[BM_MUSICIAN_MAX_OUT], human[4];
    nn_alloc_fail_after(0); /* any nn allocation would now fail */
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
    allocations = 0;
#endif
    struct mallinfo2 before = mallinfo2();
    for (int64_t k = 64; k < 4096; k++) {
        f.ctx.step = k;
        f.ctx.beat = k * 0.25;
        if (k == 2048) f.ctx.human_role = BM_PART_COMPING; /* another role, key lock, memory on */
        if (k == 3000) f.controls[BM_CTL_KEY] = 5;
        int nh = melody(k, human);
        b->ops->step(b, &f.ctx, human, nh, ev, BM_MUSICIAN_MAX_OUT);
        if (k % 4 == 3) b->ops->preview(b, &f.ctx, ev, BM_MUSICIAN_MAX_OUT); /* the next beat, sampled ahead */
    }
    struct mallinfo2 after = mallinfo2();
#if defined(__SANITIZE_ADDRESS__)
    long seen = allocations;
    __sanitizer_install_malloc_and_free_hooks(NULL, NULL);
    CHECKF(seen == 0, "%ld allocations in 4032 musician steps", seen);
#endif
    nn_alloc_fail_after(-1);
    CHECKF(after.uordblks == before.uordblks && after.hblks == before.hblks,
           "the heap changed during the musician steps (%zu -> %zu bytes)", before.uordblks, after.uordblks);
    b->ops->destroy(b);
    mus_model_free(m);
}

/* ---- the commands and the shipped model ---- */

static int run_bandmate(const char *env, const char *args, char *out, size_t cap)
{
    char cmd[4096], cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd));
    const char *bin = test_bindir();
    snprintf(cmd, sizeof cmd, "%s %s%s%s/bandmate %s", env ? env : "", bin[0] == '/' ? "" : cwd,
             bin[0] == '/' ? "" : "/", bin, args);
    return test_run(cmd, out, cap, 110);
}

static int track_notes(const smf *s, const char *name)
{
    for (int t = 0; t < s->ntracks; t++)
        if (!strcmp(s->tracks[t].name, name)) {
            int n = 0;
            for (size_t i = 0; i < s->tracks[t].n; i++)
                n += s->tracks[t].events[i].kind == SMF_MIDI && (s->tracks[t].events[i].bytes[0] & 0xf0) == 0x90 &&
                     s->tracks[t].events[i].bytes[2] > 0;
            return n;
        }
    return -1;
}

TEST_TIMEOUT(musician_default_render_plays_every_part_with_the_shipped_model, 120)
{
    CHECKF(access("models/musician.bmnn", R_OK) == 0, "the shipped model models/musician.bmnn is missing");
    char out[8192], args[2048], a[1024], b2[1024];
    snprintf(a, sizeof a, "%s", test_path("a.mid"));
    snprintf(b2, sizeof b2, "%s", test_path("b.mid"));
    snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s --seed 3", a);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "mode accompany");
    CHECK(!strstr(out, "echo harmoniser"));
    smf *s;
    char err[512];
    CHECKF(smf_read_file(a, &s, err, sizeof err) == 0, "%s", err);
    static const char *const parts[] = {"human", "bass", "drums", "comping", "lead"};
    for (int p = 0; p < 5; p++) CHECKF(track_notes(s, parts[p]) >= 0, "no %s track", parts[p]);
    for (int p = 1; p < 4; p++) CHECKF(track_notes(s, parts[p]) > 10, "the %s track has %d notes", parts[p], track_notes(s, parts[p]));
    smf_free(s);
    /* the same seed gives the same session */
    snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s --seed 3", b2);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "cmp %s %s", a, b2);
    CHECKF(test_run(args, out, sizeof out, 10) == 0, "two renders with one seed differ: %s", out);
}

TEST_TIMEOUT(musician_missing_or_damaged_model_falls_back_to_echo_with_one_message, 120)
{
    char out[8192], args[2048], env[2048], midi[1024];
    snprintf(midi, sizeof midi, "%s", test_path("o.mid"));
    snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s", midi);
    snprintf(env, sizeof env, "BANDMATE_MODEL=%s", test_path("nothing.bmnn"));
    CHECKF(run_bandmate(env, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "the band plays the echo harmoniser instead");
    CHECK_STR_CONTAINS(out, "mode echo");
    int lines = 0;
    for (const char *c = out; *c; c++) lines += strncmp(c, "bandmate:", 9) == 0;
    CHECKF(lines == 1, "%d messages: %s", lines, out);
    smf *s;
    char err[512];
    CHECKF(smf_read_file(midi, &s, err, sizeof err) == 0, "%s", err);
    CHECK(track_notes(s, "lead") > 0); /* the echo answers */
    CHECK_EQ_INT(track_notes(s, "bass"), 0);
    smf_free(s);
    /* a damaged model: the same fallback, naming the damage */
    mus_model *m = tm_random_model(test_path("ok.bmnn"), 1, 16);
    mus_model_free(m);
    FILE *f = fopen(test_path("ok.bmnn"), "r+b");
    CHECK(f);
    fseek(f, 300, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    snprintf(env, sizeof env, "BANDMATE_MODEL=%s", test_path("ok.bmnn"));
    CHECKF(run_bandmate(env, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "truncated or damaged");
    CHECK_STR_CONTAINS(out, "echo harmoniser");
    /* asked for by name, a missing model is an error in one sentence */
    snprintf(env, sizeof env, "BANDMATE_MODEL=%s", test_path("nothing.bmnn"));
    snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s --mode accompany", midi);
    CHECK_EQ_INT(run_bandmate(env, args, out, sizeof out), 1);
    CHECK_STR_CONTAINS(out, "bandmate render: ");
    CHECK_STR_CONTAINS(out, "nothing.bmnn");
    lines = 0;
    for (const char *c = out; *c; c++) lines += *c == '\n';
    CHECK_EQ_INT(lines, 1);
    /* a patch that asks for accompany without a usable model is an error; one naming a model uses it */
    FILE *pf = fopen(test_path("p.lua"), "w");
    fputs("return { mode = \"accompany\", model = \"nothing.bmnn\" }\n", pf);
    fclose(pf);
    snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s --patch %s", midi, test_path("p.lua"));
    CHECK_EQ_INT(run_bandmate(NULL, args, out, sizeof out), 1);
    CHECK_STR_CONTAINS(out, "nothing.bmnn does not exist or cannot be read");
    pf = fopen(test_path("p.lua"), "w");
    fputs("return { mode = \"accompany\", model = \"ok.bmnn\" }\n", pf); /* the damaged one */
    fclose(pf);
    CHECK_EQ_INT(run_bandmate(NULL, args, out, sizeof out), 1);
    CHECK_STR_CONTAINS(out, "mode 'accompany' needs the musician model");
    CHECK_STR_CONTAINS(out, "truncated or damaged");
    m = tm_random_model(test_path("good.bmnn"), 1, 16);
    mus_model_free(m);
    pf = fopen(test_path("p.lua"), "w");
    fputs("return { model = \"good.bmnn\" }\n", pf);
    fclose(pf);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "mode accompany");
    /* a model of another shape is refused on load */
    f = fopen(test_path("other.bmnn"), "wb");
    fclose(f);
    char why[512];
    CHECK(!mus_model_load(test_path("other.bmnn"), why, sizeof why));
    CHECK_STR_CONTAINS(why, "other.bmnn");
}

TEST_TIMEOUT(musician_train_and_eval_commands, 120)
{
    if (getenv("TM_KEEP_CORPUS")) {
        tm_tiny_corpus(getenv("TM_KEEP_CORPUS"), 5);
        return;
    }
    char out[16384], args[4096];
    CHECK_EQ_INT(run_bandmate(NULL, "train --help", out, sizeof out), 0);
    CHECK_STR_CONTAINS(out, "usage: bandmate train");
    CHECK_EQ_INT(run_bandmate(NULL, "eval --help", out, sizeof out), 0);
    CHECK_STR_CONTAINS(out, "usage: bandmate eval");
    CHECK_EQ_INT(run_bandmate(NULL, "train", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "--corpus DIR");
    snprintf(args, sizeof args, "train --corpus %s", test_path("none"));
    CHECK_EQ_INT(run_bandmate(NULL, args, out, sizeof out), 1);
    CHECK_STR_CONTAINS(out, "does not exist or cannot be read");
    const char *dir = tm_tiny_corpus(test_path("corpus"), 5);
    char model[1024], png[1024];
    snprintf(model, sizeof model, "%s", test_path("t.bmnn"));
    snprintf(png, sizeof png, "%s", test_path("loss.png"));
    snprintf(args, sizeof args,
             "train --corpus %s --out %s --steps 60 --hidden 32 --layers 1 --batch 4 --seq 32 --valid-every 30 "
             "--threads 1 --log %s/log.tsv --plot %s --report-skips",
             dir, model, test_tmpdir(), png);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "5 songs read (train 3, valid 1, test 1");
    CHECK_STR_CONTAINS(out, "done: 60 steps");
    CHECK(access(png, R_OK) == 0);
    /* the model carries its chord tracker; --chords-only fits it again into a trained model, and
     * a damaged one is refused in one sentence */
    char why[768];
    mus_model *tm = mus_model_load(model, why, sizeof why);
    CHECKF(tm, "%s", why);
    CHECK(tm->chords != NULL);
    mus_model_free(tm);
    snprintf(args, sizeof args, "train --corpus %s --out %s --chords-only", dir, model);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "the chord tracker, fitted on the 3 training songs");
    tm = mus_model_load(model, why, sizeof why);
    CHECKF(tm && tm->chords, "%s", why);
    CHECK(nn_model_set_meta(tm->nn, "chord_tracker", "3 1 2") == 0);
    CHECKF(nn_model_save(tm->nn, test_path("damaged.bmnn"), why, sizeof why) == 0, "%s", why);
    mus_model_free(tm);
    CHECK(mus_model_load(test_path("damaged.bmnn"), why, sizeof why) == NULL);
    CHECK_STR_CONTAINS(why, "chord tracker is damaged");
    snprintf(args, sizeof args,
             "eval --corpus %s --model %s --gen-songs 1 --gen-steps 320 --ppm-order 3 --performance examples/melody.mid",
             dir, model);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "1. Per-step negative log-likelihood");
    CHECK_STR_CONTAINS(out, "PPM bass");
    CHECK_STR_CONTAINS(out, "performer plays the melody only");
    CHECK_STR_CONTAINS(out, "one musician step");
    CHECK_STR_CONTAINS(out, "first band note");
    /* a damaged corpus file is reported, not fatal */
    FILE *f = fopen(test_path("corpus/zz-broken.mid"), "wb");
    fputs("MThd nonsense", f);
    fclose(f);
    snprintf(args, sizeof args, "train --corpus %s --out %s --steps 2 --hidden 8 --layers 1 --batch 2 --seq 8 --threads 1",
             dir, model);
    CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
    CHECK_STR_CONTAINS(out, "skipped 1 files: 1 damaged or unreadable");
}

/* The share of a track's note-ons whose pitch class is in the chord the chart {Ab (4 beats), Db
 * (4 beats)} has at their beat. */
static double share_in_chart(const smf *s, const char *name)
{
    static const uint16_t ab = 1u << 8 | 1u << 0 | 1u << 3, db = 1u << 1 | 1u << 5 | 1u << 8;
    long n = 0, in = 0;
    for (int t = 0; t < s->ntracks; t++) {
        if (strcmp(s->tracks[t].name, name)) continue;
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *ev = &s->tracks[t].events[i];
            if (ev->kind != SMF_MIDI || (ev->bytes[0] & 0xf0) != 0x90 || ev->bytes[2] == 0) continue;
            double beat = (double)ev->tick / s->division;
            uint16_t pcs = fmod(beat + 1e-6, 8.0) < 4 ? ab : db;
            n++;
            in += pcs >> (ev->bytes[1] % 12) & 1;
        }
    }
    return n ? (double)in / (double)n : -1;
}

TEST_TIMEOUT(musician_follows_the_patch_chord_chart, 120)
{
    /* the performer's melody (D major) says one thing, the tune's chart (Ab, Db) another: the band
     * plays the chart */
    char out[8192], args[2048], midi[1024];
    snprintf(midi, sizeof midi, "%s", test_path("chart.mid"));
    double with_chart = 0, without = 0;
    for (int pass = 0; pass < 2; pass++) {
        FILE *pf = fopen(test_path("p.lua"), "w");
        CHECK(pf);
        fprintf(pf, "return { mode = \"accompany\", human = \"lead\"%s }\n",
                pass ? "" : ", chords = {{\"Ab\", 4}, {\"Db\", 4}}");
        fclose(pf);
        snprintf(args, sizeof args, "render --in examples/melody.mid --out-mid %s --patch %s --seed 3 --quiet", midi,
                 test_path("p.lua"));
        CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
        smf *s;
        char err[512];
        CHECKF(smf_read_file(midi, &s, err, sizeof err) == 0, "%s", err);
        double bass = share_in_chart(s, "bass"), comp = share_in_chart(s, "comping");
        fprintf(stderr, "%s the chart: bass %.0f%%, comping %.0f%% of notes in the chart's chord\n",
                pass ? "without" : "with", 100 * bass, 100 * comp);
        CHECK(bass >= 0 && comp >= 0);
        if (pass) without = (bass + comp) / 2;
        else with_chart = (bass + comp) / 2;
        smf_free(s);
    }
    CHECKF(with_chart > 0.85, "%.2f", with_chart);
    CHECKF(without < 0.6, "%.2f", without);
}

/* The share of a track's note-ons on the black keys (the F-sharp pentatonic). */
static double share_black(const smf *s, const char *name, int *count)
{
    long n = 0, in = 0;
    for (int t = 0; t < s->ntracks; t++) {
        if (strcmp(s->tracks[t].name, name)) continue;
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *ev = &s->tracks[t].events[i];
            if (ev->kind != SMF_MIDI || (ev->bytes[0] & 0xf0) != 0x90 || ev->bytes[2] == 0) continue;
            n++;
            in += (0x54a >> (ev->bytes[1] % 12)) & 1; /* C# D# F# G# A# */
        }
    }
    *count = (int)n;
    return n ? (double)in / (double)n : 0;
}

TEST_TIMEOUT(musician_is_primed_from_lua, 120)
{
    /* the performer plays chords in C; a script primes the band with a phrase on the black keys and
     * the lead, drawing on the performer's phrases alone (memory 1), plays from it */
    char out[8192], args[2048], midi[1024];
    snprintf(midi, sizeof midi, "%s", test_path("primed.mid"));
    double share[2];
    for (int pass = 0; pass < 2; pass++) {
        FILE *f = fopen(test_path("prime.lua"), "w");
        CHECK(f);
        fprintf(f, "function init()\n%s\nend\n",
                pass ? "" : "  bm.prime({{66, 90, 0, 0.5}, {68, 90, 0.5, 0.5}, {70, 90, 1, 0.5}, {73, 90, 1.5, 0.5},"
                            " {75, 90, 2, 0.5}, {78, 90, 2.5, 0.5}, {80, 90, 3, 1}})");
        fclose(f);
        f = fopen(test_path("p.lua"), "w");
        CHECK(f);
        fprintf(f, "return { mode = \"accompany\", human = \"comping\", script = \"%s\", params = { memory = 1 } }\n",
                test_path("prime.lua"));
        fclose(f);
        snprintf(args, sizeof args, "render --in examples/chords.mid --out-mid %s --patch %s --seed 5 --quiet", midi,
                 test_path("p.lua"));
        CHECKF(run_bandmate(NULL, args, out, sizeof out) == 0, "%s", out);
        smf *s;
        char err[512];
        CHECKF(smf_read_file(midi, &s, err, sizeof err) == 0, "%s", err);
        int n;
        share[pass] = share_black(s, "lead", &n);
        fprintf(stderr, "%s: %d lead notes, %.0f%% on the black keys\n", pass ? "not primed" : "primed", n,
                100 * share[pass]);
        CHECK(n >= 8);
        smf_free(s);
    }
    CHECKF(share[0] > 0.6 && share[0] > share[1] + 0.3, "%.2f against %.2f", share[0], share[1]);
}

TEST(musician_preview_samples_the_next_beat_and_changes_nothing)
{
    /* the same band, the same seed, the same performer: with a preview sampled before every step,
     * it plays exactly what it plays without; and the preview covers the beat ahead */
    static bm_event plain[20000], with[20000], pv[BM_MUSICIAN_MAX_OUT];
    int n[2] = {0, 0}, previews = 0, notes_ahead = 0;
    for (int pass = 0; pass < 2; pass++) {
        bm_behaviour *b = make_band(NULL);
        CHECK(b->ops->preview != NULL);
        fake_musician f;
        fake_init(&f, 11);
        bm_event ev[BM_MUSICIAN_MAX_OUT], human[4];
        bm_event *out = pass ? with : plain;
        for (int64_t k = 0; k < 512; k++) {
            f.ctx.step = k;
            f.ctx.beat = k * f.ctx.step_beats;
            int nh = melody(k, human);
            int m = b->ops->step(b, &f.ctx, human, nh, ev, BM_MUSICIAN_MAX_OUT);
            for (int i = 0; i < m && n[pass] < 20000; i++) out[n[pass]++] = ev[i];
            if (pass && k >= 16) {
                int np = b->ops->preview(b, &f.ctx, pv, BM_MUSICIAN_MAX_OUT);
                previews++;
                for (int i = 0; i < np; i++) {
                    CHECK(pv[i].flags & BM_EVF_PREVIEW);
                    CHECKF(pv[i].beat > f.ctx.beat && pv[i].beat <= f.ctx.beat + 1.25 + 1e-9, "a preview at beat %g from %g",
                           pv[i].beat, f.ctx.beat);
                    notes_ahead += pv[i].type == BM_EV_NOTE_ON;
                }
            }
        }
        b->ops->destroy(b);
    }
    CHECK_EQ_INT(n[0], n[1]);
    for (int i = 0; i < n[0]; i++)
        CHECKF(plain[i].type == with[i].type && plain[i].note == with[i].note && plain[i].part == with[i].part &&
                   plain[i].beat == with[i].beat && plain[i].velocity == with[i].velocity,
               "event %d differs with previews", i);
    CHECKF(notes_ahead > previews, "%d notes in %d previews", notes_ahead, previews);
}
