/* osc_packet.c: walking, decoding and building OSC packets. */
#include "engine/control/osc_packet.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

struct walk {
    osc_msg_fn fn;
    osc_bad_fn bad;
    void *ctx;
    int delivered;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The path of a message if it is at least a NUL-terminated string inside the data, else NULL. */
static const char *safe_path(const uint8_t *data, size_t n)
{
    if (!n || data[0] != '/' || !memchr(data, 0, n < 256 ? n : 256)) return NULL;
    return (const char *)data;
}

static void message(struct walk *w, const uint8_t *data, size_t n, uint32_t sec, uint32_t frac, int in_bundle)
{
    if (n < 4 || data[0] != '/') {
        w->bad(w->ctx, NULL, "the packet is neither an OSC message nor a bundle");
        return;
    }
    int result = 0;
    lo_message m = lo_message_deserialise((void *)data, n, &result);
    if (!m) {
        w->bad(w->ctx, safe_path(data, n), "the message is malformed (bad type tags or arguments)");
        return;
    }
    osc_msg om;
    om.path = (const char *)data;
    const char *types = lo_message_get_types(m);
    om.types = types ? (types[0] == ',' ? types + 1 : types) : "";
    om.argv = lo_message_get_argv(m);
    om.argc = lo_message_get_argc(m);
    om.tt_sec = sec;
    om.tt_frac = frac;
    om.in_bundle = in_bundle;
    om.raw = data;
    om.rawlen = n;
    if ((int)strlen(om.types) != om.argc) {
        w->bad(w->ctx, om.path, "the message's type tags do not match its arguments");
    } else {
        w->fn(w->ctx, &om);
        w->delivered++;
    }
    lo_message_free(m);
}

static void element(struct walk *w, const uint8_t *data, size_t n, int depth, uint32_t sec, uint32_t frac,
                    int in_bundle)
{
    if (n >= 8 && !memcmp(data, "#bundle", 8)) {
        if (depth >= OSC_MAX_DEPTH) {
            w->bad(w->ctx, NULL, "bundles are nested too deep (more than 8)");
            return;
        }
        if (n < 16) {
            w->bad(w->ctx, NULL, "the bundle is truncated (no time tag)");
            return;
        }
        uint32_t s = be32(data + 8), f = be32(data + 12);
        size_t at = 16;
        while (at < n) {
            if (n - at < 4) {
                w->bad(w->ctx, NULL, "the bundle is truncated (a partial element size)");
                return;
            }
            uint32_t size = be32(data + at);
            at += 4;
            if (size == 0 || size > n - at) {
                w->bad(w->ctx, NULL, "a bundle element's size runs past the end of the packet");
                return;
            }
            element(w, data + at, size, depth + 1, s, f, 1);
            at += size;
        }
        return;
    }
    message(w, data, n, sec, frac, in_bundle);
}

int osc_packet_walk(const uint8_t *data, size_t n, osc_msg_fn fn, osc_bad_fn bad, void *ctx)
{
    struct walk w = {fn, bad, ctx, 0};
    if (n == 0) {
        bad(ctx, NULL, "the packet is empty");
        return 0;
    }
    element(&w, data, n, 0, 0, 1, 0);
    return w.delivered;
}

size_t osc_build_lo(uint8_t *buf, size_t cap, const char *path, lo_message m)
{
    size_t len = lo_message_length(m, path);
    if (len == 0 || len > cap) return 0;
    size_t got = len;
    if (!lo_message_serialise(m, path, buf, &got)) return 0;
    return got;
}

size_t osc_build(uint8_t *buf, size_t cap, const char *path, const char *types, ...)
{
    lo_message m = lo_message_new();
    if (!m) return 0;
    va_list ap;
    va_start(ap, types);
    int ok = 1;
    for (const char *t = types; *t && ok; t++) {
        switch (*t) {
        case 'i': ok = lo_message_add_int32(m, va_arg(ap, int)) == 0; break;
        case 'f': ok = lo_message_add_float(m, (float)va_arg(ap, double)) == 0; break;
        case 'd': ok = lo_message_add_double(m, va_arg(ap, double)) == 0; break;
        case 'h': ok = lo_message_add_int64(m, va_arg(ap, int64_t)) == 0; break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            ok = lo_message_add_string(m, s ? s : "") == 0;
            break;
        }
        case 'T': ok = lo_message_add_true(m) == 0; break;
        case 'F': ok = lo_message_add_false(m) == 0; break;
        case 'N': ok = lo_message_add_nil(m) == 0; break;
        default: ok = 0;
        }
    }
    va_end(ap);
    size_t len = ok ? osc_build_lo(buf, cap, path, m) : 0;
    lo_message_free(m);
    return len;
}

/* liblo's lo_arg pointers point into the packet at 4-byte alignment: values are copied out, never
 * read through the union (whose doubles and int64s want 8). */
int32_t osc_arg_i32(const lo_arg *a)
{
    int32_t v;
    memcpy(&v, a, sizeof v);
    return v;
}

float osc_arg_f32(const lo_arg *a)
{
    float v;
    memcpy(&v, a, sizeof v);
    return v;
}

double osc_arg_f64(const lo_arg *a)
{
    double v;
    memcpy(&v, a, sizeof v);
    return v;
}

int64_t osc_arg_i64(const lo_arg *a)
{
    int64_t v;
    memcpy(&v, a, sizeof v);
    return v;
}

int osc_arg_number(char type, const lo_arg *a, double *out)
{
    switch (type) {
    case 'i': *out = osc_arg_i32(a); return 0;
    case 'f': *out = osc_arg_f32(a); return 0;
    case 'd': *out = osc_arg_f64(a); return 0;
    case 'h': *out = (double)osc_arg_i64(a); return 0;
    case 'T': *out = 1; return 0;
    case 'F': *out = 0; return 0;
    default: return -1;
    }
}

const char *osc_arg_string(char type, const lo_arg *a, char *tmp2)
{
    if (type == 's' || type == 'S') return (const char *)a;
    if (type == 'c') {
        tmp2[0] = (char)osc_arg_i32(a);
        tmp2[1] = 0;
        return tmp2;
    }
    return NULL;
}
