/* nn_kern.h: internal: the element-wise and streaming kernels, in a scalar version and an
 * AVX2/FMA/F16C version picked at run time (nn_cpu_has_avx2). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Packed weights of one streaming layer (see nn_stream.c for the layout). */
typedef struct nn_pack {
    int kind;         /* NN_PK_LSTM, NN_PK_GRU, NN_PK_DENSE */
    int act;          /* dense only: nn_act */
    int in, in_cols;  /* input width, and the columns packed for it (in, or the previous Hp) */
    int units, up;    /* hidden units or outputs; padded to a multiple of 8 (dense: 32) */
    int f16;          /* weights stored as IEEE half floats */
    const void *w;    /* panels */
    const float *bias;   /* initial accumulators per packed row */
    const float *bias_hn; /* GRU only: b_hn per unit */
} nn_pack;

enum { NN_PK_LSTM = 1, NN_PK_GRU = 2, NN_PK_DENSE = 3 };

typedef struct nn_kern {
    const char *name;
    /* LSTM cell: g [B,4H] pre-activations (blocks i,f,g,o) become activations in place;
     * c = f*cp + i*g, tc = tanh(c), h = o*tc. */
    void (*lstm_cell)(float *g, const float *cp, float *c, float *tc, float *h, int B, int H);
    /* GRU cell: xg [B,3H] (x part with b_ih) becomes r,z,n in place; hg [B,3H] (h part with b_hh);
     * hn = hg's n block is copied into hn [B,H]; h = (1-z)*n + z*hp. */
    void (*gru_cell)(float *xg, const float *hg, const float *hp, float *hn, float *h, int B, int H);
    /* One streaming layer step for n streams: x[s] input, pre[s] initial accumulators (or NULL for
     * the bias), state h (and c for LSTM) per stream; writes the layer output to out[s]. */
    void (*stream_layer)(const nn_pack *p, int n, const float *const *x, const float *const *pre,
                         const float *const *h, float *const *c, float *const *out);
} nn_kern;

/* The scalar kernels. */
extern const nn_kern nn_kern_scalar;

/* The AVX2/FMA/F16C kernels (call only when nn_cpu_has_avx2()). */
extern const nn_kern nn_kern_avx2;

/* The kernels training uses: AVX2 when the CPU has it, unless nn_kern_use_scalar(1) was called. */
const nn_kern *nn_kern_get(void);

/* Test hook: forces the scalar kernels for training (1) or restores the automatic choice (0). */
void nn_kern_use_scalar(int on);

/* IEEE half <-> float conversions (round to nearest even). */
uint16_t nn_f32_to_f16(float f);
float nn_f16_to_f32(uint16_t h);
