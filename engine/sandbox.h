/* sandbox.h: Lua states for untrusted files: a memory cap (custom allocator), an instruction and
 * wall-time budget per call that a script cannot catch, text chunks only (binary chunks refused),
 * and a restricted global environment (no io, os.execute, require of C modules, debug, string.dump,
 * __gc finalizers) unless the caller allows io, os or require. Used for patches and scripts.
 * Not real-time: Lua never runs on the process thread. */
#pragma once

#include <lua.h>
#include <stddef.h>

typedef struct bm_sandbox bm_sandbox;

enum bm_sandbox_allow {
    BM_SANDBOX_IO = 1,        /* the io library */
    BM_SANDBOX_OS = 2,        /* the whole os library (a safe part is always there) */
    BM_SANDBOX_REQUIRE = 4,   /* Lua's own require and package, C modules included */
};

typedef struct bm_sandbox_opts {
    size_t mem_limit;         /* bytes (0: 64 MiB) */
    long instructions;        /* per call (0: unlimited) */
    double time_ms;           /* per call (0: unlimited) */
    int allow;                /* enum bm_sandbox_allow bits */
    const char *module_dir;   /* folder that the sandbox's require reads NAME.lua from (NULL: none) */
} bm_sandbox_opts;

/* A new sandboxed state with a memory cap in bytes (no budget, nothing allowed); NULL when out of
 * memory. */
bm_sandbox *sandbox_new(size_t mem_limit);

/* A new sandboxed state with options; NULL when out of memory. */
bm_sandbox *sandbox_new_opts(const bm_sandbox_opts *o);

/* Frees the state. */
void sandbox_free(bm_sandbox *s);

/* The Lua state (its globals are the safe environment). */
lua_State *sandbox_state(bm_sandbox *s);

/* The sandbox a Lua state belongs to. */
bm_sandbox *sandbox_of(lua_State *L);

/* Sets the instruction budget for each protected call (0: unlimited). */
void sandbox_set_budget(bm_sandbox *s, long instructions);

/* Sets the wall-time budget for each protected call in milliseconds (0: unlimited). */
void sandbox_set_time_budget(bm_sandbox *s, double ms);

/* Loads and runs a text file, leaving its first return value (or nil) on the stack; 0, or -1 with
 * one sentence in err (missing file, syntax error with line, runtime error, budget or memory
 * exceeded). */
int sandbox_run_file(bm_sandbox *s, const char *path, char *err, size_t errlen);

/* Compiles a text file (binary chunks refused) and leaves the function on the stack; 0, or -1
 * with the error (file:line: message) in err. */
int sandbox_load_file(bm_sandbox *s, const char *path, char *err, size_t errlen);

/* Compiles text code named name and leaves the function on the stack; 0 or -1 with err. */
int sandbox_load_string(bm_sandbox *s, const char *code, size_t len, const char *name, char *err, size_t errlen);

/* Calls the function below nargs arguments on the stack in protected mode with the budget and a
 * traceback; 0, or -1 with the error and traceback in err. Leaves nresults values on success.
 * Calls made from inside another protected call share the outer call's budget. */
int sandbox_pcall(bm_sandbox *s, int nargs, int nresults, char *err, size_t errlen);

/* Resumes a coroutine with nargs arguments under the budget, from the thread running now (NULL:
 * the main one): LUA_OK when it finished, LUA_YIELD when it yielded (*nres values on its stack),
 * or -1 with the error and the coroutine's traceback in err (the coroutine is dead). */
int sandbox_resume(bm_sandbox *s, lua_State *from, lua_State *co, int nargs, int *nres, char *err,
                   size_t errlen);

/* 1 while a protected call or resume is running (Lua code is on the C stack). */
int sandbox_busy(const bm_sandbox *s);

/* Bytes currently allocated by the state, and its cap. */
size_t sandbox_memory(const bm_sandbox *s);
size_t sandbox_memory_limit(const bm_sandbox *s);
