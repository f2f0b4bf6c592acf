/* test_lua_harness.c: the in-process harness for control and script tests. */
#include "test_lua_harness.h"
#include "test.h"
#include "engine/control/osc_packet.h"
#include "engine/patch.h"

#include <stdarg.h>
#include <time.h>

static int midi_write(void *ctx, uint32_t offset, const uint8_t *bytes, size_t n)
{
    harness *h = ctx;
    if (h->nout < H_MAX_OUT && n >= 1) {
        h_midi *m = &h->out[h->nout++];
        m->frame = h->frame + offset;
        memset(m->b, 0, 3);
        memcpy(m->b, bytes, n > 3 ? 3 : n);
    }
    return 0;
}

static void on_send(void *ctx, const osc_peer *to, const uint8_t *pkt, size_t n)
{
    harness *h = ctx;
    (void)to;
    lo_message m = lo_message_deserialise((void *)pkt, n, NULL);
    if (!m) return;
    char line[2048];
    size_t at = (size_t)snprintf(line, sizeof line, "%s", (const char *)pkt);
    const char *types = lo_message_get_types(m);
    if (types && types[0] == ',') types++;
    lo_arg **argv = lo_message_get_argv(m);
    for (int i = 0; types && types[i] && at < sizeof line - 64; i++) {
        switch (types[i]) {
        case 'i': at += (size_t)snprintf(line + at, sizeof line - at, " %d", osc_arg_i32(argv[i])); break;
        case 'f': at += (size_t)snprintf(line + at, sizeof line - at, " %g", osc_arg_f32(argv[i])); break;
        case 's': at += (size_t)snprintf(line + at, sizeof line - at, " %.1500s", (const char *)argv[i]); break;
        default: at += (size_t)snprintf(line + at, sizeof line - at, " ?"); break;
        }
    }
    lo_message_free(m);
    size_t len = strlen(line);
    if (h->nreplies + len + 2 < H_REPLY_BYTES) {
        memcpy(h->replies + h->nreplies, line, len);
        h->nreplies += len;
        h->replies[h->nreplies++] = '\n';
        h->replies[h->nreplies] = 0;
    }
}

static int setup(harness *h, const bm_engine_config *cfg, const bm_patch *patch, const char *script,
                 void (*tweak)(bm_control_opts *), char *err, size_t errlen)
{
    char why[1024];
    h->e = engine_create(cfg, why, sizeof why);
    CHECKF(h->e, "engine_create: %s", why);
    h->block = 256;
    h->replies = calloc(1, H_REPLY_BYTES);
    bm_control_opts o;
    control_opts_defaults(&o);
    o.osc = 0;
    o.quiet = 1;
    o.script = script;
    if (tweak) tweak(&o);
    h->c = control_create(h->e, NULL, patch, &o, why, sizeof why);
    CHECKF(h->c, "control_create: %s", why);
    control_set_send_hook(h->c, on_send, h);
    /* one period so the clock is published and the timeline has started */
    h_run(h, 0.01);
    int rc = control_start(h->c, err, errlen);
    return rc;
}

int h_open(harness *h, const char *mode, const char *script, void (*tweak)(bm_control_opts *o), char *err,
           size_t errlen)
{
    memset(h, 0, sizeof *h);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    if (mode) snprintf(cfg.mode, sizeof cfg.mode, "%s", mode);
    cfg.record = 0;
    return setup(h, &cfg, NULL, script, tweak, err, errlen);
}

int h_open_patch(harness *h, const char *patch_path, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    char why[1024];
    CHECKF(patch_load(patch_path, &h->patch, why, sizeof why) == 0, "%s", why);
    bm_engine_config cfg = h->patch.cfg;
    cfg.record = 0;
    return setup(h, &cfg, &h->patch, h->patch.script[0] ? h->patch.script : NULL, NULL, err, errlen);
}

void h_run(harness *h, double seconds)
{
    static float l[1024], r[1024];
    int64_t end = h->frame + (int64_t)(seconds * 48000);
    do {
        bm_io io = {0};
        io.frame = h->frame;
        io.nframes = h->block;
        io.audio_out[0] = l;
        io.audio_out[1] = r;
        io.midi_in = h->in;
        io.n_midi_in = h->nin;
        io.midi_write = midi_write;
        io.midi_ctx = h;
        engine_process(h->e, &io);
        h->nin = 0;
        engine_musician_poll(h->e, h->frame + h->block);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        control_step(h->c, h->frame + h->block);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
        if (ms > h->max_step_ms) h->max_step_ms = ms;
        engine_collect_garbage(h->e);
        h->frame += h->block;
    } while (h->frame < end);
}

void h_packet(harness *h, const void *data, size_t n)
{
    osc_peer from;
    char err[64];
    osc_peer_from_host("127.0.0.1", 9, &from, err, sizeof err);
    control_handle_packet(h->c, data, n, &from);
}

void h_send(harness *h, const char *path, const char *types, ...)
{
    lo_message m = lo_message_new();
    va_list ap;
    va_start(ap, types);
    for (const char *t = types; *t; t++) {
        switch (*t) {
        case 'i': lo_message_add_int32(m, va_arg(ap, int)); break;
        case 'f': lo_message_add_float(m, (float)va_arg(ap, double)); break;
        case 's': lo_message_add_string(m, va_arg(ap, const char *)); break;
        case 'T': lo_message_add_true(m); break;
        case 'N': lo_message_add_nil(m); break;
        }
    }
    va_end(ap);
    uint8_t buf[65536];
    size_t n = osc_build_lo(buf, sizeof buf, path, m);
    lo_message_free(m);
    CHECK(n > 0);
    h_packet(h, buf, n);
}

void h_midi_in(harness *h, uint8_t b0, uint8_t b1, uint8_t b2)
{
    if (h->nin == 256) return;
    bm_midi_in *m = &h->in[h->nin++];
    m->offset = 0;
    m->size = 3;
    m->bytes[0] = b0;
    m->bytes[1] = b1;
    m->bytes[2] = b2;
}

int h_replied(const harness *h, const char *needle) { return h->replies && strstr(h->replies, needle) != NULL; }

int h_count(const harness *h, const char *needle)
{
    int n = 0;
    for (const char *p = h->replies; p && (p = strstr(p, needle)); p++) n++;
    return n;
}

void h_clear(harness *h)
{
    h->nreplies = 0;
    if (h->replies) h->replies[0] = 0;
}

int h_notes(const harness *h, int ch)
{
    int n = 0;
    for (int i = 0; i < h->nout; i++)
        if ((h->out[i].b[0] & 0xf0) == 0x90 && h->out[i].b[2] && (ch < 0 || (h->out[i].b[0] & 15) == ch)) n++;
    return n;
}

const char *h_write(const char *name, const char *text)
{
    const char *path = test_path(name);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    return path;
}

void h_close(harness *h)
{
    control_destroy(h->c);
    engine_destroy(h->e);
    free(h->replies);
    h->c = NULL;
    h->e = NULL;
    h->replies = NULL;
}
