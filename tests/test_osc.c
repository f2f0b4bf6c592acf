/* test_osc.c: the /bm address space handed packets in-process (the dispatcher, its argument
 * checks and replies), malformed packets of every kind, patch mappings, MIDI learn, and the
 * socket layer's allow-list and TCP framing on loopback. tests/test_osc_live.c talks to a running
 * bandmate over the network. */
#include "test.h"
#include "test_lua_harness.h"
#include "engine/control/osc_net.h"
#include "engine/control/osc_packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void allow_lua(bm_control_opts *o) { o->osc_lua = 1; }

/* One address, its arguments, and what its answer must contain. */
struct probe {
    const char *path, *types;
    const char *s1, *s2;
    double n1, n2, n3;
    const char *want;
};

/* Sends a probe: arguments are taken in type order from s1, s2 (strings) and n1..n3 (numbers). */
static void send_probe(harness *h, const struct probe *p)
{
    const char *strs[2] = {p->s1, p->s2};
    double nums[3] = {p->n1, p->n2, p->n3};
    int si = 0, ni = 0;
    lo_message m = lo_message_new();
    for (const char *t = p->types; *t; t++) {
        if (*t == 's') lo_message_add_string(m, strs[si++]);
        else if (*t == 'f') lo_message_add_float(m, (float)nums[ni++]);
        else if (*t == 'i') lo_message_add_int32(m, (int)nums[ni++]);
        else if (*t == 'd') lo_message_add_double(m, nums[ni++]);
        else if (*t == 'T') lo_message_add_true(m);
        else if (*t == 'N') lo_message_add_nil(m);
        else if (*t == 'b') {
            lo_blob b = lo_blob_new(3, "abc");
            lo_message_add_blob(m, b);
            lo_blob_free(b);
        }
    }
    uint8_t buf[4096];
    size_t n = osc_build_lo(buf, sizeof buf, p->path, m);
    lo_message_free(m);
    CHECK(n > 0);
    h_packet(h, buf, n);
}

/* Every documented address (docs/osc.md), with good and bad arguments. */
static const struct probe probes[] = {
    {"/bm/status", "", 0, 0, 0, 0, 0, "/bm/status.reply 120 "},
    {"/bm/status", "i", 0, 0, 1, 0, 0, "/bm/fail status /bm/status takes no arguments"},
    {"/bm/notify", "", 0, 0, 0, 0, 0, "/bm/done notify"},
    {"/bm/notify", "is", "params,beats", 0, 1, 0, 0, "/bm/done notify"},
    {"/bm/notify", "is", "colours", 0, 1, 0, 0, "/bm/fail notify 'colours' is not a feedback category"},
    {"/bm/notify", "isi", "all", 0, 1, 9000, 0, "/bm/done notify"},
    {"/bm/notify", "isi", "all", 0, 1, 70000, 0, "/bm/fail notify the reply port 70000 is outside 1..65535"},
    {"/bm/notify", "i", 0, 0, 0, 0, 0, "/bm/done notify"},
    {"/bm/notify", "i", 0, 0, 0, 0, 0, "/bm/fail notify this client was not registered"},
    {"/bm/sync", "i", 0, 0, 42, 0, 0, "/bm/synced 42"},
    {"/bm/params", "", 0, 0, 0, 0, 0, "/bm/param/info tempo number 20 400 120 120 Tempo (BPM)"},
    {"/bm/param/tempo", "f", 0, 0, 100, 0, 0, "/bm/done param/tempo"},
    {"/bm/param/tempo/get", "", 0, 0, 0, 0, 0, "/bm/param/tempo 100"},
    {"/bm/param/tempo/norm", "f", 0, 0, 0.5, 0, 0, "/bm/done param/tempo/norm"},
    {"/bm/param/tempo/get", "", 0, 0, 0, 0, 0, "/bm/param/tempo 210"},
    {"/bm/param/tempo", "s", "fast", 0, 0, 0, 0, "/bm/fail param/tempo 'tempo' takes a number, not a name"},
    {"/bm/param/tempo", "", 0, 0, 0, 0, 0, "/bm/fail param/tempo /bm/param/tempo needs a value"},
    {"/bm/param/tempo", "ff", 0, 0, 1, 2, 0, "/bm/fail param/tempo /bm/param/tempo takes at most 1 argument"},
    {"/bm/param/tempo/twice", "", 0, 0, 0, 0, 0, "/bm/fail param/tempo/twice '/bm/param/tempo/twice' is not a parameter address"},
    {"/bm/param/nothing", "f", 0, 0, 1, 0, 0, "/bm/fail param/nothing 'nothing' is not a parameter"},
    {"/bm/param/mode", "s", "silent", 0, 0, 0, 0, "/bm/done param/mode"},
    {"/bm/param/mode/norm", "f", 0, 0, 0, 0, 0, "/bm/done param/mode/norm"},
    {"/bm/param/mode/get", "", 0, 0, 0, 0, 0, "/bm/param/mode echo"},
    {"/bm/param/density", "f", 0, 0, 0.8, 0, 0, "/bm/done param/density"},
    {"/bm/param/tap", "", 0, 0, 0, 0, 0, "/bm/done param/tap"},
    {"/bm/transport/stop", "", 0, 0, 0, 0, 0, "/bm/done transport/stop"},
    {"/bm/transport/play", "", 0, 0, 0, 0, 0, "/bm/done transport/play"},
    {"/bm/transport/locate", "f", 0, 0, 16, 0, 0, "/bm/done transport/locate"},
    {"/bm/transport/locate", "f", 0, 0, -1, 0, 0, "/bm/fail transport/locate the beat -1 is outside"},
    {"/bm/transport/locate", "", 0, 0, 0, 0, 0, "/bm/fail transport/locate /bm/transport/locate needs a beat"},
    {"/bm/tempo", "f", 0, 0, 128, 0, 0, "/bm/done tempo"},
    {"/bm/tempo", "i", 0, 0, 96, 0, 0, "/bm/done tempo"},
    {"/bm/tempo", "d", 0, 0, 97, 0, 0, "/bm/done tempo"},
    {"/bm/tempo", "f", 0, 0, 9000, 0, 0, "/bm/fail tempo 9000 BPM is outside 20..400"},
    {"/bm/tempo", "s", "fast", 0, 0, 0, 0, "/bm/fail tempo the tempo (argument 1) must be a number"},
    {"/bm/tempo", "N", 0, 0, 0, 0, 0, "/bm/fail tempo the tempo (argument 1) must be a number"},
    {"/bm/tap", "", 0, 0, 0, 0, 0, "/bm/done tap"},
    {"/bm/panic", "", 0, 0, 0, 0, 0, "/bm/done panic"},
    {"/bm/mode", "s", "silent", 0, 0, 0, 0, "/bm/done mode silent"},
    {"/bm/mode", "s", "polka", 0, 0, 0, 0, "/bm/fail mode 'polka' is not one of echo, silent"},
    {"/bm/mode", "i", 0, 0, 0, 0, 0, "/bm/done mode echo"},
    {"/bm/modes", "", 0, 0, 0, 0, 0, "/bm/modes.reply echo silent accompany call-and-response duet"},
    {"/bm/mode", "s", "duet", 0, 0, 0, 0, "/bm/done mode duet"},
    {"/bm/mode", "s", "call-and-response", 0, 0, 0, 0, "/bm/done mode call-and-response"},
    {"/bm/mode", "s", "echo", 0, 0, 0, 0, "/bm/done mode echo"},
    {"/bm/part", "sf", "drums", 0, 0, 0, 0, "/bm/done part"},
    {"/bm/part", "si", "drums", 0, 1, 0, 0, "/bm/done part"},
    {"/bm/part", "si", "kazoo", 0, 1, 0, 0, "/bm/fail part argument 1 must be a band part"},
    {"/bm/part", "si", "bass", 0, 7, 0, 0, "/bm/fail part the switch (1 on, 0 off) 7 is outside 0..1"},
    {"/bm/part/lead", "f", 0, 0, 0.0, 0, 0, "/bm/done part/lead"},
    {"/bm/part/lead", "T", 0, 0, 0, 0, 0, "/bm/done part/lead"},
    {"/bm/part/human", "f", 0, 0, 1, 0, 0, "/bm/fail part/human 'human' is not a band part"},
    {"/bm/human", "s", "bass", 0, 0, 0, 0, "/bm/done human bass"},
    {"/bm/human", "s", "none", 0, 0, 0, 0, "/bm/done human none"},
    {"/bm/voice", "ss", "bass", "upright", 0, 0, 0, "/bm/done voice"},
    {"/bm/voice", "ss", "bass", "bad/name", 0, 0, 0, "/bm/fail voice 'bad/name' is not a usable name"},
    {"/bm/voice/morph", "sfs", "lead", "flute", 0.25, 0, 0, "/bm/done voice/morph"},
    {"/bm/voice/morph", "sf", "lead", 0, 1.5, 0, 0, "/bm/fail voice/morph the morph amount 1.5 is outside 0..1"},
    {"/bm/temperature", "f", 0, 0, 0.7, 0, 0, "/bm/done temperature"},
    {"/bm/temperature", "f", 0, 0, 7, 0, 0, "/bm/fail temperature the temperature 7 is outside 0.05..3"},
    {"/bm/density", "f", 0, 0, 0.3, 0, 0, "/bm/done density"},
    {"/bm/key", "ss", "Eb", "minor", 0, 0, 0, "/bm/done key"},
    {"/bm/key", "s", "H", 0, 0, 0, 0, "/bm/fail key 'H' is not a key"},
    {"/bm/key", "ss", "C", "klingon", 0, 0, 0, "/bm/fail key 'klingon' is not one of major"},
    {"/bm/chords", "sfsf", "Dm7", "G7", 4, 4, 0, "/bm/done chords"},
    {"/bm/chords", "sf", "Xm", 0, 4, 0, 0, "/bm/fail chords 'Xm' does not start with a note name"},
    {"/bm/chords", "s", "C", 0, 0, 0, 0, "/bm/fail chords /bm/chords takes pairs"},
    {"/bm/note", "sii", "bass", 0, 40, 100, 0, "/bm/done note"},
    {"/bm/note", "sfff", "lead", 0, 72.4, 99.6, 0.5, "/bm/done note"},
    {"/bm/note", "iii", 0, 0, 1, 40, 100, "/bm/done note"},
    {"/bm/note", "sii", "human", 0, 40, 100, 0, "/bm/fail note argument 1 must be a band part"},
    {"/bm/note", "sii", "bass", 0, 400, 100, 0, "/bm/fail note the note 400 is outside 0..127"},
    {"/bm/note", "si", "bass", 0, 40, 0, 0, "/bm/fail note /bm/note needs a part, a note, a velocity"},
    {"/bm/script/load", "s", "/nonexistent/x.lua", 0, 0, 0, 0, "/bm/fail script/load the script /nonexistent/x.lua does not exist"},
    {"/bm/script/load", "s", "/dev/zero", 0, 0, 0, 0, "/bm/fail script/load the script /dev/zero does not exist or is not a file"},
    {"/bm/script/reload", "", 0, 0, 0, 0, 0, "/bm/fail script/reload no script has been loaded"},
    {"/bm/script/stop", "", 0, 0, 0, 0, 0, "/bm/fail script/stop no script is running"},
    {"/bm/model/load", "s", "/nonexistent/m.bmnn", 0, 0, 0, 0, "/bm/fail model/load the model /nonexistent/m.bmnn does not exist"},
    {"/bm/model/load", "s", "tests/fixtures/nn/dense.bmnn", 0, 0, 0, 0, "/bm/fail model/load tests/fixtures/nn/dense.bmnn"},
    {"/bm/model/load", "s", "models/musician.bmnn", 0, 0, 0, 0, "/bm/done model/load models/musician.bmnn"},
    {"/bm/model/load", "s", "examples/melody.mid", 0, 0, 0, 0, "/bm/fail model/load"},
    {"/bm/midi/map", "si", "density", 0, 74, 0, 0, "/bm/done midi/map"},
    {"/bm/midi/map", "sii", "tempo", 0, 20, 2, 0, "/bm/done midi/map"},
    {"/bm/midi/map", "si", "nothing", 0, 74, 0, 0, "/bm/fail midi/map 'nothing' is not a parameter"},
    {"/bm/midi/map", "si", "density", 0, 200, 0, 0, "/bm/fail midi/map the controller 200 is outside 0..127"},
    {"/bm/midi/maps", "", 0, 0, 0, 0, 0, "/bm/midi/mapping tempo 2 20"},
    {"/bm/midi/unmap", "s", "tempo", 0, 0, 0, 0, "/bm/done midi/unmap"},
    {"/bm/midi/unmap", "s", "tempo", 0, 0, 0, 0, "/bm/fail midi/unmap 'tempo' has no MIDI mapping"},
    {"/bm/midi/learn", "s", "master_gain", 0, 0, 0, 0, "/bm/learning master_gain"},
    {"/bm/midi/learn", "s", "", 0, 0, 0, 0, "/bm/done midi/learn cancelled"},
    {"/bm/phrase/end", "", 0, 0, 0, 0, 0, "/bm/done phrase/end"},
    {"/bm/listen", "", 0, 0, 0, 0, 0, "/bm/listen.reply unknown"},
    {"/bm/param/follow", "f", 0, 0, 0.5, 0, 0, "/bm/done param/follow"},
    {"/bm/lua", "s", "return 1 + 2", 0, 0, 0, 0, "/bm/done lua 3"},
    {"/bm/lua", "s", "while true do end", 0, 0, 0, 0, "/bm/fail lua the script ran too long"},
    {"/bm/unknown", "", 0, 0, 0, 0, 0, "/bm/fail unknown /bm/unknown is not an address bandmate knows"},
    {"/bm", "", 0, 0, 0, 0, 0, "/bm/fail  /bm alone is not a command"},
    {"/bm/tempo", "b", 0, 0, 0, 0, 0, "/bm/fail tempo the tempo (argument 1) must be a number"},
};

TEST(osc_every_documented_address_answers)
{
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, allow_lua, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        h_clear(&h);
        send_probe(&h, &probes[i]);
        h_run(&h, 0.02);
        CHECKF(h_replied(&h, probes[i].want), "%s (%s) answered:\n%s\nexpected: %s", probes[i].path, probes[i].types,
               h.replies, probes[i].want);
        CHECKF(h_count(&h, "/bm/done") + h_count(&h, "/bm/fail") <= 1, "%s answered twice: %s", probes[i].path, h.replies);
    }
    /* what the commands did is what the engine does (taps above changed the tempo too) */
    h_send(&h, "/bm/tempo", "i", 97);
    h_run(&h, 0.02);
    bm_clock_map map;
    clock_read_published(engine_clock(h.e), &map);
    CHECK_NEAR(map.bpm, 97, 1e-9);
    h_close(&h);
}

TEST(osc_lua_needs_to_be_allowed)
{
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    h_send(&h, "/bm/lua", "s", "return 1");
    CHECK(h_replied(&h, "/bm/fail lua running Lua code over OSC is off"));
    h_close(&h);
}

/* A bundle around a message, with a time tag. */
static size_t bundle(uint8_t *out, const uint8_t *inner, size_t n, uint32_t sec, uint32_t frac)
{
    memcpy(out, "#bundle\0", 8);
    uint32_t be[3] = {htonl(sec), htonl(frac), htonl((uint32_t)n)};
    memcpy(out + 8, be, 12);
    memcpy(out + 20, inner, n);
    return 20 + n;
}

TEST(osc_malformed_packets_are_refused_and_nothing_breaks)
{
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    uint8_t good[256], buf[70000];
    size_t n = osc_build(good, sizeof good, "/bm/note", "siif", "bass", 40, 100, 0.5);
    CHECK(n > 0);

    /* every truncation of a good message */
    for (size_t k = 0; k < n; k++) {
        h_clear(&h);
        h_packet(&h, good, k);
        CHECK(!h_replied(&h, "/bm/done"));
    }
    /* garbage, an empty packet, a path without a slash, a bad type tag, a lying string */
    h_clear(&h);
    h_packet(&h, "", 0);
    h_packet(&h, "garbage!", 8);
    h_packet(&h, "bm/x\0\0\0\0,\0\0\0", 12);
    h_packet(&h, "/bm/tempo\0\0\0,q\0\0\0\0\0\0", 20);
    h_packet(&h, "/bm/tempo\0\0\0,s\0\0abcdefgh", 24);
    CHECKF(h_count(&h, "/bm/fail") == 5, "%s", h.replies);
    CHECK(h_replied(&h, "/bm/fail packet the packet is empty"));
    CHECK(h_replied(&h, "the packet is neither an OSC message nor a bundle"));
    CHECK(h_replied(&h, "/bm/fail tempo the message is malformed"));

    /* bundles: truncated, lying sizes, nested too deep, nested just deep enough */
    h_clear(&h);
    size_t bn = bundle(buf, good, n, 0, 1);
    for (size_t k = 8; k < bn; k += 3) h_packet(&h, buf, k);
    uint32_t lie = htonl(4000);
    memcpy(buf + 16, &lie, 4);
    h_packet(&h, buf, bn);
    CHECK(!h_replied(&h, "/bm/done note"));
    CHECK(h_replied(&h, "a bundle element's size runs past the end of the packet"));
    for (int depth = 1; depth <= 12; depth++) {
        uint8_t a[2048], b[2048];
        size_t len = n;
        memcpy(a, good, n);
        for (int d = 0; d < depth; d++) {
            len = bundle(b, a, len, 0, 1);
            memcpy(a, b, len);
        }
        h_clear(&h);
        h_packet(&h, a, len);
        if (depth <= 8) CHECKF(h_replied(&h, "/bm/done note"), "a bundle %d deep was refused: %s", depth, h.replies);
        else CHECKF(h_replied(&h, "nested too deep"), "a bundle %d deep: %s", depth, h.replies);
    }
    /* a huge message: one long string */
    h_clear(&h);
    memset(buf, 'x', sizeof buf);
    buf[sizeof buf - 1] = 0;
    size_t big = osc_build(buf, sizeof buf, "/bm/mode", "s", (const char *)memset(good, 'y', 200));
    (void)big;
    char *huge = malloc(65000);
    memset(huge, 'z', 64000);
    huge[64000] = 0;
    big = osc_build(buf, sizeof buf, "/bm/mode", "s", huge);
    free(huge);
    CHECK(big > 64000);
    h_packet(&h, buf, big);
    CHECK(h_replied(&h, "/bm/fail mode"));
    /* many messages in one bundle: each answered, none lost */
    h_clear(&h);
    size_t at = 16;
    memcpy(buf, "#bundle\0\0\0\0\0\0\0\0\1", 16);
    uint8_t msg[64];
    size_t mn = osc_build(msg, sizeof msg, "/bm/tap", "");
    for (int i = 0; i < 500; i++) {
        uint32_t sz = htonl((uint32_t)mn);
        memcpy(buf + at, &sz, 4);
        memcpy(buf + at + 4, msg, mn);
        at += 4 + mn;
    }
    h_packet(&h, buf, at);
    CHECK_EQ_INT(h_count(&h, "/bm/done tap"), 500);

    /* after all that, the engine plays and answers */
    h_clear(&h);
    h_run(&h, 0.5);
    h_send(&h, "/bm/status", "");
    CHECK(h_replied(&h, "/bm/status.reply"));
    h_send(&h, "/bm/note", "siif", "bass", 40, 100, 0.5);
    h_run(&h, 0.2);
    CHECK(h_notes(&h, 1) >= 1);
    h_close(&h);
}

TEST(osc_patch_mappings_and_starting_values)
{
    char patch[1024];
    snprintf(patch, sizeof patch, "%s",
             h_write("map.lua", "return {\n"
                                "  mode = 'silent', tempo = 100,\n"
                                "  params = {density = 0.9, key = 'G', scale = 'mixolydian', bass_on = false},\n"
                                "  osc_map = {['/1/fader1'] = 'master_gain', ['/1/xy1'] = {'temperature', 'density'}},\n"
                                "  midi_map = {tempo = {cc = 20, channel = 2}, density = 74},\n"
                                "  chords = {{'C', 4}, {'Am', 4}},\n"
                                "  parts = {bass = {voice = 'upright'}},\n"
                                "}\n"));
    harness h;
    char err[1024];
    CHECKF(h_open_patch(&h, patch, err, sizeof err) == 0, "%s", err);
    h_send(&h, "/bm/param/density/get", "");
    CHECK(h_replied(&h, "/bm/param/density 0.9"));
    h_send(&h, "/bm/param/scale/get", "");
    CHECK(h_replied(&h, "/bm/param/scale mixolydian"));
    h_send(&h, "/bm/param/bass_on/get", "");
    CHECK(h_replied(&h, "/bm/param/bass_on 0"));
    h_send(&h, "/bm/param/voice_bass/get", "");
    CHECK(h_replied(&h, "/bm/param/voice_bass upright"));
    /* a TouchOSC fader and XY pad on their own addresses, normalised */
    h_clear(&h);
    h_send(&h, "/1/fader1", "f", 0.25);
    h_send(&h, "/1/xy1", "ff", 1.0, 0.0);
    h_send(&h, "/1/xy1", "s", "oops");
    CHECK(h_replied(&h, "/bm/fail /1/xy1 argument 1 must be a number 0..1"));
    h_send(&h, "/bm/param/master_gain/get", "");
    CHECK(h_replied(&h, "/bm/param/master_gain 0.5"));
    h_send(&h, "/bm/param/temperature/get", "");
    CHECK(h_replied(&h, "/bm/param/temperature 3"));
    /* MIDI controllers from the performer: channel 2 only for tempo, any channel for density */
    h_run(&h, 0.05);
    h_midi_in(&h, 0xb1, 20, 127);
    h_midi_in(&h, 0xb5, 74, 0);
    h_midi_in(&h, 0xb0, 20, 0); /* wrong channel: ignored */
    h_run(&h, 0.1);
    h_send(&h, "/bm/param/tempo/get", "");
    CHECK(h_replied(&h, "/bm/param/tempo 400"));
    h_send(&h, "/bm/param/density/get", "");
    CHECK(h_replied(&h, "/bm/param/density 0"));
    h_close(&h);
}

TEST(osc_midi_learn_maps_the_next_controller)
{
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    h_send(&h, "/bm/midi/learn", "s", "density");
    CHECK(h_replied(&h, "/bm/learning density"));
    h_midi_in(&h, 0xb3, 16, 64);
    h_run(&h, 0.05);
    CHECKF(h_replied(&h, "/bm/done midi/learn density 4 16"), "%s", h.replies);
    h_midi_in(&h, 0xb3, 16, 127);
    h_run(&h, 0.05);
    h_send(&h, "/bm/param/density/get", "");
    CHECK(h_replied(&h, "/bm/param/density 1"));
    h_send(&h, "/bm/midi/maps", "");
    CHECK(h_replied(&h, "/bm/midi/mapping density 4 16"));
    h_close(&h);
}

TEST(osc_scripts_load_reload_stop_and_hear_other_addresses)
{
    harness h;
    char err[1024], path[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s",
             h_write("osc.lua", "function on_osc(path, args, from)\n"
                                "  osc.reply('/echo', path, #args, args[1], args[2], from:sub(1, 4))\n"
                                "end\n"));
    h_send(&h, "/bm/script/load", "s", path);
    CHECKF(h_replied(&h, "/bm/done script/load"), "%s", h.replies);
    h_send(&h, "/sensor/light", "fs", 0.5, "north");
    CHECKF(h_replied(&h, "/echo /sensor/light 2 0.5 north udp:"), "%s", h.replies);
    h_send(&h, "/bm/script/reload", "");
    CHECK(h_replied(&h, "/bm/done script/reload"));
    const char *bad = h_write("bad.lua", "this is not lua");
    h_send(&h, "/bm/script/load", "s", bad);
    CHECK(h_replied(&h, "/bm/fail script/load"));
    CHECK(h_replied(&h, "(the running script, if any, keeps running)"));
    h_clear(&h);
    h_send(&h, "/sensor/light", "f", 0.1);
    CHECK(h_replied(&h, "/echo /sensor/light 1"));
    h_send(&h, "/bm/script/stop", "");
    CHECK(h_replied(&h, "/bm/done script/stop"));
    h_clear(&h);
    h_send(&h, "/sensor/light", "f", 0.1); /* nobody listens now: ignored, no answer */
    CHECK_EQ_INT((int)h.nreplies, 0);
    h_close(&h);
}

/* ---- the socket layer ---- */

static int udp_to(int port, const void *data, size_t n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ssize_t w = sendto(fd, data, n, 0, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

static int delivered;
static void count_packet(void *ctx, const uint8_t *d, size_t n, const osc_peer *from)
{
    (void)ctx;
    (void)d;
    (void)from;
    if (n > 0) delivered++;
}

static void receive_for(osc_net *net, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        osc_net_wait(net, 10000000);
        osc_net_receive(net, count_packet, NULL, 64);
    }
}

TEST(osc_allow_list_keeps_strangers_out)
{
    osc_net_opts o = {0};
    char err[256];
    CHECK(osc_allow_parse("10.0.0.0/8", &o.allow[o.nallow++], err, sizeof err) == 0);
    CHECK(osc_allow_parse("10.0.0.0/33", &o.allow[0], err, sizeof err) != 0);
    CHECK(osc_allow_parse("example.org", &o.allow[0], err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "not a numeric address");
    CHECK(osc_allow_parse("10.0.0.0/8", &o.allow[0], err, sizeof err) == 0);
    o.bind = "127.0.0.1";
    osc_net *net = osc_net_open(&o, err, sizeof err);
    CHECKF(net, "%s", err);
    uint8_t msg[64];
    size_t n = osc_build(msg, sizeof msg, "/bm/status", "");
    delivered = 0;
    udp_to(osc_net_port(net), msg, n);
    receive_for(net, 100);
    CHECK_EQ_INT(delivered, 0);
    CHECK_EQ_INT(osc_net_refused(net), 1);
    osc_net_close(net);

    CHECK(osc_allow_parse("127.0.0.0/8", &o.allow[1], err, sizeof err) == 0);
    o.nallow = 2;
    net = osc_net_open(&o, err, sizeof err);
    CHECKF(net, "%s", err);
    udp_to(osc_net_port(net), msg, n);
    receive_for(net, 100);
    CHECK_EQ_INT(delivered, 1);
    /* the same port twice is an error that says so */
    osc_net_opts o2 = o;
    o2.port = osc_net_port(net);
    CHECK(osc_net_open(&o2, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "is in use");
    o2.bind = "300.1.1.1";
    o2.port = 0;
    CHECK(osc_net_open(&o2, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "not a numeric address");
    osc_net_close(net);
}

TEST(osc_tcp_frames_with_lengths_and_slip)
{
    osc_net_opts o = {0};
    o.tcp = 1;
    o.bind = "127.0.0.1";
    char err[256];
    osc_net *net = osc_net_open(&o, err, sizeof err);
    CHECKF(net, "%s", err);
    uint8_t msg[64];
    size_t n = osc_build(msg, sizeof msg, "/bm/status", "");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)osc_net_port(net))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    /* two length-prefixed packets, the second split across writes */
    uint8_t frame[200];
    uint32_t len = htonl((uint32_t)n);
    memcpy(frame, &len, 4);
    memcpy(frame + 4, msg, n);
    memcpy(frame + 4 + n, frame, 4 + n);
    delivered = 0;
    CHECK(write(fd, frame, 4 + n + 6) == (ssize_t)(4 + n + 6));
    receive_for(net, 100);
    CHECK(write(fd, frame + 4 + n + 6, n - 2) == (ssize_t)(n - 2));
    receive_for(net, 100);
    CHECK_EQ_INT(delivered, 2);
    /* a length over the limit closes the connection, and the server goes on */
    uint32_t huge = htonl(1u << 30);
    CHECK(write(fd, &huge, 4) == 4);
    receive_for(net, 100);
    char c;
    CHECK(read(fd, &c, 1) <= 0);
    close(fd);
    /* SLIP */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    uint8_t slip[200];
    size_t sl = 0;
    slip[sl++] = 0xc0;
    memcpy(slip + sl, msg, n);
    sl += n;
    slip[sl++] = 0xc0;
    delivered = 0;
    CHECK(write(fd, slip, sl) == (ssize_t)sl);
    receive_for(net, 100);
    CHECK_EQ_INT(delivered, 1);
    close(fd);
    osc_net_close(net);
}

/* Runs a command and returns its output (static), failing the test when it fails. */
static const char *output_of(const char *cmd)
{
    static char out[65536];
    int rc = test_run(cmd, out, sizeof out, 30);
    CHECKF(rc == 0, "%s exited %d: %s", cmd, rc, out);
    return out;
}

TEST(osc_examples_match_their_generators_and_use_real_addresses)
{
    if (access("/usr/bin/python3", X_OK) != 0 && test_run("command -v python3", NULL, 0, 5) != 0)
        test_skip("python3 is not installed");
    output_of("python3 examples/touchosc/make_layout.py --check");
    output_of("python3 examples/max/make_patch.py --check");
    /* every /bm address the layout and the patch send is one bandmate knows */
    const char *paths = output_of(
        "python3 -c \"import zlib,re,json;"
        "x=zlib.decompress(open('examples/touchosc/bandmate.tosc','rb').read()).decode();"
        "p=set(re.findall(r'<value>(/bm/[^<]*)</value>',x));"
        "b=json.load(open('examples/max/bandmate.maxpat'))['patcher']['boxes'];"
        "t=[bx['box'].get('text','') for bx in b];"
        "p|=set(s.split()[0] for s in t if s.startswith('/bm/'));"
        "p|=set(s.split()[1] for s in t if s.startswith('prepend /bm/'));"
        "print('\\n'.join(sorted(p)))\"");
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    int n = 0;
    char list[8192];
    snprintf(list, sizeof list, "%s", paths);
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        h_clear(&h);
        h_send(&h, line, "f", 0.5);
        CHECKF(!h_replied(&h, "is not an address") && !h_replied(&h, "is not a parameter") &&
                   !h_replied(&h, "is not a band part"),
               "the examples send %s, which bandmate does not know: %s", line, h.replies);
        n++;
    }
    CHECKF(n >= 15, "only %d addresses found in the examples", n);
    h_close(&h);
}

TEST(osc_musician_controls_reach_the_musician)
{
    harness h;
    char err[1024];
    CHECKF(h_open(&h, "echo", NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_KEY), -1, 0); /* no key lock to begin with */
    h_send(&h, "/bm/temperature", "f", 0.7);
    h_send(&h, "/bm/density", "f", 0.9);
    h_send(&h, "/bm/param/top_p", "f", 0.8);
    h_send(&h, "/bm/param/style", "i", 3);
    h_send(&h, "/bm/param/memory", "f", 0.6);
    h_send(&h, "/bm/param/swing/norm", "f", 0.5);
    h_send(&h, "/bm/key", "ss", "D", "mixolydian");
    h_run(&h, 0.05);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_TEMPERATURE), 0.7, 1e-6);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_DENSITY), 0.9, 1e-6);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_TOP_P), 0.8, 1e-6);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_STYLE), 3, 0);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_MEMORY), 0.6, 1e-6);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_SWING), 0.5, 1e-6);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_SCALE), 3, 0); /* mixolydian, in the musician's order */
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_KEY), -1, 0);  /* the key is known, not locked */
    h_send(&h, "/bm/param/key_lock", "i", 1);
    h_run(&h, 0.05);
    CHECK_NEAR(engine_musician_control(h.e, BM_CTL_KEY), 2, 0);   /* D */
    h_close(&h);
}
