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
    test_jackd j;
    test_jackd_start(&j, 48000, period);
    static peer p;
    peer_open(&p, j.name, 30);
    const char *args[] = {"run", "--server", j.name, "--name", "bmut", "--no-record", "--monitor",
                          "--quiet", "--duration", "40", NULL};
    pid_t pid = spawn_bandmate(test_path("bandmate.log"), args);
    peer_connect(&p, "bmut");
    write_performance(test_path("perf.mid"));
    int64_t start = peer_frame(&p) + 24000;
    int n = peer_load_smf(&p, test_path("perf.mid"), start, 48000);
    CHECK(n > 0);
    int64_t last = p.to_send[n - 1].frame;
    while (peer_frame(&p) < last + 48000) usleep(50000);
    kill(pid, SIGTERM);
    CHECKF(spawn_wait(pid, 10) == 0, "bandmate did not stop cleanly: %s", slurp(test_path("bandmate.log")));
    peer_close(&p);
    test_jackd_stop(&j);

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
    CHECKF(matched == 2 * notes, "%d of %d echoes arrived within one period (%d frames); worst %lld frames late",
           matched, 2 * notes, period, (long long)worst);
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
