/* test_smf.c: the Standard MIDI File reader and writer. */
#include "test.h"
#include "engine/smf.h"

static smf *read_or_fail(const char *path)
{
    smf *s;
    char err[256];
    if (smf_read_file(path, &s, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    return s;
}

TEST(smf_round_trip_keeps_tracks_names_and_events)
{
    smf *s = smf_new(480);
    int t0 = smf_add_track(s, "human");
    int t1 = smf_add_track(s, "bass");
    CHECK(t0 == 0 && t1 == 1);
    CHECK(smf_add_tempo(s, 0, 0, 500000) == 0);
    /* added out of order: the writer sorts by tick, stably */
    uint8_t on[3] = {0x90, 60, 100}, off[3] = {0x80, 60, 0}, cc[3] = {0xb1, 7, 99};
    CHECK(smf_add_midi(s, 0, 960, off, 3) == 0);
    CHECK(smf_add_midi(s, 0, 0, on, 3) == 0);
    CHECK(smf_add_midi(s, 1, 100000, cc, 3) == 0);
    char err[256];
    CHECK(smf_write_file(s, test_path("a.mid"), err, sizeof err) == 0);
    smf_free(s);

    smf *r = read_or_fail(test_path("a.mid"));
    CHECK_EQ_INT(r->ntracks, 2);
    CHECK_EQ_INT(r->division, 480);
    CHECK(!strcmp(r->tracks[0].name, "human"));
    CHECK(!strcmp(r->tracks[1].name, "bass"));
    int notes = 0;
    uint64_t last_tick = 0;
    for (size_t i = 0; i < r->tracks[0].n; i++) {
        smf_event *e = &r->tracks[0].events[i];
        CHECK(e->tick >= last_tick);
        last_tick = e->tick;
        if (e->kind == SMF_MIDI) {
            notes++;
            if (e->bytes[0] == 0x90) CHECK_EQ_INT(e->tick, 0);
            if (e->bytes[0] == 0x80) CHECK_EQ_INT(e->tick, 960);
        }
    }
    CHECK_EQ_INT(notes, 2);
    smf_event *last = &r->tracks[1].events[r->tracks[1].n - 1];
    CHECK_EQ_INT(last->tick, 100000);
    CHECK_EQ_INT(last->bytes[0], 0xb1);
    CHECK_EQ_INT(last->bytes[2], 99);
    smf_free(r);
}

TEST(smf_reads_running_status_sysex_and_tempo_changes)
{
    smf *s = read_or_fail("tests/fuzz/corpus/smf/two-tracks.mid");
    CHECK_EQ_INT(s->ntracks, 2);
    CHECK(!strcmp(s->tracks[1].name, "human"));
    int on = 0, off = 0, sysex = 0;
    for (size_t i = 0; i < s->tracks[1].n; i++) {
        smf_event *e = &s->tracks[1].events[i];
        if (e->kind == SMF_SYSEX) sysex++;
        if (e->kind != SMF_MIDI) continue;
        if ((e->bytes[0] & 0xf0) == 0x90 && e->bytes[2]) on++;
        if ((e->bytes[0] & 0xf0) == 0x80 || ((e->bytes[0] & 0xf0) == 0x90 && !e->bytes[2])) off++;
    }
    CHECK_EQ_INT(on, 3);
    CHECK_EQ_INT(off, 3);
    CHECK_EQ_INT(sysex, 1);
    smf_tempo_map map;
    CHECK(smf_tempo_map_build(s, &map) == 0);
    /* 0x07a120 = 500000 us per quarter until tick 960, then 0x051615 = 333333 us */
    CHECK_NEAR(smf_tempo_map_seconds(&map, 480), 0.5, 1e-9);
    CHECK_NEAR(smf_tempo_map_seconds(&map, 960), 1.0, 1e-9);
    CHECK_NEAR(smf_tempo_map_seconds(&map, 1440), 1.0 + 0.333333, 1e-6);
    CHECK_EQ_INT(smf_tempo_map_ticks(&map, 1.0 + 0.333333), 1440);
    CHECK_EQ_INT(smf_tempo_map_ticks(&map, 0.25), 240);
    smf_tempo_map_free(&map);
    smf_free(s);
}

static void expect_refused(const uint8_t *data, size_t len, const char *why)
{
    smf *s = (smf *)1;
    char err[256] = "";
    CHECK(smf_read_mem(data, len, &s, err, sizeof err) == -1);
    CHECK(s == NULL);
    CHECK_STR_CONTAINS(err, why);
}

TEST(smf_refuses_damaged_files_with_a_reason)
{
    FILE *f = fopen("tests/fuzz/corpus/smf/two-tracks.mid", "rb");
    CHECK(f);
    uint8_t good[256];
    size_t n = fread(good, 1, sizeof good, f);
    fclose(f);
    expect_refused((const uint8_t *)"hello, I am a text file", 23, "not a Standard MIDI File");
    expect_refused(good, 10, "not a Standard MIDI File");
    expect_refused(good, 30, "truncated");
    expect_refused(good, n - 3, "truncated");
    uint8_t bad[256];
    memcpy(bad, good, n);
    bad[11] = 9; /* announces 9 tracks */
    expect_refused(bad, n, "truncated");
    memcpy(bad, good, n);
    bad[9] = 7; /* format 7 */
    expect_refused(bad, n, "format");
    /* a data byte with no running status at the start of track 2: find "human" and corrupt the
     * program change status after it */
    memcpy(bad, good, n);
    for (size_t i = 0; i + 5 < n; i++)
        if (!memcmp(bad + i, "human", 5)) {
            bad[i + 6] = 0x00; /* 0xC0 -> data byte */
            break;
        }
    expect_refused(bad, n, "no status");
}

TEST(smf_missing_file_is_named_in_the_error)
{
    smf *s;
    char err[256];
    CHECK(smf_read_file("/nonexistent/song.mid", &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "/nonexistent/song.mid");
    CHECK_STR_CONTAINS(err, "No such file");
    CHECK(smf_read_file("/tmp", &s, err, sizeof err) == -1);
}

TEST(smf_smpte_division_becomes_ticks_per_quarter)
{
    smf *s = read_or_fail("tests/fuzz/corpus/smf/smpte.mid");
    /* 25 fps x 40 ticks = 1000 ticks/s = 500 ticks per quarter at 120 BPM */
    CHECK_EQ_INT(s->division, 500);
    smf_tempo_map map;
    CHECK(smf_tempo_map_build(s, &map) == 0);
    CHECK_NEAR(smf_tempo_map_seconds(&map, 1000), 1.0, 1e-9);
    smf_tempo_map_free(&map);
    smf_free(s);
}
