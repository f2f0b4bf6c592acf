/* osc_api.c: the /bm address space (docs/osc.md): argument checks, the commands, and the routing
 * of other addresses to the patch's OSC mappings and the script's on_osc. Every /bm command that
 * can fail answers /bm/done or /bm/fail to its sender. */
#include "engine/control/control_internal.h"
#include "engine/control/lua_host.h"
#include "engine/behaviour.h"
#include "engine/version.h"
#include "engine/musician/mus_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef void (*cmd_fn)(bm_control *c, const osc_msg *m, const char *cmd);

struct command {
    const char *name;     /* the address without "/bm/" */
    cmd_fn fn;
    int min, max;         /* arguments */
    const char *usage;
};

/* ---- arguments ---- */

static int check_count(bm_control *c, const osc_msg *m, const char *cmd, int min, int max, const char *usage)
{
    if (m->argc < min)
        return ctl_fail(c, cmd, "/bm/%s needs %s%s", cmd, usage, min == max ? "" : " (some are optional)");
    if (m->argc > max)
        return max == 0 ? ctl_fail(c, cmd, "/bm/%s takes no arguments", cmd)
                        : ctl_fail(c, cmd, "/bm/%s takes at most %d argument%s: %s", cmd, max, max == 1 ? "" : "s", usage);
    return 0;
}

static int num(bm_control *c, const osc_msg *m, const char *cmd, int i, const char *what, double *out)
{
    if (osc_arg_number(m->types[i], m->argv[i], out) != 0)
        return ctl_fail(c, cmd, "the %s (argument %d) must be a number", what, i + 1);
    if (!isfinite(*out)) return ctl_fail(c, cmd, "the %s (argument %d) must be a finite number", what, i + 1);
    return 0;
}

/* A whole number (TouchOSC sends floats: they are rounded). */
static int whole(bm_control *c, const osc_msg *m, const char *cmd, int i, const char *what, int lo, int hi, int *out)
{
    double v;
    if (num(c, m, cmd, i, what, &v) != 0) return -1;
    v = round(v);
    if (v < lo || v > hi) return ctl_fail(c, cmd, "the %s %g is outside %d..%d", what, v, lo, hi);
    *out = (int)v;
    return 0;
}

static const char *str(bm_control *c, const osc_msg *m, const char *cmd, int i, const char *what, char *tmp)
{
    const char *s = osc_arg_string(m->types[i], m->argv[i], tmp);
    if (!s) ctl_fail(c, cmd, "the %s (argument %d) must be a string", what, i + 1);
    return s;
}

/* A band part by name or number (1 bass .. 4 lead); -1 after a failure. */
static int part_arg(bm_control *c, const osc_msg *m, const char *cmd, int i)
{
    char tmp[2];
    double v;
    int part = -1;
    if (osc_arg_number(m->types[i], m->argv[i], &v) == 0 && isfinite(v)) part = (int)round(v);
    else {
        const char *s = osc_arg_string(m->types[i], m->argv[i], tmp);
        if (s) part = bm_part_from_name(s);
    }
    if (part < BM_PART_BASS || part >= BM_NUM_PARTS)
        return ctl_fail(c, cmd, "argument %d must be a band part: bass, drums, comping or lead", i + 1);
    return part;
}

static void param_reply(bm_control *c, const osc_peer *to, int idx)
{
    const bm_param *p = &c->params.p[idx];
    char path[96];
    snprintf(path, sizeof path, "/bm/param/%s", p->id);
    if (p->type == BM_PARAM_TEXT) ctl_send(c, to, path, "s", p->text);
    else if (p->type == BM_PARAM_OPTION) ctl_send(c, to, path, "s", params_option_name(&c->params, idx));
    else ctl_send(c, to, path, "f", p->value);
    if (p->type != BM_PARAM_TEXT && p->type != BM_PARAM_TRIGGER) {
        snprintf(path, sizeof path, "/bm/param/%s/norm", p->id);
        ctl_send(c, to, path, "f", params_get_norm(&c->params, idx));
    }
}

/* Sets a parameter from argument i (a number, or a name for options and text); 0 or -1 (failed). */
static int set_from_arg(bm_control *c, const osc_msg *m, const char *cmd, int idx, int i)
{
    char err[256], tmp[2];
    double v;
    int rc;
    if (osc_arg_number(m->types[i], m->argv[i], &v) == 0) {
        rc = params_set(&c->params, idx, v, BM_SRC_OSC, err, sizeof err);
    } else {
        const char *s = osc_arg_string(m->types[i], m->argv[i], tmp);
        if (!s) return ctl_fail(c, cmd, "the value must be a number or a name");
        rc = params_set_string(&c->params, idx, s, BM_SRC_OSC, err, sizeof err);
    }
    return rc ? ctl_fail(c, cmd, "%s", err) : 0;
}

static int set_builtin(bm_control *c, const char *cmd, int idx, double v)
{
    char err[256];
    if (params_set(&c->params, idx, v, BM_SRC_OSC, err, sizeof err) != 0) return ctl_fail(c, cmd, "%s", err);
    return 0;
}

/* ---- commands ---- */

static void cmd_status(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    (void)cmd;
    osc_api_status(c, c->from);
}

static void dump_params(bm_control *c, const osc_peer *to)
{
    for (int i = 0; i < c->params.n; i++) param_reply(c, to, i);
}

static void cmd_notify(bm_control *c, const osc_msg *m, const char *cmd)
{
    int on = 1;
    uint32_t mask = NOTIFY_ALL;
    char err[256], tmp[2];
    if (m->argc >= 1 && whole(c, m, cmd, 0, "switch (1 on, 0 off)", 0, 1, &on) != 0) return;
    if (m->argc >= 2) {
        const char *s = str(c, m, cmd, 1, "categories", tmp);
        if (!s) return;
        if (notify_parse_mask(s, &mask, err, sizeof err) != 0) {
            ctl_fail(c, cmd, "%s", err);
            return;
        }
    }
    int reply_port = 0;
    if (m->argc >= 3 && whole(c, m, cmd, 2, "reply port", 1, 65535, &reply_port) != 0) return;
    if (!on) {
        if (notify_remove(&c->notify, c->sender) != 0) {
            ctl_fail(c, cmd, "this client was not registered for feedback");
            return;
        }
        ctl_done(c, cmd, NULL);
        return;
    }
    notify_add(&c->notify, c->sender, mask, reply_port, c->now_ns);
    c->from = notify_reply_to(&c->notify, c->sender);
    ctl_done(c, cmd, NULL);
    if (mask & NOTIFY_PARAMS) dump_params(c, c->from); /* so a layout shows the real state at once */
}

static void cmd_sync(bm_control *c, const osc_msg *m, const char *cmd)
{
    int id = 0;
    if (m->argc >= 1 && whole(c, m, cmd, 0, "sync id", INT32_MIN, INT32_MAX, &id) != 0) return;
    if (engine_commands_applied(c->e)) {
        ctl_send(c, c->from, "/bm/synced", "i", id);
        return;
    }
    for (int i = 0; i < CTL_MAX_SYNCS; i++)
        if (!c->syncs[i].used) {
            c->syncs[i].used = 1;
            c->syncs[i].peer = *c->from;
            c->syncs[i].id = id;
            return;
        }
    ctl_fail(c, cmd, "too many /bm/sync requests wait already (%d)", CTL_MAX_SYNCS);
}

static void cmd_params(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    for (int i = 0; i < c->params.n; i++) {
        const bm_param *p = &c->params.p[i];
        lo_message msg = lo_message_new();
        lo_message_add_string(msg, p->id);
        lo_message_add_string(msg, params_type_name(p->type));
        lo_message_add_float(msg, (float)p->min);
        lo_message_add_float(msg, (float)p->max);
        lo_message_add_float(msg, (float)p->def);
        if (p->type == BM_PARAM_TEXT) lo_message_add_string(msg, p->text);
        else if (p->type == BM_PARAM_OPTION) lo_message_add_string(msg, params_option_name(&c->params, i));
        else lo_message_add_float(msg, (float)p->value);
        lo_message_add_string(msg, p->name);
        for (int k = 0; k < p->noptions; k++) lo_message_add_string(msg, p->options[k]);
        size_t n = osc_build_lo(c->scratch, sizeof c->scratch, "/bm/param/info", msg);
        lo_message_free(msg);
        ctl_send_packet(c, c->from, c->scratch, n);
    }
    ctl_done(c, cmd, NULL);
}

static void cmd_play(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (set_builtin(c, cmd, c->b.playing, 1) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_stop(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (set_builtin(c, cmd, c->b.playing, 0) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_locate(bm_control *c, const osc_msg *m, const char *cmd)
{
    double beat;
    if (num(c, m, cmd, 0, "beat", &beat) != 0) return;
    if (beat < 0 || beat > 1e7) {
        ctl_fail(c, cmd, "the beat %g is outside 0..10000000", beat);
        return;
    }
    if (ctl_command(c, BM_CMD_LOCATE, 0, beat) != 0) ctl_fail(c, cmd, "the engine is busy; try again");
    else ctl_done(c, cmd, NULL);
}

static void cmd_tempo(bm_control *c, const osc_msg *m, const char *cmd)
{
    double bpm;
    if (num(c, m, cmd, 0, "tempo", &bpm) != 0) return;
    if (bpm < BM_MIN_BPM || bpm > BM_MAX_BPM) {
        ctl_fail(c, cmd, "%g BPM is outside %g..%g", bpm, BM_MIN_BPM, BM_MAX_BPM);
        return;
    }
    if (set_builtin(c, cmd, c->b.tempo, bpm) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_tap(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (set_builtin(c, cmd, c->b.tap, 1) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_panic(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (set_builtin(c, cmd, c->b.panic, 1) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_mode(bm_control *c, const osc_msg *m, const char *cmd)
{
    if (set_from_arg(c, m, cmd, c->b.mode, 0) == 0) ctl_done(c, cmd, params_option_name(&c->params, c->b.mode));
}

static void cmd_modes(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    (void)cmd;
    lo_message msg = lo_message_new();
    for (int i = 0; bm_mode_names[i]; i++) lo_message_add_string(msg, bm_mode_names[i]);
    size_t n = osc_build_lo(c->scratch, sizeof c->scratch, "/bm/modes.reply", msg);
    lo_message_free(msg);
    ctl_send_packet(c, c->from, c->scratch, n);
}

static void set_part(bm_control *c, const osc_msg *m, const char *cmd, int part, int i)
{
    int on;
    if (whole(c, m, cmd, i, "switch (1 on, 0 off)", 0, 1, &on) != 0) return;
    if (set_builtin(c, cmd, c->b.part_on[part], on) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_part(bm_control *c, const osc_msg *m, const char *cmd)
{
    int part = part_arg(c, m, cmd, 0);
    if (part >= 0) set_part(c, m, cmd, part, 1);
}

static void cmd_human(bm_control *c, const osc_msg *m, const char *cmd)
{
    if (set_from_arg(c, m, cmd, c->b.human, 0) == 0) ctl_done(c, cmd, params_option_name(&c->params, c->b.human));
}

static int any_part_arg(bm_control *c, const osc_msg *m, const char *cmd, int i)
{
    char tmp[2];
    const char *s = osc_arg_string(m->types[i], m->argv[i], tmp);
    double v;
    int part = -1;
    if (s) part = bm_part_from_name(s);
    else if (osc_arg_number(m->types[i], m->argv[i], &v) == 0 && isfinite(v)) part = (int)round(v);
    if (part < 0 || part >= BM_NUM_PARTS)
        return ctl_fail(c, cmd, "argument %d must be a part: human, bass, drums, comping or lead", i + 1);
    return part;
}

static void cmd_voice(bm_control *c, const osc_msg *m, const char *cmd)
{
    int part = any_part_arg(c, m, cmd, 0);
    if (part < 0) return;
    char tmp[2];
    const char *name = str(c, m, cmd, 1, "voice name", tmp);
    if (!name) return;
    char err[256];
    if (params_set_string(&c->params, c->b.voice[part], name, BM_SRC_OSC, err, sizeof err) != 0)
        ctl_fail(c, cmd, "%s", err);
    else ctl_done(c, cmd, NULL);
}

static void cmd_morph(bm_control *c, const osc_msg *m, const char *cmd)
{
    int part = any_part_arg(c, m, cmd, 0);
    if (part < 0) return;
    double amount;
    if (num(c, m, cmd, 1, "amount", &amount) != 0) return;
    if (amount < 0 || amount > 1) {
        ctl_fail(c, cmd, "the morph amount %g is outside 0..1", amount);
        return;
    }
    char err[256], tmp[2];
    if (m->argc >= 3) {
        const char *to = str(c, m, cmd, 2, "target voice", tmp);
        if (!to) return;
        if (params_set_string(&c->params, c->b.morph_to[part], to, BM_SRC_OSC, err, sizeof err) != 0) {
            ctl_fail(c, cmd, "%s", err);
            return;
        }
    }
    if (set_builtin(c, cmd, c->b.morph[part], amount) == 0) ctl_done(c, cmd, NULL);
}

static void ranged(bm_control *c, const osc_msg *m, const char *cmd, int idx, const char *what)
{
    double v;
    if (num(c, m, cmd, 0, what, &v) != 0) return;
    const bm_param *p = &c->params.p[idx];
    if (v < p->min || v > p->max) {
        ctl_fail(c, cmd, "the %s %g is outside %g..%g", what, v, p->min, p->max);
        return;
    }
    if (set_builtin(c, cmd, idx, v) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_temperature(bm_control *c, const osc_msg *m, const char *cmd)
{
    ranged(c, m, cmd, c->b.temperature, "temperature");
}

static void cmd_density(bm_control *c, const osc_msg *m, const char *cmd) { ranged(c, m, cmd, c->b.density, "density"); }

static void cmd_key(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2];
    const char *root = str(c, m, cmd, 0, "key (C, C#, D, ... B)", tmp);
    if (!root) return;
    int pc = song_pitch_class(root, NULL);
    if (pc < 0) {
        ctl_fail(c, cmd, "'%s' is not a key (C, C#, Db, D, ... B)", root);
        return;
    }
    char err[256];
    if (m->argc >= 2) {
        char tmp2[2];
        const char *scale = str(c, m, cmd, 1, "scale", tmp2);
        if (!scale) return;
        if (params_set_string(&c->params, c->b.scale, scale, BM_SRC_OSC, err, sizeof err) != 0) {
            ctl_fail(c, cmd, "%s", err);
            return;
        }
    }
    if (set_builtin(c, cmd, c->b.key, pc) == 0) ctl_done(c, cmd, NULL);
}

static void cmd_chords(bm_control *c, const osc_msg *m, const char *cmd)
{
    if (m->argc % 2) {
        ctl_fail(c, cmd, "/bm/chords takes pairs: a chord symbol and its length in beats");
        return;
    }
    if (m->argc / 2 > BM_SONG_MAX_CHORDS) {
        ctl_fail(c, cmd, "a chart holds at most %d chords", BM_SONG_MAX_CHORDS);
        return;
    }
    bm_chord chart[BM_SONG_MAX_CHORDS];
    double total = 0;
    for (int i = 0; i < m->argc; i += 2) {
        char tmp[2], err[256];
        const char *sym = str(c, m, cmd, i, "chord symbol", tmp);
        double beats;
        if (!sym || num(c, m, cmd, i + 1, "length in beats", &beats) != 0) return;
        if (!(beats > 0 && beats <= 1024)) {
            ctl_fail(c, cmd, "the chord %s lasts %g beats; give 0 < beats <= 1024", sym, beats);
            return;
        }
        if (song_parse_chord(sym, &chart[i / 2], err, sizeof err) != 0) {
            ctl_fail(c, cmd, "%s", err);
            return;
        }
        chart[i / 2].beats = beats;
        total += beats;
    }
    memcpy(c->song.chart, chart, sizeof chart[0] * (size_t)(m->argc / 2));
    c->song.nchords = m->argc / 2;
    c->song.chart_beats = total;
    c->song.chart_start = 0;
    ctl_done(c, cmd, NULL);
}

static void cmd_note(bm_control *c, const osc_msg *m, const char *cmd)
{
    int part = part_arg(c, m, cmd, 0), note, vel;
    if (part < 0) return;
    if (whole(c, m, cmd, 1, "note", 0, 127, &note) != 0 || whole(c, m, cmd, 2, "velocity", 0, 127, &vel) != 0) return;
    double dur = 1;
    if (m->argc >= 4 && num(c, m, cmd, 3, "length in beats", &dur) != 0) return;
    if (dur < 0 || dur > 1e4) {
        ctl_fail(c, cmd, "the length %g beats is outside 0..10000 (0 holds the note)", dur);
        return;
    }
    ctl_when w = {CTL_NOW, 0, 0};
    if (c->due >= 0) w = (ctl_when){CTL_FRAME, c->due, 0};
    char err[256];
    int rc = ctl_note(c, part, note, vel, dur, w, err, sizeof err);
    if (rc < 0) ctl_fail(c, cmd, "%s", err);
    else ctl_done(c, cmd, rc == 1 ? "the part is off" : NULL);
}

static void cmd_script_load(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2], err[2048];
    const char *path = str(c, m, cmd, 0, "script path", tmp);
    if (!path) return;
    if (ctl_script_load(c, path, err, sizeof err) != 0) {
        char *nl = strchr(err, '\n');
        if (nl) *nl = 0;
        ctl_fail(c, cmd, "%s (the running script, if any, keeps running)", err);
        return;
    }
    if (!lua_host_running(c->lua)) ctl_fail(c, cmd, "the script's init() failed; the band plays its patch's mode without it");
    else ctl_done(c, cmd, path);
}

static void cmd_script_reload(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    char err[2048];
    if (!c->script_path[0]) {
        ctl_fail(c, cmd, "no script has been loaded");
        return;
    }
    if (ctl_script_load(c, c->script_path, err, sizeof err) != 0) {
        char *nl = strchr(err, '\n');
        if (nl) *nl = 0;
        ctl_fail(c, cmd, "%s (the running script keeps running)", err);
        return;
    }
    if (!lua_host_running(c->lua)) ctl_fail(c, cmd, "the script's init() failed; the band plays its patch's mode without it");
    else ctl_done(c, cmd, c->script_path);
}

static void cmd_script_stop(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (!lua_host_running(c->lua)) {
        ctl_fail(c, cmd, "no script is running");
        return;
    }
    ctl_script_stop(c);
    ctl_done(c, cmd, NULL);
}

static void cmd_model_load(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2], err[512];
    const char *path = str(c, m, cmd, 0, "model path", tmp);
    if (!path) return;
    if (m->argc >= 2 && any_part_arg(c, m, cmd, 1) < 0) return;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        ctl_fail(c, cmd, "the model %s does not exist or is not a file", path);
        return;
    }
    /* a musician model, whole and of the shape the musician plays */
    mus_model *model = mus_model_shared(path, err, sizeof err);
    if (!model) {
        ctl_fail(c, cmd, "%s", err);
        return;
    }
    mus_model_release(model);
    char before[1024];
    snprintf(before, sizeof before, "%s", behaviour_model_path());
    behaviour_set_model_path(path);
    const char *mode = engine_mode(c->e);
    if (behaviour_mode_uses_model(mode) && engine_rebuild_mode(c->e, err, sizeof err) != 0) {
        behaviour_set_model_path(before);
        ctl_fail(c, cmd, "%s; the band plays on with %s", err, before);
        return;
    }
    ctl_done(c, cmd, path);
}

static void cmd_midi_learn(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2];
    const char *id = str(c, m, cmd, 0, "parameter id", tmp);
    if (!id) return;
    if (!id[0]) { /* cancel */
        c->midi.learning[0] = 0;
        c->learn_peer.used = 0;
        ctl_done(c, cmd, "cancelled");
        return;
    }
    if (params_find(&c->params, id) < 0) {
        ctl_fail(c, cmd, "'%s' is not a parameter (/bm/params lists them)", id);
        return;
    }
    if (c->learn_peer.used && !osc_peer_same(&c->learn_peer.peer, c->from))
        ctl_send(c, &c->learn_peer.peer, "/bm/fail", "ss", cmd, "another client started MIDI learn");
    midimap_learn(&c->midi, id);
    c->learn_peer.used = 1;
    c->learn_peer.peer = *c->from;
    ctl_send(c, c->from, "/bm/learning", "s", id); /* /bm/done comes when a controller moves */
}

static void cmd_midi_map(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2], err[256];
    const char *id = str(c, m, cmd, 0, "parameter id", tmp);
    int cc, ch = 0;
    if (!id || whole(c, m, cmd, 1, "controller", 0, 127, &cc) != 0) return;
    if (m->argc >= 3 && whole(c, m, cmd, 2, "channel (1..16, 0 any)", 0, 16, &ch) != 0) return;
    if (params_find(&c->params, id) < 0) {
        ctl_fail(c, cmd, "'%s' is not a parameter (/bm/params lists them)", id);
        return;
    }
    if (midimap_set(&c->midi, id, ch - 1, cc, err, sizeof err) != 0) ctl_fail(c, cmd, "%s", err);
    else ctl_done(c, cmd, NULL);
}

static void cmd_midi_unmap(bm_control *c, const osc_msg *m, const char *cmd)
{
    char tmp[2];
    const char *id = str(c, m, cmd, 0, "parameter id", tmp);
    if (!id) return;
    if (midimap_remove(&c->midi, id) != 0) ctl_fail(c, cmd, "'%s' has no MIDI mapping", id);
    else ctl_done(c, cmd, NULL);
}

static void cmd_midi_maps(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    for (int i = 0; i < c->midi.n; i++)
        ctl_send(c, c->from, "/bm/midi/mapping", "sii", c->midi.m[i].param, c->midi.m[i].channel + 1, c->midi.m[i].cc);
    ctl_done(c, cmd, NULL);
}

static void cmd_phrase_end(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    if (engine_end_phrase(c->e) != 0) ctl_fail(c, cmd, "the engine is busy; try again");
    else ctl_done(c, cmd, NULL);
}

static void cmd_listen(bm_control *c, const osc_msg *m, const char *cmd)
{
    (void)m;
    (void)cmd;
    bm_listen_state st;
    engine_listen_state(c->e, &st);
    char key[32], chord[32];
    listen_key_name(st.key_root, st.key_minor, key, sizeof key);
    listen_chord_name(st.chord_root, st.chord_quality, chord, sizeof chord);
    lo_message msg = lo_message_new();
    lo_message_add_string(msg, key);
    lo_message_add_float(msg, st.key_confidence);
    lo_message_add_string(msg, chord);
    lo_message_add_float(msg, st.chord_confidence);
    lo_message_add_float(msg, (float)st.tempo_bpm);
    lo_message_add_float(msg, st.tempo_confidence);
    lo_message_add_int32(msg, st.in_phrase);
    lo_message_add_int32(msg, (int32_t)st.phrases);
    lo_message_add_float(msg, st.input_db);
    size_t n = osc_build_lo(c->scratch, sizeof c->scratch, "/bm/listen.reply", msg);
    lo_message_free(msg);
    ctl_send_packet(c, c->from, c->scratch, n);
}

static void cmd_lua(bm_control *c, const osc_msg *m, const char *cmd)
{
    if (!c->o.osc_lua) {
        ctl_fail(c, cmd, "running Lua code over OSC is off; start bandmate with --osc-lua (or osc = {lua = true} in the patch)");
        return;
    }
    char tmp[2];
    const char *code = str(c, m, cmd, 0, "Lua code", tmp);
    if (!code) return;
    char out[2048];
    if (lua_host_eval(c->lua, code, strlen(code), out, sizeof out) != 0) ctl_fail(c, cmd, "%s", out);
    else ctl_done(c, cmd, out);
}

static const struct command commands[] = {
    {"status", cmd_status, 0, 0, ""},
    {"notify", cmd_notify, 0, 3, "[1|0] [categories] [reply port]"},
    {"sync", cmd_sync, 0, 1, "[id]"},
    {"params", cmd_params, 0, 0, ""},
    {"transport/play", cmd_play, 0, 0, ""},
    {"transport/stop", cmd_stop, 0, 0, ""},
    {"transport/locate", cmd_locate, 1, 1, "a beat"},
    {"tempo", cmd_tempo, 1, 1, "a tempo in BPM"},
    {"tap", cmd_tap, 0, 0, ""},
    {"panic", cmd_panic, 0, 0, ""},
    {"mode", cmd_mode, 1, 1, "a mode name"},
    {"modes", cmd_modes, 0, 0, ""},
    {"part", cmd_part, 2, 2, "a part and 1 or 0"},
    {"human", cmd_human, 1, 1, "a part (or none)"},
    {"voice", cmd_voice, 2, 2, "a part and a voice name"},
    {"voice/morph", cmd_morph, 2, 3, "a part, an amount 0..1 and a target voice"},
    {"temperature", cmd_temperature, 1, 1, "a temperature"},
    {"density", cmd_density, 1, 1, "a density 0..1"},
    {"key", cmd_key, 1, 2, "a key and a scale"},
    {"chords", cmd_chords, 0, 2 * BM_SONG_MAX_CHORDS, "chord symbols each followed by beats"},
    {"note", cmd_note, 3, 4, "a part, a note, a velocity and a length in beats"},
    {"script/load", cmd_script_load, 1, 1, "a script path"},
    {"script/reload", cmd_script_reload, 0, 0, ""},
    {"script/stop", cmd_script_stop, 0, 0, ""},
    {"model/load", cmd_model_load, 1, 2, "a model path and a part"},
    {"midi/learn", cmd_midi_learn, 1, 1, "a parameter id (\"\" cancels)"},
    {"midi/map", cmd_midi_map, 2, 3, "a parameter id, a controller and a channel"},
    {"midi/unmap", cmd_midi_unmap, 1, 1, "a parameter id"},
    {"midi/maps", cmd_midi_maps, 0, 0, ""},
    {"phrase/end", cmd_phrase_end, 0, 0, ""},
    {"listen", cmd_listen, 0, 0, ""},
    {"lua", cmd_lua, 1, 1, "Lua code"},
};

/* /bm/param/<id>, /bm/param/<id>/norm, /bm/param/<id>/get */
static void param_address(bm_control *c, const osc_msg *m, const char *cmd)
{
    char id[BM_PARAM_ID_MAX + 16];
    const char *rest = cmd + 6;
    const char *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len == 0 || len >= BM_PARAM_ID_MAX) {
        ctl_fail(c, cmd, "'%.60s' is not a parameter address (/bm/param/ID)", m->path);
        return;
    }
    memcpy(id, rest, len);
    id[len] = 0;
    int idx = params_find(&c->params, id);
    if (idx < 0) {
        ctl_fail(c, cmd, "'%s' is not a parameter (/bm/params lists them)", id);
        return;
    }
    const char *what = slash ? slash + 1 : "";
    if (!strcmp(what, "get")) {
        if (check_count(c, m, cmd, 0, 0, "") == 0) param_reply(c, c->from, idx);
        return;
    }
    if (!strcmp(what, "norm")) {
        double v;
        char err[256];
        if (check_count(c, m, cmd, 1, 1, "a value 0..1") != 0 || num(c, m, cmd, 0, "value", &v) != 0) return;
        if (params_set_norm(&c->params, idx, v, BM_SRC_OSC, err, sizeof err) != 0) ctl_fail(c, cmd, "%s", err);
        else ctl_done(c, cmd, NULL);
        return;
    }
    if (what[0]) {
        ctl_fail(c, cmd, "'%.60s' is not a parameter address (/bm/param/ID, /norm or /get)", m->path);
        return;
    }
    if (c->params.p[idx].type == BM_PARAM_TRIGGER && m->argc == 0) {
        if (set_builtin(c, cmd, idx, 1) == 0) ctl_done(c, cmd, NULL);
        return;
    }
    if (check_count(c, m, cmd, 1, 1, "a value") != 0) return;
    if (set_from_arg(c, m, cmd, idx, 0) == 0) ctl_done(c, cmd, NULL);
}

/* An address of the patch's osc_map: its arguments set parameters, normalised 0..1. */
static int mapped_address(bm_control *c, const osc_msg *m)
{
    const bm_patch *p = c->patch;
    for (int i = 0; i < p->n_osc_map; i++) {
        if (strcmp(p->osc_map[i].path, m->path)) continue;
        for (int k = 0; k < p->osc_map[i].nparams && k < m->argc; k++) {
            double v;
            char err[256];
            if (osc_arg_number(m->types[k], m->argv[k], &v) != 0) {
                ctl_fail(c, m->path, "argument %d must be a number 0..1", k + 1);
                return 1;
            }
            if (ctl_param_set(c, p->osc_map[i].param[k], 'u', v, NULL, BM_SRC_OSC, err, sizeof err) != 0) {
                ctl_fail(c, m->path, "%s", err);
                return 1;
            }
        }
        return 1;
    }
    return 0;
}

void osc_api_dispatch(bm_control *c, const osc_msg *m)
{
    if (strncmp(m->path, "/bm/", 4) != 0) {
        if (!strcmp(m->path, "/bm")) {
            ctl_fail(c, "", "/bm alone is not a command; docs/osc.md lists the addresses");
            return;
        }
        if (mapped_address(c, m)) return;
        lua_host_osc(c->lua, m, c->from); /* the script's, or nobody's: ignored */
        return;
    }
    const char *cmd = m->path + 4;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command *k = &commands[i];
        if (strcmp(cmd, k->name)) continue;
        if (check_count(c, m, cmd, k->min, k->max, k->usage) == 0) k->fn(c, m, cmd);
        return;
    }
    if (!strncmp(cmd, "param/", 6)) {
        param_address(c, m, cmd);
        return;
    }
    if (!strncmp(cmd, "part/", 5)) {
        int part = bm_part_from_name(cmd + 5);
        if (part < BM_PART_BASS) ctl_fail(c, cmd, "'%.40s' is not a band part (bass, drums, comping, lead)", cmd + 5);
        else if (check_count(c, m, cmd, 1, 1, "1 or 0") == 0) set_part(c, m, cmd, part, 0);
        return;
    }
    ctl_fail(c, cmd, "%.100s is not an address bandmate knows; docs/osc.md lists them", m->path);
}

void osc_api_status(bm_control *c, const osc_peer *to)
{
    const bm_engine_stats *st = engine_stats(c->e);
    const bm_musician_stats *ms = engine_musician_stats(c->e);
    double beat = clock_map_beat_at(&c->map, c->now);
    long whole_beat = (long)floor(beat < 0 ? 0 : beat);
    int bpb = c->map.beats_per_bar > 0 ? c->map.beats_per_bar : 4;
    char parts[64] = "";
    for (int p = BM_PART_BASS; p < BM_NUM_PARTS; p++)
        if (c->parts_on & (1u << p))
            snprintf(parts + strlen(parts), sizeof parts - strlen(parts), "%s%s", parts[0] ? "," : "", bm_part_name(p));
    uint64_t xruns = c->jack ? jack_driver_xruns(c->jack) : atomic_load(&st->xruns);
    lo_message msg = lo_message_new();
    lo_message_add_float(msg, (float)c->map.bpm);
    lo_message_add_float(msg, (float)beat);
    lo_message_add_int32(msg, (int32_t)(whole_beat / bpb + 1));
    lo_message_add_int32(msg, (int32_t)(whole_beat % bpb + 1));
    lo_message_add_int32(msg, c->map.rolling);
    lo_message_add_string(msg, params_option_name(&c->params, c->b.mode));
    lo_message_add_string(msg, params_option_name(&c->params, c->b.human));
    lo_message_add_string(msg, parts);
    lo_message_add_int32(msg, (int32_t)xruns);
    lo_message_add_int32(msg, (int32_t)atomic_load(&st->late_events));
    lo_message_add_int32(msg, (int32_t)atomic_load(&ms->late_steps));
    lo_message_add_int32(msg, (int32_t)atomic_load(&st->human_notes));
    lo_message_add_int32(msg, (int32_t)atomic_load(&st->band_notes));
    lo_message_add_float(msg, c->jack ? jack_driver_cpu_load(c->jack) : 0.0f);
    lo_message_add_string(msg, lua_host_running(c->lua) ? lua_host_path(c->lua) : "");
    lo_message_add_int32(msg, notify_count(&c->notify));
    lo_message_add_float(msg, (float)c->sr);
    lo_message_add_int32(msg, (int32_t)c->osc_in);
    lo_message_add_int32(msg, (int32_t)c->osc_failed);
    lo_message_add_string(msg, BM_VERSION);
    size_t n = osc_build_lo(c->scratch, sizeof c->scratch, "/bm/status.reply", msg);
    lo_message_free(msg);
    ctl_send_packet(c, to, c->scratch, n);
}
