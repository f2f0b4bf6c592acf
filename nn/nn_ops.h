/* nn_ops.h: matrix products (OpenBLAS), thread count, activations, softmax and layer norm.
 * Shapes are explicit arguments; matrices are row-major; backward functions accumulate (+=). */
#pragma once

#include <stddef.h>

typedef enum nn_act {
    NN_ACT_NONE = 0,
    NN_ACT_RELU = 1,
    NN_ACT_TANH = 2,
    NN_ACT_SIGMOID = 3,
    NN_ACT_GELU = 4, /* the exact (erf) form, as PyTorch's default */
} nn_act;

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major; ta/tb non-zero transpose A [K,M] / B [N,K]. */
void nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, const float *B,
             float beta, float *C);

/* Sets how many threads the batched (training) math uses; 0 means all cores. */
void nn_set_threads(int n);

/* Number of threads the batched math uses. */
int nn_threads(void);

/* y[i] = act(x[i]) for n values (y may equal x). */
void nn_act_forward(nn_act act, float *y, const float *x, size_t n);

/* dx[i] += dy[i] * act'(x[i]); y is the forward output (both are given so each act uses the cheaper). */
void nn_act_backward(nn_act act, float *dx, const float *dy, const float *x, const float *y,
                     size_t n);

/* Row-wise softmax of x [rows, cols] into y (y may equal x). Real-time safe: no allocation. */
void nn_softmax(float *y, const float *x, int rows, int cols);

/* Softmax backward: dx [rows, cols] += y * (dy - sum(dy * y)) per row, y the forward output. */
void nn_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols);

/* Layer norm over the last dimension: y = (x - mean) * rstd * g + b for x [n, c]; keeps mean and
 * rstd [n] for the backward pass. */
void nn_layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g,
                          const float *b, int n, int c);

/* Layer norm backward: dx, dg, db += from dy. */
void nn_layernorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *g, int n, int c);

/* Makes denormal floats flush to zero on the calling thread (call once on a real-time thread:
 * decaying recurrent states otherwise hit slow denormal arithmetic). */
void nn_denormals_off(void);

/* Non-zero when this CPU runs nn's AVX2/FMA/F16C kernels. */
int nn_cpu_has_avx2(void);
