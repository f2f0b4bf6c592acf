/* keys.h: keyboard control in the terminal while `bandmate run` plays: t tap tempo, space start or
 * stop, + and - tempo, m next mode, p panic (all notes off), q quit. Control thread. */
#pragma once

#include "engine/engine.h"

/* Puts the terminal in single-key mode when stdin is a terminal; 1 if it did. */
int keys_start(void);

/* Restores the terminal (safe to call more than once). */
void keys_stop(void);

/* Handles the keys pressed since the last call; returns 1 when the performer asked to quit.
 * mode (in/out) is the current mode's name, changed by 'm'. */
int keys_poll(bm_engine *e, char *mode, size_t mode_cap);
