/* model.c: the timbre autoencoder's parameters, its feature transforms, and offline encoding and
 * decoding (the decoder through nn_stream, exactly as the live synthesizer runs it). */
#include "engine/voice/model.h"
#include "engine/voice/analysis.h"
#include "nn/nn_layers.h"
#include "nn/nn_mem.h"
#include "nn/nn_ops.h"
#include "nn/nn_rng.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A-weighting as power gain: per noise band (the band's mean) and over frequency in 12 Hz steps. */
#define AW_STEP_HZ 12.0f
#define AW_N 2048
static float aw_band[VOICE_BANDS], aw_freq[AW_N];
static pthread_once_t aw_once = PTHREAD_ONCE_INIT;

static void aw_init(void)
{
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++) {
        double s = 0.0;
        for (int i = 0; i < 32; i++) s += pow(10.0, voice_a_weight_db(e[b] + (e[b + 1] - e[b]) * (i + 0.5) / 32.0) / 10.0);
        aw_band[b] = (float)(s / 32.0);
    }
    for (int i = 0; i < AW_N; i++) aw_freq[i] = (float)pow(10.0, voice_a_weight_db(i ? i * AW_STEP_HZ : 1.0) / 10.0);
}

void voice_model_tables_init(void) { pthread_once(&aw_once, aw_init); }

float voice_aw_power(float hz)
{
    float u = hz / AW_STEP_HZ;
    int i = (int)u;
    if (i < 0) return 0;
    return i + 1 < AW_N ? aw_freq[i] + (u - (float)i) * (aw_freq[i + 1] - aw_freq[i]) : aw_freq[AW_N - 1];
}

float voice_aw_band_power(int b) { return aw_band[b]; }

float voice_frame_a_power_fast(const voice_frame *f, int sr)
{
    float p = 0;
    for (int h = 0; h < VOICE_HARMONICS && f->f0_hz > 0; h++) {
        float fh = (float)(h + 1) * f->f0_hz;
        if (fh >= 0.5f * (float)sr) break;
        p += 0.5f * f->harm[h] * f->harm[h] * voice_aw_power(fh);
    }
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS && e[b] < 0.5 * sr; b++)
        if (f->noise_db[b] > VOICE_FLOOR_DB) p += exp10f(f->noise_db[b] / 10.0f) * aw_band[b];
    return p;
}

void voice_model_defaults(voice_model_config *c)
{
    c->zdim = 16;
    c->enc_hidden = 128;
    c->dec_in = 64;
    c->dec_gru = 64;
    c->dec_hidden = 96;
}

static int config_ok(const voice_model_config *c)
{
    return c->zdim >= 4 && c->zdim <= VOICE_ZDIM_MAX && c->enc_hidden >= 4 && c->enc_hidden <= 1024 &&
           c->dec_in >= 4 && c->dec_in <= 1024 && c->dec_gru >= 4 && c->dec_gru <= 1024 &&
           c->dec_hidden >= 4 && c->dec_hidden <= 1024;
}

struct tdef {
    const char *name;
    int rows, cols; /* cols 0: a vector */
};

static int tensor_defs(const voice_model_config *c, struct tdef *d)
{
    int n = 0, E = c->enc_hidden, Z = c->zdim;
    d[n++] = (struct tdef){"enc.l0.w", E, VOICE_ENC_IN};
    d[n++] = (struct tdef){"enc.l0.b", E, 0};
    d[n++] = (struct tdef){"enc.l1.w", E, E};
    d[n++] = (struct tdef){"enc.l1.b", E, 0};
    d[n++] = (struct tdef){"enc.out.w", Z, E};
    d[n++] = (struct tdef){"enc.out.b", Z, 0};
    d[n++] = (struct tdef){"dec.in.w", c->dec_in, Z + VOICE_DEC_COND};
    d[n++] = (struct tdef){"dec.in.b", c->dec_in, 0};
    d[n++] = (struct tdef){"dec.gru.w_ih", 3 * c->dec_gru, c->dec_in};
    d[n++] = (struct tdef){"dec.gru.w_hh", 3 * c->dec_gru, c->dec_gru};
    d[n++] = (struct tdef){"dec.gru.b_ih", 3 * c->dec_gru, 0};
    d[n++] = (struct tdef){"dec.gru.b_hh", 3 * c->dec_gru, 0};
    d[n++] = (struct tdef){"dec.mid.w", c->dec_hidden, c->dec_gru};
    d[n++] = (struct tdef){"dec.mid.b", c->dec_hidden, 0};
    d[n++] = (struct tdef){"dec.out.w", VOICE_DEC_OUT, c->dec_hidden};
    d[n++] = (struct tdef){"dec.out.b", VOICE_DEC_OUT, 0};
    return n;
}

static int bind_all(voice_model *vm, char *err, size_t errlen)
{
    struct tdef d[16];
    int n = tensor_defs(&vm->cfg, d);
    float **dst[16] = {&vm->enc_w0, &vm->enc_b0, &vm->enc_w1,  &vm->enc_b1,  &vm->enc_w2,  &vm->enc_b2,
                       &vm->dec_win, &vm->dec_bin, &vm->gru_wih, &vm->gru_whh, &vm->gru_bih, &vm->gru_bhh,
                       &vm->dec_wmid, &vm->dec_bmid, &vm->dec_wout, &vm->dec_bout};
    for (int i = 0; i < n; i++) {
        int shape[2] = {d[i].rows, d[i].cols};
        *dst[i] = nn_model_bind(vm->m, d[i].name, d[i].cols ? 2 : 1, shape, err, errlen);
        if (!*dst[i]) return -1;
    }
    return 0;
}

static void record_config(nn_model *m, const voice_model_config *c)
{
    nn_model_set_int(m, "voice.version", VOICE_MODEL_VERSION);
    nn_model_set_int(m, "voice.zdim", c->zdim);
    nn_model_set_int(m, "voice.enc_hidden", c->enc_hidden);
    nn_model_set_int(m, "voice.dec_in", c->dec_in);
    nn_model_set_int(m, "voice.dec_gru", c->dec_gru);
    nn_model_set_int(m, "voice.dec_hidden", c->dec_hidden);
    nn_model_set_meta(m, "architecture", "voice-autoencoder");
}

int voice_model_create(voice_model *vm, const voice_model_config *cfg, uint64_t seed, char *err,
                       size_t errlen)
{
    memset(vm, 0, sizeof *vm);
    if (!config_ok(cfg)) return seterr(err, errlen, "the voice model's sizes are out of range");
    vm->cfg = *cfg;
    vm->m = nn_model_create();
    if (!vm->m) return seterr(err, errlen, "out of memory");
    struct tdef d[16];
    int n = tensor_defs(cfg, d);
    for (int i = 0; i < n; i++) {
        int shape[2] = {d[i].rows, d[i].cols};
        if (nn_model_add(vm->m, d[i].name, d[i].cols ? 2 : 1, shape) < 0) {
            voice_model_free(vm);
            return seterr(err, errlen, "cannot declare the tensor %s", d[i].name);
        }
    }
    voice_model_tables_init();
    if (nn_model_alloc(vm->m) != 0) {
        voice_model_free(vm);
        return seterr(err, errlen, "out of memory");
    }
    record_config(vm->m, cfg);
    if (bind_all(vm, err, errlen) != 0) {
        voice_model_free(vm);
        return -1;
    }
    /* PyTorch's defaults: uniform in +-1/sqrt(fan_in) for weights and biases */
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        const nn_tensor *t = nn_model_find(vm->m, d[i].name);
        int fan_in = d[i].cols ? d[i].cols : 0;
        if (!fan_in) { /* a bias: the fan-in of its weight (the tensor before it) */
            fan_in = d[i - 1].cols;
            if (!strncmp(d[i].name, "dec.gru.b", 9)) fan_in = cfg->dec_gru;
        }
        if (!strncmp(d[i].name, "dec.gru.", 8)) fan_in = cfg->dec_gru;
        float k = 1.0f / sqrtf((float)fan_in);
        nn_init_uniform(&r, t->data, t->size, -k, k);
    }
    /* the output starts small: level = loudness, a flat harmonic distribution, noise at loudness */
    for (size_t i = 0; i < (size_t)VOICE_DEC_OUT * cfg->dec_hidden; i++) vm->dec_wout[i] *= 0.1f;
    memset(vm->dec_bout, 0, sizeof(float) * VOICE_DEC_OUT);
    for (int b = 0; b < VOICE_BANDS; b++) vm->dec_bout[VOICE_OUT_NOISE + b] = -3.0f;
    return 0;
}

int voice_model_bind(voice_model *vm, nn_model *m, char *err, size_t errlen)
{
    memset(vm, 0, sizeof *vm);
    voice_model_tables_init();
    const char *arch = nn_model_meta(m, "architecture");
    if (!arch || strcmp(arch, "voice-autoencoder") != 0)
        return seterr(err, errlen, "it is not a voice decoder (its architecture is '%s')", arch ? arch : "unnamed");
    int64_t v[6];
    const char *keys[6] = {"voice.version", "voice.zdim", "voice.enc_hidden", "voice.dec_in", "voice.dec_gru",
                           "voice.dec_hidden"};
    for (int i = 0; i < 6; i++)
        if (nn_model_get_int(m, keys[i], &v[i]) != 0)
            return seterr(err, errlen, "it lacks the hyper-parameter %s", keys[i]);
    if (v[0] != VOICE_MODEL_VERSION)
        return seterr(err, errlen, "it is voice-model version %lld but this bandmate reads version %d; retrain it",
                      (long long)v[0], VOICE_MODEL_VERSION);
    for (int i = 1; i < 6; i++)
        if (v[i] < 1 || v[i] > 1024) return seterr(err, errlen, "its %s (%lld) is out of range", keys[i], (long long)v[i]);
    vm->cfg = (voice_model_config){(int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5]};
    if (!config_ok(&vm->cfg)) return seterr(err, errlen, "its sizes are out of range");
    vm->m = m;
    if (bind_all(vm, err, errlen) != 0) {
        vm->m = NULL;
        return -1;
    }
    return 0;
}

int voice_model_load(voice_model *vm, const char *path, char *err, size_t errlen)
{
    memset(vm, 0, sizeof *vm);
    char why[512];
    nn_model *m = nn_model_load(path, why, sizeof why);
    if (!m) return seterr(err, errlen, "%s", why);
    if (voice_model_bind(vm, m, why, sizeof why) != 0) {
        nn_model_free(m);
        return seterr(err, errlen, "%s: %s", path, why);
    }
    return 0;
}

void voice_model_free(voice_model *vm)
{
    nn_model_free(vm->m);
    memset(vm, 0, sizeof *vm);
}

uint32_t voice_model_id(const voice_model *vm)
{
    return nn_crc32(0, nn_model_data(vm->m), nn_model_size(vm->m) * sizeof(float));
}

void voice_model_stream_desc(const voice_model *vm, int max_batch, nn_stream_desc *d)
{
    memset(d, 0, sizeof *d);
    d->dense_in = vm->cfg.zdim + VOICE_DEC_COND;
    d->n_layers = 4;
    d->max_batch = max_batch;
    d->layer[0] = (nn_stream_layer){NN_STREAM_DENSE, vm->cfg.dec_in, NN_ACT_RELU, "dec.in"};
    d->layer[1] = (nn_stream_layer){NN_STREAM_GRU, vm->cfg.dec_gru, NN_ACT_NONE, "dec.gru"};
    d->layer[2] = (nn_stream_layer){NN_STREAM_DENSE, vm->cfg.dec_hidden, NN_ACT_RELU, "dec.mid"};
    d->layer[3] = (nn_stream_layer){NN_STREAM_DENSE, VOICE_DEC_OUT, NN_ACT_NONE, "dec.out"};
}

/* ---- features ---- */

int voice_enc_input(const voice_frame *f, int sr, float *x)
{
    int nh = voice_harmonics_below(f->f0_hz, sr);
    float top = 0;
    for (int h = 0; h < nh; h++)
        if (f->harm[h] > top) top = f->harm[h];
    float tdb = top > 0 ? 20.0f * log10f(top) : -200.0f;
    for (int h = 0; h < VOICE_HARMONICS; h++) {
        float d = h < nh && f->harm[h] > 0 ? 20.0f * log10f(f->harm[h]) - tdb : -80.0f;
        if (d < -80.0f) d = -80.0f;
        x[h] = d / 40.0f + 1.0f;
    }
    float l = f->loudness_db < VOICE_LOUD_MIN_DB ? VOICE_LOUD_MIN_DB : f->loudness_db;
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++) {
        float d = e[b + 1] <= 0.5 * sr ? f->noise_db[b] - l : -100.0f; /* above Nyquist: nothing */
        if (d < -100.0f) d = -100.0f;
        if (d > 20.0f) d = 20.0f;
        x[VOICE_HARMONICS + b] = d / 40.0f + 1.0f;
    }
    x[VOICE_HARMONICS + VOICE_BANDS] = f->f0_hz > 1.0f ? log2f(f->f0_hz / 440.0f) : -5.0f;
    x[VOICE_HARMONICS + VOICE_BANDS + 1] = (l + 40.0f) / 20.0f;
    return f->f0_hz > 0 && top > 0;
}

int voice_frame_pools(const voice_frame *f, float loudest_db)
{
    return f->f0_hz > 0 && f->loudness_db >= loudest_db - 30.0f && f->loudness_db > VOICE_FLOOR_DB + 1.0f;
}

void voice_model_output_to_frame(const float *y, float f0, float loud, float since, int sr,
                                 voice_frame *out)
{
    out->f0_hz = f0;
    out->periodicity = 1.0f;
    out->loudness_db = loud;
    out->since_onset_s = since;
    out->flags = VOICE_VOICED;
    float l = loud < VOICE_LOUD_MIN_DB ? VOICE_LOUD_MIN_DB : loud;
    int nh = voice_harmonics_below(f0, sr);
    float logit[VOICE_HARMONICS];
    voice_harm_logits(y, f0, nh, logit);
    float mx = -1e30f;
    for (int h = 0; h < nh; h++)
        if (logit[h] > mx) mx = logit[h];
    float sum = 0;
    for (int h = 0; h < nh; h++) sum += expf(logit[h] - mx);
    /* a_h = A sqrt(p_h), A the overall harmonic amplitude */
    float adb = l + VOICE_AMP_SCALE_DB * y[0];
    if (adb > 20.0f) adb = 20.0f;
    float amp = exp10f(adb / 20.0f);
    float inv = sum > 0 ? 1.0f / sum : 0;
    for (int h = 0; h < VOICE_HARMONICS; h++)
        out->harm[h] = h < nh ? amp * sqrtf(expf(logit[h] - mx) * inv) : 0.0f;
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++) {
        float d = l + VOICE_NOISE_SCALE_DB * y[VOICE_OUT_NOISE + b];
        if (d > 20.0f) d = 20.0f;
        if (d < VOICE_FLOOR_DB || e[b] >= 0.5 * sr) d = VOICE_FLOOR_DB;
        out->noise_db[b] = d;
    }
    /* the requested loudness, exactly */
    float pa = voice_frame_a_power_fast(out, sr);
    if (!(pa > 0) || loud <= VOICE_FLOOR_DB + 1.0f) return;
    float gdb = loud - 10.0f * log10f(pa);
    if (gdb > 40.0f) gdb = 40.0f;
    if (gdb < -40.0f) gdb = -40.0f;
    float g = exp10f(gdb / 20.0f);
    for (int h = 0; h < nh; h++) out->harm[h] *= g;
    for (int b = 0; b < VOICE_BANDS; b++)
        if (out->noise_db[b] > VOICE_FLOOR_DB) {
            float d = out->noise_db[b] + gdb;
            out->noise_db[b] = d < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : d > 100.0f ? 100.0f : d;
        }
}

/* ---- offline ---- */

void voice_model_encode(const voice_model *vm, const float *x, int n, float *z)
{
    int E = vm->cfg.enc_hidden;
    float *h0 = nn_alloc_array((size_t)n * E, sizeof(float));
    float *h1 = nn_alloc_array((size_t)n * E, sizeof(float));
    if (!h0 || !h1) { /* small batches never fail; a large one is done in pieces */
        nn_free(h0);
        nn_free(h1);
        if (n <= 1) {
            memset(z, 0, sizeof(float) * (size_t)vm->cfg.zdim * (n > 0 ? n : 0));
            return;
        }
        int half = n / 2;
        voice_model_encode(vm, x, half, z);
        voice_model_encode(vm, x + (size_t)half * VOICE_ENC_IN, n - half, z + (size_t)half * vm->cfg.zdim);
        return;
    }
    nn_dense_forward(h0, x, vm->enc_w0, vm->enc_b0, n, VOICE_ENC_IN, E);
    nn_act_forward(NN_ACT_RELU, h0, h0, (size_t)n * E);
    nn_dense_forward(h1, h0, vm->enc_w1, vm->enc_b1, n, E, E);
    nn_act_forward(NN_ACT_RELU, h1, h1, (size_t)n * E);
    nn_dense_forward(z, h1, vm->enc_w2, vm->enc_b2, n, E, vm->cfg.zdim);
    nn_free(h0);
    nn_free(h1);
}

int voice_model_place(const voice_model *vm, const voice_frame *fr, size_t n, int sr, float *z,
                      float *sum)
{
    int Z = vm->cfg.zdim;
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < n; k++)
        if (fr[k].loudness_db > loudest) loudest = fr[k].loudness_db;
    double acc[VOICE_ZDIM_MAX] = {0};
    int used = 0;
    enum { CHUNK = 256 };
    static _Thread_local float x[CHUNK * VOICE_ENC_IN], zz[CHUNK * VOICE_ZDIM_MAX];
    int m = 0;
    for (size_t k = 0; k <= n; k++) {
        if (k < n && voice_frame_pools(&fr[k], loudest) && voice_enc_input(&fr[k], sr, x + (size_t)m * VOICE_ENC_IN))
            m++;
        if (m == CHUNK || (k == n && m > 0)) {
            voice_model_encode(vm, x, m, zz);
            for (int i = 0; i < m; i++)
                for (int d = 0; d < Z; d++) acc[d] += zz[i * Z + d];
            used += m;
            m = 0;
        }
    }
    for (int d = 0; d < Z; d++) {
        if (sum) sum[d] = (float)acc[d];
        if (z) z[d] = used ? (float)(acc[d] / used) : 0.0f;
    }
    return used;
}

int voice_model_decode(const voice_model *vm, const float *z, const voice_frame *src, size_t n,
                       int sr, voice_frame *out, char *err, size_t errlen)
{
    nn_stream_desc d;
    voice_model_stream_desc(vm, 1, &d);
    nn_stream *s = nn_stream_create(&d, vm->m, err, errlen);
    if (!s) return -1;
    float *state = nn_alloc_array(nn_stream_state_size(s), sizeof(float));
    if (!state) {
        nn_stream_free(s);
        return seterr(err, errlen, "out of memory");
    }
    nn_stream_state_reset(s, state);
    int Z = vm->cfg.zdim;
    float x[VOICE_ZDIM_MAX + VOICE_DEC_COND], y[VOICE_DEC_OUT];
    memcpy(x, z, sizeof(float) * (size_t)Z);
    for (size_t k = 0; k < n; k++) {
        voice_dec_cond(src[k].f0_hz, src[k].loudness_db, src[k].since_onset_s, x + Z);
        nn_stream_step(s, 1, &state, NULL, x, y);
        voice_model_output_to_frame(y, src[k].f0_hz, src[k].loudness_db, src[k].since_onset_s, sr, &out[k]);
        if (src[k].loudness_db <= VOICE_FLOOR_DB + 1.0f) { /* silence stays silent */
            memset(out[k].harm, 0, sizeof out[k].harm);
            for (int b = 0; b < VOICE_BANDS; b++) out[k].noise_db[b] = VOICE_FLOOR_DB;
        }
    }
    nn_free(state);
    nn_stream_free(s);
    return 0;
}
