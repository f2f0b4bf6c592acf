/* test_offline.c: the offline driver: sample-exact timing, determinism, the session files. */
#include "test.h"
#include "engine/offline.h"
#include "engine/smf.h"

#include <sndfile.h>
#include <unistd.h>

#define MAX_OUT 4096

struct capture {
    int n;
    int64_t frame[MAX_OUT];
    uint8_t bytes[MAX_OUT][3];
};

static void on_midi(void *ctx, int64_t frame, const uint8_t *b, size_t n)
{
    struct capture *c = ctx;
    if (c->n < MAX_OUT && n == 3) {
        c->frame[c->n] = frame;
        memcpy(c->bytes[c->n], b, 3);
        c->n++;
    }
}

/* A performance with notes at awkward frames: 120 BPM, 480 ticks per quarter = 50 frames per tick. */
static void write_performance(const char *path, int notes)
{
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    smf_add_tempo(s, 0, 0, 500000);
    for (int i = 0; i < notes; i++) {
        uint64_t t = 480 + (uint64_t)i * 317; /* not on any grid */
        uint8_t on[3] = {0x90, (uint8_t)(60 + (i * 5) % 12), 100}, off[3] = {0x80, on[1], 0};
        smf_add_midi(s, 0, t, on, 3);
        smf_add_midi(s, 0, t + 200, off, 3);
    }
    char err[256];
    if (smf_write_file(s, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_free(s);
}

TEST(offline_band_events_are_sample_exact)
{
    write_performance(test_path("in.mid"), 24);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    static struct capture cap;
    memset(&cap, 0, sizeof cap);
    uint32_t blocks[] = {64, 256, 1000};
    for (size_t bi = 0; bi < 3; bi++) {
        bm_render_opts o;
        render_opts_defaults(&o);
        o.in_mid = test_path("in.mid");
        o.out_mid = test_path("out.mid");
        o.block = blocks[bi];
        o.on_midi_out = on_midi;
        o.ctx = &cap;
        cap.n = 0;
        bm_render_result res;
        char err[256];
        CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
        CHECK_EQ_INT(res.late_events, 0);
        CHECK_EQ_INT(res.late_steps, 0);
        CHECK_EQ_INT(res.human_notes, 24);
        /* echo: the third above at +0.5 beat (12000 frames), the note itself at +1 beat (24000) */
        int checked = 0;
        for (int i = 0; i < 24; i++) {
            int64_t human = (480 + (int64_t)i * 317) * 50;
            int found1 = 0, found2 = 0;
            for (int k = 0; k < cap.n; k++) {
                if ((cap.bytes[k][0] & 0xf0) != 0x90) continue;
                if (cap.frame[k] == human + 12000) found1 = 1;
                if (cap.frame[k] == human + 24000 && cap.bytes[k][1] == 60 + (i * 5) % 12) found2 = 1;
            }
            CHECKF(found1 && found2, "block %u: the echoes of note %d (frame %lld) are not at +12000 and +24000",
                   blocks[bi], i, (long long)human);
            checked++;
        }
        CHECK_EQ_INT(checked, 24);
    }
}

TEST(offline_monitored_human_note_starts_on_its_sample)
{
    /* one note at tick 481 = frame 24050: the audio is silent before it and sounds right after */
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    uint8_t on[3] = {0x90, 69, 127}, off[3] = {0x80, 69, 0};
    smf_add_midi(s, 0, 481, on, 3);
    smf_add_midi(s, 0, 960, off, 3);
    char err[256];
    CHECK(smf_write_file(s, test_path("one.mid"), err, sizeof err) == 0);
    smf_free(s);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "silent");
    cfg.monitor_human = 1;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("one.mid");
    o.out_wav = test_path("one.wav");
    o.block = 256;
    bm_render_result res;
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(test_path("one.wav"), SFM_READ, &info);
    CHECK(f);
    CHECK_EQ_INT(info.channels, 2);
    CHECK_EQ_INT(info.samplerate, 48000);
    static float buf[2 * 30000];
    CHECK_EQ_INT(sf_readf_float(f, buf, 30000), 30000);
    sf_close(f);
    for (int i = 0; i < 24050; i++) CHECKF(buf[2 * i] == 0 && buf[2 * i + 1] == 0, "sound before the note at %d", i);
    float peak = 0;
    for (int i = 24050; i < 24050 + 480; i++) peak = fmaxf(peak, fabsf(buf[2 * i]));
    CHECKF(peak > 0.01f, "no sound within 10 ms of the note (peak %g)", peak);
}

TEST(offline_session_midi_has_the_five_named_tracks_and_is_deterministic)
{
    write_performance(test_path("in.mid"), 40);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    char err[256];
    for (int run = 0; run < 2; run++) {
        bm_render_opts o;
        render_opts_defaults(&o);
        o.in_mid = test_path("in.mid");
        o.out_mid = test_path(run ? "b.mid" : "a.mid");
        o.out_wav = test_path(run ? "b.wav" : "a.wav");
        bm_render_result res;
        CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    }
    smf *s;
    CHECKF(smf_read_file(test_path("a.mid"), &s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(s->ntracks, 5);
    const char *names[] = {"human", "bass", "drums", "comping", "lead"};
    for (int t = 0; t < 5; t++) CHECKF(!strcmp(s->tracks[t].name, names[t]), "track %d is '%s'", t, s->tracks[t].name);
    int human_on = 0, lead_on = 0;
    for (size_t i = 0; i < s->tracks[0].n; i++)
        human_on += s->tracks[0].events[i].kind == SMF_MIDI && (s->tracks[0].events[i].bytes[0] & 0xf0) == 0x90;
    for (size_t i = 0; i < s->tracks[4].n; i++)
        lead_on += s->tracks[4].events[i].kind == SMF_MIDI && (s->tracks[4].events[i].bytes[0] & 0xf0) == 0x90;
    CHECK_EQ_INT(human_on, 40);
    CHECK_EQ_INT(lead_on, 80);
    smf_free(s);
    char cmd[1024], out[256];
    snprintf(cmd, sizeof cmd, "cmp %s %s && cmp %s %s", test_path("a.mid"), test_path("b.mid"),
             test_path("a.wav"), test_path("b.wav"));
    CHECKF(test_run(cmd, out, sizeof out, 10) == 0, "two renders differ: %s", out);
}

TEST(offline_follows_the_file_tempo_map)
{
    /* 100 BPM, then 150 BPM from beat 8: echoes are half a beat of the tempo in force */
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    smf_add_tempo(s, 0, 0, 600000);
    smf_add_tempo(s, 0, 8 * 480, 400000);
    uint8_t on[3] = {0x90, 64, 100}, off[3] = {0x80, 64, 0};
    smf_add_midi(s, 0, 4 * 480, on, 3);
    smf_add_midi(s, 0, 4 * 480 + 100, off, 3);
    smf_add_midi(s, 0, 12 * 480, on, 3);
    smf_add_midi(s, 0, 12 * 480 + 100, off, 3);
    char err[256];
    CHECK(smf_write_file(s, test_path("tempo.mid"), err, sizeof err) == 0);
    smf_free(s);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    static struct capture cap;
    memset(&cap, 0, sizeof cap);
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("tempo.mid");
    o.out_mid = test_path("o.mid");
    o.on_midi_out = on_midi;
    o.ctx = &cap;
    o.block = 128;
    bm_render_result res;
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    CHECK_NEAR(res.first_bpm, 100, 1e-6);
    /* beat 4 at 100 BPM = 2.4 s = 115200; echo at beat 4.5 = 129600 */
    /* beat 12 = 8 beats at 0.6 s + 4 at 0.4 s = 6.4 s = 307200; echo at 12.5 = 6.6 s = 316800.
     * The tempo change takes effect at the period where it falls (frame 230400 is a multiple of 128). */
    int a = 0, b = 0;
    for (int k = 0; k < cap.n; k++) {
        if ((cap.bytes[k][0] & 0xf0) != 0x90) continue;
        if (llabs(cap.frame[k] - 129600) <= 1) a = 1;
        if (llabs(cap.frame[k] - 316800) <= 1) b = 1;
    }
    CHECK(a);
    CHECK(b);
}

#include "engine/recorder.h"

TEST(recorder_counts_time_from_the_session_start_and_follows_tempo)
{
    /* live, frames are JACK's frame time: the session may start at frame 10,000,000 */
    ring *ev = ring_create(sizeof(bm_event), 64), *au = ring_create(sizeof(float), 1024);
    char err[256];
    bm_recorder *r = recorder_create(test_path("r.mid"), NULL, ev, au, 48000, 120, 4, 4, err, sizeof err);
    CHECKF(r, "%s", err);
    bm_event e = {0};
    e.type = BM_EV_TEMPO;
    e.frame = 10000000;
    e.value_f = 120;
    ring_push(ev, &e);
    memset(&e, 0, sizeof e);
    e.type = BM_EV_NOTE_ON;
    e.part = BM_PART_HUMAN;
    e.note = 60;
    e.velocity = 100;
    e.frame = 10000000 + 24000; /* half a second in: beat 1 = tick 960 */
    ring_push(ev, &e);
    memset(&e, 0, sizeof e);
    e.type = BM_EV_TEMPO;
    e.frame = 10000000 + 48000; /* one second in (tick 1920): 60 BPM from here */
    e.value_f = 60;
    ring_push(ev, &e);
    memset(&e, 0, sizeof e);
    e.type = BM_EV_NOTE_ON;
    e.part = BM_PART_BASS;
    e.note = 36;
    e.velocity = 90;
    e.frame = 10000000 + 96000; /* one more second at 60 BPM: one beat later, tick 2880 */
    ring_push(ev, &e);
    recorder_drain(r);
    CHECK(recorder_finish(r, err, sizeof err) == 0);
    recorder_destroy(r);
    ring_destroy(ev);
    ring_destroy(au);
    smf *s;
    CHECKF(smf_read_file(test_path("r.mid"), &s, err, sizeof err) == 0, "%s", err);
    uint64_t human = 0, bass = 0;
    int tempos = 0;
    for (size_t i = 0; i < s->tracks[0].n; i++) {
        if (s->tracks[0].events[i].kind == SMF_MIDI) human = s->tracks[0].events[i].tick;
        if (s->tracks[0].events[i].kind == SMF_META && s->tracks[0].events[i].meta_type == SMF_META_TEMPO) tempos++;
    }
    for (size_t i = 0; i < s->tracks[1].n; i++)
        if (s->tracks[1].events[i].kind == SMF_MIDI) bass = s->tracks[1].events[i].tick;
    CHECK_EQ_INT(human, 960);
    CHECK_EQ_INT(bass, 2880);
    CHECK_EQ_INT(tempos, 2); /* 120 at the start (once), 60 at tick 1920 */
    smf_free(s);
}

TEST_TIMEOUT(offline_render_plays_the_patch_script_repeatably, 60)
{
    /* the jazz trio patch's band comes from its script: offline it must play, the same each time */
    char cmd[2048], out[4096];
    for (int run = 0; run < 2; run++) {
        snprintf(cmd, sizeof cmd,
                 "%s/bandmate render --patch patches/jazz_trio.lua --in examples/melody.mid --out-mid %s --seed 7",
                 test_bindir(), test_path(run ? "b.mid" : "a.mid"));
        CHECKF(test_run(cmd, out, sizeof out, 50) == 0, "%s", out);
    }
    smf *s;
    char err[256];
    CHECKF(smf_read_file(test_path("a.mid"), &s, err, sizeof err) == 0, "%s", err);
    int band = 0;
    for (int t = 1; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++)
            band += s->tracks[t].events[i].kind == SMF_MIDI && (s->tracks[t].events[i].bytes[0] & 0xf0) == 0x90;
    smf_free(s);
    CHECKF(band > 100, "the scripted band played %d notes", band);
    snprintf(cmd, sizeof cmd, "cmp %s %s", test_path("a.mid"), test_path("b.mid"));
    CHECKF(test_run(cmd, out, sizeof out, 10) == 0, "two renders differ: %s", out);
}

#include "engine/pianoroll.h"

TEST(offline_piano_roll_png_has_a_colour_per_part)
{
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s/bandmate render --in examples/melody.mid --out-png %s -q", test_bindir(),
             test_path("roll.png"));
    CHECKF(test_run(cmd, out, sizeof out, 30) == 0, "%s", out);
    FILE *f = fopen(test_path("roll.png"), "rb");
    CHECK(f);
    unsigned char sig[8];
    CHECK(fread(sig, 1, 8, f) == 8);
    fclose(f);
    CHECK(!memcmp(sig, "\x89PNG\r\n\x1a\n", 8));
    CHECK(access(test_path("roll.png.session.mid"), F_OK) != 0); /* the temporary MIDI is gone */
    char err[256];
    CHECK(pianoroll_write("/nonexistent.mid", test_path("x.png"), 0, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "/nonexistent.mid");
}
