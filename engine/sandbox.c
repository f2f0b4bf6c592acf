/* sandbox.c: capped, budgeted, restricted Lua states. */
#include "engine/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOOK_EVERY 1000           /* instructions between budget checks */
#define MODULES_KEY "bm.sandbox.modules"

struct bm_sandbox {
    lua_State *L;
    size_t used, limit;
    long budget;                  /* instructions per call */
    double time_ms;               /* wall time per call */
    int depth;                    /* nested protected calls */
    long count;                   /* instructions counted in this call */
    long next_time_check;
    int64_t deadline_ns;
    int over_budget;
    unsigned allocs;
    char module_dir[1024];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
    /* allocating C functions (string.rep, table.concat) run no instructions, so the wall-time
     * budget is also checked here: a failed allocation stops the call wherever it is */
    if (nsize > old && s->depth > 0 && s->deadline_ns && (s->over_budget || (++s->allocs & 63) == 0 || nsize - old >= 65536) &&
        (s->over_budget || now_ns() > s->deadline_ns)) {
        s->over_budget = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) s->used = s->used - old + nsize;
    return p;
}

bm_sandbox *sandbox_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    bm_sandbox *s = sandbox_of(L);
    if (s->depth == 0) return;
    if (!s->over_budget) {
        s->count += lua_gethookcount(L);
        int over_count = s->budget > 0 && s->count > s->budget;
        int over_time = 0;
        if (s->deadline_ns && s->count >= s->next_time_check) {
            s->next_time_check = s->count + HOOK_EVERY;
            over_time = now_ns() > s->deadline_ns;
        }
        if (!over_count && !over_time) return;
        s->over_budget = 1;
    }
    /* from now on every instruction of this call raises the error again, so a script's own pcall
     * cannot catch it and carry on */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    if (s->deadline_ns && (s->budget <= 0 || s->count <= s->budget))
        luaL_error(L, "the script ran too long (more than %d ms in one call) and was stopped", (int)s->time_ms);
    luaL_error(L, "the script ran too long (more than %I instructions in one call) and was stopped",
               (lua_Integer)s->budget);
}

/* setmetatable without finalizers: a __gc loop would run where no budget can stop it. */
static int safe_setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && (lua_pushliteral(L, "__gc"), lua_rawget(L, 2)) != LUA_TNIL)
        return luaL_error(L, "__gc finalizers are not allowed in bandmate scripts");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* load for text only, in the sandbox's globals unless an env is given. */
static int safe_load(lua_State *L)
{
    size_t len;
    const char *code = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnone(L, 4);
    if (luaL_loadbufferx(L, code, len, name, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    }
    return 1;
}

static int safe_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "collect") && strcmp(opt, "count") && strcmp(opt, "step"))
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in bandmate scripts", opt);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* require for Lua files of the module folder only: NAME.lua, text, run once, cached. */
static int safe_require(lua_State *L)
{
    bm_sandbox *s = sandbox_of(L);
    const char *name = luaL_checkstring(L, 1);
    size_t n = strlen(name);
    if (n == 0 || n > 64) return luaL_error(L, "require: '%s' is not a module name", name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return luaL_error(L, "require: '%s' is not a module name (letters, digits, _ and .)", name);
    }
    if (strstr(name, "..")) return luaL_error(L, "require: '%s' is not a module name", name);
    lua_getfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
    if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    if (!s->module_dir[0]) return luaL_error(L, "require: scripts have no module folder here");
    char path[1200];
    snprintf(path, sizeof path, "%s/", s->module_dir);
    size_t at = strlen(path);
    for (size_t i = 0; i < n && at + 5 < sizeof path; i++) path[at++] = name[i] == '.' ? '/' : name[i];
    snprintf(path + at, sizeof path - at, ".lua");
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return luaL_error(L, "require: cannot load module '%s': %s", name, lua_tostring(L, -1));
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    return 1;
}

/* Only these globals survive: pure functions and libraries without access to the system. */
static void restrict_globals(lua_State *L, int allow)
{
    static const char *const keep[] = {"assert", "error", "ipairs", "next", "pairs", "pcall",
                                       "print", "rawequal", "rawget", "rawlen", "rawset", "select",
                                       "setmetatable", "getmetatable", "tonumber", "tostring",
                                       "type", "xpcall", "math", "string", "table", "utf8",
                                       "coroutine", "_G", "_VERSION", "collectgarbage", "os", "io",
                                       "require", "package", NULL};
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
        if (!strcmp(k, "io") && !(allow & BM_SANDBOX_IO)) ok = 0;
        if ((!strcmp(k, "require") || !strcmp(k, "package")) && !(allow & BM_SANDBOX_REQUIRE)) ok = 0;
        if (!ok && ndrop < 64) drop[ndrop++] = k;
    }
    for (int i = 0; i < ndrop; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, drop[i]);
    }
    /* string.dump would expose bytecode */
    lua_getfield(L, -1, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    if (!(allow & BM_SANDBOX_OS)) { /* a clock and the date, nothing that touches the system */
        lua_getfield(L, -1, "os");
        lua_createtable(L, 0, 4);
        static const char *const safe_os[] = {"time", "clock", "date", "difftime", NULL};
        for (int i = 0; safe_os[i]; i++) {
            lua_getfield(L, -2, safe_os[i]);
            lua_setfield(L, -2, safe_os[i]);
        }
        lua_setfield(L, -3, "os");
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_getfield(L, -1, "collectgarbage");
    lua_pushcclosure(L, safe_collectgarbage, 1);
    lua_setfield(L, -2, "collectgarbage");
    lua_pushcfunction(L, safe_load);
    lua_setfield(L, -2, "load");
    if (!(allow & BM_SANDBOX_REQUIRE)) {
        lua_pushcfunction(L, safe_require);
        lua_setfield(L, -2, "require");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
}

bm_sandbox *sandbox_new_opts(const bm_sandbox_opts *o)
{
    bm_sandbox *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->limit = o->mem_limit ? o->mem_limit : (64u << 20);
    if (s->limit < (1u << 20)) s->limit = 1u << 20; /* room for the libraries themselves */
    s->budget = o->instructions;
    s->time_ms = o->time_ms;
    if (o->module_dir) snprintf(s->module_dir, sizeof s->module_dir, "%s", o->module_dir);
    s->L = lua_newstate(capped_alloc, s);
    if (!s->L) {
        free(s);
        return NULL;
    }
    s->depth = 1; /* setting up is not budgeted, and runs unprotected only on a fresh small state */
    luaL_openlibs(s->L);
    restrict_globals(s->L, o->allow);
    s->depth = 0;
    lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY); /* coroutines inherit it */
    return s;
}

bm_sandbox *sandbox_new(size_t mem_limit)
{
    bm_sandbox_opts o = {0};
    o.mem_limit = mem_limit;
    return sandbox_new_opts(&o);
}

void sandbox_free(bm_sandbox *s)
{
    if (!s) return;
    if (s->L) lua_close(s->L);
    free(s);
}

lua_State *sandbox_state(bm_sandbox *s) { return s->L; }

void sandbox_set_budget(bm_sandbox *s, long instructions) { s->budget = instructions; }

void sandbox_set_time_budget(bm_sandbox *s, double ms) { s->time_ms = ms; }

size_t sandbox_memory(const bm_sandbox *s) { return s->used; }

size_t sandbox_memory_limit(const bm_sandbox *s) { return s->limit; }

int sandbox_busy(const bm_sandbox *s) { return s->depth > 0; }

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void enter(bm_sandbox *s, lua_State *L)
{
    if (s->depth++ > 0) return;
    s->count = 0;
    s->next_time_check = HOOK_EVERY;
    s->over_budget = 0;
    s->deadline_ns = s->time_ms > 0 ? now_ns() + (int64_t)(s->time_ms * 1e6) : 0;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

static void leave(bm_sandbox *s)
{
    if (--s->depth == 0) s->over_budget = 0;
}

static void error_text(bm_sandbox *s, lua_State *L, int rc, char *err, size_t errlen)
{
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    char slow[128];
    snprintf(slow, sizeof slow, "the script ran too long (more than %d ms in one call) and was stopped", (int)s->time_ms);
    if (rc == LUA_ERRMEM) m = s->over_budget ? slow : "the script used more memory than it is allowed and was stopped";
    if (rc == LUA_ERRERR && !m) m = "an error happened while handling an error";
    if (err) snprintf(err, errlen, "%s", m ? m : "the script raised an error that is not a string");
}

int sandbox_pcall(bm_sandbox *s, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    enter(s, L);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc != LUA_OK) error_text(s, L, rc, err, errlen);
    leave(s);
    if (rc != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

struct traceback_args {
    lua_State *co;
    const char *msg;
    char *err;
    size_t errlen;
};

static int coroutine_traceback(lua_State *L)
{
    struct traceback_args *ta = lua_touserdata(L, 1);
    luaL_traceback(L, ta->co, ta->msg, 0);
    snprintf(ta->err, ta->errlen, "%s", lua_tostring(L, -1));
    return 0;
}

int sandbox_resume(bm_sandbox *s, lua_State *from, lua_State *co, int nargs, int *nres, char *err, size_t errlen)
{
    enter(s, co);
    lua_sethook(co, budget_hook, LUA_MASKCOUNT, s->over_budget ? 1 : HOOK_EVERY);
    int rc = lua_resume(co, from ? from : s->L, nargs, nres);
    int slow = s->over_budget;
    leave(s);
    if (rc == LUA_OK || rc == LUA_YIELD) return rc;
    char slow_msg[128];
    snprintf(slow_msg, sizeof slow_msg, "the script ran too long (more than %d ms in one call) and was stopped", (int)s->time_ms);
    /* only a string error object is read as is (converting another would allocate, unprotected) */
    const char *m = lua_type(co, -1) == LUA_TSTRING ? lua_tostring(co, -1) : NULL;
    if (rc == LUA_ERRMEM) m = slow ? slow_msg : "the script used more memory than it is allowed and was stopped";
    if (!m) m = "the script raised an error that is not a string";
    /* the coroutine's traceback, built in a protected call: memory may be exhausted */
    struct traceback_args ta = {co, m, err, errlen};
    lua_pushcfunction(s->L, coroutine_traceback);
    lua_pushlightuserdata(s->L, &ta);
    if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
        lua_pop(s->L, 1);
        snprintf(err, errlen, "%s", m);
    }
    lua_settop(co, 0);
    return -1;
}

int sandbox_load_file(bm_sandbox *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    fclose(f);
    int rc = luaL_loadfilex(s->L, path, "t"); /* text only: binary chunks are refused */
    if (rc != LUA_OK) {
        const char *m = lua_tostring(s->L, -1);
        snprintf(err, errlen, "%s", m ? m : "cannot load the file");
        lua_pop(s->L, 1);
        return -1;
    }
    return 0;
}

int sandbox_load_string(bm_sandbox *s, const char *code, size_t len, const char *name, char *err, size_t errlen)
{
    if (luaL_loadbufferx(s->L, code, len, name, "t") != LUA_OK) {
        const char *m = lua_tostring(s->L, -1);
        snprintf(err, errlen, "%s", m ? m : "cannot load the code");
        lua_pop(s->L, 1);
        return -1;
    }
    return 0;
}

int sandbox_run_file(bm_sandbox *s, const char *path, char *err, size_t errlen)
{
    if (sandbox_load_file(s, path, err, errlen) != 0) return -1;
    int rc = sandbox_pcall(s, 0, 1, err, errlen);
    if (rc != 0 && err) {
        char *nl = strchr(err, '\n'); /* the first line says what went wrong; the traceback is for scripts */
        if (nl) *nl = 0;
    }
    return rc;
}
