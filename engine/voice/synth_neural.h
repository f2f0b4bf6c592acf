/* synth_neural.h: the neural instrument: a part's voice sung by the timbre decoder. Every 5 ms
 * (one analysis frame) all sounding notes step the decoder together in one nn_stream_step; each
 * note's harmonics are rotating phasors whose amplitudes ramp linearly, sample by sample, to the
 * next frame's; the notes' noise bands are summed into one spectrum that the instrument shapes
 * from white noise by overlap-added inverse FFTs (FFTW). Notes start at the sample the engine
 * splits render at, follow their voice's loudness contour after note-on and note-off, fade in
 * over 4 ms and out over 5 ms when stolen or stopped at once. A morph between 2 or 4 voices moves
 * the notes through the latent map live (set_param, or MIDI CC 16/17 with 48/49 for 14 bits).
 *
 * Creating and destroying are not real-time (they allocate and plan FFTs); every op of the
 * bm_instrument interface is (no allocation, locks or I/O; bounded time). */
#pragma once

#include "engine/synth.h"
#include "engine/voice/model.h"
#include "engine/voice/voicedef.h"

#define SYNTH_NEURAL_MAX_VOICES 64
#define SYNTH_NEURAL_SPARE 4   /* extra slots for notes fading out after a steal */

/* An instrument that plays voices[0..n) (n is 1, 2 or 4; 2: a morph along x, 4: an XY pad with
 * voices at (0,0), (1,0), (0,1), (1,1)) through the decoder vm, with polyphony notes at once.
 * The voices are copied; vm's weights are packed, so vm may be freed afterwards. NULL with one
 * sentence in err. Not real-time. */
bm_instrument *synth_neural_create(const voice_model *vm, const voice_def *const *voices, int n, int polyphony,
                                   double sample_rate, char *err, size_t errlen);

/* True when an instrument is a neural one. */
int synth_neural_is(const bm_instrument *in);

/* Time spent in the decoder (nn_stream_step) and in all of render since creation, in ns, and
 * decoder steps (for benchmarks; counting costs two clock reads per frame). */
void synth_neural_timing(const bm_instrument *in, long long *net_ns, long long *render_ns, long long *steps);

/* Turns the timing counters on or off (off by default). */
void synth_neural_set_timing(bm_instrument *in, int on);

/* The oscillator kernel in use ("avx2" or "portable"). */
const char *synth_neural_kernel(const bm_instrument *in);
