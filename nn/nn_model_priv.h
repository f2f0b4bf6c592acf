/* nn_model_priv.h: internal: the layout of nn_model, shared by nn_model.c and nn_model_file.c. */
#pragma once

#include "nn/nn_model.h"

#define NN_META_MAX (16u << 20) /* longest metadata value, bytes */

enum { NN_HP_INT = 1, NN_HP_FLOAT = 2 };

struct nn_hparam {
    char key[NN_NAME_MAX + 1];
    int type;
    int64_t i;
    double f;
};

struct nn_meta {
    char key[NN_NAME_MAX + 1];
    char *value;
};

struct nn_model {
    nn_tensor *tensors;
    int n_tensors, cap_tensors;
    struct nn_hparam *hparams;
    int n_hparams, cap_hparams;
    struct nn_meta *meta;
    int n_meta, cap_meta;
    float *data;
    size_t size; /* floats, with alignment padding */
};

/* True when s is a valid tensor name or key: 1..127 bytes of [A-Za-z0-9_.:/-]. */
int nn_name_ok(const char *s);
