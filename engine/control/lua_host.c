/* lua_host.c: the script's lifecycle, its callbacks and its clocks. */
#include "engine/control/lua_host.h"
#include "engine/control/lua_api.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LUA_MAX_SCRIPT_BYTES (4 << 20)
#define SCRIPT_KEY "bm.script"
#define INIT_BUDGET_MS 1000.0

/* ---- states ---- */

lscript *lapi_script(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, SCRIPT_KEY);
    lscript *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    s->h->L_now = L;
    return s;
}

static int open_api(lua_State *L)
{
    lapi_open_bm(L);
    lapi_open_params(L);
    lapi_open_clock(L);
    lapi_open_osc(L);
    return 0;
}

static double callback_budget(const bm_lua *h)
{
    return h->c->o.script_budget_ms > 0 ? h->c->o.script_budget_ms : BM_SCRIPT_DEFAULT_BUDGET_MS;
}

static lscript *script_new(bm_lua *h, const char *path, char *err, size_t errlen)
{
    lscript *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->h = h;
    snprintf(s->path, sizeof s->path, "%s", path ? path : "");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path && path[0] ? path : ".");
    bm_sandbox_opts o = {0};
    o.mem_limit = h->c->o.script_memory ? h->c->o.script_memory : BM_SCRIPT_DEFAULT_MEMORY;
    o.time_ms = INIT_BUDGET_MS;
    o.allow = h->c->o.script_allow;
    o.module_dir = path && path[0] ? dirname(dir) : NULL;
    s->sb = sandbox_new_opts(&o);
    if (!s->sb) {
        free(s);
        snprintf(err, errlen, "out of memory starting a Lua state");
        return NULL;
    }
    lua_State *L = sandbox_state(s->sb);
    if (h->c->o.seed) { /* offline renders are repeatable: the script's dice too */
        lua_getglobal(L, "math");
        lua_getfield(L, -1, "randomseed");
        lua_pushinteger(L, (lua_Integer)(h->c->o.seed & 0x7fffffffffffffffull));
        lua_call(L, 1, 0);
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, s);
    lua_setfield(L, LUA_REGISTRYINDEX, SCRIPT_KEY);
    lua_pushcfunction(L, open_api);
    if (sandbox_pcall(s->sb, 0, 0, err, errlen) != 0) {
        sandbox_free(s->sb);
        free(s);
        return NULL;
    }
    return s;
}

static void script_free(lscript *s)
{
    if (!s) return;
    sandbox_free(s->sb);
    free(s);
}

bm_lua *lua_host_new(bm_control *c)
{
    bm_lua *h = calloc(1, sizeof *h);
    if (h) h->c = c;
    return h;
}

/* ---- calling into Lua ---- */

struct call {
    const char *fn;                      /* a global function's name, or NULL: the value below */
    int (*push)(lua_State *L, const void *ud);
    const void *ud;
    int ref;                             /* with fn NULL: a registry reference to call */
};

static int trampoline(lua_State *L)
{
    const struct call *k = lua_touserdata(L, 1);
    lua_settop(L, 0);
    int t = k->fn ? lua_getglobal(L, k->fn) : lua_rawgeti(L, LUA_REGISTRYINDEX, k->ref);
    if (t != LUA_TFUNCTION) return 0;
    int n = k->push ? k->push(L, k->ud) : 0;
    lua_call(L, n, 0);
    return 0;
}

/* Calls a script function at the current logical time; errors are reported (where: what ran). */
static int call(lscript *s, const struct call *k, const char *where, double budget_ms)
{
    bm_lua *h = s->h;
    lua_State *L = sandbox_state(s->sb);
    char err[4096];
    if (sandbox_busy(s->sb)) { /* from inside a call already: share its budget */
        lua_State *cur = h->L_now ? h->L_now : L;
        lua_pushcfunction(cur, trampoline);
        lua_pushlightuserdata(cur, (void *)k);
        lua_call(cur, 1, 0);
        return 0;
    }
    sandbox_set_time_budget(s->sb, budget_ms);
    h->sends = 0;
    lua_pushcfunction(L, trampoline);
    lua_pushlightuserdata(L, (void *)k);
    h->L_now = L;
    int rc = sandbox_pcall(s->sb, 1, 0, err, sizeof err);
    h->L_now = NULL;
    if (rc != 0) ctl_script_error(h->c, where, err);
    return rc;
}

static int call_global(lscript *s, const char *fn, int (*push)(lua_State *, const void *), const void *ud)
{
    ctl_when now = {CTL_NOW, 0, 0};
    s->h->logical = now;
    struct call k = {fn, push, ud, LUA_NOREF};
    return call(s, &k, fn, s->loading ? INIT_BUDGET_MS : callback_budget(s->h));
}

/* ---- loading and stopping ---- */

static void script_stop(bm_lua *h, lscript *s, int run_cleanup)
{
    if (!s) return;
    if (run_cleanup) call_global(s, "cleanup", NULL, NULL);
    bm_params *ps = &h->c->params;
    for (int i = 0; i < ps->n; i++) ps->p[i].action_ref = -1;
    params_remove_script(ps);
    if (h->cur == s) h->cur = NULL;
    script_free(s);
    ctl_release_held(h->c);
}

int lua_host_load(bm_lua *h, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the script %s does not exist or is not a file", path);
        return -1;
    }
    if (st.st_size > LUA_MAX_SCRIPT_BYTES) {
        snprintf(err, errlen, "the script %s is larger than %d MiB", path, LUA_MAX_SCRIPT_BYTES >> 20);
        return -1;
    }
    lscript *s = script_new(h, path, err, errlen);
    if (!s) return -1;
    if (sandbox_load_file(s->sb, path, err, errlen) != 0) {
        script_free(s);
        return -1;
    }
    s->loading = 1;
    sandbox_set_time_budget(s->sb, INIT_BUDGET_MS);
    h->logical = (ctl_when){CTL_NOW, 0, 0};
    h->L_now = sandbox_state(s->sb);
    int rc = sandbox_pcall(s->sb, 0, 0, err, errlen);
    h->L_now = NULL;
    s->loading = 0;
    if (rc != 0) {
        script_free(s);
        return -1;
    }
    script_stop(h, h->cur, 1);
    h->cur = s;
    s->generation = ++h->generation;
    s->loading = 1; /* init() gets the longer budget */
    int failed = call_global(s, "init", NULL, NULL);
    s->loading = 0;
    if (failed) {
        script_stop(h, s, 0);
        return 1;
    }
    return 0;
}

void lua_host_stop(bm_lua *h) { script_stop(h, h->cur, 1); }

void lua_host_free(bm_lua *h)
{
    if (!h) return;
    script_stop(h, h->cur, 1);
    script_free(h->scratch);
    free(h);
}

int lua_host_running(const bm_lua *h) { return h && h->cur != NULL; }

const char *lua_host_path(const bm_lua *h) { return h && h->cur ? h->cur->path : ""; }

size_t lua_host_memory(const bm_lua *h) { return h && h->cur ? sandbox_memory(h->cur->sb) : 0; }

/* ---- events ---- */

static const char *midi_type(int type)
{
    switch (type) {
    case BM_EV_NOTE_ON: return "note_on";
    case BM_EV_NOTE_OFF: return "note_off";
    case BM_EV_CC: return "cc";
    case BM_EV_PITCH_BEND: return "bend";
    case BM_EV_PROGRAM: return "program";
    case BM_EV_PRESSURE: return "pressure";
    default: return "other";
    }
}

static int push_note(lua_State *L, const void *ud)
{
    const bm_event *ev = ud;
    lua_createtable(L, 0, 7);
    lua_pushstring(L, bm_part_name(ev->part));
    lua_setfield(L, -2, "part");
    lua_pushinteger(L, ev->note);
    lua_setfield(L, -2, "note");
    lua_pushinteger(L, ev->type == BM_EV_NOTE_ON ? ev->velocity : 0);
    lua_setfield(L, -2, "vel");
    lua_pushboolean(L, ev->type == BM_EV_NOTE_ON);
    lua_setfield(L, -2, "on");
    lua_pushinteger(L, ev->channel + 1);
    lua_setfield(L, -2, "ch");
    lua_pushnumber(L, ev->beat);
    lua_setfield(L, -2, "beat");
    return 1;
}

static int push_midi(lua_State *L, const void *ud)
{
    const bm_event *ev = ud;
    lua_createtable(L, 0, 6);
    lua_pushstring(L, midi_type(ev->type));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, ev->channel + 1);
    lua_setfield(L, -2, "ch");
    switch (ev->type) {
    case BM_EV_NOTE_ON:
    case BM_EV_NOTE_OFF:
        lua_pushinteger(L, ev->note);
        lua_setfield(L, -2, "note");
        lua_pushinteger(L, ev->type == BM_EV_NOTE_ON ? ev->velocity : 0);
        lua_setfield(L, -2, "vel");
        break;
    case BM_EV_CC:
        lua_pushinteger(L, ev->note);
        lua_setfield(L, -2, "cc");
        lua_pushinteger(L, ev->velocity);
        lua_setfield(L, -2, "val");
        break;
    case BM_EV_PITCH_BEND:
        lua_pushinteger(L, ev->value);
        lua_setfield(L, -2, "val");
        break;
    case BM_EV_PROGRAM:
        lua_pushinteger(L, ev->note);
        lua_setfield(L, -2, "program");
        break;
    case BM_EV_PRESSURE:
        lua_pushinteger(L, ev->velocity);
        lua_setfield(L, -2, "val");
        break;
    }
    lua_pushnumber(L, ev->beat);
    lua_setfield(L, -2, "beat");
    return 1;
}

static int push_beat(lua_State *L, const void *ud)
{
    const bm_event *ev = ud;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, ev->value + 1);
    lua_setfield(L, -2, "bar");
    lua_pushinteger(L, ev->note + 1);
    lua_setfield(L, -2, "beat");
    lua_pushinteger(L, (lua_Integer)ev->beat);
    lua_setfield(L, -2, "count");
    return 1;
}

void lua_host_event(bm_lua *h, const bm_event *ev)
{
    lscript *s = h->cur;
    if (!s) return;
    if (ev->part == BM_PART_HUMAN && ev->type >= BM_EV_NOTE_ON && ev->type <= BM_EV_PRESSURE) {
        if (ev->type == BM_EV_NOTE_ON || ev->type == BM_EV_NOTE_OFF) call_global(s, "on_note", push_note, ev);
        if (h->cur == s) call_global(s, "on_midi", push_midi, ev);
    } else if (ev->type == BM_EV_NOTE_ON || ev->type == BM_EV_NOTE_OFF) {
        if (ev->part < BM_NUM_PARTS) call_global(s, "on_band_note", push_note, ev);
    } else if (ev->type == BM_EV_BEAT) {
        call_global(s, "on_beat", push_beat, ev);
    }
}

struct phrase {
    int part;
    double start, end;
    int notes;
    const char *reason;
};

static int push_phrase(lua_State *L, const void *ud)
{
    const struct phrase *p = ud;
    lua_createtable(L, 0, 5);
    lua_pushstring(L, bm_part_name(p->part));
    lua_setfield(L, -2, "part");
    lua_pushnumber(L, p->start);
    lua_setfield(L, -2, "start");
    lua_pushnumber(L, p->end);
    lua_setfield(L, -2, "stop");
    lua_pushinteger(L, p->notes);
    lua_setfield(L, -2, "notes");
    lua_pushstring(L, p->reason);
    lua_setfield(L, -2, "reason");
    return 1;
}

void lua_host_phrase(bm_lua *h, int part, double start_beat, double end_beat, int notes, const char *reason)
{
    struct phrase p = {part, start_beat, end_beat, notes, reason ? reason : ""};
    if (h->cur) call_global(h->cur, "on_phrase", push_phrase, &p);
}

struct onset {
    double beat, strength;
};

static int push_onset(lua_State *L, const void *ud)
{
    const struct onset *o = ud;
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, o->beat);
    lua_setfield(L, -2, "beat");
    lua_pushnumber(L, o->strength);
    lua_setfield(L, -2, "strength");
    return 1;
}

void lua_host_onset(bm_lua *h, double beat, double strength)
{
    struct onset o = {beat, strength};
    if (h->cur) call_global(h->cur, "on_onset", push_onset, &o);
}

struct osc_in {
    const osc_msg *m;
    const osc_peer *from;
};

static int push_osc(lua_State *L, const void *ud)
{
    const struct osc_in *in = ud;
    const osc_msg *m = in->m;
    lua_pushstring(L, m->path);
    lua_createtable(L, m->argc, 0);
    for (int i = 0; i < m->argc; i++) {
        const lo_arg *a = m->argv[i];
        switch (m->types[i]) {
        case 'i': lua_pushinteger(L, osc_arg_i32(a)); break;
        case 'h': lua_pushinteger(L, (lua_Integer)osc_arg_i64(a)); break;
        case 'f': lua_pushnumber(L, osc_arg_f32(a)); break;
        case 'd': lua_pushnumber(L, osc_arg_f64(a)); break;
        case 's':
        case 'S': lua_pushstring(L, (const char *)a); break;
        case 'c': {
            char ch = (char)osc_arg_i32(a);
            lua_pushlstring(L, &ch, 1);
            break;
        }
        case 'T': lua_pushboolean(L, 1); break;
        case 'F': lua_pushboolean(L, 0); break;
        case 'b': lua_pushlstring(L, (const char *)lo_blob_dataptr((lo_blob)a), lo_blob_datasize((lo_blob)a)); break;
        default: lua_pushnil(L);
        }
        lua_rawseti(L, -2, i + 1);
    }
    char from[96] = "";
    if (in->from) osc_peer_str(in->from, from, sizeof from);
    lua_pushstring(L, from);
    return 3;
}

int lua_host_osc(bm_lua *h, const osc_msg *m, const osc_peer *from)
{
    lscript *s = h->cur;
    if (!s) return 0;
    struct osc_in in = {m, from};
    h->osc_from = from;
    call_global(s, "on_osc", push_osc, &in);
    h->osc_from = NULL;
    return 1;
}

static int push_param(lua_State *L, const void *ud)
{
    const int *idx = ud;
    lapi_push_param(L, lapi_script(L)->h->c, *idx);
    return 1;
}

void lua_host_param_action(bm_lua *h, int idx)
{
    lscript *s = h->cur;
    const bm_param *p = &h->c->params.p[idx];
    if (!s || p->action_ref < 0) return;
    char where[96];
    snprintf(where, sizeof where, "the action of parameter %s", p->id);
    struct call k = {NULL, push_param, &idx, p->action_ref};
    if (!sandbox_busy(s->sb)) h->logical = (ctl_when){CTL_NOW, 0, 0};
    call(s, &k, where, callback_budget(h));
}

/* ---- clocks ---- */

void lua_host_run_clocks(bm_lua *h)
{
    lscript *s = h->cur;
    if (!s) return;
    bm_control *c = h->c;
    int ran[LUA_MAX_CLOCKS] = {0};
    for (int pass = 0; pass < 2; pass++) /* a clock that waits for nothing runs once per step */
        for (int i = 0; i < LUA_MAX_CLOCKS && h->cur == s; i++) {
            lclock *k = &s->clocks[i];
            if (!k->used || ran[i] || k->running) continue;
            int due = 0;
            ctl_when at = {CTL_NOW, 0, 0};
            if (k->wait == WAIT_TIME && c->now + c->lead + c->early >= k->wake_frame) {
                due = 1;
                at = (ctl_when){CTL_FRAME, k->wake_frame, 0};
                if (k->wake_frame < c->now + c->lead) at.kind = CTL_NOW; /* fell behind: as soon as it can */
            } else if (k->wait == WAIT_BEAT && c->map.rolling) {
                double ahead = clock_map_beat_at(&c->map, c->now + c->lead + c->early);
                if (k->target_beat - ahead > k->sync_beats + 1e-6) /* the transport jumped back: re-aim */
                    k->target_beat = (floor((ahead - k->sync_offset) / k->sync_beats + 1e-9) + 1) * k->sync_beats +
                                     k->sync_offset;
                if (ahead >= k->target_beat) {
                    due = 1;
                    at = (ctl_when){CTL_BEAT, 0, k->target_beat};
                }
            } else if (k->wait == WAIT_NEXT) {
                due = 1;
            }
            if (!due) continue;
            ran[i] = 1;
            k->logical = at;
            k->wait = WAIT_NONE;
            sandbox_set_time_budget(s->sb, callback_budget(h));
            h->sends = 0;
            lapi_clock_resume(s, k, NULL, 0);
        }
}

int64_t lua_host_next_wake(bm_lua *h)
{
    lscript *s = h ? h->cur : NULL;
    if (!s) return INT64_MAX;
    bm_control *c = h->c;
    int64_t next = INT64_MAX;
    for (int i = 0; i < LUA_MAX_CLOCKS; i++) {
        const lclock *k = &s->clocks[i];
        if (!k->used) continue;
        int64_t f = INT64_MAX;
        if (k->wait == WAIT_TIME) f = k->wake_frame - c->lead - c->early;
        else if (k->wait == WAIT_NEXT) f = c->now;
        else if (k->wait == WAIT_BEAT && c->map.rolling) {
            int64_t at = clock_map_frame_at(&c->map, k->target_beat);
            f = at == INT64_MAX ? INT64_MAX : at - c->lead - c->early;
        }
        if (f < next) next = f;
    }
    return next;
}

/* ---- Lua over OSC ---- */

int lua_host_eval(bm_lua *h, const char *code, size_t len, char *out, size_t cap)
{
    lscript *s = h->cur;
    if (!s) {
        if (!h->scratch && !(h->scratch = script_new(h, NULL, out, cap))) return -1;
        s = h->scratch;
    }
    lua_State *L = sandbox_state(s->sb);
    int top = lua_gettop(L);
    if (sandbox_load_string(s->sb, code, len, "=osc", out, cap) != 0) return -1;
    sandbox_set_time_budget(s->sb, callback_budget(h));
    h->logical = (ctl_when){CTL_NOW, 0, 0};
    h->L_now = L;
    int rc = sandbox_pcall(s->sb, 0, LUA_MULTRET, out, cap);
    h->L_now = NULL;
    if (rc != 0) return -1;
    out[0] = 0;
    size_t at = 0;
    int n = lua_gettop(L) - top;
    for (int i = 1; i <= n && at + 1 < cap; i++) {
        int t = lua_type(L, top + i);
        const char *v;
        char num[64];
        if (t == LUA_TSTRING) v = lua_tostring(L, top + i);
        else if (t == LUA_TNUMBER) {
            if (lua_isinteger(L, top + i)) snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, top + i));
            else snprintf(num, sizeof num, "%.14g", lua_tonumber(L, top + i));
            v = num;
        } else if (t == LUA_TBOOLEAN) v = lua_toboolean(L, top + i) ? "true" : "false";
        else if (t == LUA_TNIL) v = "nil";
        else v = lua_typename(L, t);
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i > 1 ? "\t" : "", v);
    }
    lua_settop(L, top);
    return 0;
}
