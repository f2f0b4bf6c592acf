/* nn_dense.c: dense (fully connected) and embedding layers. */
#include "nn/nn_layers.h"
#include "nn/nn_ops.h"

#include <string.h>

void nn_dense_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                      int out)
{
    if (b)
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, b, sizeof(float) * (size_t)out);
    nn_gemm(0, 1, n, out, in, 1.0f, x, w, b ? 1.0f : 0.0f, y);
}

void nn_dense_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                       const float *w, int n, int in, int out)
{
    if (dx) nn_gemm(0, 0, n, in, out, 1.0f, dy, w, 1.0f, dx);
    if (dw) nn_gemm(1, 0, out, in, n, 1.0f, dy, x, 1.0f, dw);
    if (db)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++) db[j] += dy[(size_t)i * out + j];
}

void nn_embed_forward(float *y, int ystride, const int *ids, const float *table, int n, int vocab,
                      int dim)
{
    for (int i = 0; i < n; i++) {
        float *yi = y + (size_t)i * ystride;
        if (ids[i] < 0 || ids[i] >= vocab) memset(yi, 0, sizeof(float) * (size_t)dim);
        else memcpy(yi, table + (size_t)ids[i] * dim, sizeof(float) * (size_t)dim);
    }
}

void nn_embed_backward(float *dtable, const float *dy, int dystride, const int *ids, int n,
                       int vocab, int dim)
{
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= vocab) continue;
        float *d = dtable + (size_t)ids[i] * dim;
        const float *g = dy + (size_t)i * dystride;
        for (int j = 0; j < dim; j++) d[j] += g[j];
    }
}
