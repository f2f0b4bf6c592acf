/* listen_patch.c: validating a patch's listen table field by field. */
#include "engine/listen/listen_patch.h"
#include "engine/util.h"

#include <lauxlib.h>
#include <string.h>

static const char *const fields[] = {"audio", "input", "silence_db", "confidence", "onset_threshold", "hysteresis",
                                     "lowest", "highest", "follow", "phrase_gap", "phrase_bars", "input_gain",
                                     "mix_input", NULL};

/* A number field in [lo, hi]: 1 and *out set when present, 0 when absent, -1 on error. */
static int number(lua_State *L, int t, const char *key, double lo, double hi, double *out, char *err, size_t errlen)
{
    lua_getfield(L, t, key);
    int type = lua_type(L, -1), rc = 0;
    if (type == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (!(v >= lo && v <= hi)) {
            bm_errf(err, errlen, "listen.%s = %g is outside %g..%g", key, v, lo, hi);
            rc = -1;
        } else {
            *out = v;
            rc = 1;
        }
    } else if (type != LUA_TNIL) {
        bm_errf(err, errlen, "listen.%s must be a number", key);
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int boolean(lua_State *L, int t, const char *key, int *out, char *err, size_t errlen)
{
    lua_getfield(L, t, key);
    int type = lua_type(L, -1), rc = 0;
    if (type == LUA_TBOOLEAN) {
        *out = lua_toboolean(L, -1);
        rc = 1;
    } else if (type != LUA_TNIL) {
        bm_errf(err, errlen, "listen.%s must be true or false", key);
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

int listen_config_from_lua(lua_State *L, int idx, bm_listen_config *c, char *err, size_t errlen)
{
    int t = lua_absindex(L, idx);
    if (!lua_istable(L, t)) {
        bm_errf(err, errlen, "listen must be a table like { audio = \"mono\", input = 1 }");
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; fields[i]; i++)
                if (!strcmp(lua_tostring(L, -1), fields[i])) known = 1;
        if (!known) {
            if (lua_type(L, -1) == LUA_TSTRING)
                bm_errf(err, errlen, "'%s' is not a field bandmate knows in listen", lua_tostring(L, -1));
            else
                bm_errf(err, errlen, "listen has a key that is not a name");
            lua_pop(L, 1);
            return -1;
        }
    }
    bm_listen_config n = *c;
    lua_getfield(L, t, "audio");
    if (lua_type(L, -1) == LUA_TSTRING) {
        int m = listen_audio_from_name(lua_tostring(L, -1));
        if (m < 0) {
            bm_errf(err, errlen, "listen.audio '%s' is not one of off, mono, poly", lua_tostring(L, -1));
            lua_pop(L, 1);
            return -1;
        }
        n.audio = m;
    } else if (!lua_isnil(L, -1)) {
        bm_errf(err, errlen, "listen.audio must be \"off\", \"mono\" or \"poly\"");
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    double v;
    int r;
    if ((r = number(L, t, "input", 1, 2, &v, err, errlen)) < 0) return -1;
    if (r) n.input = (int)v - 1;
    if ((r = number(L, t, "silence_db", -100, 0, &v, err, errlen)) < 0) return -1;
    if (r) n.silence_db = (float)v;
    if ((r = number(L, t, "confidence", 0, 1, &v, err, errlen)) < 0) return -1;
    if (r) n.min_confidence = (float)v;
    if ((r = number(L, t, "onset_threshold", 0.01, 2, &v, err, errlen)) < 0) return -1;
    if (r) n.onset_threshold = (float)v;
    if ((r = number(L, t, "hysteresis", 0, 2, &v, err, errlen)) < 0) return -1;
    if (r) n.hysteresis = (float)v;
    if ((r = number(L, t, "lowest", 0, 127, &v, err, errlen)) < 0) return -1;
    if (r) n.lowest_note = (int)v;
    if ((r = number(L, t, "highest", 0, 127, &v, err, errlen)) < 0) return -1;
    if (r) n.highest_note = (int)v;
    if ((r = number(L, t, "follow", 0, 1, &v, err, errlen)) < 0) return -1;
    if (r) n.follow = v;
    if ((r = number(L, t, "phrase_gap", 0.25, 16, &v, err, errlen)) < 0) return -1;
    if (r) n.phrase_gap = v;
    if ((r = number(L, t, "input_gain", 0, 4, &v, err, errlen)) < 0) return -1;
    if (r) n.input_gain = (float)v;
    if (boolean(L, t, "phrase_bars", &n.phrase_bars, err, errlen) < 0) return -1;
    if (boolean(L, t, "mix_input", &n.mix_input, err, errlen) < 0) return -1;
    if (n.lowest_note >= n.highest_note) {
        bm_errf(err, errlen, "listen.lowest (%d) must be below listen.highest (%d)", n.lowest_note, n.highest_note);
        return -1;
    }
    *c = n;
    return 0;
}
