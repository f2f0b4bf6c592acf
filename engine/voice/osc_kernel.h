/* osc_kernel.h: the additive oscillator bank of the neural synthesizer, included by osc_bank.c
 * (portable) and osc_bank_avx2.c (compiled for AVX2/FMA) with OSC_FN naming the function. Each
 * harmonic is a rotating phasor (cos, sin) advanced by one complex multiply per sample, its
 * amplitude a linear ramp; harmonics are processed eight at a time, each block of eight kept in
 * registers over the whole chunk while its partial sums collect in acc. Real-time safe. */
#include "engine/voice/osc_bank.h"

void OSC_FN(float *restrict out, const float *restrict env, int m, int nvec, osc_v8 *restrict acc,
            osc_v8 *restrict amp, const osc_v8 *restrict damp, osc_v8 *restrict cs, osc_v8 *restrict sn,
            const osc_v8 *restrict rc, const osc_v8 *restrict rs)
{
    for (int i = 0; i < m; i++) acc[i] = (osc_v8){0};
    for (int k = 0; k < nvec; k++) {
        osc_v8 a = amp[k], da = damp[k], c = cs[k], s = sn[k], r_c = rc[k], r_s = rs[k];
        for (int i = 0; i < m; i++) {
            acc[i] += a * s;
            a += da;
            osc_v8 c2 = c * r_c - s * r_s;
            s = c * r_s + s * r_c;
            c = c2;
        }
        amp[k] = a;
        cs[k] = c;
        sn[k] = s;
    }
    for (int i = 0; i < m; i++) {
        osc_v8 v = acc[i];
        float sum = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
        out[i] += sum * env[i];
    }
}
