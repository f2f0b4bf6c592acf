/* test_together.c: the session statistics (render's summary, eval together), the generated
 * performances they are measured on, and the measurements end to end on small performances. */
#include "test.h"
#include "engine/offline.h"
#include "engine/perfgen.h"
#include "engine/session_stats.h"
#include "engine/smf.h"
#include "engine/together.h"

/* A session file as the recorder writes it, 120 BPM, 960 ticks a beat (a tick is 1/1920 s):
 * the performer plays two phrases; the bass and the lead answer at known times. */
static void write_session(const char *path)
{
    smf *s = smf_new(960);
    static const char *const names[] = {"human", "bass", "drums", "comping", "lead"};
    for (int t = 0; t < 5; t++) smf_add_track(s, names[t]);
    smf_add_tempo(s, 0, 0, 500000);
    struct { int track; uint64_t on, off; int note; } n[] = {
        /* phrase 1: beats 4, 5, 6 (the last released at 6.5), then a rest of 3.5 beats */
        {0, 4 * 960, 4 * 960 + 480, 60}, {0, 5 * 960, 5 * 960 + 480, 62}, {0, 6 * 960, 6 * 960 + 480, 64},
        /* the bass a step after beats 5 and 6 */
        {1, 5 * 960 + 240, 5 * 960 + 700, 36}, {1, 6 * 960 + 240, 6 * 960 + 700, 40},
        /* the lead answers a quarter beat (125 ms) after the release at 6.5 */
        {4, 6 * 960 + 720, 7 * 960 + 500, 67},
        /* phrase 2: one note at beat 8.1; the bass at 8.125 was planned (30 ms before beat 8) before
         * it was heard, so the reaction is the bass at 8.5 */
        {0, 8 * 960 + 96, 8 * 960 + 480, 62}, {1, 8 * 960 + 120, 8 * 960 + 400, 38}, {1, 8 * 960 + 480, 9 * 960, 38},
        /* phrase 3: beat 10, released at 10.5, never answered before the end */
        {0, 10 * 960, 10 * 960 + 480, 65},
    };
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        uint8_t on[3] = {0x90, (uint8_t)n[i].note, 100}, off[3] = {0x80, (uint8_t)n[i].note, 0};
        smf_add_midi(s, n[i].track, n[i].on, on, 3);
        smf_add_midi(s, n[i].track, n[i].off, off, 3);
    }
    char err[256];
    CHECKF(smf_write_file(s, path, err, sizeof err) == 0, "%s", err);
    smf_free(s);
}

TEST(together_session_stats_count_notes_reactions_and_answers)
{
    write_session(test_path("session.mid"));
    bm_session_timing t;
    session_timing_defaults(&t);
    bm_session_stats st;
    char err[256];
    double react[16], answer[16];
    int nr = 0, na = 0;
    CHECKF(session_latencies(test_path("session.mid"), &t, &st, react, 16, &nr, answer, 16, &na, err, sizeof err) == 0,
           "%s", err);
    CHECK_EQ_INT(st.notes[BM_PART_HUMAN], 5);
    CHECK_EQ_INT(st.notes[BM_PART_BASS], 4);
    CHECK_EQ_INT(st.notes[BM_PART_LEAD], 1);
    CHECK_EQ_INT(st.notes[BM_PART_DRUMS], 0);
    CHECK_NEAR(st.bpm_start, 120, 1e-6);
    CHECK_NEAR(st.bpm_end, 120, 1e-6);
    /* reactions: beat 4 -> the bass at 5.25 (625 ms); 5 -> 5.25 and 6 -> 6.25 (125 ms each);
     * 8.1 -> 8.5 (200 ms); beat 10: nothing after it */
    CHECK_EQ_INT(nr, 4);
    CHECK_EQ_INT(st.reaction.n, 4);
    CHECK_NEAR(react[0], 625, 0.5);
    CHECK_NEAR(react[1], 125, 0.5);
    CHECK_NEAR(react[2], 125, 0.5);
    CHECK_NEAR(react[3], 200, 0.5);
    CHECK_NEAR(st.reaction.median, 200, 0.5);
    CHECK_NEAR(st.reaction.max, 625, 0.5);
    /* three phrases, the first answered 125 ms after its last release */
    CHECK_EQ_INT(st.phrases, 3);
    CHECK_EQ_INT(st.answered, 1);
    CHECK_EQ_INT(na, 1);
    CHECK_NEAR(answer[0], 125, 0.5);
    /* the summary says so */
    FILE *f = fopen(test_path("summary.txt"), "w+");
    CHECK(f);
    session_stats_print(&st, f, "  ");
    rewind(f);
    char text[2048];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = 0;
    fclose(f);
    CHECK_STR_CONTAINS(text, "the performer: 5 notes; the band: bass 4, drums 0, comping 0, lead 1 notes");
    CHECK_STR_CONTAINS(text, "tempo: 120.0 BPM throughout");
    CHECK_STR_CONTAINS(text, "median 200 ms, 90% 625 ms, max 625 ms over 4 notes");
    CHECK_STR_CONTAINS(text, "1 of 3 phrases answered, median 125 ms");
}

TEST(together_session_stats_refuse_a_file_that_is_not_a_session)
{
    smf *s = smf_new(480);
    smf_add_track(s, "piano");
    uint8_t on[3] = {0x90, 60, 100};
    smf_add_midi(s, 0, 0, on, 3);
    char err[512];
    CHECK(smf_write_file(s, test_path("other.mid"), err, sizeof err) == 0);
    smf_free(s);
    bm_session_timing t;
    session_timing_defaults(&t);
    bm_session_stats st;
    CHECK(session_stats_read(test_path("other.mid"), &t, &st, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "not a bandmate session");
    CHECK(session_stats_read(test_path("missing.mid"), &t, &st, err, sizeof err) == -1);
}

TEST(together_generated_performances_are_what_they_say)
{
    static bm_gen_note n[4096];
    /* phrases: the rests between them are the asked-for length */
    int count = perfgen_phrases(120, 5, 4, 7, n, 4096);
    CHECK(count >= 10 && count <= 60);
    int rests = 0;
    for (int i = 1; i < count; i++) {
        CHECK(n[i].on > n[i - 1].on);
        if (n[i].on - n[i - 1].off >= 4 * 0.5 - 1e-9) rests++;
    }
    CHECK_EQ_INT(rests, 4);
    CHECK_EQ_INT(perfgen_phrases(120, 5, 4, 7, n, 4096), count); /* deterministic */
    /* the key change: C major chords before, E-flat major after */
    uint16_t chord[64];
    count = perfgen_key_change(100, 64, 32, 3, 1, chord, n, 4096);
    CHECK_EQ_INT(count, 64 * 5);
    CHECK_EQ_INT(chord[0], (1 << 0) | (1 << 4) | (1 << 7));    /* C E G */
    CHECK_EQ_INT(chord[32], (1 << 3) | (1 << 7) | (1 << 10));  /* Eb G Bb */
    for (int i = 0; i < count; i++) {
        int b = (int)((n[i].on - 0.5) / 0.6 + 1e-6);
        int key = b >= 32 ? 3 : 0, pc = ((n[i].note - key) % 12 + 12) % 12;
        CHECKF(pc == 0 || pc == 2 || pc == 4 || pc == 5 || pc == 7 || pc == 9 || pc == 11,
               "note %d at beat %d is outside the key", n[i].note, b);
    }
}

TEST_TIMEOUT(together_call_and_response_answers_generated_phrases, 120)
{
    static bm_gen_note n[1024];
    int count = perfgen_phrases(120, 4, 4, 3, n, 1024);
    char err[512];
    CHECKF(perfgen_write_notes(n, count, test_path("phrases.mid"), err, sizeof err) == 0, "%s", err);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "call-and-response");
    cfg.bpm = 120;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("phrases.mid");
    o.out_mid = test_path("phrases-session.mid");
    o.follow_file_tempo = 0;
    bm_render_result res;
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    bm_session_timing t;
    session_timing_defaults(&t);
    bm_session_stats st;
    CHECKF(session_stats_read(o.out_mid, &t, &st, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(st.notes[BM_PART_HUMAN], count);
    CHECK_EQ_INT(st.phrases, 4);
    CHECKF(st.answered >= 3, "%d of 4 phrases answered", st.answered);
    CHECKF(st.answer.median > 0 && st.answer.median < 1000, "answer median %.0f ms", st.answer.median);
    CHECK(st.reaction.n > 0);
}

TEST_TIMEOUT(together_key_change_is_measured_on_the_band_notes, 120)
{
    static bm_gen_note n[1024];
    uint16_t chord[48];
    int count = perfgen_key_change(100, 48, 24, 3, 2, chord, n, 1024);
    char err[512];
    CHECKF(perfgen_write_notes(n, count, test_path("key.mid"), err, sizeof err) == 0, "%s", err);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "accompany");
    cfg.bpm = 100;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("key.mid");
    o.out_mid = test_path("key-session.mid");
    o.follow_file_tempo = 0;
    bm_render_result res;
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    double ratio[48], overall;
    CHECKF(session_chord_ratio(o.out_mid, chord, 48, ratio, &overall, err, sizeof err) == 0, "%s", err);
    int played = 0;
    for (int b = 0; b < 48; b++) {
        CHECK(ratio[b] == -1 || (ratio[b] >= 0 && ratio[b] <= 1));
        played += ratio[b] >= 0;
    }
    CHECKF(played >= 24, "the band played pitched notes on %d of 48 beats", played);
    /* the band follows the performer's chords far better than chance (3 of 12 pitch classes) */
    CHECKF(overall > 0.5, "note-in-chord %.2f", overall);
    /* against chords a tritone away it would be far worse */
    uint16_t wrong[48];
    for (int b = 0; b < 48; b++) wrong[b] = (uint16_t)(((chord[b] << 6) | (chord[b] >> 6)) & 0xfff);
    double off;
    CHECK(session_chord_ratio(o.out_mid, wrong, 48, ratio, &off, err, sizeof err) == 0);
    CHECKF(off < overall - 0.2, "in the right chords %.2f, a tritone away %.2f", overall, off);
}

TEST_TIMEOUT(together_render_prints_the_summary, 120)
{
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "%s/bandmate render --in examples/melody.mid --out-mid %s --mode accompany --seed 1",
             test_bindir(), test_path("melody-session.mid"));
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 100), 0);
    CHECK_STR_CONTAINS(out, "summary (mode accompany):");
    CHECK_STR_CONTAINS(out, "the performer: 63 notes; the band: bass ");
    CHECK_STR_CONTAINS(out, "tempo: 100.0 BPM throughout");
    CHECK_STR_CONTAINS(out, "reaction (performer's note -> the first band note that could hear it): median ");
    snprintf(cmd, sizeof cmd, "%s/bandmate render --in examples/melody.mid --out-mid %s --quiet", test_bindir(),
             test_path("quiet.mid"));
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 100), 0);
    CHECK(strstr(out, "summary") == NULL);
}

TEST(together_eval_lists_its_modes_and_explains_itself)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "%s/bandmate eval together --modes", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    for (int i = 0; together_modes[i]; i++) CHECK_STR_CONTAINS(out, together_modes[i]);
    snprintf(cmd, sizeof cmd, "%s/bandmate eval together --help", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    CHECK_STR_CONTAINS(out, "--quick");
    snprintf(cmd, sizeof cmd, "%s/bandmate eval together --frobnicate", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    snprintf(cmd, sizeof cmd, "%s/bandmate eval together --mode nothing", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "'nothing' is not a mode bandmate knows");
    snprintf(cmd, sizeof cmd, "%s/bandmate bench session --seconds 0", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 2);
    CHECK_STR_CONTAINS(out, "the session lasts 1 s to 4 hours");
    snprintf(cmd, sizeof cmd, "%s/bandmate bench session --help", test_bindir());
    CHECK_EQ_INT(test_run(cmd, out, sizeof out, 10), 0);
    CHECK_STR_CONTAINS(out, "--minutes");
}
