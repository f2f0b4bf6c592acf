/* sandbox.h: Lua states for untrusted files: a memory cap (custom allocator), an instruction budget
 * per call, text chunks only (binary chunks refused), and a restricted global environment (no io,
 * os.execute, require, load of bytecode, debug). Used for patches now and scripts later.
 * Not real-time: Lua never runs on the process thread. */
#pragma once

#include <lua.h>
#include <stddef.h>

typedef struct bm_sandbox bm_sandbox;

/* A new sandboxed state with a memory cap in bytes; NULL when out of memory. */
bm_sandbox *sandbox_new(size_t mem_limit);

/* Frees the state. */
void sandbox_free(bm_sandbox *s);

/* The Lua state (its globals are the safe environment). */
lua_State *sandbox_state(bm_sandbox *s);

/* Sets the instruction budget for each protected call (0: unlimited). */
void sandbox_set_budget(bm_sandbox *s, long instructions);

/* Loads and runs a text file, leaving its first return value (or nil) on the stack; 0, or -1 with
 * one sentence in err (missing file, syntax error with line, runtime error, budget or memory
 * exceeded). */
int sandbox_run_file(bm_sandbox *s, const char *path, char *err, size_t errlen);

/* Calls the function below nargs arguments on the stack in protected mode with the budget and a
 * traceback; 0, or -1 with the error and traceback in err. Leaves nresults values on success. */
int sandbox_pcall(bm_sandbox *s, int nargs, int nresults, char *err, size_t errlen);

/* Bytes currently allocated by the state. */
size_t sandbox_memory(const bm_sandbox *s);
