/* listen_patch.h: the `listen = {...}` table of a patch: how bandmate listens to the performer
 * (which audio input, mono or poly, the gates, tempo following, phrases). Read by the patch loader
 * on the control thread. */
#pragma once

#include "engine/listen/listen_state.h"

#include <lua.h>
#include <stddef.h>

/* Reads the table at stack index idx over the values already in c; 0, or -1 with one sentence in
 * err naming the field (an unknown field, a value out of range or of the wrong type). */
int listen_config_from_lua(lua_State *L, int idx, bm_listen_config *c, char *err, size_t errlen);
