/* patch.c: reading and validating patch files (Lua tables) into an engine configuration. */
#include "engine/patch.h"
#include "engine/behaviour.h"
#include "engine/listen/listen_patch.h"
#include "engine/musician/mus_model.h"
#include "engine/sandbox.h"
#include "engine/voice/voice_bank.h"
#include "engine/voice/voicedef.h"

#include <lauxlib.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void base_defaults(bm_patch *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "default (echo)");
    engine_config_defaults(&p->cfg);
    p->audio_inputs = 1;
}

/* 0 when the musician model loads (it stays cached for the behaviour), else -1 with why. */
static int model_usable(char *why, size_t cap)
{
    mus_model *m = mus_model_shared(behaviour_model_path(), why, cap);
    if (!m) return -1;
    mus_model_release(m);
    return 0;
}

/* The default mode: the trained musician when its model loads, else the echo harmoniser, said once. */
static void default_mode(bm_patch *p, int rename)
{
    char why[1024];
    if (model_usable(why, sizeof why) == 0) {
        snprintf(p->cfg.mode, sizeof p->cfg.mode, "accompany");
        if (rename) snprintf(p->name, sizeof p->name, "default (accompany)");
        return;
    }
    static int told;
    if (!told++)
        fprintf(stderr, "bandmate: the musician model cannot be used (%s); the band plays the echo harmoniser "
                "instead (run 'make model', or point BANDMATE_MODEL at a model).\n", why);
    snprintf(p->cfg.mode, sizeof p->cfg.mode, "echo");
}

void patch_defaults(bm_patch *p)
{
    base_defaults(p);
    default_mode(p, 1);
}

struct ctx {
    lua_State *L;
    const char *path;
    char *err;
    size_t errlen;
    int failed;
};

static void fail(struct ctx *c, const char *fmt, ...)
{
    if (c->failed) return;
    c->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "patch %s: %s", c->path, msg);
}

/* Checks that every key of the table on top of the stack is in allowed. */
static void check_keys(struct ctx *c, const char *where, const char *const *allowed)
{
    lua_pushnil(c->L);
    while (lua_next(c->L, -2)) {
        lua_pop(c->L, 1);
        if (lua_type(c->L, -1) != LUA_TSTRING) {
            fail(c, "%s has a key that is not a name", where);
            lua_pop(c->L, 1);
            return;
        }
        const char *k = lua_tostring(c->L, -1);
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(k, allowed[i])) ok = 1;
        if (!ok) {
            fail(c, "'%s' is not a field bandmate knows in %s", k, where);
            lua_pop(c->L, 1);
            return;
        }
    }
}

/* Field readers: each leaves the stack as it found it; absent fields keep the default. */
static int get_number(struct ctx *c, const char *key, double lo, double hi, double *out)
{
    lua_getfield(c->L, -1, key);
    int t = lua_type(c->L, -1);
    int found = 0;
    if (t == LUA_TNUMBER) {
        double v = lua_tonumber(c->L, -1);
        if (!(v >= lo && v <= hi)) fail(c, "%s = %g is outside %g..%g", key, v, lo, hi);
        else {
            *out = v;
            found = 1;
        }
    } else if (t != LUA_TNIL) {
        fail(c, "%s must be a number", key);
    }
    lua_pop(c->L, 1);
    return found;
}

static int get_bool(struct ctx *c, const char *key, int *out)
{
    lua_getfield(c->L, -1, key);
    int t = lua_type(c->L, -1), found = 0;
    if (t == LUA_TBOOLEAN) {
        *out = lua_toboolean(c->L, -1);
        found = 1;
    } else if (t != LUA_TNIL) {
        fail(c, "%s must be true or false", key);
    }
    lua_pop(c->L, 1);
    return found;
}

static int get_string(struct ctx *c, const char *key, char *out, size_t cap)
{
    lua_getfield(c->L, -1, key);
    int t = lua_type(c->L, -1), found = 0;
    if (t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(c->L, -1, &len);
        if (len >= cap) fail(c, "%s is too long", key);
        else {
            memcpy(out, s, len + 1);
            found = 1;
        }
    } else if (t != LUA_TNIL) {
        fail(c, "%s must be a string", key);
    }
    lua_pop(c->L, 1);
    return found;
}

/* A string or a list of strings. */
static int get_string_list(struct ctx *c, const char *key, char (*out)[256], int max)
{
    lua_getfield(c->L, -1, key);
    int n = 0;
    if (lua_type(c->L, -1) == LUA_TSTRING) {
        snprintf(out[0], 256, "%s", lua_tostring(c->L, -1));
        n = 1;
    } else if (lua_type(c->L, -1) == LUA_TTABLE) {
        lua_Integer len = luaL_len(c->L, -1);
        if (len > max) fail(c, "%s lists more than %d ports", key, max);
        for (lua_Integer i = 1; i <= len && i <= max && !c->failed; i++) {
            lua_geti(c->L, -1, i);
            if (lua_type(c->L, -1) != LUA_TSTRING) fail(c, "%s[%d] must be a port name", key, (int)i);
            else snprintf(out[n++], 256, "%s", lua_tostring(c->L, -1));
            lua_pop(c->L, 1);
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "%s must be a port name or a list of them", key);
    }
    lua_pop(c->L, 1);
    return n;
}

/* parts.X.voice: "NAME", "A,B@0.3", or {"A", "B", morph = 0.3} / {"A", "B", "C", "D", x = .., y = ..},
 * kept as a voice spec (engine/voice/voice_bank.h); whether the files load is the engine's to say */
static void read_voice(struct ctx *c, bm_patch *p, int part, const char *where)
{
    lua_getfield(c->L, -1, "voice");
    char spec[sizeof p->cfg.voice[0]] = "";
    int t = lua_type(c->L, -1);
    if (t == LUA_TSTRING) {
        const char *name = lua_tostring(c->L, -1);
        size_t len = strlen(name);
        if (!strchr(name, ',') && !strchr(name, '@') && !(len > 5 && !strcmp(name + len - 5, ".bmnn")) &&
            !voice_name_valid(name))
            fail(c, "%s.voice '%s' is not a usable voice name (letters, digits, _ - . +)", where, name);
        snprintf(spec, sizeof spec, "%s", name);
    } else if (t == LUA_TTABLE) {
        static const char *const keys[] = {"morph", "x", "y", NULL};
        voice_spec sp = {0};
        lua_Integer n = luaL_len(c->L, -1);
        if (n < 1 || n > VOICE_SPEC_MAX) fail(c, "%s.voice lists %d voices; a morph has 2 to %d", where, (int)n, VOICE_SPEC_MAX);
        for (lua_Integer i = 1; i <= n && i <= VOICE_SPEC_MAX && !c->failed; i++) {
            lua_geti(c->L, -1, i);
            if (lua_type(c->L, -1) != LUA_TSTRING) fail(c, "%s.voice[%d] must be a voice name", where, (int)i);
            else snprintf(sp.names[sp.n++], sizeof sp.names[0], "%s", lua_tostring(c->L, -1));
            lua_pop(c->L, 1);
        }
        /* the named fields: morph (= x), x, y */
        lua_pushnil(c->L);
        while (lua_next(c->L, -2)) {
            lua_pop(c->L, 1);
            if (lua_type(c->L, -1) == LUA_TSTRING) {
                int ok = 0;
                for (int i = 0; keys[i]; i++) ok |= !strcmp(lua_tostring(c->L, -1), keys[i]);
                if (!ok) {
                    fail(c, "'%s' is not a field bandmate knows in %s.voice (morph, x, y)", lua_tostring(c->L, -1), where);
                    lua_pop(c->L, 1);
                    break;
                }
            }
        }
        double v;
        if (get_number(c, "morph", 0, 1, &v) || get_number(c, "x", 0, 1, &v)) sp.x = (float)v;
        if (get_number(c, "y", 0, 1, &v)) sp.y = (float)v;
        voice_spec_format(&sp, spec, sizeof spec);
    } else if (t != LUA_TNIL) {
        fail(c, "%s.voice must be a voice name or a list of 2 to 4 voices to morph between", where);
    }
    lua_pop(c->L, 1);
    if (!spec[0] || c->failed) return;
    voice_spec sp;
    char why[256];
    if (voice_spec_parse(spec, &sp, why, sizeof why) != 0) fail(c, "%s.voice: %s", where, why);
    else snprintf(p->cfg.voice[part], sizeof p->cfg.voice[part], "%s", spec);
}

static int valid_name(const char *s)
{
    if (!s[0] || strlen(s) > 63) return 0;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' ||
              *q == '-' || *q == '.' || *q == '+' || *q == ' '))
            return 0;
    return 1;
}

static int valid_param_id(const char *s)
{
    if (!s[0] || strlen(s) > 47) return 0;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')) return 0;
    return 1;
}

/* Resolves a path relative to the patch's folder. */
static void resolve(const bm_patch *p, char *path, size_t cap)
{
    if (!path[0] || path[0] == '/') return;
    char dir[1024], rel[1024];
    snprintf(dir, sizeof dir, "%s", p->path);
    snprintf(rel, sizeof rel, "%s", path);
    snprintf(path, cap, "%s/%s", dirname(dir), rel);
}

static void read_part(struct ctx *c, bm_patch *p, int part)
{
    static const char *const keys[] = {"instrument", "channel", "gain", "pan", "audio", "midi", "voice", NULL};
    char where[64];
    snprintf(where, sizeof where, "parts.%s", bm_part_name(part));
    check_keys(c, where, keys);
    char inst[64];
    if (get_string(c, "instrument", inst, sizeof inst)) {
        if (!strcmp(inst, "drums")) p->cfg.instrument[part] = -1;
        else {
            int preset = synth_classic_preset_from_name(inst);
            if (preset < 0)
                fail(c, "%s.instrument '%s' is not an instrument (bass, keys, lead, pad, organ, pluck, drums)",
                     where, inst);
            else p->cfg.instrument[part] = preset;
        }
    }
    read_voice(c, p, part, where);
    double v;
    if (get_number(c, "channel", 1, 16, &v)) p->cfg.channel[part] = (uint8_t)(v - 1);
    if (get_number(c, "gain", 0, 4, &v)) p->cfg.part_gain[part] = (float)v;
    if (get_number(c, "pan", -1, 1, &v)) p->cfg.part_pan[part] = (float)v;
    /* the control thread's voice parameter names the part's voice (the first of a morph) */
    voice_spec vsp;
    char vwhy[256];
    if (p->cfg.voice[part][0] && voice_spec_parse(p->cfg.voice[part], &vsp, vwhy, sizeof vwhy) == 0 &&
        valid_name(vsp.names[0]))
        snprintf(p->voice[part], sizeof p->voice[part], "%s", vsp.names[0]);
    int b;
    if (get_bool(c, "audio", &b)) {
        if (b) p->cfg.audio_parts |= 1u << part;
        else p->cfg.audio_parts &= ~(1u << part);
    }
    if (get_bool(c, "midi", &b)) {
        if (b) p->cfg.midi_out_parts |= 1u << part;
        else p->cfg.midi_out_parts &= ~(1u << part);
    }
}

static void read_script_options(struct ctx *c, bm_patch *p)
{
    double v;
    if (get_number(c, "script_memory_mb", 1, 1024, &v)) p->script_memory_mb = v;
    if (get_number(c, "script_budget_ms", 1, 1000, &v)) p->script_budget_ms = v;
    lua_getfield(c->L, -1, "script_allow");
    if (lua_istable(c->L, -1)) {
        lua_Integer n = luaL_len(c->L, -1);
        for (lua_Integer i = 1; i <= n && !c->failed; i++) {
            lua_geti(c->L, -1, i);
            const char *s = lua_type(c->L, -1) == LUA_TSTRING ? lua_tostring(c->L, -1) : "";
            if (!strcmp(s, "io")) p->script_allow |= BM_SCRIPT_ALLOW_IO;
            else if (!strcmp(s, "os")) p->script_allow |= BM_SCRIPT_ALLOW_OS;
            else if (!strcmp(s, "require")) p->script_allow |= BM_SCRIPT_ALLOW_REQUIRE;
            else fail(c, "script_allow[%d] must be \"io\", \"os\" or \"require\"", (int)i);
            lua_pop(c->L, 1);
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "script_allow must be a list like {\"io\", \"os\", \"require\"}");
    }
    lua_pop(c->L, 1);
}

static void read_osc(struct ctx *c, bm_patch *p)
{
    lua_getfield(c->L, -1, "osc");
    if (lua_istable(c->L, -1)) {
        static const char *const keys[] = {"port", "bind", "allow", "tcp", "lua", NULL};
        check_keys(c, "osc", keys);
        double v;
        if (get_number(c, "port", 1, 65535, &v)) p->osc_port = (int)v;
        get_string(c, "bind", p->osc_bind, sizeof p->osc_bind);
        get_bool(c, "tcp", &p->osc_tcp);
        get_bool(c, "lua", &p->osc_lua);
        lua_getfield(c->L, -1, "allow");
        if (lua_type(c->L, -1) == LUA_TSTRING) lua_newtable(c->L), lua_pushvalue(c->L, -2), lua_rawseti(c->L, -2, 1),
                                                 lua_remove(c->L, -2);
        if (lua_istable(c->L, -1)) {
            lua_Integer n = luaL_len(c->L, -1);
            if (n > BM_PATCH_MAX_ALLOW) fail(c, "osc.allow lists more than %d addresses", BM_PATCH_MAX_ALLOW);
            for (lua_Integer i = 1; i <= n && !c->failed; i++) {
                lua_geti(c->L, -1, i);
                size_t len = 0;
                const char *s = lua_type(c->L, -1) == LUA_TSTRING ? lua_tolstring(c->L, -1, &len) : NULL;
                if (!s || len == 0 || len >= sizeof p->osc_allow[0])
                    fail(c, "osc.allow[%d] must be an address like \"192.168.1.0/24\"", (int)i);
                else snprintf(p->osc_allow[p->n_osc_allow++], sizeof p->osc_allow[0], "%s", s);
                lua_pop(c->L, 1);
            }
        } else if (!lua_isnil(c->L, -1)) {
            fail(c, "osc.allow must be an address or a list of them");
        }
        lua_pop(c->L, 1);
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "osc must be a table like {port = 57140, allow = {\"192.168.1.0/24\"}}");
    }
    lua_pop(c->L, 1);
}

/* Calls each(c, p, key) for every string key of the table field name, with its value on top. */
static void each_keyed(struct ctx *c, bm_patch *p, const char *name,
                       void (*each)(struct ctx *, bm_patch *, const char *))
{
    lua_getfield(c->L, -1, name);
    if (lua_istable(c->L, -1)) {
        lua_pushnil(c->L);
        while (lua_next(c->L, -2)) {
            if (lua_type(c->L, -2) != LUA_TSTRING) fail(c, "%s has a key that is not a name", name);
            else if (!c->failed) {
                char key[160];
                snprintf(key, sizeof key, "%s", lua_tostring(c->L, -2));
                each(c, p, key);
            }
            lua_pop(c->L, 1);
            if (c->failed) {
                lua_pop(c->L, 1);
                break;
            }
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "%s must be a table", name);
    }
}

static void one_midi_map(struct ctx *c, bm_patch *p, const char *param)
{
    if (!valid_param_id(param)) {
        fail(c, "midi_map.%s is not a parameter id (a-z, 0-9, _)", param);
        return;
    }
    if (p->n_midi_map == BM_PATCH_MAX_MAPS) {
        fail(c, "midi_map has more than %d entries", BM_PATCH_MAX_MAPS);
        return;
    }
    bm_patch_midi_map *m = &p->midi_map[p->n_midi_map];
    char where[96];
    snprintf(where, sizeof where, "midi_map.%s", param);
    if (lua_isinteger(c->L, -1) || lua_type(c->L, -1) == LUA_TNUMBER) {
        double v = lua_tonumber(c->L, -1);
        if (!(v >= 0 && v <= 127) || v != floor(v)) {
            fail(c, "%s must be a controller number 0..127 or {cc = N, channel = C}", where);
            return;
        }
        m->cc = (int)v;
        m->channel = -1;
    } else if (lua_istable(c->L, -1)) {
        static const char *const keys[] = {"cc", "channel", NULL};
        check_keys(c, where, keys);
        double cc = -1, ch = 0;
        get_number(c, "cc", 0, 127, &cc);
        get_number(c, "channel", 1, 16, &ch);
        if (c->failed) return;
        if (cc < 0 || cc != floor(cc) || ch != floor(ch)) {
            fail(c, "%s needs cc = a whole number 0..127", where);
            return;
        }
        m->cc = (int)cc;
        m->channel = ch > 0 ? (int)ch - 1 : -1;
    } else {
        fail(c, "%s must be a controller number 0..127 or {cc = N, channel = C}", where);
        return;
    }
    snprintf(m->param, sizeof m->param, "%s", param);
    p->n_midi_map++;
}

static void read_midi_map(struct ctx *c, bm_patch *p)
{
    each_keyed(c, p, "midi_map", one_midi_map);
    lua_pop(c->L, 1);
}

static void one_osc_map(struct ctx *c, bm_patch *p, const char *path)
{
    if (path[0] != '/' || strlen(path) >= sizeof p->osc_map[0].path || !strncmp(path, "/bm/", 4) ||
        !strcmp(path, "/bm") || strpbrk(path, " #*,?[]{}")) {
        fail(c, "osc_map key '%.60s' must be an OSC address outside /bm (like \"/1/fader1\")", path);
        return;
    }
    if (p->n_osc_map == BM_PATCH_MAX_MAPS) {
        fail(c, "osc_map has more than %d entries", BM_PATCH_MAX_MAPS);
        return;
    }
    bm_patch_osc_map *m = &p->osc_map[p->n_osc_map];
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    if (lua_type(c->L, -1) == LUA_TSTRING) {
        snprintf(m->param[0], sizeof m->param[0], "%s", lua_tostring(c->L, -1));
        m->nparams = 1;
    } else if (lua_istable(c->L, -1)) {
        lua_Integer n = luaL_len(c->L, -1);
        if (n < 1 || n > 2) {
            fail(c, "osc_map[\"%s\"] lists one parameter, or two for an XY pad", path);
            return;
        }
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(c->L, -1, i);
            if (lua_type(c->L, -1) == LUA_TSTRING)
                snprintf(m->param[m->nparams++], sizeof m->param[0], "%s", lua_tostring(c->L, -1));
            lua_pop(c->L, 1);
        }
    }
    for (int i = 0; i < 2; i++)
        if ((i < m->nparams && !valid_param_id(m->param[i])) || (m->nparams == 0 && i == 0)) {
            fail(c, "osc_map[\"%s\"] must name a parameter id, or a list of two", path);
            return;
        }
    p->n_osc_map++;
}

static void read_osc_map(struct ctx *c, bm_patch *p)
{
    each_keyed(c, p, "osc_map", one_osc_map);
    lua_pop(c->L, 1);
}

static void one_value(struct ctx *c, bm_patch *p, const char *id)
{
    if (!valid_param_id(id)) {
        fail(c, "params.%s is not a parameter id (a-z, 0-9, _)", id);
        return;
    }
    if (p->n_values == BM_PATCH_MAX_MAPS) {
        fail(c, "params sets more than %d values", BM_PATCH_MAX_MAPS);
        return;
    }
    bm_patch_value *v = &p->values[p->n_values];
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%s", id);
    int t = lua_type(c->L, -1);
    if (t == LUA_TNUMBER) {
        v->value = lua_tonumber(c->L, -1);
        if (!isfinite(v->value)) {
            fail(c, "params.%s must be a finite number", id);
            return;
        }
    } else if (t == LUA_TBOOLEAN) {
        v->value = lua_toboolean(c->L, -1);
    } else if (t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(c->L, -1, &len);
        if (len == 0 || len >= sizeof v->text) {
            fail(c, "params.%s is too long a name", id);
            return;
        }
        v->is_text = 1;
        memcpy(v->text, s, len + 1);
    } else {
        fail(c, "params.%s must be a number, true/false or a name", id);
        return;
    }
    p->n_values++;
}

static void read_values(struct ctx *c, bm_patch *p)
{
    each_keyed(c, p, "params", one_value);
    lua_pop(c->L, 1);
}

static void read_chords(struct ctx *c, bm_patch *p)
{
    lua_getfield(c->L, -1, "chords");
    if (lua_istable(c->L, -1)) {
        lua_Integer n = luaL_len(c->L, -1);
        if (n > BM_SONG_MAX_CHORDS) fail(c, "chords has more than %d chords", BM_SONG_MAX_CHORDS);
        for (lua_Integer i = 1; i <= n && !c->failed; i++) {
            lua_geti(c->L, -1, i);
            const char *sym = NULL;
            double beats = -1;
            if (lua_istable(c->L, -1)) {
                lua_geti(c->L, -1, 1);
                lua_geti(c->L, -2, 2);
                if (lua_type(c->L, -2) == LUA_TSTRING) sym = lua_tostring(c->L, -2);
                if (lua_type(c->L, -1) == LUA_TNUMBER) beats = lua_tonumber(c->L, -1);
                char err[256];
                bm_chord *ch = &p->chords[p->n_chords];
                if (!sym || !(beats > 0 && beats <= 1024))
                    fail(c, "chords[%d] must be like {\"Dm7\", 4}: a chord symbol and its length in beats", (int)i);
                else if (song_parse_chord(sym, ch, err, sizeof err) != 0)
                    fail(c, "chords[%d]: %s", (int)i, err);
                else {
                    ch->beats = beats;
                    p->n_chords++;
                }
                lua_pop(c->L, 2);
            } else {
                fail(c, "chords[%d] must be like {\"Dm7\", 4}: a chord symbol and its length in beats", (int)i);
            }
            lua_pop(c->L, 1);
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "chords must be a list like {{\"Dm7\", 4}, {\"G7\", 4}}");
    }
    lua_pop(c->L, 1);
}

static void read_patch(struct ctx *c, bm_patch *p)
{
    static const char *const top[] = {"name", "mode", "tempo", "meter", "steps_per_beat",
                                      "tempo_source", "human", "monitor", "midi_clock_out", "parts",
                                      "connect", "midi_devices", "lookahead_ms", "master_gain",
                                      "script", "audio_inputs", "seed", "osc_port", "osc", "auto_connect",
                                      "model", "script_allow", "script_memory_mb", "script_budget_ms",
                                      "midi_map", "osc_map", "params", "chords", "listen", NULL};
    check_keys(c, "the patch", top);
    get_string(c, "name", p->name, sizeof p->name);
    /* the musician model first: whether mode accompany can play depends on it */
    if (get_string(c, "model", p->model, sizeof p->model)) {
        resolve(p, p->model, sizeof p->model);
        if (access(p->model, R_OK) != 0) fail(c, "model %s does not exist or cannot be read", p->model);
        else behaviour_set_model_path(p->model);
    }
    char mode[32];
    if (get_string(c, "mode", mode, sizeof mode)) {
        int known = 0;
        for (int i = 0; bm_mode_names[i]; i++)
            if (!strcmp(mode, bm_mode_names[i])) known = 1;
        char why[1024];
        if (!known) fail(c, "mode '%s' is not a mode bandmate knows", mode);
        else if (behaviour_mode_uses_model(mode) && model_usable(why, sizeof why) != 0)
            fail(c, "mode '%s' needs the musician model: %s", mode, why);
        else snprintf(p->cfg.mode, sizeof p->cfg.mode, "%s", mode);
    } else if (!c->failed) {
        default_mode(p, 0);
    }
    double v;
    if (get_number(c, "tempo", BM_MIN_BPM, BM_MAX_BPM, &v)) p->cfg.bpm = v;
    if (get_number(c, "steps_per_beat", 1, 12, &v)) p->cfg.steps_per_beat = (int)v;
    if (get_number(c, "lookahead_ms", 1, 500, &v)) p->cfg.lookahead_ms = v;
    if (get_number(c, "master_gain", 0, 4, &v)) p->cfg.master_gain = (float)v;
    if (get_number(c, "audio_inputs", 0, 2, &v)) p->audio_inputs = (int)v;
    if (get_number(c, "seed", 0, 9.0e15, &v)) p->cfg.seed = (uint64_t)v;
    if (get_number(c, "osc_port", 1, 65535, &v)) p->osc_port = (int)v;
    int b;
    lua_getfield(c->L, -1, "meter");
    if (lua_istable(c->L, -1)) {
        lua_geti(c->L, -1, 1);
        lua_geti(c->L, -2, 2);
        int bpb = (int)lua_tointeger(c->L, -2), unit = (int)lua_tointeger(c->L, -1);
        lua_pop(c->L, 2);
        if (bpb < 1 || bpb > 32 || !(unit == 2 || unit == 4 || unit == 8 || unit == 16))
            fail(c, "meter must be like {4, 4}: 1..32 beats of 2, 4, 8 or 16");
        else {
            p->cfg.beats_per_bar = bpb;
            p->cfg.beat_unit = unit;
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "meter must be like {4, 4}");
    }
    lua_pop(c->L, 1);
    char s[64];
    if (get_string(c, "tempo_source", s, sizeof s)) {
        static const char *const names[] = {"internal", "jack", "midi_clock", "performer", NULL};
        int found = -1;
        for (int i = 0; names[i]; i++)
            if (!strcmp(s, names[i])) found = i;
        if (found < 0) fail(c, "tempo_source '%s' is not one of internal, jack, midi_clock, performer", s);
        else p->cfg.tempo_source = found;
    }
    if (get_string(c, "human", s, sizeof s)) {
        int part = !strcmp(s, "none") ? BM_PART_HUMAN : bm_part_from_name(s);
        if (part < 0) fail(c, "human '%s' is not a part (none, bass, drums, comping, lead)", s);
        else p->cfg.human_role = part;
    }
    if (get_bool(c, "monitor", &b)) p->cfg.monitor_human = b;
    if (get_bool(c, "midi_clock_out", &b)) p->cfg.midi_clock_out = b;
    if (get_string(c, "script", p->script, sizeof p->script)) {
        resolve(p, p->script, sizeof p->script);
        if (access(p->script, R_OK) != 0) fail(c, "script %s does not exist or cannot be read", p->script);
    }
    if (get_bool(c, "auto_connect", &b)) p->auto_connect = b;
    read_script_options(c, p);
    read_osc(c, p);
    read_midi_map(c, p);
    read_osc_map(c, p);
    read_values(c, p);
    read_chords(c, p);
    lua_getfield(c->L, -1, "parts");
    if (lua_istable(c->L, -1)) {
        static const char *const parts[] = {"human", "bass", "drums", "comping", "lead", NULL};
        check_keys(c, "parts", parts);
        for (int part = 0; part < BM_NUM_PARTS && !c->failed; part++) {
            lua_getfield(c->L, -1, bm_part_name(part));
            if (lua_istable(c->L, -1)) read_part(c, p, part);
            else if (!lua_isnil(c->L, -1)) fail(c, "parts.%s must be a table", bm_part_name(part));
            lua_pop(c->L, 1);
        }
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "parts must be a table");
    }
    lua_pop(c->L, 1);
    lua_getfield(c->L, -1, "connect");
    if (lua_istable(c->L, -1)) {
        static const char *const keys[] = {"audio_in", "audio_out", "midi_in", "midi_out", NULL};
        check_keys(c, "connect", keys);
        get_string_list(c, "audio_in", p->connect_audio_in, 2);
        get_string_list(c, "audio_out", p->connect_audio_out, 2);
        p->n_midi_in = get_string_list(c, "midi_in", p->connect_midi_in, BM_PATCH_MAX_CONNECT);
        p->n_midi_out = get_string_list(c, "midi_out", p->connect_midi_out, BM_PATCH_MAX_CONNECT);
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "connect must be a table");
    }
    lua_pop(c->L, 1);
    lua_getfield(c->L, -1, "listen");
    if (!lua_isnil(c->L, -1) && !c->failed) {
        char why[512];
        if (listen_config_from_lua(c->L, -1, &p->cfg.listen, why, sizeof why) != 0) fail(c, "%s", why);
    }
    lua_pop(c->L, 1);
    lua_getfield(c->L, -1, "midi_devices");
    if (lua_istable(c->L, -1)) {
        static const char *const keys[] = {"input", "output", NULL};
        check_keys(c, "midi_devices", keys);
        get_string(c, "input", p->pm_input, sizeof p->pm_input);
        get_string(c, "output", p->pm_output, sizeof p->pm_output);
    } else if (!lua_isnil(c->L, -1)) {
        fail(c, "midi_devices must be a table");
    }
    lua_pop(c->L, 1);
}

int patch_load(const char *path, bm_patch *p, char *err, size_t errlen)
{
    base_defaults(p);
    snprintf(p->path, sizeof p->path, "%s", path);
    char base[1024];
    snprintf(base, sizeof base, "%s", path);
    snprintf(p->name, sizeof p->name, "%s", basename(base));
    bm_sandbox *s = sandbox_new(16u << 20);
    if (!s) {
        snprintf(err, errlen, "out of memory loading the patch %s", path);
        return -1;
    }
    sandbox_set_budget(s, 10000000);
    char why[1024];
    if (sandbox_run_file(s, path, why, sizeof why) != 0) {
        if (!strncmp(why, "cannot open", 11))
            snprintf(err, errlen, "the patch %s does not exist or cannot be read", path);
        else
            snprintf(err, errlen, "the patch %s has an error: %s", path, why);
        sandbox_free(s);
        return -1;
    }
    lua_State *L = sandbox_state(s);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_getglobal(L, "patch");
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "the patch %s must return a table (or set 'patch = {...}')", path);
        sandbox_free(s);
        return -1;
    }
    struct ctx c = {L, path, err, errlen, 0};
    read_patch(&c, p);
    sandbox_free(s);
    return c.failed ? -1 : 0;
}
