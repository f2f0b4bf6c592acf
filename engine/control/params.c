/* params.c: the parameter registry. */
#include "engine/control/params.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void params_init(bm_params *ps, bm_param_changed_fn changed, void *ctx)
{
    memset(ps, 0, sizeof *ps);
    ps->changed = changed;
    ps->ctx = ctx;
}

void params_deinit(bm_params *ps)
{
    for (int i = 0; i < ps->n; i++) free(ps->p[i].options);
    ps->n = 0;
}

int params_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= BM_PARAM_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static const char *const type_names[] = {"number", "integer", "option", "toggle", "trigger", "text"};

const char *params_type_name(int type)
{
    return type >= 0 && type <= BM_PARAM_TEXT ? type_names[type] : "?";
}

int params_type_from_name(const char *name)
{
    for (int t = 0; t <= BM_PARAM_TEXT; t++)
        if (!strcmp(name, type_names[t])) return t;
    return -1;
}

int params_find(const bm_params *ps, const char *id)
{
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].id, id)) return i;
    return -1;
}

int params_add(bm_params *ps, const char *id, const char *name, int type, double min, double max,
               double def, const char *const *options, int builtin, char *err, size_t errlen)
{
    if (!params_valid_id(id))
        return fail(err, errlen, "'%.60s' is not a usable parameter id (1 to 47 of a-z, 0-9 and _)", id);
    if (params_find(ps, id) >= 0) return fail(err, errlen, "there is already a parameter '%s'", id);
    if (ps->n == BM_PARAM_MAX) return fail(err, errlen, "no room for more than %d parameters", BM_PARAM_MAX);
    if (type < 0 || type > BM_PARAM_TEXT) return fail(err, errlen, "parameter '%s' has an unknown type", id);
    bm_param *p = &ps->p[ps->n];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->name, sizeof p->name, "%s", name && name[0] ? name : id);
    p->type = type;
    p->builtin = builtin;
    p->action_ref = -1;
    if (type == BM_PARAM_OPTION) {
        int n = 0;
        while (options && options[n]) n++;
        if (n == 0) return fail(err, errlen, "option parameter '%s' needs at least one option", id);
        if (n > BM_PARAM_MAX_OPTIONS)
            return fail(err, errlen, "option parameter '%s' has more than %d options", id, BM_PARAM_MAX_OPTIONS);
        p->options = calloc((size_t)n, sizeof *p->options);
        if (!p->options) return fail(err, errlen, "out of memory");
        for (int i = 0; i < n; i++) {
            if (!options[i][0] || strlen(options[i]) >= sizeof p->options[i]) {
                free(p->options);
                p->options = NULL;
                return fail(err, errlen, "option %d of '%s' must be 1 to 31 characters", i + 1, id);
            }
            snprintf(p->options[i], sizeof p->options[i], "%s", options[i]);
        }
        p->noptions = n;
        min = 0;
        max = n - 1;
    } else if (type == BM_PARAM_TOGGLE || type == BM_PARAM_TRIGGER) {
        min = 0;
        max = 1;
    } else if (type == BM_PARAM_TEXT) {
        min = max = def = 0;
    } else if (!(isfinite(min) && isfinite(max) && min < max)) {
        return fail(err, errlen, "parameter '%s' needs a range with min below max", id);
    }
    if (type == BM_PARAM_INTEGER) {
        min = ceil(min);
        max = floor(max);
        if (min > max) return fail(err, errlen, "parameter '%s' has no whole number in its range", id);
    }
    if (!isfinite(def)) def = min;
    if (type == BM_PARAM_INTEGER || type == BM_PARAM_OPTION) def = round(def);
    if (type == BM_PARAM_TOGGLE) def = def != 0;
    if (type == BM_PARAM_TRIGGER) def = 0;
    p->min = min;
    p->max = max;
    p->def = def < min ? min : def > max ? max : def;
    p->value = p->def;
    return ps->n++;
}

void params_remove_script(bm_params *ps)
{
    int w = 0;
    for (int i = 0; i < ps->n; i++) {
        if (ps->p[i].owner) {
            free(ps->p[i].options);
            continue;
        }
        if (w != i) ps->p[w] = ps->p[i];
        w++;
    }
    ps->n = w;
}

static int changed(bm_params *ps, int idx, int source, char *err, size_t errlen)
{
    if (ps->depth >= MAX_DEPTH)
        return fail(err, errlen, "parameter actions set each other more than %d deep (a loop?)", MAX_DEPTH);
    ps->p[idx].dirty = 1;
    ps->depth++;
    if (ps->changed) ps->changed(ps->ctx, idx, source);
    ps->depth--;
    return 0;
}

int params_set(bm_params *ps, int idx, double v, int source, char *err, size_t errlen)
{
    if (idx < 0 || idx >= ps->n) return fail(err, errlen, "no such parameter");
    bm_param *p = &ps->p[idx];
    if (p->type == BM_PARAM_TEXT) return fail(err, errlen, "'%s' takes a name, not a number", p->id);
    if (!isfinite(v)) return fail(err, errlen, "'%s' needs a finite number", p->id);
    if (p->type == BM_PARAM_INTEGER || p->type == BM_PARAM_OPTION) v = round(v);
    if (p->type == BM_PARAM_TOGGLE) v = v >= 0.5;
    if (v < p->min) v = p->min;
    if (v > p->max) v = p->max;
    if (p->type == BM_PARAM_TRIGGER) return changed(ps, idx, source, err, errlen);
    if (v == p->value) return 0;
    p->value = v;
    return changed(ps, idx, source, err, errlen);
}

int params_set_norm(bm_params *ps, int idx, double norm, int source, char *err, size_t errlen)
{
    if (idx < 0 || idx >= ps->n) return fail(err, errlen, "no such parameter");
    bm_param *p = &ps->p[idx];
    if (p->type == BM_PARAM_TEXT) return fail(err, errlen, "'%s' takes a name and has no 0..1 view", p->id);
    if (!isfinite(norm)) return fail(err, errlen, "'%s' needs a finite number", p->id);
    if (norm < 0) norm = 0;
    if (norm > 1) norm = 1;
    double v = p->min + norm * (p->max - p->min);
    if (p->type == BM_PARAM_OPTION) v = floor(norm * p->noptions) < p->noptions ? floor(norm * p->noptions) : p->noptions - 1;
    if (p->type == BM_PARAM_TRIGGER && norm < 0.5) return 0; /* a button's release */
    return params_set(ps, idx, v, source, err, errlen);
}

static int valid_text(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= BM_PARAM_TEXT_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.' || c == '+' || c == ' '))
            return 0;
    }
    return 1;
}

int params_set_string(bm_params *ps, int idx, const char *s, int source, char *err, size_t errlen)
{
    if (idx < 0 || idx >= ps->n) return fail(err, errlen, "no such parameter");
    bm_param *p = &ps->p[idx];
    if (p->type == BM_PARAM_OPTION) {
        for (int i = 0; i < p->noptions; i++)
            if (!strcmp(p->options[i], s)) return params_set(ps, idx, i, source, err, errlen);
        char list[256] = "";
        for (int i = 0; i < p->noptions && strlen(list) < 200; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", p->options[i]);
        return fail(err, errlen, "'%.40s' is not one of %s", s, list);
    }
    if (p->type != BM_PARAM_TEXT) return fail(err, errlen, "'%s' takes a number, not a name", p->id);
    if (!valid_text(s))
        return fail(err, errlen, "'%.40s' is not a usable name (1 to 63 letters, digits, spaces, _ - . +)", s);
    if (!strcmp(p->text, s)) return 0;
    snprintf(p->text, sizeof p->text, "%s", s);
    return changed(ps, idx, source, err, errlen);
}

double params_get_norm(const bm_params *ps, int idx)
{
    if (idx < 0 || idx >= ps->n) return 0;
    const bm_param *p = &ps->p[idx];
    if (p->type == BM_PARAM_TEXT || p->type == BM_PARAM_TRIGGER) return 0;
    if (p->type == BM_PARAM_OPTION) return p->noptions > 1 ? p->value / (p->noptions - 1) : 0;
    return (p->value - p->min) / (p->max - p->min);
}

const char *params_option_name(const bm_params *ps, int idx)
{
    if (idx < 0 || idx >= ps->n || ps->p[idx].type != BM_PARAM_OPTION) return "";
    return ps->p[idx].options[(int)ps->p[idx].value];
}
