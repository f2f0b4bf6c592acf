/* control.c: the control thread's hub: time, rings, timed messages, replies, feedback and notes. */
#include "engine/control/control_internal.h"
#include "engine/control/lua_host.h"
#include "engine/control/timebase.h"
#include "engine/sandbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PARAM_FEEDBACK_NS 33000000   /* a parameter is told to clients at most 30 times a second */
#define RELOAD_WAIT_NS 2000000000    /* a reload waits this long at most for a beat */
#define ERROR_REPEAT_NS 5000000000ll /* a repeating script error is printed again after this */
#define DRAIN_NS 5000000             /* feedback taken in one step before the clocks get their turn */

void control_opts_defaults(bm_control_opts *o)
{
    memset(o, 0, sizeof *o);
    o->net.port = BM_OSC_DEFAULT_PORT;
    o->watch = 1;
    o->script_memory = BM_SCRIPT_DEFAULT_MEMORY;
    o->script_budget_ms = BM_SCRIPT_DEFAULT_BUDGET_MS;
    o->notify_rate = 200;
}

/* ---- sending ---- */

void ctl_send_packet(bm_control *c, const osc_peer *to, const uint8_t *pkt, size_t n)
{
    if (!to || !n) return;
    if (c->send_hook) c->send_hook(c->send_ctx, to, pkt, n);
    if (c->net) osc_net_send(c->net, to, pkt, n);
}

static size_t vbuild(uint8_t *buf, size_t cap, const char *path, const char *types, va_list ap)
{
    lo_message m = lo_message_new();
    if (!m) return 0;
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
        default: ok = 0;
        }
    }
    size_t len = ok ? osc_build_lo(buf, cap, path, m) : 0;
    lo_message_free(m);
    return len;
}

void ctl_send(bm_control *c, const osc_peer *to, const char *path, const char *types, ...)
{
    if (!to) return;
    va_list ap;
    va_start(ap, types);
    size_t n = vbuild(c->scratch, sizeof c->scratch, path, types, ap);
    va_end(ap);
    ctl_send_packet(c, to, c->scratch, n);
}

void ctl_done(bm_control *c, const char *cmd, const char *extra)
{
    if (extra) ctl_send(c, c->from, "/bm/done", "ss", cmd, extra);
    else ctl_send(c, c->from, "/bm/done", "s", cmd);
}

int ctl_fail(bm_control *c, const char *cmd, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    c->osc_failed++;
    ctl_send(c, c->from, "/bm/fail", "ss", cmd, why);
    return -1;
}

void ctl_notify(bm_control *c, uint32_t category, const char *path, const char *types, ...)
{
    if (!notify_wanted(&c->notify, category) && !c->send_hook) return;
    va_list ap;
    va_start(ap, types);
    size_t n = vbuild(c->scratch, sizeof c->scratch, path, types, ap);
    va_end(ap);
    if (!n) return;
    if (c->send_hook) c->send_hook(c->send_ctx, NULL, c->scratch, n);
    if (c->net) notify_send(&c->notify, category, c->scratch, n, c->now_ns);
}

void ctl_script_error(bm_control *c, const char *where, const char *msg)
{
    static char last[512];
    static int64_t last_ns;
    static int repeats;
    char first[512];
    snprintf(first, sizeof first, "%s: %s", where, msg);
    char *nl = strchr(first, '\n');
    if (nl) *nl = 0;
    if (!c->o.quiet) {
        if (!strcmp(first, last) && c->now_ns - last_ns < ERROR_REPEAT_NS) {
            repeats++;
        } else {
            if (repeats) fprintf(stderr, "bandmate: (the script error above happened %d more times)\n", repeats);
            fprintf(stderr, "bandmate: script error in %s: %s\n", where, msg);
            snprintf(last, sizeof last, "%s", first);
            last_ns = c->now_ns;
            repeats = 0;
        }
    }
    ctl_notify(c, NOTIFY_ERRORS, "/bm/event/error", "ss", where, msg);
}

void ctl_script_print(bm_control *c, const char *line)
{
    if (!c->o.quiet) fprintf(stderr, "script: %s\n", line);
}

/* ---- acting on the engine ---- */

int ctl_command(bm_control *c, int type, int part, double value)
{
    bm_command cmd = {type, part, value, NULL};
    return engine_command(c->e, &cmd);
}

int64_t ctl_when_frame(bm_control *c, ctl_when w)
{
    switch (w.kind) {
    case CTL_FRAME: return w.frame;
    case CTL_BEAT: {
        int64_t f = clock_map_frame_at(&c->map, w.beat);
        return f == INT64_MAX ? c->now + c->lead : f;
    }
    default: return c->now + c->lead;
    }
}

double ctl_when_beat(bm_control *c, ctl_when w)
{
    if (w.kind == CTL_BEAT) return w.beat;
    return clock_map_beat_at(&c->map, ctl_when_frame(c, w));
}

static int push_event(bm_control *c, bm_event *ev, int beat_stamped, double beat, int64_t frame, char *err,
                      size_t errlen)
{
    if (beat_stamped) {
        ev->flags = BM_EVF_BEAT;
        ev->beat = beat;
    } else {
        ev->frame = frame;
    }
    if (engine_play_event(c->e, ev) != 0) {
        snprintf(err, errlen, "too many notes at once (the engine takes 2048 between two periods)");
        return -1;
    }
    return 0;
}

int ctl_note(bm_control *c, int part, int note, int vel, double dur_beats, ctl_when when, char *err, size_t errlen)
{
    if (part <= BM_PART_HUMAN || part >= BM_NUM_PARTS) {
        snprintf(err, errlen, "notes are played on the band's parts: bass, drums, comping or lead");
        return -1;
    }
    if (note < 0 || note > 127) {
        snprintf(err, errlen, "the note %d is not 0..127", note);
        return -1;
    }
    if (vel < 0 || vel > 127) {
        snprintf(err, errlen, "the velocity %d is not 0..127", vel);
        return -1;
    }
    if (!isfinite(dur_beats) || dur_beats > 1e6) {
        snprintf(err, errlen, "the length must be a number of beats");
        return -1;
    }
    if (vel > 0 && !(c->parts_on & (1u << part))) return 1;
    bm_event ev = {0};
    ev.part = (uint8_t)part;
    ev.channel = engine_config(c->e)->channel[part];
    ev.note = (uint8_t)note;
    int by_beat = when.kind == CTL_BEAT && c->map.rolling;
    int64_t frame = ctl_when_frame(c, when);
    double beat = when.beat;
    if (vel == 0) {
        ev.type = BM_EV_NOTE_OFF;
        if (c->held[part][note]) c->held[part][note]--;
        return push_event(c, &ev, by_beat, beat, frame, err, errlen);
    }
    ev.type = BM_EV_NOTE_ON;
    ev.velocity = (uint8_t)vel;
    if (push_event(c, &ev, by_beat, beat, frame, err, errlen) != 0) return -1;
    if (dur_beats <= 0) {
        if (c->held[part][note] < 255) c->held[part][note]++;
        return 0;
    }
    ev.type = BM_EV_NOTE_OFF;
    ev.velocity = 0;
    double bpm = c->map.bpm > 0 ? c->map.bpm : 120;
    int64_t off_frame = frame + (int64_t)llround(dur_beats * 60.0 / bpm * c->sr);
    return push_event(c, &ev, by_beat, beat + dur_beats, off_frame, err, errlen);
}

int ctl_cc(bm_control *c, int part, int cc, int value, ctl_when when, char *err, size_t errlen)
{
    if (part <= BM_PART_HUMAN || part >= BM_NUM_PARTS) {
        snprintf(err, errlen, "controllers are sent on the band's parts: bass, drums, comping or lead");
        return -1;
    }
    if (cc < 0 || cc > 127 || value < 0 || value > 127) {
        snprintf(err, errlen, "a controller and its value are 0..127");
        return -1;
    }
    bm_event ev = {0};
    ev.type = BM_EV_CC;
    ev.part = (uint8_t)part;
    ev.channel = engine_config(c->e)->channel[part];
    ev.note = (uint8_t)cc;
    ev.velocity = (uint8_t)value;
    int by_beat = when.kind == CTL_BEAT && c->map.rolling;
    return push_event(c, &ev, by_beat, when.beat, ctl_when_frame(c, when), err, errlen);
}

void ctl_release_held(bm_control *c)
{
    char err[128];
    ctl_when now = {CTL_NOW, 0, 0};
    for (int p = 0; p < BM_NUM_PARTS; p++)
        for (int n = 0; n < 128; n++)
            while (c->held[p][n]) {
                uint8_t before = c->held[p][n];
                ctl_note(c, p, n, 0, 0, now, err, sizeof err);
                if (c->held[p][n] == before) c->held[p][n] = 0;
            }
}

int ctl_param_set(bm_control *c, const char *id, int kind, double v, const char *s, int source, char *err,
                  size_t errlen)
{
    int idx = params_find(&c->params, id);
    if (idx < 0) {
        snprintf(err, errlen, "'%.60s' is not a parameter (/bm/params lists them)", id);
        return -1;
    }
    if (kind == 's') return params_set_string(&c->params, idx, s, source, err, errlen);
    if (kind == 'u') return params_set_norm(&c->params, idx, v, source, err, errlen);
    return params_set(&c->params, idx, v, source, err, errlen);
}

/* ---- the script ---- */

int ctl_script_load(bm_control *c, const char *path, char *err, size_t errlen)
{
    int rc = lua_host_load(c->lua, path, err, errlen);
    if (rc < 0) {
        ctl_notify(c, NOTIFY_STATE, "/bm/event/script", "ss", "refused", path);
        return -1;
    }
    if (path != c->script_path) snprintf(c->script_path, sizeof c->script_path, "%s", path);
    if (c->o.watch) watch_set(&c->watch, path, c->now_ns);
    c->reload_pending = 0;
    if (rc == 1) {
        ctl_safe_default(c);
        ctl_notify(c, NOTIFY_STATE, "/bm/event/script", "ss", "failed", path);
        return 0;
    }
    ctl_notify(c, NOTIFY_STATE, "/bm/event/script", "ss", "running", path);
    return 0;
}

void ctl_script_stop(bm_control *c)
{
    lua_host_stop(c->lua);
    ctl_release_held(c);
    watch_set(&c->watch, "", c->now_ns);
    c->reload_pending = 0;
    ctl_notify(c, NOTIFY_STATE, "/bm/event/script", "ss", "stopped", c->script_path);
}

void ctl_safe_default(bm_control *c)
{
    char err[256];
    ctl_release_held(c);
    params_set_string(&c->params, c->b.mode, c->patch->cfg.mode, BM_SRC_INIT, err, sizeof err);
    for (int p = BM_PART_BASS; p < BM_NUM_PARTS; p++)
        params_set(&c->params, c->b.part_on[p], 1, BM_SRC_INIT, err, sizeof err);
}

/* ---- parameters changed ---- */

static void param_changed(void *ctx, int idx, int source)
{
    bm_control *c = ctx;
    bm_param *p = &c->params.p[idx];
    p->changed_ns = c->now_ns;
    if (p->builtin && !c->quiet_apply) builtins_apply(c, idx);
    if (p->action_ref >= 0 && c->lua) lua_host_param_action(c->lua, idx);
    (void)source;
}

/* Updates a built-in parameter to follow the engine (tempo from a tap, the transport), without
 * sending it back. */
static void follow(bm_control *c, int idx, double v)
{
    if (idx < 0 || c->params.p[idx].value == v) return;
    char err[128];
    c->quiet_apply = 1;
    params_set(&c->params, idx, v, BM_SRC_INIT, err, sizeof err);
    c->quiet_apply = 0;
}

static void flush_params(bm_control *c)
{
    int want = notify_wanted(&c->notify, NOTIFY_PARAMS) || c->send_hook;
    for (int i = 0; i < c->params.n; i++) {
        bm_param *p = &c->params.p[i];
        if (!p->dirty) continue;
        if (!want) {
            p->dirty = 0;
            continue;
        }
        if (c->now_ns - p->changed_ns < PARAM_FEEDBACK_NS && p->changed_ns != 0 && c->now_ns != 0) continue;
        p->dirty = 0;
        char path[96];
        snprintf(path, sizeof path, "/bm/param/%s", p->id);
        if (p->type == BM_PARAM_TEXT) {
            ctl_notify(c, NOTIFY_PARAMS, path, "s", p->text);
            continue;
        }
        if (p->type == BM_PARAM_OPTION) ctl_notify(c, NOTIFY_PARAMS, path, "s", params_option_name(&c->params, i));
        else ctl_notify(c, NOTIFY_PARAMS, path, "f", p->value);
        if (p->type != BM_PARAM_TRIGGER) {
            snprintf(path, sizeof path, "/bm/param/%s/norm", p->id);
            ctl_notify(c, NOTIFY_PARAMS, path, "f", params_get_norm(&c->params, i));
        }
    }
}

static int64_t next_param_flush(bm_control *c)
{
    for (int i = 0; i < c->params.n; i++)
        if (c->params.p[i].dirty) return c->params.p[i].changed_ns + PARAM_FEEDBACK_NS;
    return INT64_MAX;
}

/* ---- creating ---- */

int ctl_send_chart(bm_control *c, char *err, size_t errlen)
{
    const bm_song *s = &c->song;
    bm_band_chart ch;
    memset(&ch, 0, sizeof ch);
    ch.start = s->chart_start;
    ch.length = s->chart_beats;
    double at = 0;
    for (int i = 0; i < s->nchords && i < BM_CHART_MAX; i++) {
        const bm_chord *k = &s->chart[i];
        uint16_t pcs = 0;
        for (int t = 0; t < k->ntones; t++) pcs |= (uint16_t)(1u << ((k->root + k->tones[t]) % 12));
        ch.at[i] = at;
        ch.root[i] = (int8_t)k->root;
        ch.pcs[i] = pcs;
        at += k->beats;
        ch.n = i + 1;
    }
    return engine_set_chart(c->e, ch.length > 0 ? &ch : NULL, err, errlen);
}

static int apply_patch_maps(bm_control *c, char *err, size_t errlen)
{
    const bm_patch *p = c->patch;
    for (int i = 0; i < p->n_midi_map; i++) {
        char why[256];
        if (midimap_set(&c->midi, p->midi_map[i].param, p->midi_map[i].channel, p->midi_map[i].cc, why, sizeof why) != 0) {
            snprintf(err, errlen, "patch %s: midi_map.%s: %s", p->path, p->midi_map[i].param, why);
            return -1;
        }
    }
    for (int i = 0; i < p->n_chords; i++) c->song.chart[i] = p->chords[i];
    c->song.nchords = p->n_chords;
    c->song.chart_beats = 0;
    for (int i = 0; i < p->n_chords; i++) c->song.chart_beats += p->chords[i].beats;
    if (p->n_chords && ctl_send_chart(c, err, errlen) != 0) return -1;
    return 0;
}

bm_control *control_create(bm_engine *e, bm_jack *jack, const bm_patch *patch, const bm_control_opts *o, char *err,
                           size_t errlen)
{
    bm_control *c = calloc(1, sizeof *c);
    if (!c || !(c->patch = malloc(sizeof *c->patch))) {
        free(c);
        snprintf(err, errlen, "out of memory setting up the control thread");
        return NULL;
    }
    c->e = e;
    c->jack = jack;
    c->o = *o;
    c->o.script = NULL;
    if (patch) *c->patch = *patch;
    else {
        patch_defaults(c->patch);
        c->patch->cfg = *engine_config(e);
    }
    const bm_engine_config *cfg = engine_config(e);
    c->sr = cfg->sample_rate;
    c->lead = (int64_t)(cfg->lookahead_ms * 1e-3 * c->sr);
    if (c->lead < 1) c->lead = 1;
    c->early = (int64_t)(BM_CLOCK_EARLY_MS * 1e-3 * c->sr);
    c->now_ns = tb_mono_ns();
    c->now = tb_ns_to_frame(e, c->now_ns);
    clock_read_published(engine_clock(e), &c->map);
    if (c->map.sample_rate <= 0) c->map.sample_rate = c->sr;
    c->parts_on = ((1u << BM_NUM_PARTS) - 1) & ~1u;
    c->last_beat_seen = INT64_MIN;
    c->due = -1;
    if (o->script && o->script[0]) snprintf(c->script_path, sizeof c->script_path, "%s", o->script);
    params_init(&c->params, param_changed, c);
    midimap_init(&c->midi);
    /* the mode on a controller by default (a patch's midi_map may take the controller over) */
    char why[128];
    if (midimap_set(&c->midi, "mode", -1, BM_MODE_CC, why, sizeof why) != 0 && !o->quiet)
        fprintf(stderr, "bandmate: MIDI CC %d for the mode: %s.\n", BM_MODE_CC, why);
    song_clear(&c->song);
    if (osc_queue_init(&c->queue) != 0) {
        snprintf(err, errlen, "out of memory setting up the control thread");
        control_destroy(c);
        return NULL;
    }
    if (builtins_add(c, err, errlen) != 0 || apply_patch_maps(c, err, errlen) != 0) {
        control_destroy(c);
        return NULL;
    }
    if (o->osc) {
        c->net = osc_net_open(&o->net, err, errlen);
        if (!c->net) {
            control_destroy(c);
            return NULL;
        }
    }
    notify_init(&c->notify, c->net, o->notify_rate);
    c->lua = lua_host_new(c);
    if (!c->lua) {
        snprintf(err, errlen, "out of memory setting up the Lua host");
        control_destroy(c);
        return NULL;
    }
    return c;
}

int control_start(bm_control *c, char *err, size_t errlen)
{
    if (c->script_path[0]) {
        char why[2048];
        if (ctl_script_load(c, c->script_path, why, sizeof why) != 0) {
            char *nl = strchr(why, '\n');
            if (nl) *nl = 0;
            snprintf(err, errlen, "the script %s could not start: %s", c->script_path, why);
            return -1;
        }
    }
    const bm_patch *p = c->patch;
    for (int part = 0; part < BM_NUM_PARTS; part++) {
        /* the engine already plays the patch's voices: the parameters show them, nothing is rebuilt */
        char why[256];
        snprintf(c->voice_spec[part], sizeof c->voice_spec[part], "%s", p->cfg.voice[part]);
        c->quiet_apply = 1;
        int bad = p->voice[part][0] &&
                  params_set_string(&c->params, c->b.voice[part], p->voice[part], BM_SRC_PATCH, why, sizeof why) != 0;
        c->quiet_apply = 0;
        if (bad) {
            snprintf(err, errlen, "patch %s: parts.%s.voice: %s", p->path, bm_part_name(part), why);
            return -1;
        }
    }
    for (int i = 0; i < p->n_values; i++) {
        const bm_patch_value *v = &p->values[i];
        char why[256];
        if (ctl_param_set(c, v->id, v->is_text ? 's' : 'n', v->value, v->text, BM_SRC_PATCH, why, sizeof why) != 0) {
            snprintf(err, errlen, "patch %s: params.%s: %s", p->path, v->id, why);
            return -1;
        }
    }
    return 0;
}

int control_check_script(const char *path, char *err, size_t errlen)
{
    bm_sandbox *s = sandbox_new(BM_SCRIPT_DEFAULT_MEMORY);
    if (!s) {
        snprintf(err, errlen, "out of memory checking the script");
        return -1;
    }
    int rc = sandbox_load_file(s, path, err, errlen);
    sandbox_free(s);
    return rc;
}

void control_attach_status(bm_control *c, bm_status *st)
{
    c->status = st;
    st->parts_on = c->parts_on;
}

void control_set_send_hook(bm_control *c, void (*fn)(void *, const osc_peer *, const uint8_t *, size_t), void *ctx)
{
    c->send_hook = fn;
    c->send_ctx = ctx;
}

void control_phrase(bm_control *c, int part, double start_beat, double end_beat, int notes, const char *reason)
{
    if (part < 0 || part >= BM_NUM_PARTS) return;
    ctl_notify(c, NOTIFY_PHRASES, "/bm/event/phrase", "sffis", bm_part_name(part), start_beat, end_beat, notes, reason);
    lua_host_phrase(c->lua, part, start_beat, end_beat, notes, reason);
}

void control_onset(bm_control *c, double beat, double strength)
{
    ctl_notify(c, NOTIFY_NOTES, "/bm/event/onset", "ff", beat, strength);
    lua_host_onset(c->lua, beat, strength);
}

int control_osc_port(const bm_control *c) { return c->net ? osc_net_port(c->net) : 0; }

int control_script_running(const bm_control *c) { return c->lua && lua_host_running(c->lua); }

void control_destroy(bm_control *c)
{
    if (!c) return;
    if (c->lua) {
        lua_host_free(c->lua);
        c->lua = NULL;
    }
    if (c->params.n) ctl_release_held(c);
    params_deinit(&c->params);
    osc_queue_free(&c->queue);
    osc_net_close(c->net);
    free(c->patch);
    free(c);
}

/* ---- receiving ---- */

struct packet_ctx {
    bm_control *c;
    const osc_peer *from;
    int bad_reported;
};

static void handle_message(bm_control *c, const osc_msg *m, const osc_peer *from, int64_t due)
{
    c->sender = from;
    c->from = notify_reply_to(&c->notify, from);
    c->due = due;
    osc_api_dispatch(c, m);
    c->from = c->sender = NULL;
    c->due = -1;
}

static void on_message(void *ctx, const osc_msg *m)
{
    struct packet_ctx *pc = ctx;
    bm_control *c = pc->c;
    if (!m->in_bundle || tb_osc_immediate(m->tt_sec, m->tt_frac)) {
        handle_message(c, m, pc->from, -1);
        return;
    }
    int64_t due = tb_ns_to_frame(c->e, tb_osc_to_ns(m->tt_sec, m->tt_frac));
    int64_t tolerance = (int64_t)(c->sr / 1000);
    int is_note = !strcmp(m->path, "/bm/note");
    int64_t wake = is_note ? due - c->lead - c->early : due;
    if (wake > c->now + tolerance) {
        if (osc_queue_push(&c->queue, wake, due, pc->from, m->raw, m->rawlen) != 0) {
            c->from = notify_reply_to(&c->notify, pc->from);
            ctl_fail(c, m->path + (strncmp(m->path, "/bm/", 4) ? 0 : 4),
                     "cannot wait for this bundle's time (%d timed messages already wait, or the message is over %d bytes)",
                     OSC_QUEUE_CAPACITY, OSC_QUEUE_SLOT);
            c->from = NULL;
        }
        return;
    }
    if (due < c->now - tolerance) { /* late: at once, and reported */
        double late_s = (double)(c->now - due) / c->sr;
        c->osc_late++;
        ctl_send(c, notify_reply_to(&c->notify, pc->from), "/bm/late", "sf", m->path, late_s);
        ctl_notify(c, NOTIFY_STATE, "/bm/event/late", "sf", m->path, late_s);
        handle_message(c, m, pc->from, -1);
        return;
    }
    handle_message(c, m, pc->from, is_note && due > c->now + c->lead / 2 ? due : -1);
}

static void on_bad(void *ctx, const char *path, const char *why)
{
    struct packet_ctx *pc = ctx;
    if (pc->bad_reported++) return; /* one answer per packet */
    bm_control *c = pc->c;
    c->from = notify_reply_to(&c->notify, pc->from);
    ctl_fail(c, path && !strncmp(path, "/bm/", 4) ? path + 4 : path ? path : "packet", "%s", why);
    c->from = NULL;
}

void control_handle_packet(bm_control *c, const uint8_t *data, size_t n, const osc_peer *from)
{
    struct packet_ctx pc = {c, from, 0};
    c->osc_in++;
    osc_packet_walk(data, n, on_message, on_bad, &pc);
}

static void on_packet(void *ctx, const uint8_t *data, size_t n, const osc_peer *from)
{
    control_handle_packet(ctx, data, n, from);
}

/* ---- the feedback and plan rings ---- */

static void take_feedback(bm_control *c, const bm_event *ev)
{
    if (c->status) status_take_event(c->status, ev);
    switch (ev->type) {
    case BM_EV_NOTE_ON:
    case BM_EV_NOTE_OFF: {
        int vel = ev->type == BM_EV_NOTE_ON ? ev->velocity : 0;
        ctl_notify(c, NOTIFY_NOTES, "/bm/event/note", "siif", bm_part_name(ev->part), ev->note, vel, ev->beat);
        break;
    }
    case BM_EV_CC:
        if (ev->part == BM_PART_HUMAN) {
            char param[BM_PARAM_ID_MAX], err[256];
            if (midimap_take_learn(&c->midi, ev->channel, ev->note, param, sizeof param)) {
                char extra[96];
                snprintf(extra, sizeof extra, "%s %d %d", param, ev->channel + 1, ev->note);
                if (c->learn_peer.used) {
                    ctl_send(c, &c->learn_peer.peer, "/bm/done", "ssii", "midi/learn", param, ev->channel + 1, ev->note);
                    c->learn_peer.used = 0;
                }
                ctl_notify(c, NOTIFY_STATE, "/bm/event/learned", "sii", param, ev->channel + 1, ev->note);
            } else {
                const char *id = midimap_lookup(&c->midi, ev->channel, ev->note);
                if (id && ctl_param_set(c, id, 'u', ev->velocity / 127.0, NULL, BM_SRC_MIDI, err, sizeof err) != 0 &&
                    !c->o.quiet)
                    fprintf(stderr, "bandmate: MIDI CC %d: %s.\n", ev->note, err);
            }
        }
        break;
    case BM_EV_BEAT: {
        int bar = ev->value, beat = ev->note;
        ctl_notify(c, NOTIFY_BEATS, "/bm/event/beat", "iif", bar + 1, beat + 1, c->map.bpm);
        c->last_beat_seen = (int64_t)ev->beat;
        break;
    }
    case BM_EV_TEMPO:
        follow(c, c->b.tempo, round(ev->value_f * 100) / 100);
        ctl_notify(c, NOTIFY_BEATS, "/bm/event/tempo", "f", ev->value_f);
        break;
    case BM_EV_XRUN:
        if (!c->jack) ctl_notify(c, NOTIFY_XRUNS, "/bm/event/xrun", "i", (int)atomic_load(&engine_stats(c->e)->xruns));
        break;
    case BM_EV_ONSET:
        control_onset(c, ev->beat, ev->velocity / 127.0);
        break;
    case BM_EV_PHRASE_START:
        ctl_notify(c, NOTIFY_PHRASES, "/bm/event/phrase_start", "sf", bm_part_name(ev->part), ev->beat);
        break;
    case BM_EV_PHRASE_END: {
        static const char *const reasons[] = {"", "rest", "bar", "call"};
        control_phrase(c, ev->part, ev->beat - ev->value_f, ev->beat, ev->value, ev->note <= 3 ? reasons[ev->note] : "");
        break;
    }
    default:
        break;
    }
    if (c->lua) lua_host_event(c->lua, ev);
    if (ev->type == BM_EV_BEAT && c->reload_pending && c->script_path[0]) { /* between beats */
        char why[2048];
        c->reload_pending = 0;
        if (ctl_script_load(c, c->script_path, why, sizeof why) != 0) ctl_script_error(c, "reload (kept the running script)", why);
    }
}

/* Takes what the engine played. A slow script could make this long: past a few milliseconds the
 * rest waits in the ring for the next step, so the clocks run in between. */
static void drain_rings(bm_control *c)
{
    bm_event ev;
    ring *fb = engine_feedback_ring(c->e), *plan = engine_plan_ring(c->e);
    int64_t until = tb_mono_ns() + DRAIN_NS;
    for (int i = 0; i < 4096 && ring_pop(fb, &ev) == 0; i++) {
        take_feedback(c, &ev);
        if ((i & 7) == 7 || lua_host_running(c->lua)) {
            if (tb_mono_ns() > until) break;
        }
    }
    for (int i = 0; i < 1024 && ring_pop(plan, &ev) == 0; i++) {
        if (c->status) status_take_plan(c->status, &ev);
        ctl_notify(c, NOTIFY_PLAN, ev.flags & BM_EVF_PREVIEW ? "/bm/event/preview" : "/bm/event/plan", "siif",
                   bm_part_name(ev.part), ev.note, ev.velocity, ev.beat);
    }
}

/* ---- the step ---- */

static void refresh(bm_control *c, int64_t now_frame, int64_t now_ns)
{
    c->now = now_frame;
    c->now_ns = now_ns;
    clock_read_published(engine_clock(c->e), &c->map);
    if (c->map.sample_rate <= 0) c->map.sample_rate = c->sr;
    c->sr = c->map.sample_rate;
}

static void run_queue(bm_control *c)
{
    osc_queued item;
    for (int i = 0; i < OSC_QUEUE_CAPACITY && osc_queue_pop_due(&c->queue, c->now, &item) == 0; i++) {
        struct packet_ctx pc = {c, &item.from, 0};
        /* a plain message now: its time has come (notes keep their exact frame) */
        lo_message m = lo_message_deserialise(item.data, item.len, NULL);
        if (!m) continue;
        osc_msg om = {0};
        om.path = (const char *)item.data;
        const char *types = lo_message_get_types(m);
        om.types = types ? (types[0] == ',' ? types + 1 : types) : "";
        om.argv = lo_message_get_argv(m);
        om.argc = lo_message_get_argc(m);
        om.tt_frac = 1;
        handle_message(c, &om, pc.from, item.due > c->now + c->lead / 2 ? item.due : -1);
        lo_message_free(m);
    }
}

static void check_engine_state(bm_control *c)
{
    follow(c, c->b.playing, c->map.rolling ? 1 : 0);
    if (c->status && strcmp(c->status->mode, params_option_name(&c->params, c->b.mode))) { /* a key changed it */
        for (int i = 0; i < c->params.p[c->b.mode].noptions; i++)
            if (!strcmp(c->params.p[c->b.mode].options[i], c->status->mode)) follow(c, c->b.mode, i);
    }
    if (c->jack) {
        uint64_t x = jack_driver_xruns(c->jack);
        if (x != c->xruns_seen) {
            c->xruns_seen = x;
            ctl_notify(c, NOTIFY_XRUNS, "/bm/event/xrun", "i", (int)x);
        }
    }
    for (int i = 0; i < CTL_MAX_SYNCS; i++)
        if (c->syncs[i].used && engine_commands_applied(c->e)) {
            ctl_send(c, &c->syncs[i].peer, "/bm/synced", "i", c->syncs[i].id);
            c->syncs[i].used = 0;
        }
}

void control_step(bm_control *c, int64_t now_frame)
{
    /* live: the wall clock; offline and in tests: time advances with the frames */
    int64_t ns = c->live ? tb_mono_ns() : c->now_ns + (int64_t)((double)(now_frame - c->now) / c->sr * 1e9);
    refresh(c, now_frame, ns);
    lua_host_run_clocks(c->lua);
    drain_rings(c);
    check_engine_state(c);
    run_queue(c);
    lua_host_run_clocks(c->lua);
    if (c->o.watch && watch_poll(&c->watch, c->now_ns) && lua_host_running(c->lua)) {
        if (!c->reload_pending) c->reload_since_ns = c->now_ns;
        c->reload_pending = 1;
    }
    if (c->reload_pending && (!c->map.rolling || c->now_ns - c->reload_since_ns > RELOAD_WAIT_NS)) {
        char why[2048];
        c->reload_pending = 0;
        if (ctl_script_load(c, c->script_path, why, sizeof why) != 0) ctl_script_error(c, "reload (kept the running script)", why);
    }
    flush_params(c);
    if (c->net) notify_tick(&c->notify, c->now_ns);
}

void control_poll(bm_control *c, int max_wait_ms)
{
    c->live = 1;
    int64_t now_ns = tb_mono_ns();
    int64_t now = tb_ns_to_frame(c->e, now_ns);
    int64_t wait_ns = (int64_t)max_wait_ms * 1000000;
    int64_t next = osc_queue_next(&c->queue), wake = lua_host_next_wake(c->lua);
    if (wake < next) next = wake;
    if (next != INT64_MAX) {
        /* at least half a millisecond: a clock that sleeps 0 in a loop must not spin a core (clocks
         * wake well ahead of their time, so this costs them no precision) */
        int64_t ns = (int64_t)((double)(next - now) / c->sr * 1e9);
        if (ns < 500000) ns = 500000;
        if (ns < wait_ns) wait_ns = ns;
    }
    if (ring_count(engine_feedback_ring(c->e)) > 64) wait_ns = 0; /* left over from a slow step */
    int64_t flush = next_param_flush(c);
    if (flush != INT64_MAX && flush - now_ns < wait_ns) wait_ns = flush - now_ns;
    if (wait_ns < 0) wait_ns = 0;
    if (c->net) {
        if (osc_net_wait(c->net, wait_ns)) {
            refresh(c, tb_ns_to_frame(c->e, tb_mono_ns()), tb_mono_ns());
            osc_net_receive(c->net, on_packet, c, 256);
        }
    } else if (wait_ns > 0) {
        struct timespec ts = {wait_ns / 1000000000, wait_ns % 1000000000};
        nanosleep(&ts, NULL);
    }
    now_ns = tb_mono_ns();
    control_step(c, tb_ns_to_frame(c->e, now_ns));
}
