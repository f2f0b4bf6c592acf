/* augment.c: random timbre filters for training (augment.h). */
#include "engine/voice/augment.h"
#include "engine/voice/model.h"

#include <math.h>
#include <string.h>

void voice_aug_random(nn_rng *r, float s, voice_timbre_aug *a)
{
    memset(a, 0, sizeof *a);
    if (s <= 0) return;
    a->on = 1;
    a->even_db = s * 10.0f * (2.0f * nn_rng_uniform(r) - 1.0f);
    a->tilt_db_oct = s * 4.0f * (2.0f * nn_rng_uniform(r) - 1.0f);
    a->ripple_db = s * 6.0f * nn_rng_uniform(r);
    a->ripple_oct = 0.7f + 1.5f * nn_rng_uniform(r);
    a->ripple_phase = 6.2831853f * nn_rng_uniform(r);
    a->noise_tilt_db_oct = s * 3.0f * (2.0f * nn_rng_uniform(r) - 1.0f);
    a->noise_db = s * 8.0f * (2.0f * nn_rng_uniform(r) - 1.0f);
}

void voice_aug_frame(const voice_frame *in, voice_frame *out, const voice_timbre_aug *a, int sr)
{
    if (out != in) *out = *in;
    if (!a->on || in->loudness_db <= VOICE_FLOOR_DB + 1.0f) return;
    float before = voice_frame_a_power_fast(in, sr);
    for (int h = 0; h < VOICE_HARMONICS; h++) {
        if (out->harm[h] <= 0) continue;
        float f = (float)(h + 1) * in->f0_hz;
        float db = ((h + 1) % 2 == 0 ? a->even_db : 0.0f) + a->tilt_db_oct * log2f((float)(h + 1)) +
                   a->ripple_db * sinf(6.2831853f * log2f(fmaxf(f, 20.0f) / 100.0f) / a->ripple_oct + a->ripple_phase);
        out->harm[h] *= exp10f(db / 20.0f);
    }
    for (int b = 0; b < VOICE_BANDS; b++) {
        if (out->noise_db[b] <= VOICE_FLOOR_DB) continue;
        float db = a->noise_db + a->noise_tilt_db_oct * log2f((float)voice_band_centre(b) / 1000.0f);
        float v = out->noise_db[b] + db;
        out->noise_db[b] = v < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : v > 100.0f ? 100.0f : v;
    }
    float after = voice_frame_a_power_fast(out, sr);
    if (before > 0 && after > 0) {
        float l = in->loudness_db + 10.0f * log10f(after / before);
        out->loudness_db = l < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : l > 40.0f ? 40.0f : l;
    }
}
