/* lua_api_params.c: the `params` table: a script's own parameters (with ranges and actions) and
 * access to bandmate's. */
#include "engine/control/lua_api.h"

#include <math.h>
#include <string.h>

static bm_control *ctl(lua_State *L) { return lapi_script(L)->h->c; }

static int find(lua_State *L, int arg)
{
    const char *id = luaL_checkstring(L, arg);
    int idx = params_find(&ctl(L)->params, id);
    if (idx < 0) luaL_error(L, "'%s' is not a parameter", id);
    return idx;
}

static double opt_field(lua_State *L, const char *k, double def)
{
    lua_getfield(L, 1, k);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isnumber(L, -1)) luaL_error(L, "params.add: %s must be a number", k);
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int l_add(lua_State *L)
{
    lscript *s = lapi_script(L);
    bm_control *c = s->h->c;
    if (s != s->h->cur)
        return luaL_error(L, "params.add belongs in init() (a script's top level runs before it replaces the old one)");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "id");
    const char *id = lua_tostring(L, -1);
    if (!id) return luaL_error(L, "params.add: id must be a string");
    char idbuf[BM_PARAM_ID_MAX + 1];
    if (strlen(id) >= sizeof idbuf) return luaL_error(L, "params.add: the id is too long");
    strcpy(idbuf, id);
    lua_pop(L, 1);
    lua_getfield(L, 1, "name");
    char name[64] = "";
    if (lua_isstring(L, -1)) {
        const char *n = lua_tostring(L, -1);
        size_t len = strlen(n);
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, n, len);
        name[len] = 0;
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "type");
    int type = lua_isnil(L, -1) ? BM_PARAM_NUMBER : params_type_from_name(luaL_optstring(L, -1, "?"));
    lua_pop(L, 1);
    if (type < 0) return luaL_error(L, "params.add: type must be number, integer, option, toggle, trigger or text");
    double min = opt_field(L, "min", 0), max = opt_field(L, "max", 1), def = opt_field(L, "default", NAN);
    const char *opts[BM_PARAM_MAX_OPTIONS + 1];
    int nopts = 0;
    lua_getfield(L, 1, "options");
    int opt_table = lua_gettop(L);
    if (type == BM_PARAM_OPTION) {
        if (!lua_istable(L, opt_table)) return luaL_error(L, "params.add: an option parameter needs options = {...}");
        lua_Integer n = luaL_len(L, opt_table);
        if (n < 1 || n > BM_PARAM_MAX_OPTIONS) return luaL_error(L, "params.add: 1 to %d options", BM_PARAM_MAX_OPTIONS);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, opt_table, i); /* stays on the stack so the string stays alive */
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "params.add: option %d must be a string", (int)i);
            opts[nopts++] = lua_tostring(L, -1);
        }
        if (isnan(def)) def = 0;
        else def = def - 1; /* options count from 1 in Lua */
    }
    opts[nopts] = NULL;
    if (type == BM_PARAM_TOGGLE) {
        lua_getfield(L, 1, "default");
        if (lua_isboolean(L, -1)) def = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (isnan(def)) def = min;
    char err[256];
    int idx = params_add(&c->params, idbuf, name, type, min, max, def, opts, 0, err, sizeof err);
    if (idx < 0) return luaL_error(L, "params.add: %s", err);
    c->params.p[idx].owner = s->generation;
    c->params.p[idx].dirty = 1;
    lua_settop(L, 1);
    lua_getfield(L, 1, "action");
    if (lua_isfunction(L, -1)) c->params.p[idx].action_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_pop(L, 1);
    return 0;
}

static int l_set(lua_State *L)
{
    bm_control *c = ctl(L);
    int idx = find(L, 1);
    char err[256];
    int rc;
    switch (lua_type(L, 2)) {
    case LUA_TNUMBER: {
        double v = lua_tonumber(L, 2);
        if (c->params.p[idx].type == BM_PARAM_OPTION) v -= 1; /* options count from 1 in Lua */
        rc = params_set(&c->params, idx, v, BM_SRC_LUA, err, sizeof err);
        break;
    }
    case LUA_TBOOLEAN: rc = params_set(&c->params, idx, lua_toboolean(L, 2), BM_SRC_LUA, err, sizeof err); break;
    case LUA_TSTRING: rc = params_set_string(&c->params, idx, lua_tostring(L, 2), BM_SRC_LUA, err, sizeof err); break;
    case LUA_TNONE:
    case LUA_TNIL:
        if (c->params.p[idx].type != BM_PARAM_TRIGGER) return luaL_error(L, "params.set: a value is needed");
        rc = params_set(&c->params, idx, 1, BM_SRC_LUA, err, sizeof err);
        break;
    default: return luaL_error(L, "params.set: the value must be a number, a boolean or a name");
    }
    if (rc != 0) return luaL_error(L, "params.set: %s", err);
    return 0;
}

static int l_get(lua_State *L)
{
    lapi_push_param(L, ctl(L), find(L, 1));
    return 1;
}

static int l_set_norm(lua_State *L)
{
    int idx = find(L, 1);
    char err[256];
    if (params_set_norm(&ctl(L)->params, idx, luaL_checknumber(L, 2), BM_SRC_LUA, err, sizeof err) != 0)
        return luaL_error(L, "params.set_norm: %s", err);
    return 0;
}

static int l_get_norm(lua_State *L)
{
    lua_pushnumber(L, params_get_norm(&ctl(L)->params, find(L, 1)));
    return 1;
}

static int l_set_action(lua_State *L)
{
    bm_control *c = ctl(L);
    int idx = find(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    bm_param *p = &c->params.p[idx];
    if (p->action_ref >= 0) luaL_unref(L, LUA_REGISTRYINDEX, p->action_ref);
    p->action_ref = -1;
    if (!lua_isnoneornil(L, 2)) {
        lua_settop(L, 2);
        p->action_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

static int l_list(lua_State *L)
{
    bm_control *c = ctl(L);
    lua_createtable(L, c->params.n, 0);
    for (int i = 0; i < c->params.n; i++) {
        lua_pushstring(L, c->params.p[i].id);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_info(lua_State *L)
{
    bm_control *c = ctl(L);
    int idx = find(L, 1);
    const bm_param *p = &c->params.p[idx];
    lua_createtable(L, 0, 8);
    lua_pushstring(L, p->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, p->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, params_type_name(p->type));
    lua_setfield(L, -2, "type");
    lua_pushnumber(L, p->min);
    lua_setfield(L, -2, "min");
    lua_pushnumber(L, p->max);
    lua_setfield(L, -2, "max");
    lua_pushnumber(L, p->type == BM_PARAM_OPTION ? p->def + 1 : p->def);
    lua_setfield(L, -2, "default");
    lua_pushboolean(L, p->builtin);
    lua_setfield(L, -2, "builtin");
    if (p->type == BM_PARAM_OPTION) {
        lua_createtable(L, p->noptions, 0);
        for (int i = 0; i < p->noptions; i++) {
            lua_pushstring(L, p->options[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "options");
    }
    return 1;
}

void lapi_open_params(lua_State *L)
{
    static const luaL_Reg fns[] = {{"add", l_add},           {"set", l_set},         {"get", l_get},
                                   {"set_norm", l_set_norm}, {"get_norm", l_get_norm}, {"set_action", l_set_action},
                                   {"list", l_list},         {"info", l_info},       {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "params");
}
