/* lua_api_osc.c: the `osc` table (send, reply to the sender, tell the feedback clients) and the
 * `midi` table (controller mappings and learn), for scripts. */
#include "engine/control/lua_api.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SENDS_PER_CALL 256

static bm_control *ctl(lua_State *L) { return lapi_script(L)->h->c; }

/* Builds a message from the Lua values from argument first on; its length (raises on bad values). */
static size_t build(lua_State *L, const char *fn, const char *path, int first)
{
    bm_control *c = ctl(L);
    bm_lua *h = lapi_script(L)->h;
    if (++h->sends > MAX_SENDS_PER_CALL) luaL_error(L, "%s: more than %d messages in one call", fn, MAX_SENDS_PER_CALL);
    size_t plen = strlen(path);
    if (path[0] != '/' || plen > 255 || strpbrk(path, " #*,?[]{}"))
        luaL_error(L, "%s: '%s' is not an OSC address", fn, path);
    lo_message m = lo_message_new();
    if (!m) luaL_error(L, "%s: out of memory", fn);
    int top = lua_gettop(L), bad = 0;
    for (int i = first; i <= top && !bad; i++) {
        switch (lua_type(L, i)) {
        case LUA_TNUMBER:
            if (lua_isinteger(L, i)) {
                lua_Integer v = lua_tointeger(L, i);
                if (v >= INT32_MIN && v <= INT32_MAX) lo_message_add_int32(m, (int32_t)v);
                else lo_message_add_int64(m, (int64_t)v);
            } else {
                lo_message_add_float(m, (float)lua_tonumber(L, i));
            }
            break;
        case LUA_TSTRING: lo_message_add_string(m, lua_tostring(L, i)); break;
        case LUA_TBOOLEAN:
            if (lua_toboolean(L, i)) lo_message_add_true(m);
            else lo_message_add_false(m);
            break;
        case LUA_TNIL: lo_message_add_nil(m); break;
        default: bad = i;
        }
    }
    size_t n = bad ? 0 : osc_build_lo(c->scratch, sizeof c->scratch, path, m);
    lo_message_free(m);
    if (bad) luaL_error(L, "%s: argument %d must be a number, a string, a boolean or nil", fn, bad);
    if (!n) luaL_error(L, "%s: the message is too large", fn);
    return n;
}

static int l_send(lua_State *L)
{
    bm_control *c = ctl(L);
    char host[64];
    int port = 0;
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_geti(L, 1, 1);
        lua_geti(L, 1, 2);
        const char *hs = lua_tostring(L, -2);
        if (!hs || strlen(hs) >= sizeof host || !lua_isnumber(L, -1))
            return luaL_error(L, "osc.send: the target must be {\"host\", port} or \"host:port\"");
        strcpy(host, hs);
        port = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    } else {
        const char *t = luaL_checkstring(L, 1);
        const char *colon = strrchr(t, ':');
        if (!colon || (size_t)(colon - t) >= sizeof host)
            return luaL_error(L, "osc.send: the target must be \"host:port\" or {\"host\", port}");
        memcpy(host, t, (size_t)(colon - t));
        host[colon - t] = 0;
        port = atoi(colon + 1);
    }
    osc_peer to;
    char err[128];
    if (osc_peer_from_host(host, port, &to, err, sizeof err) != 0) return luaL_error(L, "osc.send: %s", err);
    const char *path = luaL_checkstring(L, 2);
    size_t n = build(L, "osc.send", path, 3);
    if (!c->net && !c->send_hook) return luaL_error(L, "osc.send: OSC is off (bandmate runs with --no-osc)");
    ctl_send_packet(c, &to, c->scratch, n);
    return 0;
}

static int l_reply(lua_State *L)
{
    bm_lua *h = lapi_script(L)->h;
    if (!h->osc_from) return luaL_error(L, "osc.reply works inside on_osc (there is nobody to answer)");
    const char *path = luaL_checkstring(L, 1);
    size_t n = build(L, "osc.reply", path, 2);
    ctl_send_packet(h->c, h->osc_from, h->c->scratch, n);
    return 0;
}

static int l_notify(lua_State *L)
{
    bm_control *c = ctl(L);
    const char *path = luaL_checkstring(L, 1);
    size_t n = build(L, "osc.notify", path, 2);
    if (c->send_hook) c->send_hook(c->send_ctx, NULL, c->scratch, n);
    if (c->net) notify_send(&c->notify, NOTIFY_STATE, c->scratch, n, c->now_ns);
    return 0;
}

static int l_map(lua_State *L)
{
    bm_control *c = ctl(L);
    const char *id = luaL_checkstring(L, 1);
    int cc = lapi_int(L, 2, 0, 127);
    int ch = lua_isnoneornil(L, 3) ? 0 : lapi_int(L, 3, 0, 16);
    if (params_find(&c->params, id) < 0) return luaL_error(L, "midi.map: '%s' is not a parameter", id);
    char err[256];
    if (midimap_set(&c->midi, id, ch - 1, cc, err, sizeof err) != 0) return luaL_error(L, "midi.map: %s", err);
    return 0;
}

static int l_unmap(lua_State *L)
{
    lua_pushboolean(L, midimap_remove(&ctl(L)->midi, luaL_checkstring(L, 1)) == 0);
    return 1;
}

static int l_learn(lua_State *L)
{
    bm_control *c = ctl(L);
    const char *id = luaL_checkstring(L, 1);
    if (id[0] && params_find(&c->params, id) < 0) return luaL_error(L, "midi.learn: '%s' is not a parameter", id);
    midimap_learn(&c->midi, id);
    return 0;
}

static int l_maps(lua_State *L)
{
    bm_control *c = ctl(L);
    lua_createtable(L, c->midi.n, 0);
    for (int i = 0; i < c->midi.n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, c->midi.m[i].param);
        lua_setfield(L, -2, "param");
        lua_pushinteger(L, c->midi.m[i].cc);
        lua_setfield(L, -2, "cc");
        lua_pushinteger(L, c->midi.m[i].channel + 1);
        lua_setfield(L, -2, "ch");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void lapi_open_osc(lua_State *L)
{
    static const luaL_Reg osc_fns[] = {{"send", l_send}, {"reply", l_reply}, {"notify", l_notify}, {NULL, NULL}};
    luaL_newlib(L, osc_fns);
    lua_setglobal(L, "osc");
    static const luaL_Reg midi_fns[] = {{"map", l_map}, {"unmap", l_unmap}, {"learn", l_learn}, {"maps", l_maps}, {NULL, NULL}};
    luaL_newlib(L, midi_fns);
    lua_setglobal(L, "midi");
}
