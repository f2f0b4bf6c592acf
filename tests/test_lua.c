/* test_lua.c: scripts in the control thread, driven in-process on a virtual clock: clocks that play
 * on the beat, callbacks, parameters and their actions, the API, and everything a script can do
 * wrong (runtime and syntax errors, endless loops, memory bombs, sandbox escapes, a failed init, a
 * broken hot reload), each reported while the rest keeps working. */
#include "test.h"
#include "test_lua_harness.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BASS_CH 1 /* 0-based MIDI channel of the bass part */
#define LEAD_CH 3

/* A clock that plays a bass note on every beat, the way the shipped scripts keep time. */
static const char *const beat_clock =
    "function init()\n"
    "  clock.run(function()\n"
    "    while true do\n"
    "      clock.sync(1)\n"
    "      bm.note('bass', 40, 100, 0.5)\n"
    "    end\n"
    "  end)\n"
    "end\n";

TEST(lua_clock_sync_plays_exactly_on_the_beat)
{
    harness h;
    char err[1024];
    const char *path = h_write("beat.lua", beat_clock);
    CHECKF(h_open(&h, "silent", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 4.2);
    int n = 0;
    for (int i = 0; i < h.nout; i++) {
        if (h.out[i].b[0] != (0x90 | BASS_CH) || !h.out[i].b[2]) continue;
        n++;
        /* 120 BPM at 48 kHz: a beat is 24000 frames; musical time starts at the first period */
        CHECKF(h.out[i].frame % 24000 == 0, "a clocked note fell at frame %lld, not on a beat", (long long)h.out[i].frame);
    }
    CHECKF(n >= 7 && n <= 9, "%d beat notes in 4.2 s at 120 BPM", n);
    CHECK_EQ_INT(atomic_load(&engine_stats(h.e)->late_events), 0);
    h_close(&h);
}

TEST(lua_sleep_follows_seconds_and_tempo_changes_follow_sync)
{
    harness h;
    char err[1024];
    const char *path = h_write("sleep.lua",
                               "function init()\n"
                               "  clock.run(function()\n"
                               "    for i = 1, 6 do bm.note('lead', 60 + i, 90, 0.1); clock.sleep(0.25) end\n"
                               "  end)\n"
                               "  bm.tempo(90)\n"
                               "end\n");
    CHECKF(h_open(&h, "silent", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 2.0);
    int64_t first = -1, prev = -1;
    int n = 0;
    for (int i = 0; i < h.nout; i++) {
        if (h.out[i].b[0] != (0x90 | LEAD_CH) || !h.out[i].b[2]) continue;
        if (first < 0) first = h.out[i].frame;
        if (prev >= 0) CHECK_EQ_INT(h.out[i].frame - prev, 12000); /* 0.25 s apart, exactly */
        prev = h.out[i].frame;
        n++;
    }
    CHECK_EQ_INT(n, 6);
    h_send(&h, "/bm/status", "");
    CHECK(h_replied(&h, "/bm/status.reply 90 "));
    h_close(&h);
}

static void allow_lua(bm_control_opts *o) { o->osc_lua = 1; }

TEST(lua_callbacks_counted_through_osc_eval)
{
    harness h;
    char err[1024];
    const char *path = h_write("cb2.lua",
                               "notes, offs, midi, band, beats = 0, 0, 0, 0, 0\n"
                               "function on_note(n) if n.on then notes = notes + 1 else offs = offs + 1 end end\n"
                               "function on_midi(m) midi = midi + 1 end\n"
                               "function on_band_note(n) if n.on then band = band + 1 end end\n"
                               "function on_beat(b) beats = beats + 1 end\n");
    CHECKF(h_open(&h, "echo", path, allow_lua, err, sizeof err) == 0, "%s", err);
    h_run(&h, 0.2);
    h_midi_in(&h, 0x90, 64, 100);
    h_midi_in(&h, 0xb0, 7, 99);
    h_run(&h, 0.3);
    h_midi_in(&h, 0x80, 64, 0);
    h_run(&h, 2.0);
    h_send(&h, "/bm/lua", "s", "return notes, offs, midi, band, beats");
    /* the echo answers one note with two (a third and the note itself); 2.5 s at 120 BPM: 5 beats */
    CHECKF(h_replied(&h, "/bm/done lua 1\t1\t3\t2\t5") || h_replied(&h, "/bm/done lua 1\t1\t3\t2\t4"),
           "callback counts: %s", h.replies);
    h_send(&h, "/bm/lua", "s", "error('boom')");
    CHECK(h_replied(&h, "/bm/fail lua osc:1: boom"));
    h_send(&h, "/bm/lua", "s", "return (");
    CHECK(h_replied(&h, "/bm/fail lua osc:1:"));
    h_close(&h);
}

TEST(lua_phrase_and_onset_callbacks_reach_the_script_and_osc)
{
    harness h;
    char err[1024];
    const char *path = h_write("ph.lua",
                               "function on_phrase(p) phrase = p.part .. ' ' .. p.start .. ' ' .. p.stop .. ' ' .. p.notes .. ' ' .. p.reason end\n"
                               "function on_onset(o) onset = o.beat .. ' ' .. o.strength end\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    control_phrase(h.c, 0, 4.0, 7.5, 6, "rest");
    control_onset(h.c, 8.0, 0.5);
    h_send(&h, "/bm/lua", "s", "return phrase, onset");
    CHECKF(h_replied(&h, "/bm/done lua human 4.0 7.5 6 rest\t8.0 0.5"), "%s", h.replies);
    CHECK(h_replied(&h, "/bm/event/phrase human 4 7.5 6 rest"));
    CHECK(h_replied(&h, "/bm/event/onset 8 0.5"));
    h_close(&h);
}

TEST(lua_runtime_errors_are_reported_with_a_traceback_and_the_script_keeps_running)
{
    harness h;
    char err[1024];
    const char *path = h_write("err.lua",
                               "local function deep() local t = nil; return t.field end\n"
                               "function init()\n"
                               "  clock.run(function() while true do clock.sync(1); bm.note('bass', 40, 100, 0.5) end end)\n"
                               "end\n"
                               "function on_beat(b) deep() end\n");
    CHECKF(h_open(&h, "silent", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 3.0);
    CHECKF(h_count(&h, "/bm/event/error on_beat") >= 4, "errors: %s", h.replies);
    CHECK(h_replied(&h, "attempt to index a nil value"));
    CHECK(h_replied(&h, "stack traceback:"));
    CHECK(h_replied(&h, "err.lua:1: in"));
    CHECKF(h_notes(&h, BASS_CH) >= 5, "the script stopped playing after its errors (%d notes)", h_notes(&h, BASS_CH));
    CHECK(control_script_running(h.c));
    h_close(&h);
}

TEST(lua_syntax_errors_are_refused_with_the_line)
{
    harness h;
    char err[1024];
    const char *path = h_write("syntax.lua", "function init()\n  print('hi'\nend\n");
    CHECK(h_open(&h, "echo", path, NULL, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "syntax.lua:3:");
    CHECK(!control_script_running(h.c));
    h_close(&h);

    /* binary chunks are refused too */
    FILE *f = fopen(test_path("binary.lua"), "wb");
    CHECK(f);
    fwrite("\x1bLua\x54\x00", 1, 6, f);
    fclose(f);
    CHECK(h_open(&h, "echo", test_path("binary.lua"), NULL, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "binary");
    h_close(&h);
}

static void short_budget(bm_control_opts *o) { o->script_budget_ms = 20; }

TEST(lua_endless_loops_are_cut_by_the_budget_even_inside_pcall)
{
    harness h;
    char err[1024];
    const char *path = h_write("loop.lua",
                               "function init()\n"
                               "  clock.run(function() while true do clock.sync(1); bm.note('bass', 40, 100, 0.5) end end)\n"
                               "  clock.run(function() clock.sync(2); while true do end end)\n"
                               "end\n"
                               "function on_beat(b)\n"
                               "  if b.count % 2 == 0 then while true do end end\n"
                               "  while true do pcall(function() while true do end end) end\n"
                               "end\n");
    CHECKF(h_open(&h, "silent", path, short_budget, err, sizeof err) == 0, "%s", err);
    h_run(&h, 3.0);
    CHECKF(h_count(&h, "ran too long") >= 4, "budget errors: %s", h.replies);
    CHECKF(h.max_step_ms < 250, "a control step took %.0f ms despite a 20 ms budget", h.max_step_ms);
    CHECKF(h_notes(&h, BASS_CH) >= 5, "the beat clock stopped (%d notes)", h_notes(&h, BASS_CH));
    h_close(&h);
}

TEST(lua_memory_bombs_hit_the_cap_and_the_script_keeps_running)
{
    harness h;
    char err[1024];
    const char *path = h_write("bomb.lua",
                               "hoard, chunk = {}, string.rep('x', 65536)\n"
                               "function init()\n"
                               "  clock.run(function() while true do clock.sync(1); bm.note('bass', 40, 100, 0.5) end end)\n"
                               "  clock.run(function() clock.sync(2); local t = {}\n"
                               "    while true do t[#t + 1] = string.rep(chunk, 16) end end)\n"
                               "end\n"
                               "function on_beat(b)\n"
                               "  local t = {}\n"
                               "  for i = 1, 1e9 do t[i] = string.rep(chunk, 16) .. i end\n"
                               "end\n"
                               "function on_note(n) hoard[#hoard + 1] = string.rep(chunk, 4096) end\n");
    CHECKF(h_open(&h, "silent", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 0.2);
    h_midi_in(&h, 0x90, 60, 100);
    h_run(&h, 2.5);
    /* the single huge request hits the cap; the growing table hits the cap or, on a slow
     * (sanitizer) build, the time budget first: either way each call is stopped */
    CHECKF(h_count(&h, "/bm/event/error on_note the script used more memory than it is allowed") >= 1, "%s", h.replies);
    CHECKF(h_replied(&h, "/bm/event/error clock 2 "), "the greedy clock was not stopped: %s", h.replies);
    CHECKF(h_count(&h, "more memory than it is allowed") + h_count(&h, "ran too long") >= 3, "memory errors: %s",
           h.replies);
    CHECKF(h_notes(&h, BASS_CH) >= 4, "the beat clock stopped (%d notes)", h_notes(&h, BASS_CH));
    h_close(&h);
}

TEST(lua_sandbox_keeps_scripts_away_from_the_system)
{
    harness h;
    char err[1024];
    const char *path = h_write("sandbox.lua",
                               "function init()\n"
                               "  assert(io == nil, 'io')\n"
                               "  assert(os.execute == nil and os.remove == nil and os.getenv == nil, 'os')\n"
                               "  assert(type(os.time()) == 'number' and type(os.clock()) == 'number', 'safe os')\n"
                               "  assert(debug == nil and package == nil and dofile == nil and loadfile == nil, 'debug')\n"
                               "  assert(string.dump == nil, 'dump')\n"
                               "  assert(load('return 1 + 1')() == 2, 'load text')\n"
                               "  assert(load('\\27Lua') == nil, 'load binary')\n"
                               "  assert(not pcall(setmetatable, {}, {__gc = function() end}), '__gc')\n"
                               "  assert(not pcall(collectgarbage, 'stop'), 'collectgarbage stop')\n"
                               "  assert(not pcall(require, 'os'), 'require C')\n"
                               "  assert(require('helper').answer == 42, 'require Lua')\n"
                               "  ok = true\n"
                               "end\n");
    h_write("helper.lua", "return {answer = 42}\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    CHECKF(control_script_running(h.c), "a sandbox check failed: %s", h.replies);
    h_send(&h, "/bm/lua", "s", "return ok");
    CHECK(h_replied(&h, "/bm/done lua true"));
    h_close(&h);
}

static void allow_io(bm_control_opts *o) { o->script_allow = 1 /* BM_SANDBOX_IO */; }

TEST(lua_patch_can_allow_io)
{
    harness h;
    char err[1024];
    const char *path = h_write("io.lua", "function init() assert(io and io.open, 'io') end\n");
    CHECKF(h_open(&h, "silent", path, allow_io, err, sizeof err) == 0, "%s", err);
    CHECK(control_script_running(h.c));
    h_close(&h);
}

TEST(lua_failed_init_leaves_the_patch_mode_playing)
{
    harness h;
    char err[1024];
    const char *path = h_write("badinit.lua",
                               "function init()\n"
                               "  bm.mode('silent'); bm.part('bass', false)\n"
                               "  clock.run(function() while true do clock.sync(1); bm.note('lead', 70, 100, 0.5) end end)\n"
                               "  error('cannot start')\n"
                               "end\n"
                               "function on_beat() error('never called') end\n");
    CHECKF(h_open(&h, "echo", path, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(!control_script_running(h.c));
    CHECK(h_replied(&h, "/bm/event/error init"));
    CHECK(h_replied(&h, "cannot start"));
    h_clear(&h);
    h_run(&h, 1.0);
    h_send(&h, "/bm/param/mode/get", "");
    CHECK(h_replied(&h, "/bm/param/mode echo"));
    h_send(&h, "/bm/param/bass_on/get", "");
    CHECK(h_replied(&h, "/bm/param/bass_on 1"));
    CHECK(!h_replied(&h, "never called"));
    CHECK_EQ_INT(h_notes(&h, LEAD_CH), 0); /* its clock went with it */
    /* and the echo still answers the performer */
    h_midi_in(&h, 0x90, 60, 100);
    h_run(&h, 1.5);
    CHECK(h_notes(&h, LEAD_CH) >= 2);
    h_close(&h);
}

/* Replaces a file's contents with a new modification time. */
static void rewrite(const char *path, const char *text)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    CHECK(rename(tmp, path) == 0);
}

TEST(lua_hot_reload_between_beats_and_a_broken_file_keeps_the_old_script)
{
    harness h;
    char err[1024], path[1024];
    snprintf(path, sizeof path, "%s", h_write("live.lua",
                                              "function init() clock.run(function() while true do clock.sync(1)\n"
                                              "  bm.note('bass', 40, 100, 0.5) end end) end\n"
                                              "function cleanup() print('bye') end\n"));
    CHECKF(h_open(&h, "silent", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 1.0);
    int before = h_notes(&h, BASS_CH);
    CHECK(before >= 1);

    /* a broken version: refused, reported, the old one keeps playing */
    rewrite(path, "function init( clock.run(\n");
    h_run(&h, 2.0);
    CHECKF(h_replied(&h, "/bm/event/error reload (kept the running script)"), "no reload error: %s", h.replies);
    CHECK(h_replied(&h, "live.lua:1:"));
    CHECK(h_notes(&h, BASS_CH) >= before + 3);
    CHECK(control_script_running(h.c));

    /* a good version: it replaces the old one at a beat, and plays its own part */
    h.nout = 0;
    rewrite(path, "function init() clock.run(function() while true do clock.sync(1)\n"
                  "  bm.note('lead', 72, 100, 0.5) end end) end\n");
    h_run(&h, 2.0);
    CHECK(h_replied(&h, "/bm/event/script running"));
    h.nout = 0;
    h_run(&h, 2.0);
    CHECKF(h_notes(&h, LEAD_CH) >= 3 && h_notes(&h, BASS_CH) == 0, "after the reload: %d lead, %d bass notes",
           h_notes(&h, LEAD_CH), h_notes(&h, BASS_CH));
    CHECK_EQ_INT(atomic_load(&engine_stats(h.e)->late_events), 0);
    h_close(&h);
}

TEST(lua_params_with_ranges_and_actions_from_osc_midi_and_lua)
{
    harness h;
    char err[1024];
    const char *path = h_write("params.lua",
                               "hits = {}\n"
                               "function init()\n"
                               "  params.add{id = 'cutoff', name = 'Cutoff', min = 100, max = 5000, default = 1000,\n"
                               "             action = function(v) hits[#hits + 1] = v end}\n"
                               "  params.add{id = 'feel', type = 'option', options = {'calm', 'busy', 'wild'}, default = 2}\n"
                               "  params.add{id = 'go', type = 'trigger', action = function() went = true end}\n"
                               "  params.set_action('density', function(v) dens = v end)\n"
                               "  midi.map('cutoff', 21)\n"
                               "  assert(params.get('feel') == 'busy')\n"
                               "  assert(not pcall(params.add, {id = 'cutoff'}))\n"
                               "  assert(not pcall(params.add, {id = 'Bad Id'}))\n"
                               "end\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    CHECKF(control_script_running(h.c), "init failed: %s", h.replies);
    h_send(&h, "/bm/param/cutoff", "f", 2500.0);
    CHECK(h_replied(&h, "/bm/done param/cutoff"));
    h_send(&h, "/bm/param/cutoff/norm", "f", 1.0);
    h_send(&h, "/bm/param/cutoff", "f", 99999.0); /* faders clamp */
    h_send(&h, "/bm/param/feel", "s", "wild");
    h_send(&h, "/bm/param/feel", "s", "loud");
    CHECK(h_replied(&h, "/bm/fail param/feel 'loud' is not one of calm, busy, wild"));
    h_send(&h, "/bm/param/go", "");
    h_send(&h, "/bm/density", "f", 0.25);
    h_run(&h, 0.1);
    h_midi_in(&h, 0xb0, 21, 0); /* the mapped controller, all the way down */
    h_run(&h, 0.1);
    h_send(&h, "/bm/lua", "s", "return table.concat(hits, ','), params.get('feel'), went, dens");
    CHECKF(h_replied(&h, "/bm/done lua 2500.0,5000.0,100.0\twild\ttrue\t0.25"), "%s", h.replies);
    /* feedback tells clients the new values, coalesced */
    CHECK(h_replied(&h, "/bm/param/cutoff 100"));
    CHECK(h_replied(&h, "/bm/param/cutoff/norm 0"));
    h_close(&h);
}

TEST(lua_params_add_belongs_in_init)
{
    harness h;
    char err[1024];
    const char *path = h_write("toplevel.lua", "params.add{id = 'x'}\n");
    CHECK(h_open(&h, "silent", path, NULL, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "params.add belongs in init()");
    h_close(&h);
}

TEST(lua_api_keys_chords_voices_and_priming)
{
    harness h;
    char err[1024];
    const char *path = h_write("api.lua",
                               "function init()\n"
                               "  bm.key('D', 'dorian')\n"
                               "  local k, s = bm.key(); assert(k == 'D' and s == 'dorian', k .. s)\n"
                               "  assert(bm.scale_note(1) == 62 and bm.scale_note(3) == 65 and bm.scale_note(8) == 74)\n"
                               "  assert(bm.scale_note(0) == 60, bm.scale_note(0))\n"
                               "  bm.chords({{'Dm7', 4}, {'G7', 4}, {'Cmaj7', 8}})\n"
                               "  assert(#bm.chords() == 3)\n"
                               "  local c = bm.chord(5); assert(c.symbol == 'G7' and c.root == 7 and #c.tones == 4)\n"
                               "  assert(bm.chord(17).symbol == 'Dm7', 'the chart loops')\n"
                               "  assert(not pcall(bm.chords, {{'H7', 4}}))\n"
                               "  assert(bm.voice('bass', 'upright') == 'upright')\n"
                               "  assert(not pcall(bm.morph, 'lead', 0.5, 'flute'), 'no voice to morph from')\n"
                               "  assert(not pcall(bm.voice, 'comping', 'nothere'), 'a missing voice')\n"
                               "  bm.voice('lead', 'strings')\n"
                               "  local a, t = bm.morph('lead', 0.5, 'flute'); assert(a == 0.5 and t == 'flute')\n"
                               "  assert(bm.temperature(0.7) == 0.7 and bm.density(0.9) == 0.9)\n"
                               "  assert(not pcall(bm.temperature, 9))\n"
                               "  assert(bm.prime({{note = 60, vel = 90, beat = 0, dur = 1}, {62, 80, 1, 1}}) == 2)\n"
                               "  assert(not pcall(bm.prime, {{note = 300, beat = 0}}))\n"
                               "  assert(bm.mode() == 'silent' and #bm.modes() >= 2)\n"
                               "  assert(bm.part('drums', false) == false and bm.part('drums', true) == true)\n"
                               "  assert(bm.human('bass') == 'bass'); bm.human('none')\n"
                               "  assert(not pcall(bm.note, 'human', 60, 100))\n"
                               "  assert(not pcall(bm.note, 'bass', 128, 100))\n"
                               "  assert(bm.status().tempo == 120)\n"
                               "  assert(clock.get_tempo() == 120 and clock.get_beat_sec() == 0.5)\n"
                               "  assert(not pcall(clock.sleep, 1), 'sleep outside a clock')\n"
                               "  done = true\n"
                               "end\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    CHECKF(control_script_running(h.c), "an API check failed: %s", h.replies);
    h_send(&h, "/bm/param/voice_bass/get", "");
    CHECK(h_replied(&h, "/bm/param/voice_bass upright"));
    h_send(&h, "/bm/param/key/get", "");
    CHECK(h_replied(&h, "/bm/param/key D"));
    h_close(&h);
}

TEST(lua_notes_respect_parts_and_stop_releases_held_notes)
{
    harness h;
    char err[1024];
    const char *path = h_write("held.lua",
                               "function init() bm.note_on('comping', 60, 100); bm.note_on('comping', 64, 100)\n"
                               "  bm.part('lead', false); played = bm.note('lead', 70, 100) end\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    h_run(&h, 0.5);
    h_send(&h, "/bm/lua", "s", "return played");
    CHECK(h_replied(&h, "/bm/done lua false"));
    CHECK_EQ_INT(h_notes(&h, 2), 2);
    h_send(&h, "/bm/script/stop", "");
    CHECK(h_replied(&h, "/bm/done script/stop"));
    h_run(&h, 0.2);
    int offs = 0;
    for (int i = 0; i < h.nout; i++)
        if ((h.out[i].b[0] == 0x82 || (h.out[i].b[0] == 0x92 && !h.out[i].b[2]))) offs++;
    CHECK_EQ_INT(offs, 2);
    h_close(&h);
}

TEST(lua_hears_the_listener_phrases_keys_and_the_end_of_a_call)
{
    harness h;
    char err[1024];
    const char *path = h_write("listen.lua",
                               "phrases = {}\n"
                               "function on_phrase(p) phrases[#phrases + 1] = p.notes .. ' ' .. p.reason end\n");
    CHECKF(h_open(&h, "silent", path, allow_lua, err, sizeof err) == 0, "%s", err);
    h_run(&h, 0.3);
    static const uint8_t line[] = {60, 62, 64, 65, 67, 69, 71, 72};
    for (int i = 0; i < 8; i++) { /* a C major line, then a rest of two beats */
        h_midi_in(&h, 0x90, line[i], 90);
        h_run(&h, 0.2);
        h_midi_in(&h, 0x80, line[i], 0);
        h_run(&h, 0.05);
    }
    h_run(&h, 1.5);
    h_send(&h, "/bm/lua", "s", "return table.concat(phrases, ','), bm.heard().phrases");
    CHECKF(h_replied(&h, "/bm/done lua 8 rest\t1") || h_replied(&h, "/bm/done lua 8 bar\t1"),
           "the listener's phrase did not reach the script: %s", h.replies);
    CHECK(h_replied(&h, "/bm/event/phrase human "));
    CHECK(h_replied(&h, "/bm/event/phrase_start human "));
    h_send(&h, "/bm/listen", "");
    CHECKF(h_replied(&h, "/bm/listen.reply C major"), "%s", h.replies);
    /* the end of a call, asked for: the phrase under way ends now */
    h_clear(&h);
    h_midi_in(&h, 0x90, 67, 90);
    h_run(&h, 0.1);
    h_midi_in(&h, 0x80, 67, 0);
    h_run(&h, 0.05);
    h_send(&h, "/bm/phrase/end", "");
    CHECK(h_replied(&h, "/bm/done phrase/end"));
    h_run(&h, 0.1);
    CHECKF(h_replied(&h, "/bm/event/phrase human ") && h_replied(&h, " 1 call"), "%s", h.replies);
    h_close(&h);
}
