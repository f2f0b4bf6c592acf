/* test_osc_live.c: real OSC over loopback against a running bandmate on a private JACK server: a
 * liblo client sends every documented address and reads the answers that come back to its own
 * address and port; timestamped bundles sound at their time; late ones are reported; feedback is
 * rate-limited; TCP works; malformed packets are refused and bandmate plays on. */
#include "test.h"
#include "jack_peer.h"
#include "jackd.h"
#include "spawn.h"
#include "engine/control/osc_packet.h"

#include <arpa/inet.h>
#include <lo/lo.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_CAP (1 << 20)

/* tests/test_lua_live.c: xruns, bandmate's lateness counters and callback time after a run. */
void live_check_timing(const char *bandmate_log, const char *jackd_log, int xruns, const char *client, int strict);

typedef struct client {
    lo_server srv;
    lo_address to;
    int port;
    char *log;             /* every message received, one line each */
    size_t len;
} client;

static int on_any(const char *path, const char *types, lo_arg **argv, int argc, lo_message m, void *ud)
{
    (void)m;
    client *c = ud;
    char line[4096];
    size_t at = (size_t)snprintf(line, sizeof line, "%s", path);
    for (int i = 0; i < argc && at < sizeof line - 256; i++) {
        switch (types[i]) {
        case 'i': at += (size_t)snprintf(line + at, sizeof line - at, " %d", osc_arg_i32(argv[i])); break;
        case 'f': at += (size_t)snprintf(line + at, sizeof line - at, " %g", osc_arg_f32(argv[i])); break;
        case 's': at += (size_t)snprintf(line + at, sizeof line - at, " %.200s", (const char *)argv[i]); break;
        default: at += (size_t)snprintf(line + at, sizeof line - at, " ?");
        }
    }
    if (c->len + at + 2 < LOG_CAP) {
        memcpy(c->log + c->len, line, at);
        c->len += at;
        c->log[c->len++] = '\n';
        c->log[c->len] = 0;
    }
    return 0;
}

static void client_open(client *c, int port)
{
    memset(c, 0, sizeof *c);
    c->srv = lo_server_new(NULL, NULL);
    CHECK(c->srv);
    lo_server_add_method(c->srv, NULL, NULL, on_any, c);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    c->to = lo_address_new("127.0.0.1", ps);
    c->port = port;
    c->log = calloc(1, LOG_CAP);
}

static void client_close(client *c)
{
    lo_address_free(c->to);
    lo_server_free(c->srv);
    free(c->log);
}

static void pump(client *c, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        lo_server_recv_noblock(c->srv, 5);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* Waits up to ms for a line containing needle; 1 when it came. */
static int wait_for(client *c, const char *needle, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (strstr(c->log, needle)) return 1;
        pump(c, 10);
    }
    return strstr(c->log, needle) != NULL;
}

static void clear(client *c)
{
    c->len = 0;
    c->log[0] = 0;
}

static int count(const client *c, const char *needle)
{
    int n = 0;
    for (const char *p = c->log; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void send_msg(client *c, const char *path, lo_message m)
{
    CHECK(lo_send_message_from(c->to, c->srv, path, m) >= 0);
    lo_message_free(m);
}

/* Sends a message made of strings and floats ("sf...") and expects an answer containing want. */
static void ask(client *c, const char *path, const char *types, const char *want, ...)
{
    lo_message m = lo_message_new();
    va_list ap;
    va_start(ap, want);
    for (const char *t = types; *t; t++) {
        if (*t == 's') lo_message_add_string(m, va_arg(ap, const char *));
        else if (*t == 'f') lo_message_add_float(m, (float)va_arg(ap, double));
        else if (*t == 'i') lo_message_add_int32(m, va_arg(ap, int));
    }
    va_end(ap);
    clear(c);
    send_msg(c, path, m);
    CHECKF(wait_for(c, want, 3000), "%s answered: %s (expected %s)", path, c->log, want);
}

static int osc_port_from_log(const char *log)
{
    for (int i = 0; i < 300; i++) {
        const char *s = strstr(slurp(log), "OSC on UDP port ");
        if (s) return atoi(s + 16);
        usleep(50000);
    }
    test_fail(__FILE__, __LINE__, "bandmate did not open OSC: %s", slurp(log));
}

static void raw_udp(int port, const void *data, size_t n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    sendto(fd, data, n, 0, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
}

/* Sends a length-prefixed message over TCP and returns the path of the first framed answer. */
static void tcp_status(int port, char *path, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    uint8_t msg[64], frame[68];
    size_t n = osc_build(msg, sizeof msg, "/bm/status", "");
    uint32_t len = htonl((uint32_t)n);
    memcpy(frame, &len, 4);
    memcpy(frame + 4, msg, n);
    CHECK(write(fd, frame, n + 4) == (ssize_t)(n + 4));
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t in[2048];
    ssize_t got = 0;
    while (got < 8) {
        ssize_t r = read(fd, in + got, sizeof in - (size_t)got);
        if (r <= 0) break;
        got += r;
    }
    close(fd);
    snprintf(path, cap, "%s", got > 4 ? (const char *)in + 4 : "");
}

TEST_TIMEOUT(osc_live_every_address_bundles_feedback_and_bad_packets, 90)
{
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    static peer p;
    peer_open(&p, j.name, 2);
    char script[1024], flood[1024];
    snprintf(script, sizeof script, "%s", test_path("live.lua"));
    FILE *f = fopen(script, "w");
    CHECK(f);
    fputs("function on_osc(path, args, from) osc.reply('/heard', path, #args) end\n", f);
    fclose(f);
    snprintf(flood, sizeof flood, "%s", test_path("flood.lua"));
    f = fopen(flood, "w");
    CHECK(f);
    fputs("function init() clock.run(function() while true do clock.sleep(0.004)\n"
          "  bm.note('lead', 60 + math.random(0, 24), 80, 0.002) end end) end\n", f);
    fclose(f);
    const char *args[] = {"run", "--server", j.name, "--name", "bmosc", "--no-record", "--osc-port", "0", "--osc-tcp",
                          "--osc-lua", "--mode", "silent", "--script", script, "--duration", "80", NULL};
    pid_t pid = spawn_bandmate(test_path("bandmate.log"), args);
    int port = osc_port_from_log(test_path("bandmate.log"));
    peer_connect(&p, "bmosc");
    client c;
    client_open(&c, port);

    /* every documented address, with one good and (where it can fail) one bad use */
    ask(&c, "/bm/status", "", "/bm/status.reply 120 ");
    ask(&c, "/bm/sync", "i", "/bm/synced 5", 5);
    ask(&c, "/bm/params", "", "/bm/done params");
    CHECK(strstr(c.log, "/bm/param/info density number 0 1 0.5 0.5 Density"));
    ask(&c, "/bm/param/density", "f", "/bm/done param/density", 0.25);
    ask(&c, "/bm/param/density/get", "", "/bm/param/density 0.25");
    ask(&c, "/bm/param/density/norm", "f", "/bm/done param/density/norm", 1.0);
    ask(&c, "/bm/param/nothing", "f", "/bm/fail param/nothing", 1.0);
    ask(&c, "/bm/transport/stop", "", "/bm/done transport/stop");
    ask(&c, "/bm/transport/locate", "f", "/bm/done transport/locate", 0.0);
    ask(&c, "/bm/transport/play", "", "/bm/done transport/play");
    ask(&c, "/bm/tempo", "i", "/bm/done tempo", 120);
    ask(&c, "/bm/tempo", "s", "/bm/fail tempo", "fast");
    ask(&c, "/bm/tap", "", "/bm/done tap");
    ask(&c, "/bm/panic", "", "/bm/done panic");
    ask(&c, "/bm/mode", "s", "/bm/done mode silent", "silent");
    ask(&c, "/bm/mode", "s", "/bm/fail mode", "polka");
    ask(&c, "/bm/modes", "", "/bm/modes.reply echo silent");
    ask(&c, "/bm/part", "sf", "/bm/done part", "drums", 1.0);
    ask(&c, "/bm/part/comping", "f", "/bm/done part/comping", 1.0);
    ask(&c, "/bm/human", "s", "/bm/done human none", "none");
    ask(&c, "/bm/voice", "ss", "/bm/done voice", "lead", "flute");
    ask(&c, "/bm/voice/morph", "sf", "/bm/done voice/morph", "lead", 0.5);
    ask(&c, "/bm/temperature", "f", "/bm/done temperature", 0.9);
    ask(&c, "/bm/density", "f", "/bm/done density", 0.5);
    ask(&c, "/bm/key", "ss", "/bm/done key", "F", "major");
    ask(&c, "/bm/chords", "sfsf", "/bm/done chords", "F", 4.0, "Bb", 4.0);
    ask(&c, "/bm/note", "sfff", "/bm/done note", "bass", 41.0, 100.0, 0.5);
    ask(&c, "/bm/script/reload", "", "/bm/done script/reload");
    ask(&c, "/bm/script/load", "s", "/bm/fail script/load", "/nonexistent.lua");
    ask(&c, "/bm/model/load", "s", "/bm/fail model/load", "/nonexistent.bmnn");
    ask(&c, "/bm/midi/map", "sf", "/bm/done midi/map", "density", 74.0);
    ask(&c, "/bm/midi/maps", "", "/bm/midi/mapping density 0 74");
    ask(&c, "/bm/midi/unmap", "s", "/bm/done midi/unmap", "density");
    ask(&c, "/bm/midi/learn", "s", "/bm/learning tempo", "tempo");
    ask(&c, "/bm/midi/learn", "s", "/bm/done midi/learn cancelled", "");
    ask(&c, "/bm/phrase/end", "", "/bm/done phrase/end");
    ask(&c, "/bm/listen", "", "/bm/listen.reply ");
    ask(&c, "/bm/lua", "s", "/bm/done lua 4", "return 2 + 2");
    ask(&c, "/bm/nowhere", "", "/bm/fail nowhere");
    ask(&c, "/sensor/x", "f", "/heard /sensor/x 1", 0.5);
    ask(&c, "/bm/script/stop", "", "/bm/done script/stop");

    /* feedback: the parameters at once, then beats and notes as they happen */
    ask(&c, "/bm/notify", "", "/bm/done notify");
    CHECK(wait_for(&c, "/bm/param/tempo 120", 1000));
    CHECK(wait_for(&c, "/bm/event/beat", 2000));
    ask(&c, "/bm/note", "sii", "/bm/event/note bass 43 100", "bass", 43, 100);

    /* two notes in one packet, a quarter of a second apart, a second ahead */
    lo_timetag now, t1, t2;
    lo_timetag_now(&now);
    t1 = now;
    t1.sec += 1;
    t1.frac = now.frac;
    t2 = t1;
    uint64_t frac2 = (uint64_t)t2.frac + (1ull << 30); /* + 0.25 s */
    if (frac2 >> 32) t2.sec++;
    t2.frac = (uint32_t)frac2;
    jack_time_t jt = jack_get_time();
    int64_t expect = jack_time_to_frames(p.player, jt + 1000000);
    lo_bundle outer = lo_bundle_new((lo_timetag){0, 1});
    lo_bundle b1 = lo_bundle_new(t1), b2 = lo_bundle_new(t2);
    lo_message n1 = lo_message_new(), n2 = lo_message_new();
    lo_message_add_string(n1, "comping");
    lo_message_add_int32(n1, 80);
    lo_message_add_int32(n1, 99);
    lo_message_add_string(n2, "comping");
    lo_message_add_int32(n2, 81);
    lo_message_add_int32(n2, 99);
    lo_bundle_add_message(b1, "/bm/note", n1);
    lo_bundle_add_message(b2, "/bm/note", n2);
    lo_bundle_add_bundle(outer, b1);
    lo_bundle_add_bundle(outer, b2);
    clear(&c);
    CHECK(lo_send_bundle_from(c.to, c.srv, outer) >= 0);
    lo_bundle_free_recursive(outer);
    /* and one that is already late */
    lo_timetag past = now;
    past.sec -= 2;
    lo_bundle late = lo_bundle_new(past);
    lo_message lm = lo_message_new();
    lo_message_add_float(lm, 121);
    lo_bundle_add_message(late, "/bm/tempo", lm);
    CHECK(lo_send_bundle_from(c.to, c.srv, late) >= 0);
    lo_bundle_free_recursive(late);
    CHECKF(wait_for(&c, "/bm/late /bm/tempo 2", 2000), "no late report: %s", c.log);
    CHECK(wait_for(&c, "/bm/done tempo", 1000));
    pump(&c, 1800);
    int64_t f80 = -1, f81 = -1;
    for (int i = 0; i < p.n_got; i++) {
        if (p.got[i].bytes[0] != 0x92 || !p.got[i].bytes[2]) continue;
        if (p.got[i].bytes[1] == 80) f80 = p.got[i].frame;
        if (p.got[i].bytes[1] == 81) f81 = p.got[i].frame;
    }
    CHECKF(f80 >= 0 && f81 >= 0, "the timed notes did not sound (%lld, %lld)", (long long)f80, (long long)f81);
    CHECKF(llabs(f81 - f80 - 12000) <= 2, "timed notes 0.25 s apart sounded %lld frames apart", (long long)(f81 - f80));
    CHECKF(llabs(f80 - expect) <= 480, "a timed note sounded %lld frames from its time tag", (long long)(f80 - expect));

    /* TCP on the same port */
    char tpath[256];
    tcp_status(port, tpath, sizeof tpath);
    CHECK_STR_CONTAINS(tpath, "/bm/status.reply");

    /* bad packets: garbage, truncations, a huge one, bundles nested too deep */
    uint8_t buf[65000];
    raw_udp(port, "garbage", 7);
    size_t n = osc_build(buf, sizeof buf, "/bm/note", "sii", "bass", 40, 100);
    for (size_t k = 1; k < n; k += 2) raw_udp(port, buf, k);
    memset(buf, 0, sizeof buf);
    memcpy(buf, "/bm/mode\0\0\0\0,s\0\0", 16);
    memset(buf + 16, 'x', sizeof buf - 20);
    raw_udp(port, buf, sizeof buf);
    size_t len = 0;
    for (int d = 0; d < 40; d++) {
        memmove(buf + 20, buf, len);
        memcpy(buf, "#bundle\0\0\0\0\0\0\0\0\1", 16);
        uint32_t sz = htonl((uint32_t)len);
        memcpy(buf + 16, &sz, 4);
        len += 20;
    }
    raw_udp(port, buf, len);
    ask(&c, "/bm/status", "", "/bm/status.reply");

    /* a busy script: feedback stays within the rate limit and drops are reported */
    ask(&c, "/bm/script/load", "s", "/bm/done script/load", flood);
    clear(&c);
    pump(&c, 2000);
    int got = count(&c, "\n");
    CHECKF(got <= 2 * 200 + 120, "%d feedback messages in 2 s with a limit of 200 a second", got);
    CHECKF(got >= 150, "only %d feedback messages in 2 s", got);
    CHECKF(strstr(c.log, "/bm/event/dropped"), "drops were not reported: %.500s", c.log);

    kill(pid, SIGTERM);
    int rc = spawn_wait(pid, 10);
    static char log[65536];
    snprintf(log, sizeof log, "%s", slurp(test_path("bandmate.log"))); /* slurp's buffer is reused below */
    CHECKF(rc == 0, "bandmate exited %d: %s", rc, log);
    CHECKF(!strstr(log, "Sanitizer") && !strstr(log, "runtime error"), "%s", log);
    /* not strict about late notes: the flood script above asks for more than a loaded machine
     * may deliver in time, which is what it is for */
    live_check_timing(log, slurp(test_path("jackd.log")), p.xruns, "bmosc", 0);
    client_close(&c);
    peer_close(&p);
    test_jackd_stop(&j);
}

TEST(osc_live_errors_are_one_sentence)
{
    char cmd[2048], out[4096];
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd));
    const char *bin = test_bindir();
    snprintf(cmd, sizeof cmd, "%s%s%s/bandmate run --osc-allow example.org", bin[0] == '/' ? "" : cwd,
             bin[0] == '/' ? "" : "/", bin);
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 20), 2);
    CHECK_STR_CONTAINS(out, "is not a numeric address");
    snprintf(cmd, sizeof cmd, "%s%s%s/bandmate run --script /nonexistent/s.lua", bin[0] == '/' ? "" : cwd,
             bin[0] == '/' ? "" : "/", bin);
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 20), 1);
    CHECK_STR_CONTAINS(out, "the script /nonexistent/s.lua does not exist");
    snprintf(cmd, sizeof cmd, "%s%s%s/bandmate run --osc-port 99999", bin[0] == '/' ? "" : cwd,
             bin[0] == '/' ? "" : "/", bin);
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 20), 2);
    CHECK_STR_CONTAINS(out, "--osc-port");
}

TEST_TIMEOUT(osc_live_installation_example_fed_by_oscsend, 60)
{
    if (access("/usr/bin/oscsend", X_OK) != 0) test_skip("oscsend is not installed (make deps installs liblo-tools)");
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    const char *args[] = {"run", "patches/ambient_installation.lua", "--server", j.name, "--name", "bminst", "--no-record",
                          "--osc-port", "0", "--duration", "40", NULL};
    pid_t pid = spawn_bandmate(test_path("bandmate.log"), args);
    int port = osc_port_from_log(test_path("bandmate.log"));
    client c;
    client_open(&c, port);
    ask(&c, "/bm/param/density/get", "", "/bm/param/density 0.3");
    char cmd[512], out[4096];
    snprintf(cmd, sizeof cmd, "COUNT=10 PERIOD=0.05 examples/installation/sensors.sh 127.0.0.1 %d", port);
    int rc = test_run(cmd, out, sizeof out, 20);
    CHECKF(rc == 0, "sensors.sh exited %d: %s", rc, out);
    pump(&c, 300);
    ask(&c, "/bm/param/density/get", "", "/bm/param/density 0.");
    float density = 0;
    const char *v = strstr(c.log, "/bm/param/density ");
    CHECK(v && sscanf(v + 18, "%f", &density) == 1);
    CHECKF(density > 0.4 && density < 0.6, "the light made the density %g (0.15 + 0.7 x about 0.5)", density);
    ask(&c, "/bm/status", "", "/bm/status.reply 60 ");
    kill(pid, SIGTERM);
    rc = spawn_wait(pid, 10);
    static char log[65536];
    snprintf(log, sizeof log, "%s", slurp(test_path("bandmate.log")));
    CHECKF(rc == 0, "bandmate exited %d: %s", rc, log);
    CHECKF(!strstr(log, "script error"), "%s", log);
    CHECKF(strstr(log, "band notes"), "%s", log);
    client_close(&c);
    test_jackd_stop(&j);
}

TEST_TIMEOUT(osc_live_status_line_shows_the_mode_parts_load_and_the_plan, 60)
{
    /* the performer's view while bandmate plays: tempo, bar and beat, the mode (following a switch
     * over OSC), the parts, CPU load, xruns and the band's next planned note */
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    const char *args[] = {"run", "--server", j.name, "--name", "bmstatus", "--no-record", "--osc-port", "0",
                          "--mode", "accompany", "--status", "--duration", "30", NULL};
    pid_t pid = spawn_bandmate(test_path("bandmate.log"), args);
    int port = osc_port_from_log(test_path("bandmate.log"));
    client c;
    client_open(&c, port);
    pump(&c, 2500);
    ask(&c, "/bm/mode", "s", "/bm/done mode call-and-response", "call-and-response");
    pump(&c, 1500);
    kill(pid, SIGTERM);
    int rc = spawn_wait(pid, 10);
    static char log[262144];
    snprintf(log, sizeof log, "%s", slurp(test_path("bandmate.log")));
    CHECKF(rc == 0, "bandmate exited %d: %s", rc, log);
    const char *first = strstr(log, " BPM ");
    CHECKF(first, "no status line: %s", log);
    CHECKF(strstr(log, "accompany [BDCL] cpu "), "%s", log);
    CHECKF(strstr(log, "call-and-response [BDCL] cpu "), "the status did not follow the mode: %s", log);
    CHECKF(strstr(log, " xruns "), "%s", log);
    CHECKF(strstr(log, " next ") || strstr(log, " last "), "the band's notes are never shown: %s", log);
    CHECKF(strstr(log, "callback: ") && strstr(log, "p99.9"), "no session summary: %s", log);
    client_close(&c);
    test_jackd_stop(&j);
}
