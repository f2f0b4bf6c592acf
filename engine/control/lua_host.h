/* lua_host.h: the one Lua state of the control thread and the script in it: loading (a file that
 * does not compile or fails at its top level is refused and the running script kept), init() and
 * cleanup(), the callbacks (performer notes, phrases, onsets, beats, band notes, MIDI, OSC,
 * parameter actions), the clocks (coroutines woken by time or by beats), errors reported with a
 * traceback while the script keeps running, and Lua code sent over OSC. Every call into Lua runs
 * under the sandbox's memory cap and per-call budget. Control thread only. */
#pragma once

#include "engine/control/control_internal.h"

/* A host with no script. NULL when out of memory. */
bm_lua *lua_host_new(bm_control *c);

/* Stops the script (cleanup) and frees everything. */
void lua_host_free(bm_lua *h);

/* Loads a script file into a fresh state and runs its top level; when that works the running
 * script (if any) is stopped and replaced and the new init() runs. Returns 0 (running), 1 (loaded
 * but init() failed: the script is stopped again; the caller restores a safe default), or -1 with
 * err (nothing changed). */
int lua_host_load(bm_lua *h, const char *path, char *err, size_t errlen);

/* Stops the script: cleanup(), its clocks and parameters go. */
void lua_host_stop(bm_lua *h);

/* 1 while a script runs; its path ("" when none). */
int lua_host_running(const bm_lua *h);
const char *lua_host_path(const bm_lua *h);

/* Hands an event of the feedback ring to the script (notes of the performer and the band, beats,
 * MIDI from the performer). */
void lua_host_event(bm_lua *h, const bm_event *ev);

/* Hands a phrase the performer (or a band part) finished to the script's on_phrase. */
void lua_host_phrase(bm_lua *h, int part, double start_beat, double end_beat, int notes, const char *reason);

/* Hands an onset heard on the audio input to the script's on_onset. */
void lua_host_onset(bm_lua *h, double beat, double strength);

/* Hands an OSC message to the script's on_osc; 1 when the script has one, 0 otherwise. */
int lua_host_osc(bm_lua *h, const osc_msg *m, const osc_peer *from);

/* Runs a parameter's script action. */
void lua_host_param_action(bm_lua *h, int idx);

/* Resumes the clocks whose time has come. */
void lua_host_run_clocks(bm_lua *h);

/* The earliest frame at which a clock wants to run (INT64_MAX: none, or waiting for the transport). */
int64_t lua_host_next_wake(bm_lua *h);

/* Runs Lua code (from OSC) in the script's state, or in a scratch state when no script runs;
 * 0 with the results as text in out, or -1 with the error in out. */
int lua_host_eval(bm_lua *h, const char *code, size_t len, char *out, size_t cap);

/* Memory the script's state uses, in bytes. */
size_t lua_host_memory(const bm_lua *h);
