/* model.h: the timbre autoencoder: an encoder from analysis frames to a point z of the latent map,
 * and a decoder from (z, f0, loudness, time since onset) to a harmonic distribution, an overall
 * harmonic amplitude and noise-band levels, one step per frame (docs/voices.md). The tensors live
 * in one nn_model (saved as voices/decoder.bmnn); the decoder runs live through nn_stream.
 * Everything here is offline (allocates) except the inline feature helpers and
 * voice_model_output_to_frame, which are real-time safe. */
#pragma once

#include "engine/voice/features.h"
#include "nn/nn_model.h"
#include "nn/nn_stream.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define VOICE_ZDIM_MAX 16
#define VOICE_ENC_IN (VOICE_HARMONICS + VOICE_BANDS + 2) /* relative harmonic and noise levels, pitch, loudness */
#define VOICE_DEC_COND 3                                 /* pitch, loudness, time since onset */
#define VOICE_ENV_POINTS 48                              /* the spectral envelope: log-spaced points */
#define VOICE_ENV_LO_HZ 40.0f
#define VOICE_ENV_HI_HZ 20000.0f
#define VOICE_ENV_SCALE 2.0f                             /* envelope output to logit units */
/* outputs: amplitude, harmonic logits, noise levels, spectral envelope */
#define VOICE_DEC_OUT (1 + VOICE_HARMONICS + VOICE_BANDS + VOICE_ENV_POINTS)
#define VOICE_OUT_NOISE (1 + VOICE_HARMONICS)
#define VOICE_OUT_ENV (1 + VOICE_HARMONICS + VOICE_BANDS)
#define VOICE_MODEL_VERSION 2

/* Scales of the decoder's outputs: level = loudness + scale * output (dB). */
#define VOICE_AMP_SCALE_DB 10.0f
#define VOICE_NOISE_SCALE_DB 10.0f
/* Loudness is clamped here before it reaches the networks. */
#define VOICE_LOUD_MIN_DB (-100.0f)

typedef struct voice_model_config {
    int zdim;        /* latent dimensions, 4..16 */
    int enc_hidden;  /* encoder: two dense ReLU layers of this width */
    int dec_in;      /* decoder: dense ReLU from the inputs */
    int dec_gru;     /* decoder: GRU units */
    int dec_hidden;  /* decoder: dense ReLU after the GRU */
} voice_model_config;

/* The shipped sizes: z 16, encoder 2 x 128, decoder 64 -> GRU 64 -> 96 -> outputs. */
void voice_model_defaults(voice_model_config *c);

/* A model's parameters with views into its tensors. */
typedef struct voice_model {
    nn_model *m;
    voice_model_config cfg;
    float *enc_w0, *enc_b0, *enc_w1, *enc_b1, *enc_w2, *enc_b2;
    float *dec_win, *dec_bin, *gru_wih, *gru_whh, *gru_bih, *gru_bhh, *dec_wmid, *dec_bmid, *dec_wout,
        *dec_bout;
} voice_model;

/* A new model with PyTorch-style initialisation from seed; hyper-parameters recorded. 0, or -1
 * with one sentence in err. */
int voice_model_create(voice_model *vm, const voice_model_config *cfg, uint64_t seed, char *err,
                       size_t errlen);

/* Binds a loaded nn_model (its hyper-parameters say the sizes; every tensor is checked). Takes
 * ownership of m on success. 0, or -1 with one sentence in err. */
int voice_model_bind(voice_model *vm, nn_model *m, char *err, size_t errlen);

/* Loads and binds a decoder file; 0, or -1 with one sentence in err naming the file. */
int voice_model_load(voice_model *vm, const char *path, char *err, size_t errlen);

/* Frees the model's tensors. */
void voice_model_free(voice_model *vm);

/* A checksum of the parameters: voices record the decoder they were placed for. */
uint32_t voice_model_id(const voice_model *vm);

/* The decoder as an nn_stream stack (dense -> GRU -> dense -> dense) for max_batch streams. */
void voice_model_stream_desc(const voice_model *vm, int max_batch, nn_stream_desc *d);

/* ---- features (inline, real-time safe) ---- */

/* The decoder's conditioning inputs for one frame: pitch in octaves from A4, loudness in units of
 * 20 dB around -40 dB, and a log-compressed time since onset. */
static inline void voice_dec_cond(float f0_hz, float loudness_db, float since_onset_s, float *x)
{
    float l = loudness_db < VOICE_LOUD_MIN_DB ? VOICE_LOUD_MIN_DB : loudness_db;
    float t = since_onset_s < 0 ? 0 : since_onset_s > 4.0f ? 4.0f : since_onset_s;
    x[0] = f0_hz > 1.0f ? log2f(f0_hz / 440.0f) : -5.0f;
    x[1] = (l + 40.0f) / 20.0f;
    x[2] = log1pf(t / 0.02f) * 0.25f;
}

/* The encoder's input for one frame (VOICE_ENC_IN floats): harmonic levels relative to the
 * frame's strongest, noise levels relative to its loudness, pitch and loudness. Returns 1 when the
 * frame is usable for placing a voice (pitched, harmonics present), else 0. */
int voice_enc_input(const voice_frame *f, int sample_rate, float *x);

/* Whether a frame counts when a note's timbre is pooled: pitched and within 30 dB of the note's
 * loudest frame (loudest_db). */
int voice_frame_pools(const voice_frame *f, float loudest_db);

/* Turns one decoder output (VOICE_DEC_OUT floats) into a frame's harmonics and noise for pitch
 * f0_hz and loudness_db at sample_rate (harmonics at or above 0.5 * sample_rate are 0), then
 * scales the whole frame so that its A-weighted power is loudness_db exactly: the decoder's
 * amplitude output sets the balance of harmonics and noise, the requested loudness the level.
 * Writes f0, loudness and since_onset too. Real-time safe. */
void voice_model_output_to_frame(const float *y, float f0_hz, float loudness_db, float since_onset_s,
                                 int sample_rate, voice_frame *out);

/* The A-weighted power (mean square, linear) a frame's harmonics and noise bands make, as the
 * analysis measures loudness. Real-time safe once the tables exist (voice_model_tables_init). */
float voice_frame_a_power_fast(const voice_frame *f, int sample_rate);

/* The A-weighting as a power gain at a frequency, and averaged over a noise band (tables). */
float voice_aw_power(float hz);
float voice_aw_band_power(int band);

/* Builds the A-weighting tables (model create, bind and load call it; idempotent). */
void voice_model_tables_init(void);

/* Where a frequency falls on the spectral envelope: between points *k and *k + 1, weight *w on
 * the second. The decoder's harmonic logit h is its own output plus VOICE_ENV_SCALE times the
 * envelope at h * f0: per-harmonic detail on top of a shape fixed in frequency (formants, body
 * resonances), which carries over from the pitches trained on to those between them. */
static inline void voice_env_pos(float hz, int *k, float *w)
{
    float u = log2f((hz < VOICE_ENV_LO_HZ ? VOICE_ENV_LO_HZ : hz) / VOICE_ENV_LO_HZ) *
              ((float)(VOICE_ENV_POINTS - 1) / log2f(VOICE_ENV_HI_HZ / VOICE_ENV_LO_HZ));
    if (u >= (float)(VOICE_ENV_POINTS - 1)) u = (float)(VOICE_ENV_POINTS - 1) - 1e-4f;
    *k = (int)u;
    *w = u - (float)*k;
}

/* The harmonic logits of a decoder output at f0 (nh of them). */
static inline void voice_harm_logits(const float *y, float f0_hz, int nh, float *logit)
{
    for (int h = 0; h < nh; h++) {
        int k;
        float w;
        voice_env_pos((float)(h + 1) * f0_hz, &k, &w);
        const float *e = y + VOICE_OUT_ENV;
        logit[h] = y[1 + h] + VOICE_ENV_SCALE * (e[k] + w * (e[k + 1] - e[k]));
    }
}

/* How many harmonics a frame at f0_hz holds at sample_rate: those whose analysis window's main
 * lobe (0.4 f0 wide on either side) stays below the Nyquist frequency, as the analysis measures
 * them. The decoder's harmonic distribution is a softmax over these. */
static inline int voice_harmonics_below(float f0_hz, int sample_rate)
{
    if (!(f0_hz > 0)) return 0;
    float n = 0.5f * (float)sample_rate / f0_hz - 0.4f;
    int k = n <= 0 ? 0 : (int)n;
    if ((float)k >= n && k > 0) k--; /* strictly below */
    return k > VOICE_HARMONICS ? VOICE_HARMONICS : k;
}

/* ---- offline encoding and decoding ---- */

/* Encodes frames (one per row) into per-frame latents z [n, zdim]. */
void voice_model_encode(const voice_model *vm, const float *enc_in, int n, float *z);

/* The mean latent of a note's or recording's pooling frames (voice_frame_pools); returns how many
 * frames were pooled (0: none, z zeroed). sum (may be NULL) receives the sum instead of the mean
 * (for leave-one-out placement). */
int voice_model_place(const voice_model *vm, const voice_frame *frames, size_t n, int sample_rate,
                      float *z, float *sum);

/* Decodes a note offline through the same streaming runner as the live synthesizer: frame k's
 * latent is z (zdim floats, the same for every frame) and its pitch, loudness and time since onset
 * are src[k]'s; writes n frames to out. 0, or -1 with one sentence in err. */
int voice_model_decode(const voice_model *vm, const float *z, const voice_frame *src, size_t n,
                       int sample_rate, voice_frame *out, char *err, size_t errlen);
