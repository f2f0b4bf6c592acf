/* test_patch.c: patches: every shipped patch loads and its script plays the band it promises
 * (in-process, on a virtual clock), and every new field of the format is validated with an error
 * that names it. */
#include "test.h"
#include "test_lua_harness.h"
#include "engine/patch.h"

#include <dirent.h>
#include <unistd.h>

#define BASS 1
#define DRUMS 9
#define COMPING 2
#define LEAD 3

static int notes_on(const harness *h, int ch) { return h_notes(h, ch); }

/* A performer phrase: n notes of a D dorian line, an eighth note apart at the harness's tempo. */
static void play_phrase(harness *h, int n)
{
    static const int line[] = {62, 64, 65, 67, 69, 67, 65, 64};
    for (int i = 0; i < n; i++) {
        h_midi_in(h, 0x90, (uint8_t)line[i % 8], 90);
        h_run(h, 0.2);
        h_midi_in(h, 0x80, (uint8_t)line[i % 8], 0);
        h_run(h, 0.1);
    }
}

static void open_shipped(harness *h, const char *name)
{
    char path[256], err[1024];
    snprintf(path, sizeof path, "patches/%s", name);
    CHECKF(h_open_patch(h, path, err, sizeof err) == 0, "%s: %s", name, err);
    CHECKF(control_script_running(h->c), "%s: the script is not running: %s", name, h->replies);
}

static void no_errors(const harness *h, const char *name)
{
    CHECKF(!h_replied(h, "/bm/event/error"), "%s reported script errors:\n%s", name, h->replies);
    CHECK_EQ_INT(atomic_load(&engine_stats(h->e)->late_events), 0);
}

TEST(patch_jazz_trio_walks_rides_and_comps_from_the_chart)
{
    harness h;
    open_shipped(&h, "jazz_trio.lua");
    h_run(&h, 16.0); /* 40 beats at 150 BPM */
    CHECKF(notes_on(&h, BASS) >= 36, "%d bass notes: a walking bass plays every beat", notes_on(&h, BASS));
    CHECKF(notes_on(&h, DRUMS) >= 80, "%d drum notes", notes_on(&h, DRUMS));
    CHECKF(notes_on(&h, COMPING) >= 16, "%d comping notes", notes_on(&h, COMPING));
    CHECK_EQ_INT(notes_on(&h, LEAD), 0); /* the lead is the performer's */
    /* the walk lands on the chord's root whenever the chord changes */
    static const int root_at[12] = {5, 10, 5, 5, 10, 10, 5, 2, 7, 0, 5, 7}; /* bar by bar: F Bb F F Bb Bb F D Gm C F.. */
    int changes = 0, on_root = 0;
    for (int i = 0; i < h.nout; i++)
        if (h.out[i].b[0] == 0x91 && h.out[i].b[2]) {
            int64_t beat = (h.out[i].frame + 9600) / 19200; /* 150 BPM: 19200 frames a beat */
            int bar = (int)(beat / 4) % 12;
            if (beat % 4 || bar == 0 || root_at[bar] == root_at[bar - 1]) continue;
            changes++;
            on_root += h.out[i].b[1] % 12 == root_at[bar];
        }
    CHECKF(changes >= 4 && on_root == changes, "the bass landed on %d of %d new chords' roots", on_root, changes);
    h_send(&h, "/bm/param/swing/get", "");
    CHECK(h_replied(&h, "/bm/param/swing 0.8"));
    no_errors(&h, "jazz_trio");
    h_close(&h);
}

TEST(patch_rock_band_drives_and_taps)
{
    harness h;
    open_shipped(&h, "rock_band.lua");
    h_run(&h, 8.0);
    CHECKF(notes_on(&h, BASS) >= 30, "%d bass notes: eighths on the root", notes_on(&h, BASS));
    CHECKF(notes_on(&h, DRUMS) >= 35, "%d drum notes in three bars", notes_on(&h, DRUMS));
    CHECK_EQ_INT(notes_on(&h, COMPING) + notes_on(&h, LEAD), 0);
    /* the foot switch taps the tempo: two presses half a second apart make 120 BPM */
    h_midi_in(&h, 0xb0, 64, 127);
    h_run(&h, 0.1);
    h_midi_in(&h, 0xb0, 64, 0);
    h_run(&h, 0.4);
    h_midi_in(&h, 0xb0, 64, 127);
    h_run(&h, 0.2);
    bm_clock_map map;
    clock_read_published(engine_clock(h.e), &map);
    CHECKF(fabs(map.bpm - 120) < 2, "tap tempo gave %.1f BPM", map.bpm);
    /* the expression pedal sets the intensity */
    h_midi_in(&h, 0xb0, 11, 127);
    h_run(&h, 0.1);
    h_send(&h, "/bm/param/intensity/get", "");
    CHECK(h_replied(&h, "/bm/param/intensity 1"));
    no_errors(&h, "rock_band");
    h_close(&h);
}

TEST(patch_duet_answers_each_phrase)
{
    harness h;
    open_shipped(&h, "duet.lua");
    h_run(&h, 0.5);
    play_phrase(&h, 6);
    h_run(&h, 8.0);
    /* the patch's mode is call-and-response: the band's lead answers the phrase */
    CHECKF(notes_on(&h, LEAD) >= 1, "the lead did not answer the phrase");
    /* the script's answer (6 notes) on the kalimba, besides the mode's own comping */
    CHECKF(notes_on(&h, COMPING) >= 6, "the answer had %d notes for a phrase of 6", notes_on(&h, COMPING));
    CHECK(h_replied(&h, "/duet/answer 1 6"));
    /* the answer is the phrase upside down and in D dorian: every note in the scale */
    static const int dorian[12] = {1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0}; /* from D */
    for (int i = 0; i < h.nout; i++)
        if (h.out[i].b[0] == 0x92 && h.out[i].b[2])
            CHECKF(dorian[(h.out[i].b[1] - 2 + 120) % 12], "the answer's note %d is not in D dorian", h.out[i].b[1]);
    /* the sustain pedal ends the call at once: the answer comes without waiting for a rest */
    play_phrase(&h, 3);
    h_midi_in(&h, 0xb0, 64, 127);
    h_run(&h, 0.2);
    CHECKF(h_replied(&h, "/duet/answer 2 3"), "the pedal did not end the call: %s", h.replies);
    no_errors(&h, "duet");
    h_close(&h);
}

TEST(patch_ambient_installation_follows_its_sensors)
{
    harness h;
    open_shipped(&h, "ambient_installation.lua");
    h_run(&h, 17.0);
    CHECKF(notes_on(&h, COMPING) >= 8, "%d pad notes in 17 s", notes_on(&h, COMPING));
    CHECK(notes_on(&h, BASS) >= 2);
    CHECK_EQ_INT(notes_on(&h, DRUMS), 0);
    int lead_before = notes_on(&h, LEAD);
    h_send(&h, "/sensor/light", "f", 0.9);
    h_send(&h, "/sensor/motion", "f", 1.0);
    h_run(&h, 3.0);
    CHECKF(notes_on(&h, LEAD) >= lead_before + 10, "motion set off no shimmer (%d -> %d lead notes)", lead_before,
           notes_on(&h, LEAD));
    h_send(&h, "/bm/param/brightness/get", "");
    CHECK(h_replied(&h, "/bm/param/brightness 0.9"));
    h_send(&h, "/bm/param/density/get", "");
    CHECK(h_replied(&h, "/bm/param/density 0.78"));
    no_errors(&h, "ambient_installation");
    h_close(&h);
}

TEST(patch_every_shipped_patch_loads)
{
    DIR *d = opendir("patches");
    CHECK(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".lua")) continue;
        char path[512], err[1024];
        snprintf(path, sizeof path, "patches/%s", e->d_name);
        bm_patch p;
        CHECKF(patch_load(path, &p, err, sizeof err) == 0, "%s", err);
        CHECKF(p.script[0], "%s names no script", path);
        n++;
    }
    closedir(d);
    CHECK(n >= 4);
}

/* Writes a patch and expects patch_load to refuse it with a message containing want. */
static void refused(const char *body, const char *want)
{
    char err[1024];
    bm_patch p;
    const char *path = h_write("bad_patch.lua", body);
    CHECKF(patch_load(path, &p, err, sizeof err) != 0, "accepted: %s", body);
    CHECKF(strstr(err, want), "for %s\nthe error was: %s\nexpected: %s", body, err, want);
}

TEST(patch_errors_name_the_field)
{
    refused("return {scrpit = 'x.lua'}", "'scrpit' is not a field bandmate knows in the patch");
    refused("return {script = 'missing.lua'}", "script");
    refused("return {script = 'missing.lua'}", "missing.lua does not exist");
    refused("return {model = 'missing.bmnn'}", "model");
    refused("return {script_allow = {'network'}}", "script_allow[1] must be \"io\", \"os\" or \"require\"");
    refused("return {script_memory_mb = 0}", "script_memory_mb = 0 is outside 1..1024");
    refused("return {script_budget_ms = 5000}", "script_budget_ms = 5000 is outside 1..1000");
    refused("return {osc = {port = 70000}}", "port = 70000 is outside 1..65535");
    refused("return {osc = {allow = {42}}}", "osc.allow[1] must be an address");
    refused("return {osc = {colour = 1}}", "'colour' is not a field bandmate knows in osc");
    refused("return {osc = 5}", "osc must be a table");
    refused("return {midi_map = {tempo = 200}}", "midi_map.tempo must be a controller number 0..127");
    refused("return {midi_map = {tempo = {cc = 20, channel = 17}}}", "channel = 17 is outside 1..16");
    refused("return {midi_map = {tempo = {knob = 1}}}", "'knob' is not a field bandmate knows in midi_map.tempo");
    refused("return {midi_map = {['Tempo!'] = 1}}", "midi_map.Tempo! is not a parameter id");
    refused("return {osc_map = {['/bm/tempo'] = 'tempo'}}", "must be an OSC address outside /bm");
    refused("return {osc_map = {['/1/xy'] = {'a', 'b', 'c'}}}", "lists one parameter, or two for an XY pad");
    refused("return {osc_map = {['/1/f'] = 7}}", "must name a parameter id");
    refused("return {params = {tempo = {}}}", "params.tempo must be a number, true/false or a name");
    refused("return {params = {['Not An Id'] = 1}}", "params.Not An Id is not a parameter id");
    refused("return {chords = {{'H7', 4}}}", "chords[1]: 'H7' does not start with a note name");
    refused("return {chords = {{'Cmaj7', 0}}}", "chords[1] must be like {\"Dm7\", 4}");
    refused("return {chords = 'C F G'}", "chords must be a list");
    refused("return {parts = {bass = {voice = 'up/right'}}}", "parts.bass.voice 'up/right' is not a usable voice name");
    refused("return {auto_connect = 'yes'}", "auto_connect must be true or false");
}

TEST(patch_values_are_checked_against_the_parameters_at_start)
{
    harness h;
    char err[1024];
    const char *path = h_write("unknown_param.lua", "return {params = {wobble = 1}}");
    CHECK(h_open_patch(&h, path, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "params.wobble: 'wobble' is not a parameter");
    h_close(&h);
    path = h_write("bad_option.lua", "return {params = {scale = 'klingon'}}");
    CHECK(h_open_patch(&h, path, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "params.scale: 'klingon' is not one of major");
    h_close(&h);
}

TEST(patch_run_refuses_a_broken_script_in_one_sentence)
{
    char patch[1024];
    snprintf(patch, sizeof patch, "%s", h_write("broken.lua", "return {script = 'broken_script.lua'}"));
    h_write("broken_script.lua", "function init(\n  print('x'\n");
    char cmd[2048], out[4096], cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd));
    const char *bin = test_bindir();
    snprintf(cmd, sizeof cmd, "%s%s%s/bandmate run %s", bin[0] == '/' ? "" : cwd, bin[0] == '/' ? "" : "/", bin, patch);
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 20), 1);
    CHECK_STR_CONTAINS(out, "bandmate run: the script has an error: ");
    CHECK_STR_CONTAINS(out, "broken_script.lua:2:");
    int lines = 0;
    for (const char *c = out; *c; c++) lines += *c == '\n';
    CHECKF(lines == 1, "%s", out);
}
