/* test_lua_live.c: while a script misbehaves in every way it can (endless loops, memory bombs,
 * runtime errors, a hot reload with a broken file), bandmate keeps playing on a real JACK server:
 * the script's own beat clock and the echo of the performer arrive on time, and nothing is late:
 * no xrun (counted by a peer client's JACK xrun callback) is bandmate's, and only the machine's own
 * xruns may excuse a late event (see live_check_timing). */
#include "test.h"
#include "jack_peer.h"
#include "jackd.h"
#include "spawn.h"
#include "engine/smf.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* The timing verdict shared by the live tests, in the project's rule for live tests: an xrun (the
 * machine's doing, counted by the peer's JACK xrun callback) may disturb the events of its period,
 * so each excuses at most two late events or steps; on a quiet machine there are none and nothing
 * may be late. bandmate itself must never be the cause: the server may not blame it alone (its log
 * names the client it waited for), and its process callback must never take more than a fraction
 * of the period. strict: late events count (a deliberately flooding test passes 0). */
void live_check_timing(const char *bandmate_log, const char *jackd_log, int xruns, const char *client, int strict)
{
    char unfinished[128];
    snprintf(unfinished, sizeof unfinished, "client = %s was not finished", client);
    int others = strstr(jackd_log, "JackTimedDriver::Process XRun") != NULL;
    for (const char *l = jackd_log; (l = strstr(l, "was not finished")); l++) {
        const char *start = l;
        while (start > jackd_log && start[-1] != '\n') start--;
        if (!strstr(start, unfinished) || strstr(start, unfinished) > l) others = 1;
    }
    CHECKF(!strstr(jackd_log, unfinished) || others, "the JACK server waited for bandmate alone: %s", jackd_log);
    long late_events = -1, late_steps = -1;
    const char *sess = strstr(bandmate_log, "session: ");
    const char *x = sess ? strstr(sess, " xruns, ") : NULL;
    CHECKF(x && sscanf(x, " xruns, %ld late events, %ld late steps", &late_events, &late_steps) == 2,
           "no session summary: %s", bandmate_log);
    if (xruns) fprintf(stderr, "note: %d xruns on this machine during the run\n", xruns);
    if (strict)
        CHECKF(late_events <= 2L * xruns, "bandmate played %ld events late with %d xruns: %s", late_events, xruns,
               bandmate_log);
    CHECKF(late_steps <= 2L * xruns, "the musician was late %ld steps with %d xruns: %s", late_steps, xruns, bandmate_log);
    const char *cb = strstr(bandmate_log, "callback: ");
    const char *max = cb ? strstr(cb, "max ") : NULL;
    CHECKF(max, "no callback summary: %s", bandmate_log);
    /* a callback that waited on the control thread (Lua, OSC, building a voice) would take periods;
     * a busy shared machine, and AddressSanitizer, stretch honest ones to a few milliseconds */
    CHECKF(atof(max + 4) < 5333, "bandmate's process callback once took %.0f us, longer than the period (5333 us)",
           atof(max + 4));
}

static void write_text(const char *path, const char *text)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    CHECK(rename(tmp, path) == 0);
}

/* A clock on every beat (bass, channel 2), and a different misdeed on each beat. */
static const char *const misbehaving =
    "hoard, chunk = {}, string.rep('x', 65536)\n"
    "function init()\n"
    "  clock.run(function() while true do clock.sync(1); bm.note('bass', 36, 100, 0.25) end end)\n"
    "end\n"
    "function on_beat(b)\n"
    "  local k = b.count % 4\n"
    "  if k == 0 then while true do end end\n"
    "  if k == 1 then local t = {} for i = 1, 1e9 do t[i] = string.rep(chunk, 16) .. i end end\n"
    "  if k == 2 then error('a runtime error on beat ' .. b.count) end\n"
    "  if k == 3 then while true do pcall(function() while true do end end) end end\n"
    "end\n"
    "function on_note(n) hoard[#hoard + 1] = string.rep(chunk, 256) end\n";

TEST_TIMEOUT(lua_live_misbehaving_scripts_never_stop_the_music, 90)
{
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    static peer p;
    peer_open(&p, j.name, 2);
    char script[1024];
    snprintf(script, sizeof script, "%s", test_path("bad.lua"));
    write_text(script, misbehaving);
    const char *args[] = {"run", "--server", j.name, "--name", "bmlua", "--no-record", "--no-osc", "--mode", "echo",
                          "--script", script, "--duration", "60", NULL};
    pid_t pid = spawn_bandmate(test_path("bandmate.log"), args);
    for (int i = 0; i < 300 && !strstr(slurp(test_path("bandmate.log")), "bandmate is playing"); i++) usleep(50000);
    peer_connect(&p, "bmlua"); /* its client is active once it says it is playing */

    /* the performer plays a note every half second over seven seconds: the echo answers each */
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    for (int i = 0; i < 14; i++) {
        uint8_t on[3] = {0x90, (uint8_t)(60 + i % 7), 90}, off[3] = {0x80, on[1], 0};
        smf_add_midi(s, 0, (uint64_t)i * 480, on, 3);
        smf_add_midi(s, 0, (uint64_t)i * 480 + 200, off, 3);
    }
    char err[256];
    CHECK(smf_write_file(s, test_path("perf.mid"), err, sizeof err) == 0);
    smf_free(s);
    int64_t start = peer_frame(&p) + 4800;
    int nsend = peer_load_smf(&p, test_path("perf.mid"), start, 48000);
    CHECK(nsend == 28);

    /* halfway, a broken version of the script: refused; then a good one that plays the lead */
    while (peer_frame(&p) < start + 3 * 48000) usleep(20000);
    write_text(script, "function init( clock.run(\n");
    while (peer_frame(&p) < start + 9 * 24000) usleep(20000);
    write_text(script, "function init() clock.run(function() while true do clock.sync(1)\n"
                       "  bm.note('comping', 72, 100, 0.25) end end) end\n"
                       "function on_beat(b) if b.count % 2 == 0 then while true do end end end\n");
    while (peer_frame(&p) < start + 8 * 48000) usleep(20000);
    kill(pid, SIGTERM);
    int rc = spawn_wait(pid, 10);
    static char log[65536];
    snprintf(log, sizeof log, "%s", slurp(test_path("bandmate.log"))); /* slurp's buffer is reused below */
    CHECKF(rc == 0, "bandmate exited %d: %s", rc, log);

    /* every misdeed was reported and cut off */
    CHECKF(strstr(log, "ran too long"), "%s", log);
    CHECKF(strstr(log, "more memory than it is allowed") || strstr(log, "not enough memory"), "%s", log);
    CHECKF(strstr(log, "a runtime error on beat"), "%s", log);
    CHECKF(strstr(log, "reload (kept the running script)"), "%s", log);

    /* the bass clock kept the beat: notes exactly a beat (24000 frames) apart until the good reload */
    int bass = 0, comping = 0, echoes = 0, off_beat = 0;
    int64_t prev = -1, worst = 0;
    for (int i = 0; i < p.n_got; i++) {
        const peer_msg *m = &p.got[i];
        if (!m->bytes[2]) continue;
        if (m->bytes[0] == 0x91) {
            if (prev >= 0 && m->frame - prev != 24000) {
                off_beat++;
                if (llabs(m->frame - prev - 24000) > llabs(worst)) worst = m->frame - prev - 24000;
            }
            prev = m->frame;
            bass++;
        }
        if (m->bytes[0] == 0x92) comping++;
        if (m->bytes[0] == 0x93) echoes++;
    }
    CHECKF(bass >= 6, "the script's clock played %d beats", bass);
    CHECKF(off_beat <= 2 * p.xruns, "%d of %d clock notes were not a beat apart (worst by %lld frames; %d xruns): %s",
           off_beat, bass, (long long)worst, p.xruns, log);
    CHECKF(comping >= 4, "the reloaded script played %d beats", comping);
    CHECKF(echoes >= 26 - 2 * p.xruns, "the echo answered %d of 28 performer notes (%d xruns)", echoes, p.xruns);

    /* and nothing was late (see live_check_timing) */
    live_check_timing(log, slurp(test_path("jackd.log")), p.xruns, "bmlua", 1);
    peer_close(&p);
    test_jackd_stop(&j);
}
