/* nn_gemm_packed.h: internal: products against a matrix packed once and used many times (the
 * recurrent weights within one training batch): C[M, N] (+)= A[M, K] B where B is packed into
 * 32-column panels (no alignment needed); AVX-512 kernel where the CPU has it, OpenBLAS otherwise. */
#pragma once

#include <stddef.h>

/* Floats needed to pack a K x N matrix. */
size_t nn_packb_size(int N, int K);

/* Packs B for C = A op(B): tb non-zero means B is stored [N, K] (use its transpose), else [K, N]. */
void nn_packb(float *P, const float *B, int tb, int N, int K);

/* C[M, N] (row stride ldc) = (accumulate ? C : 0) + A[M, K] (row stride lda) * packed B.
 * B (the unpacked matrix, with tb as given to nn_packb) is used when the CPU lacks AVX-512. */
void nn_gemm_packed(int M, int N, int K, const float *A, int lda, const float *P, const float *B,
                    int tb, float *C, int ldc, int accumulate);

/* Test hook: 1 forces the OpenBLAS path, 0 restores the automatic choice. */
void nn_gemm_packed_use_blas(int on);
