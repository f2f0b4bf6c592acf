/* osc_bank.c: the portable oscillator bank, and the choice between it and the AVX2 one. */
#define OSC_FN osc_bank_portable
#include "engine/voice/osc_kernel.h"

#include "nn/nn_ops.h"

#include <stdlib.h>

osc_bank_fn osc_bank_best(void)
{
    const char *force = getenv("BM_SYNTH_PORTABLE");
    if (force && *force && *force != '0') return osc_bank_portable;
    return nn_cpu_has_avx2() ? osc_bank_avx2 : osc_bank_portable;
}

const char *osc_bank_name(osc_bank_fn f) { return f == osc_bank_avx2 ? "avx2" : "portable"; }
