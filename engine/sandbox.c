/* sandbox.c: capped, budgeted, restricted Lua states. */
#include "engine/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bm_sandbox {
    lua_State *L;
    size_t used, limit;
    long budget;
    int over_budget;
};

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    bm_sandbox *s = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        s->used -= old;
        return NULL;
    }
    if (nsize > old && s->used + (nsize - old) > s->limit) return NULL; /* Lua raises "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (p) s->used = s->used - old + nsize;
    return p;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    void *ud;
    lua_getallocf(L, &ud);
    bm_sandbox *s = ud;
    s->over_budget = 1;
    luaL_error(L, "the script ran too long (more than %I instructions in one call) and was stopped",
               (lua_Integer)s->budget);
}

/* Only these globals survive: pure functions and libraries without access to the system. */
static void restrict_globals(lua_State *L)
{
    static const char *const keep[] = {"assert", "error", "ipairs", "next", "pairs", "pcall",
                                       "print", "rawequal", "rawget", "rawlen", "rawset", "select",
                                       "setmetatable", "getmetatable", "tonumber", "tostring",
                                       "type", "xpcall", "math", "string", "table", "utf8",
                                       "coroutine", "_G", "_VERSION", NULL};
    lua_pushglobaltable(L);
    lua_pushnil(L);
    const char *drop[64];
    int ndrop = 0;
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) continue;
        const char *k = lua_tostring(L, -1);
        int ok = 0;
        for (int i = 0; keep[i]; i++)
            if (!strcmp(k, keep[i])) ok = 1;
        if (!ok && ndrop < 64) drop[ndrop++] = k;
    }
    for (int i = 0; i < ndrop; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, drop[i]);
    }
    /* string.dump would expose bytecode; os is gone but keep a safe os.time/os.clock */
    lua_getfield(L, -1, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pop(L, 1);
}

bm_sandbox *sandbox_new(size_t mem_limit)
{
    bm_sandbox *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->limit = mem_limit ? mem_limit : (64u << 20);
    s->L = lua_newstate(capped_alloc, s);
    if (!s->L) {
        free(s);
        return NULL;
    }
    luaL_openlibs(s->L);
    restrict_globals(s->L);
    return s;
}

void sandbox_free(bm_sandbox *s)
{
    if (!s) return;
    if (s->L) lua_close(s->L);
    free(s);
}

lua_State *sandbox_state(bm_sandbox *s) { return s->L; }

void sandbox_set_budget(bm_sandbox *s, long instructions) { s->budget = instructions; }

size_t sandbox_memory(const bm_sandbox *s) { return s->used; }

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int sandbox_pcall(bm_sandbox *s, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    s->over_budget = 0;
    if (s->budget > 0) lua_sethook(L, budget_hook, LUA_MASKCOUNT, (int)(s->budget > 0x7fffffff ? 0x7fffffff : s->budget));
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    if (rc != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        if (rc == LUA_ERRMEM) m = "the script used more memory than it is allowed and was stopped";
        if (err) snprintf(err, errlen, "%s", m ? m : "unknown error");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int sandbox_run_file(bm_sandbox *s, const char *path, char *err, size_t errlen)
{
    lua_State *L = s->L;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    fclose(f);
    int rc = luaL_loadfilex(L, path, "t"); /* text only: binary chunks are refused */
    if (rc != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", m ? m : "cannot load the file");
        lua_pop(L, 1);
        return -1;
    }
    rc = sandbox_pcall(s, 0, 1, err, errlen);
    if (rc != 0 && err) {
        char *nl = strchr(err, '\n'); /* the first line says what went wrong; the traceback is for scripts */
        if (nl) *nl = 0;
    }
    return rc;
}
