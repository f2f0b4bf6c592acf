/* lua_api_clock.c: the `clock` table: coroutines that sleep for seconds or sync to beats, in the
 * manner of norns. A clock wakes a little ahead of its time (the engine's lead) and what it plays
 * is stamped with its exact time, so clocks play in time however busy the control thread is. */
#include "engine/control/lua_api.h"

#include <math.h>
#include <string.h>

lclock *lapi_clock_of(lscript *s, lua_State *L)
{
    for (int i = 0; i < LUA_MAX_CLOCKS; i++)
        if (s->clocks[i].used && s->clocks[i].co == L) return &s->clocks[i];
    return NULL;
}

void lapi_clock_free(lscript *s, lclock *k, lua_State *L)
{
    (void)s;
    if (!k->used) return;
    luaL_unref(L, LUA_REGISTRYINDEX, k->ref);
    memset(k, 0, sizeof *k);
}

void lapi_clock_resume(lscript *s, lclock *k, lua_State *from, int nargs)
{
    bm_lua *h = s->h;
    ctl_when saved = h->logical;
    lua_State *saved_L = h->L_now;
    h->logical = k->logical;
    k->running = 1;
    int nres = 0, id = k->id;
    char err[4096];
    int rc = sandbox_resume(s->sb, from, k->co, nargs, &nres, err, sizeof err);
    k->running = 0;
    h->logical = saved;
    h->L_now = saved_L;
    lua_State *L = from ? from : sandbox_state(s->sb);
    if (rc == LUA_YIELD) {
        lua_pop(k->co, nres);
        if (k->cancelled) lapi_clock_free(s, k, L);
        else if (k->wait == WAIT_NONE) k->wait = WAIT_NEXT; /* a plain coroutine.yield: again next step */
        return;
    }
    if (rc != LUA_OK) {
        char where[64];
        snprintf(where, sizeof where, "clock %d", id);
        ctl_script_error(h->c, where, err);
    }
    lapi_clock_free(s, k, L);
}

static int l_run(lua_State *L)
{
    lscript *s = lapi_script(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lclock *k = NULL;
    for (int i = 0; i < LUA_MAX_CLOCKS && !k; i++)
        if (!s->clocks[i].used) k = &s->clocks[i];
    if (!k) return luaL_error(L, "clock.run: too many clocks (%d); stop some with clock.cancel", LUA_MAX_CLOCKS);
    int n = lua_gettop(L);
    lua_State *co = lua_newthread(L);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_xmove(L, co, n); /* the function and its arguments */
    memset(k, 0, sizeof *k);
    k->used = 1;
    k->id = ++s->next_clock_id;
    k->ref = ref;
    k->co = co;
    k->logical = s->h->logical; /* it starts at its caller's time */
    int id = k->id;
    lapi_clock_resume(s, k, L, n - 1);
    lua_pushinteger(L, id);
    return 1;
}

static lclock *this_clock(lua_State *L, const char *fn)
{
    lclock *k = lapi_clock_of(lapi_script(L), L);
    if (!k || !lua_isyieldable(L)) luaL_error(L, "%s works inside a clock: start one with clock.run(function() ... end)", fn);
    return k;
}

static int l_sleep(lua_State *L)
{
    lscript *s = lapi_script(L);
    lclock *k = this_clock(L, "clock.sleep");
    lua_Number sec = luaL_checknumber(L, 1);
    if (!(sec >= 0 && sec <= 1e6)) return luaL_error(L, "clock.sleep: %g seconds is not 0..1000000", sec);
    bm_control *c = s->h->c;
    k->wake_frame = ctl_when_frame(c, k->logical) + (int64_t)llround(sec * c->sr);
    k->wait = WAIT_TIME;
    return lua_yield(L, 0);
}

static double next_sync(double ref, double beats, double offset)
{
    return (floor((ref - offset) / beats + 1e-9) + 1) * beats + offset;
}

static int l_sync(lua_State *L)
{
    lscript *s = lapi_script(L);
    lclock *k = this_clock(L, "clock.sync");
    lua_Number beats = luaL_checknumber(L, 1), offset = luaL_optnumber(L, 2, 0);
    if (!(beats > 0 && beats <= 1e4)) return luaL_error(L, "clock.sync: %g beats is not a positive length", beats);
    if (!isfinite(offset)) return luaL_error(L, "clock.sync: the offset must be a number of beats");
    k->sync_beats = beats;
    k->sync_offset = offset;
    k->target_beat = next_sync(ctl_when_beat(s->h->c, k->logical), beats, offset);
    k->wait = WAIT_BEAT;
    return lua_yield(L, 0);
}

static int l_cancel(lua_State *L)
{
    lscript *s = lapi_script(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    for (int i = 0; i < LUA_MAX_CLOCKS; i++) {
        lclock *k = &s->clocks[i];
        if (!k->used || k->id != id) continue;
        if (k->running || k->co == L) k->cancelled = 1; /* it goes when it yields */
        else lapi_clock_free(s, k, L);
    }
    return 0;
}

static int l_get_beats(lua_State *L)
{
    bm_lua *h = lapi_script(L)->h;
    lua_pushnumber(L, ctl_when_beat(h->c, h->logical));
    return 1;
}

static int l_get_tempo(lua_State *L)
{
    lua_pushnumber(L, lapi_script(L)->h->c->map.bpm);
    return 1;
}

static int l_get_beat_sec(lua_State *L)
{
    double bpm = lapi_script(L)->h->c->map.bpm;
    lua_pushnumber(L, bpm > 0 ? 60.0 / bpm : 0.5);
    return 1;
}

void lapi_open_clock(lua_State *L)
{
    static const luaL_Reg fns[] = {{"run", l_run},           {"sleep", l_sleep},         {"sync", l_sync},
                                   {"cancel", l_cancel},     {"get_beats", l_get_beats}, {"get_tempo", l_get_tempo},
                                   {"get_beat_sec", l_get_beat_sec}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "clock");
}
