/* params.h: bandmate's parameters: named, typed values with ranges (numbers, integers, options,
 * toggles, triggers and text), set from OSC, MIDI CCs, Lua and patches, each with a normalised
 * 0..1 view for faders. The registry knows nothing about the engine: a change calls one callback,
 * which the control thread uses to act and to tell OSC clients. Control thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BM_PARAM_MAX 256
#define BM_PARAM_ID_MAX 48
#define BM_PARAM_TEXT_MAX 64
#define BM_PARAM_MAX_OPTIONS 32

enum bm_param_type {
    BM_PARAM_NUMBER = 0,  /* a real number in [min, max] */
    BM_PARAM_INTEGER,     /* a whole number in [min, max] (floats are rounded) */
    BM_PARAM_OPTION,      /* one of a list of names; the value is its index (0-based) */
    BM_PARAM_TOGGLE,      /* 0 or 1 */
    BM_PARAM_TRIGGER,     /* no value: setting it fires its action */
    BM_PARAM_TEXT,        /* a short name (voices); no normalised view */
};

typedef struct bm_param {
    char id[BM_PARAM_ID_MAX];       /* [a-z0-9_], used in OSC addresses */
    char name[64];                  /* what a user interface shows */
    int type;
    double min, max, def, value;
    char (*options)[32];            /* names of an option parameter */
    int noptions;
    char text[BM_PARAM_TEXT_MAX];   /* value of a text parameter */
    int builtin;                    /* 1: bandmate's own; 0: a script's (removed with it) */
    int action_ref;                 /* a script's action (Lua registry ref), or -1 */
    int owner;                      /* which script generation added it (0: none) */
    int64_t changed_ns;             /* for coalesced feedback */
    int dirty;                      /* changed since last told to OSC clients */
} bm_param;

/* Called after a parameter changed (or a trigger fired); source says who set it. */
typedef void (*bm_param_changed_fn)(void *ctx, int idx, int source);

enum bm_param_source { BM_SRC_INIT = 0, BM_SRC_OSC, BM_SRC_MIDI, BM_SRC_LUA, BM_SRC_PATCH };

typedef struct bm_params {
    bm_param p[BM_PARAM_MAX];
    int n;
    bm_param_changed_fn changed;
    void *ctx;
    int depth;                      /* nested changes (an action that sets another parameter) */
} bm_params;

/* An empty registry calling changed(ctx, ...) after every change. */
void params_init(bm_params *ps, bm_param_changed_fn changed, void *ctx);

/* Frees the option lists. */
void params_deinit(bm_params *ps);

/* 1 when id is a valid parameter id: 1..47 characters of a-z, 0-9 and '_'. */
int params_valid_id(const char *id);

/* Adds a parameter (its value starts at def); the index, or -1 with err (bad id, taken id, bad
 * range, registry full). options is a NULL-terminated list for BM_PARAM_OPTION. */
int params_add(bm_params *ps, const char *id, const char *name, int type, double min, double max,
               double def, const char *const *options, int builtin, char *err, size_t errlen);

/* Removes every script parameter (owner != 0). */
void params_remove_script(bm_params *ps);

/* The index of a parameter, or -1. */
int params_find(const bm_params *ps, const char *id);

/* Sets a value (clamped to the range, rounded for integers, 0/1 for toggles); 0, or -1 with err
 * (NaN, too deep a chain of actions). The change callback runs when the value changed, or always
 * for triggers. */
int params_set(bm_params *ps, int idx, double value, int source, char *err, size_t errlen);

/* Sets from a normalised 0..1 value (clamped); 0 or -1 with err (text parameters have none). */
int params_set_norm(bm_params *ps, int idx, double norm, int source, char *err, size_t errlen);

/* Sets an option by name or a text value; 0, or -1 with err (unknown option, bad text). */
int params_set_string(bm_params *ps, int idx, const char *s, int source, char *err, size_t errlen);

/* The normalised 0..1 view of the current value (0 for text and triggers). */
double params_get_norm(const bm_params *ps, int idx);

/* The name of the current option ("" for other types). */
const char *params_option_name(const bm_params *ps, int idx);

/* The name of a type ("number", "integer", "option", "toggle", "trigger", "text"). */
const char *params_type_name(int type);

/* The type for a name, or -1. */
int params_type_from_name(const char *name);
