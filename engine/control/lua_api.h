/* lua_api.h: what the Lua bindings (lua_api_*.c) share with the host: the script a Lua state
 * belongs to, its clocks, and argument helpers. Not for use outside engine/control/. */
#pragma once

#include "engine/control/control_internal.h"
#include "engine/sandbox.h"

#include <lauxlib.h>
#include <lua.h>

#define LUA_MAX_CLOCKS 128

enum lclock_wait { WAIT_NONE = 0, WAIT_TIME, WAIT_BEAT, WAIT_NEXT };

typedef struct lclock {
    int used;
    int id;
    int ref;                /* registry reference keeping the thread alive */
    lua_State *co;
    int wait;               /* enum lclock_wait */
    int64_t wake_frame;     /* WAIT_TIME: the frame it sleeps until */
    double target_beat;     /* WAIT_BEAT */
    double sync_beats, sync_offset; /* what clock.sync asked for (to re-aim after a relocation) */
    ctl_when logical;       /* its own time: notes it plays are stamped with it */
    int cancelled;
    int running;
} lclock;

typedef struct lscript {
    struct bm_lua *h;
    bm_sandbox *sb;
    char path[1024];
    int loading;            /* its top level is running (params.add waits for init) */
    int generation;
    lclock clocks[LUA_MAX_CLOCKS];
    int next_clock_id;
} lscript;

struct bm_lua {
    bm_control *c;
    lscript *cur;           /* the running script, or NULL */
    lscript *scratch;       /* for Lua over OSC when no script runs */
    int generation;
    ctl_when logical;       /* the time "now" means for code running at this moment */
    lua_State *L_now;       /* the thread that called into C last (for nested calls) */
    const osc_peer *osc_from; /* the sender, during on_osc */
    int sends;              /* osc.send calls in this callback */
};

/* The script a state belongs to (set when the state is made), noting the calling thread. */
lscript *lapi_script(lua_State *L);

/* Registers the bm, params, clock, osc and midi tables and print in a state. */
void lapi_open_bm(lua_State *L);
void lapi_open_params(lua_State *L);
void lapi_open_clock(lua_State *L);
void lapi_open_osc(lua_State *L);

/* A band or any part from a name or number argument (raises a Lua error otherwise). */
int lapi_band_part(lua_State *L, int arg);
int lapi_any_part(lua_State *L, int arg);

/* A whole number argument in [lo, hi] (floats are rounded; raises otherwise). */
int lapi_int(lua_State *L, int arg, int lo, int hi);

/* Pushes a parameter's value as Lua sees it (number, name, boolean or nil). */
void lapi_push_param(lua_State *L, bm_control *c, int idx);

/* The clock a thread is, or NULL. */
lclock *lapi_clock_of(lscript *s, lua_State *L);

/* Resumes a clock with nargs on its stack, at its logical time; handles its yield, end or error. */
void lapi_clock_resume(lscript *s, lclock *k, lua_State *from, int nargs);

/* Frees a clock's slot (its thread is collected), using the running thread L. */
void lapi_clock_free(lscript *s, lclock *k, lua_State *L);
