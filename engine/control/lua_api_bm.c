/* lua_api_bm.c: the `bm` table (the band and the engine) and print, for scripts. */
#include "engine/control/lua_api.h"
#include "engine/behaviour.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bm_control *ctl(lua_State *L) { return lapi_script(L)->h->c; }

int lapi_int(lua_State *L, int arg, int lo, int hi)
{
    lua_Number v = luaL_checknumber(L, arg);
    if (!isfinite(v)) luaL_argerror(L, arg, "must be a finite number");
    v = round(v);
    if (v < lo || v > hi) luaL_error(L, "bad argument #%d: %d is outside %d..%d", arg, (int)fmax(fmin(v, 1e9), -1e9), lo, hi);
    return (int)v;
}

static int part_from(lua_State *L, int arg)
{
    if (lua_type(L, arg) == LUA_TNUMBER) return (int)round(lua_tonumber(L, arg));
    if (lua_type(L, arg) == LUA_TSTRING) return bm_part_from_name(lua_tostring(L, arg));
    return -1;
}

int lapi_band_part(lua_State *L, int arg)
{
    int p = part_from(L, arg);
    if (p < BM_PART_BASS || p >= BM_NUM_PARTS)
        luaL_argerror(L, arg, "must be a band part: \"bass\", \"drums\", \"comping\" or \"lead\"");
    return p;
}

int lapi_any_part(lua_State *L, int arg)
{
    int p = part_from(L, arg);
    if (p < 0 || p >= BM_NUM_PARTS)
        luaL_argerror(L, arg, "must be a part: \"human\", \"bass\", \"drums\", \"comping\" or \"lead\"");
    return p;
}

void lapi_push_param(lua_State *L, bm_control *c, int idx)
{
    const bm_param *p = &c->params.p[idx];
    switch (p->type) {
    case BM_PARAM_OPTION: lua_pushstring(L, params_option_name(&c->params, idx)); break;
    case BM_PARAM_TOGGLE: lua_pushboolean(L, p->value != 0); break;
    case BM_PARAM_TEXT:
        if (p->text[0]) lua_pushstring(L, p->text);
        else lua_pushnil(L);
        break;
    case BM_PARAM_TRIGGER: lua_pushnil(L); break;
    case BM_PARAM_INTEGER: lua_pushinteger(L, (lua_Integer)p->value); break;
    default: lua_pushnumber(L, p->value);
    }
}

static void set_value(lua_State *L, const char *fn, int idx, double v)
{
    char err[256];
    if (params_set(&ctl(L)->params, idx, v, BM_SRC_LUA, err, sizeof err) != 0) luaL_error(L, "%s: %s", fn, err);
}

static void set_string(lua_State *L, const char *fn, int idx, const char *s)
{
    char err[256];
    if (params_set_string(&ctl(L)->params, idx, s, BM_SRC_LUA, err, sizeof err) != 0) luaL_error(L, "%s: %s", fn, err);
}

/* A getter and setter of a number parameter with its range checked. */
static int ranged(lua_State *L, const char *fn, int idx)
{
    bm_control *c = ctl(L);
    if (!lua_isnoneornil(L, 1)) {
        lua_Number v = luaL_checknumber(L, 1);
        const bm_param *p = &c->params.p[idx];
        if (!(v >= p->min && v <= p->max)) return luaL_error(L, "%s: %g is outside %g..%g", fn, v, p->min, p->max);
        set_value(L, fn, idx, v);
    }
    lua_pushnumber(L, c->params.p[idx].value);
    return 1;
}

static int l_tempo(lua_State *L) { return ranged(L, "bm.tempo", ctl(L)->b.tempo); }
static int l_temperature(lua_State *L) { return ranged(L, "bm.temperature", ctl(L)->b.temperature); }
static int l_density(lua_State *L) { return ranged(L, "bm.density", ctl(L)->b.density); }

static int l_tap(lua_State *L)
{
    set_value(L, "bm.tap", ctl(L)->b.tap, 1);
    return 0;
}

static int l_play(lua_State *L)
{
    set_value(L, "bm.play", ctl(L)->b.playing, 1);
    return 0;
}

static int l_stop(lua_State *L)
{
    set_value(L, "bm.stop", ctl(L)->b.playing, 0);
    return 0;
}

static int l_playing(lua_State *L)
{
    lua_pushboolean(L, ctl(L)->map.rolling);
    return 1;
}

static int l_locate(lua_State *L)
{
    lua_Number beat = luaL_checknumber(L, 1);
    if (!(beat >= 0 && beat <= 1e7)) return luaL_error(L, "bm.locate: the beat must be 0..10000000");
    if (ctl_command(ctl(L), BM_CMD_LOCATE, 0, beat) != 0) return luaL_error(L, "bm.locate: the engine is busy");
    return 0;
}

static int l_panic(lua_State *L)
{
    set_value(L, "bm.panic", ctl(L)->b.panic, 1);
    return 0;
}

static int l_mode(lua_State *L)
{
    bm_control *c = ctl(L);
    if (!lua_isnoneornil(L, 1)) set_string(L, "bm.mode", c->b.mode, luaL_checkstring(L, 1));
    lua_pushstring(L, params_option_name(&c->params, c->b.mode));
    return 1;
}

static int l_modes(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; bm_mode_names[i]; i++) {
        lua_pushstring(L, bm_mode_names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_part(lua_State *L)
{
    bm_control *c = ctl(L);
    int p = lapi_band_part(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TBOOLEAN);
        set_value(L, "bm.part", c->b.part_on[p], lua_toboolean(L, 2));
    }
    lua_pushboolean(L, (c->parts_on >> p) & 1);
    return 1;
}

static int l_human(lua_State *L)
{
    bm_control *c = ctl(L);
    if (!lua_isnoneornil(L, 1)) set_string(L, "bm.human", c->b.human, luaL_checkstring(L, 1));
    lua_pushstring(L, params_option_name(&c->params, c->b.human));
    return 1;
}

static int l_voice(lua_State *L)
{
    bm_control *c = ctl(L);
    int p = lapi_any_part(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        set_string(L, "bm.voice", c->b.voice[p], luaL_checkstring(L, 2));
        if (c->voice_err[0]) return luaL_error(L, "bm.voice: %s", c->voice_err);
    }
    lapi_push_param(L, c, c->b.voice[p]);
    return 1;
}

static int l_morph(lua_State *L)
{
    bm_control *c = ctl(L);
    int p = lapi_any_part(L, 1);
    if (!lua_isnoneornil(L, 3)) set_string(L, "bm.morph", c->b.morph_to[p], luaL_checkstring(L, 3));
    if (!lua_isnoneornil(L, 2)) {
        lua_Number v = luaL_checknumber(L, 2);
        if (!(v >= 0 && v <= 1)) return luaL_error(L, "bm.morph: the amount must be 0..1");
        set_value(L, "bm.morph", c->b.morph[p], v);
    }
    if (c->voice_err[0]) return luaL_error(L, "bm.morph: %s", c->voice_err);
    lua_pushnumber(L, c->params.p[c->b.morph[p]].value);
    lapi_push_param(L, c, c->b.morph_to[p]);
    return 2;
}

static int l_key(lua_State *L)
{
    bm_control *c = ctl(L);
    if (!lua_isnoneornil(L, 1)) {
        const char *root = luaL_checkstring(L, 1);
        int pc = song_pitch_class(root, NULL);
        if (pc < 0) return luaL_error(L, "bm.key: '%s' is not a key (C, C#, Db, ... B)", root);
        if (!lua_isnoneornil(L, 2)) set_string(L, "bm.key", c->b.scale, luaL_checkstring(L, 2));
        set_value(L, "bm.key", c->b.key, pc);
    }
    lua_pushstring(L, params_option_name(&c->params, c->b.key));
    lua_pushstring(L, params_option_name(&c->params, c->b.scale));
    return 2;
}

static int l_scale_note(lua_State *L)
{
    bm_control *c = ctl(L);
    int degree = lapi_int(L, 1, -100, 100);
    int octave = lua_isnoneornil(L, 2) ? 4 : lapi_int(L, 2, -1, 9);
    int note = song_scale_note((int)c->params.p[c->b.key].value, (int)c->params.p[c->b.scale].value, degree, octave);
    if (note < 0 || note > 127) return luaL_error(L, "bm.scale_note: degree %d in octave %d is outside the MIDI range", degree, octave);
    lua_pushinteger(L, note);
    return 1;
}

static void push_chord(lua_State *L, const bm_chord *ch)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, ch->symbol);
    lua_setfield(L, -2, "symbol");
    lua_pushinteger(L, ch->root);
    lua_setfield(L, -2, "root");
    lua_pushinteger(L, ch->bass);
    lua_setfield(L, -2, "bass");
    lua_pushnumber(L, ch->beats);
    lua_setfield(L, -2, "beats");
    lua_createtable(L, ch->ntones, 0);
    for (int i = 0; i < ch->ntones; i++) {
        lua_pushinteger(L, ch->tones[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "tones");
}

static int l_chords(lua_State *L)
{
    bm_song *song = &ctl(L)->song;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_Integer n = luaL_len(L, 1);
        if (n > BM_SONG_MAX_CHORDS) return luaL_error(L, "bm.chords: at most %d chords", BM_SONG_MAX_CHORDS);
        double start = luaL_optnumber(L, 2, 0);
        bm_chord chart[BM_SONG_MAX_CHORDS];
        double total = 0;
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, 1, i);
            if (!lua_istable(L, -1)) return luaL_error(L, "bm.chords: entry %d must be like {\"Dm7\", 4}", (int)i);
            lua_geti(L, -1, 1);
            lua_geti(L, -2, 2);
            const char *sym = lua_tostring(L, -2);
            lua_Number beats = lua_tonumber(L, -1);
            char err[256];
            if (!sym || !(beats > 0 && beats <= 1024))
                return luaL_error(L, "bm.chords: entry %d must be like {\"Dm7\", 4}: a symbol and 0 < beats <= 1024", (int)i);
            if (song_parse_chord(sym, &chart[i - 1], err, sizeof err) != 0) return luaL_error(L, "bm.chords: %s", err);
            chart[i - 1].beats = beats;
            total += beats;
            lua_pop(L, 3);
        }
        memcpy(song->chart, chart, sizeof chart[0] * (size_t)n);
        song->nchords = (int)n;
        song->chart_beats = total;
        song->chart_start = isfinite(start) ? start : 0;
        char err[256];
        if (ctl_send_chart(ctl(L), err, sizeof err) != 0) return luaL_error(L, "bm.chords: %s", err);
        return 0;
    }
    lua_createtable(L, song->nchords, 0);
    for (int i = 0; i < song->nchords; i++) {
        push_chord(L, &song->chart[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_chord(lua_State *L)
{
    bm_lua *h = lapi_script(L)->h;
    double beat = lua_isnoneornil(L, 1) ? ctl_when_beat(h->c, h->logical) : luaL_checknumber(L, 1);
    const bm_chord *ch = song_chord_at(&h->c->song, beat);
    if (!ch) {
        lua_pushnil(L);
        return 1;
    }
    push_chord(L, ch);
    return 1;
}

/* The time a note asks for: an absolute beat at argument arg, or the caller's logical time. */
static ctl_when when_at(lua_State *L, int arg)
{
    bm_lua *h = lapi_script(L)->h;
    if (lua_isnoneornil(L, arg)) return h->logical;
    lua_Number beat = luaL_checknumber(L, arg);
    if (!isfinite(beat)) luaL_argerror(L, arg, "must be a beat");
    return (ctl_when){CTL_BEAT, 0, beat};
}

static int note_result(lua_State *L, int rc, const char *fn, const char *err)
{
    if (rc < 0) return luaL_error(L, "%s: %s", fn, err);
    lua_pushboolean(L, rc == 0);
    return 1;
}

static int l_note(lua_State *L)
{
    int part = lapi_band_part(L, 1), note = lapi_int(L, 2, 0, 127), vel = lapi_int(L, 3, 0, 127);
    lua_Number dur = luaL_optnumber(L, 4, 1);
    if (!(dur >= 0 && dur <= 1e4)) return luaL_error(L, "bm.note: the length must be 0..10000 beats");
    char err[256];
    int rc = ctl_note(ctl(L), part, note, vel, dur, when_at(L, 5), err, sizeof err);
    return note_result(L, rc, "bm.note", err);
}

static int l_note_on(lua_State *L)
{
    int part = lapi_band_part(L, 1), note = lapi_int(L, 2, 0, 127), vel = lapi_int(L, 3, 1, 127);
    char err[256];
    int rc = ctl_note(ctl(L), part, note, vel, 0, when_at(L, 4), err, sizeof err);
    return note_result(L, rc, "bm.note_on", err);
}

static int l_note_off(lua_State *L)
{
    int part = lapi_band_part(L, 1), note = lapi_int(L, 2, 0, 127);
    char err[256];
    int rc = ctl_note(ctl(L), part, note, 0, 0, when_at(L, 3), err, sizeof err);
    return note_result(L, rc, "bm.note_off", err);
}

static int l_cc(lua_State *L)
{
    int part = lapi_band_part(L, 1), cc = lapi_int(L, 2, 0, 127), val = lapi_int(L, 3, 0, 127);
    char err[256];
    if (ctl_cc(ctl(L), part, cc, val, when_at(L, 4), err, sizeof err) != 0) return luaL_error(L, "bm.cc: %s", err);
    return 0;
}

static double field_number(lua_State *L, int t, const char *k, int alt, double def)
{
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_geti(L, t, alt);
    }
    double v = lua_isnil(L, -1) ? def : lua_tonumber(L, -1);
    if (!lua_isnil(L, -1) && !lua_isnumber(L, -1)) v = NAN;
    lua_pop(L, 1);
    return v;
}

static int l_prime(lua_State *L)
{
    bm_song *song = &ctl(L)->song;
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *part = luaL_optstring(L, 2, "lead");
    if (bm_part_from_name(part) < 0) return luaL_error(L, "bm.prime: '%s' is not a part", part);
    lua_Integer n = luaL_len(L, 1);
    if (n > BM_SONG_MAX_PRIME) return luaL_error(L, "bm.prime: a phrase holds at most %d notes", BM_SONG_MAX_PRIME);
    bm_prime_note notes[BM_SONG_MAX_PRIME];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        if (!lua_istable(L, -1)) return luaL_error(L, "bm.prime: note %d must be a table {note=, vel=, beat=, dur=}", (int)i);
        int t = lua_gettop(L);
        double note = field_number(L, t, "note", 1, NAN), vel = field_number(L, t, "vel", 2, 100);
        double beat = field_number(L, t, "beat", 3, NAN), dur = field_number(L, t, "dur", 4, 1);
        lua_pop(L, 1);
        if (!(note >= 0 && note <= 127) || !(vel >= 1 && vel <= 127) || !(beat >= 0 && beat < 1e6) || !(dur > 0 && dur < 1e4))
            return luaL_error(L, "bm.prime: note %d needs note 0..127, vel 1..127, beat >= 0 and dur > 0", (int)i);
        notes[i - 1] = (bm_prime_note){beat, dur, (int)note, (int)vel};
    }
    memcpy(song->prime, notes, sizeof notes[0] * (size_t)n);
    song->nprime = (int)n;
    snprintf(song->prime_part, sizeof song->prime_part, "%s", part);
    /* the band hears it at its next step, as if it had just been played */
    static bm_event ev[2 * BM_SONG_MAX_PRIME];
    double length = 0;
    for (lua_Integer i = 0; i < n; i++) {
        for (int off = 0; off < 2; off++) {
            bm_event *e = &ev[2 * i + off];
            memset(e, 0, sizeof *e);
            e->type = off ? BM_EV_NOTE_OFF : BM_EV_NOTE_ON;
            e->part = BM_PART_HUMAN;
            e->note = (uint8_t)notes[i].note;
            e->velocity = off ? 0 : (uint8_t)notes[i].vel;
            e->flags = BM_EVF_BEAT;
            e->beat = notes[i].beat + (off ? notes[i].dur : 0);
        }
        if (notes[i].beat + notes[i].dur > length) length = notes[i].beat + notes[i].dur;
    }
    int m = (int)(2 * n);
    bm_events_sort_by_beat(ev, m);
    char err[256];
    if (engine_prime(ctl(L)->e, ev, m, bm_part_from_name(part), length, err, sizeof err) != 0) return luaL_error(L, "bm.prime: %s", err);
    lua_pushinteger(L, song->nprime);
    return 1;
}

static int l_beat(lua_State *L)
{
    bm_lua *h = lapi_script(L)->h;
    lua_pushnumber(L, ctl_when_beat(h->c, h->logical));
    return 1;
}

static int l_time(lua_State *L)
{
    bm_lua *h = lapi_script(L)->h;
    lua_pushnumber(L, (double)ctl_when_frame(h->c, h->logical) / h->c->sr);
    return 1;
}

static int l_status(lua_State *L)
{
    bm_control *c = ctl(L);
    const bm_engine_stats *st = engine_stats(c->e);
    lua_createtable(L, 0, 10);
    lua_pushnumber(L, c->map.bpm);
    lua_setfield(L, -2, "tempo");
    lua_pushnumber(L, clock_map_beat_at(&c->map, c->now));
    lua_setfield(L, -2, "beat");
    lua_pushboolean(L, c->map.rolling);
    lua_setfield(L, -2, "playing");
    lua_pushstring(L, params_option_name(&c->params, c->b.mode));
    lua_setfield(L, -2, "mode");
    lua_pushinteger(L, (lua_Integer)(c->jack ? jack_driver_xruns(c->jack) : atomic_load(&st->xruns)));
    lua_setfield(L, -2, "xruns");
    lua_pushinteger(L, (lua_Integer)atomic_load(&st->late_events));
    lua_setfield(L, -2, "late");
    lua_pushinteger(L, (lua_Integer)atomic_load(&st->human_notes));
    lua_setfield(L, -2, "human_notes");
    lua_pushinteger(L, (lua_Integer)atomic_load(&st->band_notes));
    lua_setfield(L, -2, "band_notes");
    lua_pushinteger(L, (lua_Integer)sandbox_memory(lapi_script(L)->sb));
    lua_setfield(L, -2, "memory");
    lua_pushinteger(L, c->map.beats_per_bar);
    lua_setfield(L, -2, "beats_per_bar");
    return 1;
}

static int l_heard(lua_State *L)
{
    bm_listen_state st;
    engine_listen_state(ctl(L)->e, &st);
    char key[32], chord[32];
    lua_createtable(L, 0, 16);
    lua_pushstring(L, listen_key_name(st.key_root, st.key_minor, key, sizeof key));
    lua_setfield(L, -2, "key");
    lua_pushinteger(L, st.key_root);
    lua_setfield(L, -2, "key_root");
    lua_pushboolean(L, st.key_minor);
    lua_setfield(L, -2, "key_minor");
    lua_pushnumber(L, st.key_confidence);
    lua_setfield(L, -2, "key_confidence");
    lua_pushstring(L, listen_chord_name(st.chord_root, st.chord_quality, chord, sizeof chord));
    lua_setfield(L, -2, "chord");
    lua_pushinteger(L, st.chord_root);
    lua_setfield(L, -2, "chord_root");
    lua_pushstring(L, listen_chord_quality_name(st.chord_quality));
    lua_setfield(L, -2, "chord_quality");
    lua_pushinteger(L, st.bass);
    lua_setfield(L, -2, "bass");
    lua_pushnumber(L, st.chord_confidence);
    lua_setfield(L, -2, "chord_confidence");
    lua_pushnumber(L, st.tempo_bpm);
    lua_setfield(L, -2, "tempo");
    lua_pushnumber(L, st.tempo_confidence);
    lua_setfield(L, -2, "tempo_confidence");
    lua_pushboolean(L, st.in_phrase);
    lua_setfield(L, -2, "in_phrase");
    lua_pushinteger(L, st.sounding);
    lua_setfield(L, -2, "sounding");
    lua_pushinteger(L, (lua_Integer)st.phrases);
    lua_setfield(L, -2, "phrases");
    lua_pushnumber(L, st.last_note);
    lua_setfield(L, -2, "last_note");
    lua_pushnumber(L, st.input_db);
    lua_setfield(L, -2, "input_db");
    return 1;
}

static int l_end_phrase(lua_State *L)
{
    if (engine_end_phrase(ctl(L)->e) != 0) return luaL_error(L, "bm.end_phrase: the engine is busy");
    return 0;
}

static int l_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_addvalue(&b);
        (void)s;
    }
    luaL_pushresult(&b);
    ctl_script_print(ctl(L), lua_tostring(L, -1));
    return 0;
}

void lapi_open_bm(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"tempo", l_tempo},     {"tap", l_tap},         {"play", l_play},           {"stop", l_stop},
        {"playing", l_playing}, {"locate", l_locate},   {"panic", l_panic},         {"mode", l_mode},
        {"modes", l_modes},     {"part", l_part},       {"human", l_human},         {"voice", l_voice},
        {"morph", l_morph},     {"temperature", l_temperature}, {"density", l_density}, {"key", l_key},
        {"scale_note", l_scale_note}, {"chords", l_chords}, {"chord", l_chord},     {"note", l_note},
        {"note_on", l_note_on}, {"note_off", l_note_off}, {"cc", l_cc},             {"prime", l_prime},
        {"beat", l_beat},       {"time", l_time},       {"status", l_status},       {"heard", l_heard},
        {"end_phrase", l_end_phrase}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "bm");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
}
