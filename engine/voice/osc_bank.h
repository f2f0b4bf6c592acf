/* osc_bank.h: the neural synthesizer's additive oscillator bank (osc_kernel.h), a portable build
 * and an AVX2/FMA build chosen at run time. Real-time safe: no allocation, bounded time. */
#pragma once

typedef float osc_v8 __attribute__((vector_size(32), aligned(32)));

/* Adds to out[0..m) the sum over nvec blocks of eight harmonics of amp * sin (the phasor's second
 * half), times env[i]; advances phasors (cs, sn) by (rc, rs) and amplitudes by damp each sample.
 * acc is scratch of at least m vectors. */
typedef void (*osc_bank_fn)(float *out, const float *env, int m, int nvec, osc_v8 *acc, osc_v8 *amp,
                            const osc_v8 *damp, osc_v8 *cs, osc_v8 *sn, const osc_v8 *rc, const osc_v8 *rs);

void osc_bank_portable(float *out, const float *env, int m, int nvec, osc_v8 *acc, osc_v8 *amp, const osc_v8 *damp,
                       osc_v8 *cs, osc_v8 *sn, const osc_v8 *rc, const osc_v8 *rs);
void osc_bank_avx2(float *out, const float *env, int m, int nvec, osc_v8 *acc, osc_v8 *amp, const osc_v8 *damp,
                   osc_v8 *cs, osc_v8 *sn, const osc_v8 *rc, const osc_v8 *rs);

/* The fastest kernel this CPU runs (AVX2 where nn_cpu_has_avx2, unless BM_SYNTH_PORTABLE is set). */
osc_bank_fn osc_bank_best(void);

/* Its name: "avx2" or "portable". */
const char *osc_bank_name(osc_bank_fn f);
