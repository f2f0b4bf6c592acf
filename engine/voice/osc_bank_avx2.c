/* osc_bank_avx2.c: the oscillator bank compiled for AVX2 and FMA (called only after a CPU check). */
#define OSC_FN osc_bank_avx2
#include "engine/voice/osc_kernel.h"
