/* test_jack.c: bandmate live on a real (dummy-backend) JACK server: timing of MIDI and audio at 64
 * and 256 frames, a server that dies, recordings that survive. */
#include "test.h"
#include "jack_peer.h"
#include "jackd.h"
#include "spawn.h"
#include "engine/smf.h"

#include <signal.h>
#include <sndfile.h>
#include <unistd.h>

/* A private server, the test clients, and bandmate running as client "bmut" with the given
 * arguments (after --server and --name). */
struct session {
    test_jackd j;
    peer *p;
    pid_t pid;
};

static void session_start(struct session *s, int period, int audio_seconds, const char *const *extra)
{
    static peer p;
    s->p = &p;
    test_jackd_start(&s->j, 48000, period);
    peer_open(s->p, s->j.name, audio_seconds);
    /* these sessions time the echo harmoniser (the default patch plays the trained musician) */
    const char *args[32] = {"run", "--server", s->j.name, "--name", "bmut", "--mode", "echo"};
    int n = 7;
    for (int i = 0; extra[i] && n < 31; i++) args[n++] = extra[i];
    args[n] = NULL;
    s->pid = spawn_bandmate(test_path("bandmate.log"), args);
    peer_connect(s->p, "bmut");
}

static void session_wait_until(struct session *s, int64_t frame)
{
    while (peer_frame(s->p) < frame) usleep(20000);
}

/* Stops bandmate with SIGTERM (it must exit 0), then the clients and the server. */
static void session_stop(struct session *s)
{
    kill(s->pid, SIGTERM);
    int rc = spawn_wait(s->pid, 10);
    CHECKF(rc == 0, "bandmate exited with %d: %s", rc, slurp(test_path("bandmate.log")));
    peer_close(s->p);
    test_jackd_stop(&s->j);
}

/* A performance of 48 notes over about 9 s at 120 BPM, at awkward times, with some chords. */
static void write_performance(const char *path)
{
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    smf_add_tempo(s, 0, 0, 500000);
    for (int i = 0; i < 48; i++) {
        uint64_t t = 240 + (uint64_t)i * 173 + (i % 7) * 13;
        int chord = i % 6 == 0;
        for (int k = 0; k <= chord * 2; k++) {
            uint8_t on[3] = {0x90, (uint8_t)(60 + (i * 7) % 12 + 4 * k), (uint8_t)(70 + i % 50)};
            uint8_t off[3] = {0x80, on[1], 0};
            smf_add_midi(s, 0, t, on, 3);
            smf_add_midi(s, 0, t + 150, off, 3);
        }
    }
    char err[256];
    if (smf_write_file(s, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_free(s);
}

static void timing_at(int period)
{
    struct session ss;
    const char *args[] = {"--no-record", "--monitor", "--quiet", NULL};
    session_start(&ss, period, 30, args);
    peer *pp = ss.p;
    write_performance(test_path("perf.mid"));
    int64_t start = peer_frame(pp) + 24000;
    int n = peer_load_smf(pp, test_path("perf.mid"), start, 48000);
    CHECK(n > 0);
    session_wait_until(&ss, pp->to_send[n - 1].frame + 48000);
    session_stop(&ss);
    peer p = *pp;

    /* every echo arrives at its due frame: +0.5 beat (12000 frames) and +1 beat (24000) */
    int matched = 0, notes = 0, exact = 0;
    int64_t worst = 0;
    for (int i = 0; i < n; i++) {
        const peer_msg *h = &p.to_send[i];
        if ((h->bytes[0] & 0xf0) != 0x90) continue;
        notes++;
        for (int echo = 1; echo <= 2; echo++) {
            int64_t due = h->frame + 12000 * echo, best = INT64_MAX;
            for (int k = 0; k < p.n_got; k++) {
                const peer_msg *g = &p.got[k];
                if (g->bytes[0] != 0x93 || !g->bytes[2]) continue;
                if (echo == 2 && g->bytes[1] != h->bytes[1]) continue;
                int64_t d = llabs(g->frame - due);
                if (d < best) best = d;
            }
            if (best <= period) matched++;
            if (best <= 1) exact++;
            if (best != INT64_MAX && best > worst) worst = best;
        }
    }
    /* an xrun (the machine's doing, counted by JACK) can disturb the events of its period, so
     * each one reported excuses at most two; on a quiet machine there are none and every echo counts */
    CHECKF(matched >= 2 * notes - 2 * p.xruns,
           "%d of %d echoes arrived within one period (%d frames); worst %lld frames late; %d xruns",
           matched, 2 * notes, period, (long long)worst, p.xruns);
    CHECKF(exact >= matched * 9 / 10, "only %d of %d echoes were sample-exact", exact, matched);

    /* the monitored first note sounds within one period of its frame, and not before */
    int64_t first = p.to_send[0].frame - p.rec_start_frame;
    CHECK(first > 0 && first + period < p.audio_len);
    float before = 0, after = 0;
    for (int64_t k = 0; k < first; k++) before = fmaxf(before, fabsf(p.audio[0][k]));
    for (int64_t k = first; k < first + period; k++) after = fmaxf(after, fabsf(p.audio[0][k]));
    CHECKF(before == 0, "sound before the first note (peak %g)", before);
    CHECKF(after > 0.001f, "no sound within one period of the first note (peak %g)", after);
}

TEST_TIMEOUT(jack_timing_at_64_frames, 90) { timing_at(64); }

TEST_TIMEOUT(jack_timing_at_256_frames, 90) { timing_at(256); }

/* Finds the one recorded session file with this extension in dir. */
static const char *find_session(const char *dir, const char *ext)
{
    static char path[2][1024];
    static int which;
    char cmd[1100], out[1024];
    snprintf(cmd, sizeof cmd, "ls %s/session-*.%s", dir, ext);
    if (test_run(cmd, out, sizeof out, 5) != 0) return NULL;
    char *nl = strchr(out, '\n');
    if (nl) *nl = 0;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s", out);
    return path[which];
}

static void check_recording(const char *dir, double min_seconds, int min_notes)
{
    const char *mid = find_session(dir, "mid"), *wav = find_session(dir, "wav");
    CHECKF(mid && wav, "no recording in %s", dir);
    smf *s;
    char err[512];
    CHECKF(smf_read_file(mid, &s, err, sizeof err) == 0, "the recorded MIDI is damaged: %s", err);
    CHECK_EQ_INT(s->ntracks, 5);
    int notes = 0;
    uint64_t first = UINT64_MAX;
    for (size_t i = 0; i < s->tracks[0].n; i++) {
        const smf_event *ev = &s->tracks[0].events[i];
        if (ev->kind != SMF_MIDI || (ev->bytes[0] & 0xf0) != 0x90) continue;
        notes++;
        if (ev->tick < first) first = ev->tick;
    }
    smf_free(s);
    /* the session starts when bandmate starts: the first note is within seconds, not at the
     * JACK server's frame count */
    CHECKF(first < 960 * 2 * 5, "the first recorded note is at tick %llu", (unsigned long long)first);
    CHECKF(notes >= min_notes, "the recorded MIDI has %d performer notes, expected at least %d", notes, min_notes);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(wav, SFM_READ, &info);
    CHECKF(f, "the recorded WAV is damaged: %s", sf_strerror(NULL));
    sf_close(f);
    CHECKF(info.frames >= (sf_count_t)(min_seconds * 48000), "the recorded WAV holds %.2f s, expected %.2f",
           info.frames / 48000.0, min_seconds);
}

/* Plays notes until the given time (seconds from now). */
static int64_t play_for(peer *p, double seconds)
{
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    int n = (int)(seconds * 4);
    for (int i = 0; i < n; i++) {
        uint8_t on[3] = {0x90, (uint8_t)(60 + i % 12), 90}, off[3] = {0x80, on[1], 0};
        smf_add_midi(s, 0, (uint64_t)i * 240, on, 3);
        smf_add_midi(s, 0, (uint64_t)i * 240 + 120, off, 3);
    }
    char err[256];
    smf_write_file(s, test_path("notes.mid"), err, sizeof err);
    smf_free(s);
    int64_t start = peer_frame(p) + 2400;
    peer_load_smf(p, test_path("notes.mid"), start, 48000);
    return start;
}

TEST_TIMEOUT(jack_server_death_is_a_clean_exit_and_keeps_the_recording, 60)
{
    struct session ss;
    const char *dir = test_path("rec");
    const char *args[] = {"--record", dir, "--quiet", NULL};
    session_start(&ss, 256, 10, args);
    int64_t start = play_for(ss.p, 3);
    session_wait_until(&ss, start + 3 * 48000);
    test_jackd_kill(&ss.j);
    int rc = spawn_wait(ss.pid, 10);
    const char *log = slurp(test_path("bandmate.log"));
    CHECKF(rc == 3, "bandmate exited with %d after the server died (expected 3): %s", rc, log);
    CHECK_STR_CONTAINS(log, "the JACK server went away");
    CHECK_STR_CONTAINS(log, "the recording is saved");
    check_recording(dir, 2.5, 10);
}

TEST_TIMEOUT(jack_killed_bandmate_loses_at_most_the_last_second, 60)
{
    struct session ss;
    const char *dir = test_path("rec");
    const char *args[] = {"--record", dir, "--quiet", NULL};
    session_start(&ss, 256, 10, args);
    int64_t start = play_for(ss.p, 5);
    session_wait_until(&ss, start + 5 * 48000);
    kill(ss.pid, SIGKILL);
    spawn_wait(ss.pid, 5);
    peer_close(ss.p);
    test_jackd_stop(&ss.j);
    /* 5 s played at 4 notes a second: at least the first 3.5 s must be in the files */
    check_recording(dir, 3.5, 14);
}

TEST_TIMEOUT(jack_buffer_size_change_while_playing, 60)
{
    struct session ss;
    const char *args[] = {"--no-record", "--quiet", NULL};
    session_start(&ss, 256, 10, args);
    peer *p = ss.p;
    int64_t start = play_for(p, 4);
    session_wait_until(&ss, start + 48000);
    int rc_bs = jack_set_buffer_size(p->player, 128);
    session_wait_until(&ss, start + 5 * 48000);
    session_stop(&ss);
    if (rc_bs != 0) test_skip("the dummy backend refused to change its buffer size");
    /* the echoes kept coming after the change */
    int late_echoes = 0;
    for (int k = 0; k < p->n_got; k++)
        if (p->got[k].bytes[0] == 0x93 && p->got[k].frame > start + 2 * 48000) late_echoes++;
    CHECKF(late_echoes >= 8, "only %d echoes after the buffer size changed", late_echoes);
}

/* Human notes every 0.7 s from 2 s on, for the tempo-source tests. */
static int add_notes(peer *p, int64_t start, int count, int first_index)
{
    int n = first_index;
    for (int i = 0; i < count && n + 2 < PEER_MAX_EVENTS; i++) {
        int64_t f = start + 96000 + (int64_t)i * 33600;
        peer_msg on = {f, {0x90, (uint8_t)(60 + i % 5), 100}, 3}, off = {f + 4800, {0x80, (uint8_t)(60 + i % 5), 0}, 3};
        p->to_send[n++] = on;
        p->to_send[n++] = off;
    }
    return n;
}

/* Every human note-on's first echo is delay frames later (within tol). Returns how many matched. */
static int count_echoes(peer *p, int64_t delay, int64_t tol, int *notes)
{
    int matched = 0;
    *notes = 0;
    for (int i = 0; i < p->n_send; i++) {
        const peer_msg *h = &p->to_send[i];
        if ((h->bytes[0] & 0xf0) != 0x90) continue;
        (*notes)++;
        for (int k = 0; k < p->n_got; k++)
            if (p->got[k].bytes[0] == 0x93 && p->got[k].bytes[2] && llabs(p->got[k].frame - (h->frame + delay)) <= tol) {
                matched++;
                break;
            }
    }
    return matched;
}

TEST_TIMEOUT(jack_follows_midi_clock_in, 60)
{
    struct session ss;
    const char *args[] = {"--no-record", "--quiet", "--tempo-source", "midi_clock", NULL};
    session_start(&ss, 128, 12, args);
    peer *p = ss.p;
    /* an external clock at 100 BPM: start, then a tick every 1200 frames for 9 s */
    int64_t start = peer_frame(p) + 4800;
    int n = 0;
    p->to_send[n++] = (peer_msg){start, {0xfa, 0, 0}, 1};
    for (int64_t f = start; f < start + 9 * 48000; f += 1200) p->to_send[n++] = (peer_msg){f, {0xf8, 0, 0}, 1};
    n = add_notes(p, start, 10, n);
    peer_sort(p, n);
    p->n_send = n;
    session_wait_until(&ss, start + 10 * 48000);
    session_stop(&ss);
    /* half a beat at 100 BPM is 14400 frames (at 120 BPM, bandmate's own tempo, it would be 12000) */
    int notes, matched = count_echoes(p, 14400, 64, &notes);
    CHECKF(matched >= notes - 2 * p->xruns, "%d of %d echoes followed the external clock (%d xruns)", matched,
           notes, p->xruns);
}

TEST_TIMEOUT(jack_sends_midi_clock_out, 60)
{
    struct session ss;
    const char *args[] = {"--no-record", "--quiet", "--midi-clock-out", "--tempo", "125", NULL};
    session_start(&ss, 64, 6, args);
    session_wait_until(&ss, peer_frame(ss.p) + 3 * 48000);
    session_stop(&ss);
    peer p = *ss.p;
    /* 125 BPM: 24 ticks per beat every 960 frames, evenly */
    int64_t last = -1;
    int ticks = 0, uneven = 0;
    for (int k = 0; k < p.n_got; k++) {
        if (p.got[k].bytes[0] != 0xf8) continue;
        if (last >= 0 && p.got[k].frame - last != 960) uneven++;
        last = p.got[k].frame;
        ticks++;
    }
    CHECKF(ticks > 100, "only %d clock ticks", ticks);
    CHECKF(uneven <= 2 * p.xruns, "%d of %d clock ticks were not 960 frames apart (%d xruns)", uneven, ticks,
           p.xruns);
}

static double tb_bpm = 90;

static void test_timebase(jack_transport_state_t state, jack_nframes_t n, jack_position_t *pos, int new_pos, void *arg)
{
    (void)state; (void)n; (void)new_pos; (void)arg;
    double beats = pos->frame / (48000.0 * 60.0 / tb_bpm);
    long whole = (long)beats;
    pos->valid = JackPositionBBT;
    pos->beats_per_bar = 4;
    pos->beat_type = 4;
    pos->ticks_per_beat = 1920;
    pos->beats_per_minute = tb_bpm;
    pos->bar = (int32_t)(whole / 4 + 1);
    pos->beat = (int32_t)(whole % 4 + 1);
    pos->tick = (int32_t)((beats - whole) * 1920);
    pos->bar_start_tick = 0;
}

TEST_TIMEOUT(jack_follows_transport_bbt, 60)
{
    struct session ss;
    const char *args[] = {"--no-record", "--quiet", "--tempo-source", "jack", NULL};
    session_start(&ss, 128, 12, args);
    peer *p = ss.p;
    CHECK(jack_set_timebase_callback(p->player, 0, test_timebase, NULL) == 0);
    jack_transport_locate(p->player, 0);
    jack_transport_start(p->player);
    int64_t start = peer_frame(p);
    int n = add_notes(p, start, 10, 0);
    peer_sort(p, n);
    p->n_send = n;
    session_wait_until(&ss, start + 10 * 48000);
    jack_transport_stop(p->player);
    session_stop(&ss);
    /* half a beat at 90 BPM = 16000 frames */
    int notes, matched = count_echoes(p, 16000, 128, &notes);
    CHECKF(matched >= notes - 2 * p->xruns, "%d of %d echoes followed JACK transport at 90 BPM (%d xruns)", matched,
           notes, p->xruns);
}

TEST_TIMEOUT(jack_timebase_master_gives_bars_and_beats, 60)
{
    struct session ss;
    const char *args[] = {"--no-record", "--quiet", "--timebase-master", "--tempo", "96", NULL};
    session_start(&ss, 256, 4, args);
    jack_transport_start(ss.p->player);
    usleep(1500000);
    jack_position_t pos;
    jack_transport_query(ss.p->player, &pos);
    session_stop(&ss);
    CHECK(pos.valid & JackPositionBBT);
    CHECK_NEAR(pos.beats_per_minute, 96, 1e-6);
    CHECK_NEAR(pos.beats_per_bar, 4, 1e-6);
    CHECK(pos.bar >= 1 && pos.beat >= 1 && pos.beat <= 4);
}

TEST_TIMEOUT(jack_terminal_keys_change_tempo_and_quit, 60)
{
    if (access("/usr/bin/script", X_OK) != 0) test_skip("script (bsdutils) is not installed");
    test_jackd j;
    test_jackd_start(&j, 48000, 256);
    /* a real terminal through script(1): three '+' raise the tempo to 123, 'q' quits */
    char cmd[2048], out[65536];
    snprintf(cmd, sizeof cmd,
             "(sleep 1.5; printf '+++'; sleep 1; printf 'q') | script -qfc '%s/bandmate run --server %s --no-record' /dev/null",
             test_bindir(), j.name);
    int rc = test_run(cmd, out, sizeof out, 20);
    test_jackd_stop(&j);
    CHECKF(rc == 0, "exit %d: %s", rc, out);
    CHECK_STR_CONTAINS(out, "keys: t tap tempo");
    CHECK_STR_CONTAINS(out, "123.0 BPM");
    CHECK_STR_CONTAINS(out, "session:");
}
