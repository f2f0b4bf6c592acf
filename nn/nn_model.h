/* nn_model.h: a model: named float tensors in one contiguous allocation, hyper-parameters and
 * metadata; saved and loaded in the bandmate model-file format (docs/model-format.md). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define NN_MAX_DIMS 4     /* tensors have 1 to 4 dimensions */
#define NN_NAME_MAX 127   /* longest tensor name, hyper-parameter key or metadata key, in bytes */

typedef struct nn_model nn_model;

/* One tensor's description; data points into the model's single allocation (NULL before alloc). */
typedef struct nn_tensor {
    char name[NN_NAME_MAX + 1];
    int ndim;
    int shape[NN_MAX_DIMS];
    size_t size;   /* number of floats */
    size_t offset; /* index of the first float in the model's data */
    float *data;
} nn_tensor;

/* A new empty model (tensors are declared, then nn_model_alloc); NULL when out of memory. */
nn_model *nn_model_create(void);

/* Frees a model and everything it owns (NULL is fine). */
void nn_model_free(nn_model *m);

/* Declares a tensor before nn_model_alloc; returns its index, or -1 (bad name, shape or duplicate). */
int nn_model_add(nn_model *m, const char *name, int ndim, const int *shape);

/* Allocates all declared tensors, zeroed, in one contiguous block; 0, or -1 when out of memory. */
int nn_model_alloc(nn_model *m);

/* Number of tensors. */
int nn_model_count(const nn_model *m);

/* The i-th tensor (in declaration order), or NULL when i is out of range. */
const nn_tensor *nn_model_tensor(const nn_model *m, int i);

/* The tensor with this name, or NULL. */
const nn_tensor *nn_model_find(const nn_model *m, const char *name);

/* All parameters as one array of nn_model_size() floats (NULL before nn_model_alloc). */
float *nn_model_data(const nn_model *m);

/* Total number of floats in all tensors (with 16-float alignment padding between tensors). */
size_t nn_model_size(const nn_model *m);

/* Finds a tensor by name and checks its shape; writes one sentence into err when it is missing or
 * has another shape. shape lists ndim sizes. Returns the data or NULL. */
float *nn_model_bind(const nn_model *m, const char *name, int ndim, const int *shape, char *err,
                     size_t errlen);

/* Sets an integer hyper-parameter (replacing one of the same key); 0 or -1. */
int nn_model_set_int(nn_model *m, const char *key, int64_t v);

/* Sets a floating-point hyper-parameter; 0 or -1. */
int nn_model_set_float(nn_model *m, const char *key, double v);

/* Reads an integer hyper-parameter into *v; 0, or -1 when absent or not an integer. */
int nn_model_get_int(const nn_model *m, const char *key, int64_t *v);

/* Reads a hyper-parameter (integer or float) as a double into *v; 0, or -1 when absent. */
int nn_model_get_float(const nn_model *m, const char *key, double *v);

/* Sets a metadata string (UTF-8 text, no NUL; e.g. "vocabulary", "data_sha256", "date"); 0 or -1. */
int nn_model_set_meta(nn_model *m, const char *key, const char *value);

/* A metadata string, or NULL when absent. */
const char *nn_model_meta(const nn_model *m, const char *key);

/* Number of hyper-parameters, for listing them. */
int nn_model_hparam_count(const nn_model *m);

/* Number of metadata entries, for listing them. */
int nn_model_meta_count(const nn_model *m);

/* The i-th hyper-parameter's key (its value via nn_model_get_float), or NULL. */
const char *nn_model_hparam_key(const nn_model *m, int i);

/* The i-th metadata key, or NULL. */
const char *nn_model_meta_key(const nn_model *m, int i);

/* Writes the model to path (atomically: a temporary file renamed over it); 0, or -1 with one
 * sentence in err. */
int nn_model_save(const nn_model *m, const char *path, char *err, size_t errlen);

/* Serialises the model into a new nn_alloc'd buffer (*len bytes); NULL when out of memory. */
void *nn_model_serialize(const nn_model *m, size_t *len);

/* Loads and validates a model file; NULL with one sentence in err when it is missing, truncated,
 * damaged, of another version or malformed. Never aborts. */
nn_model *nn_model_load(const char *path, char *err, size_t errlen);

/* The same from memory; what names the source in messages (e.g. the file name). */
nn_model *nn_model_load_mem(const void *buf, size_t len, const char *what, char *err,
                            size_t errlen);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of len bytes, continuing from crc (start with 0). */
uint32_t nn_crc32(uint32_t crc, const void *buf, size_t len);
