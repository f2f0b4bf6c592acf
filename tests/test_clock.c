/* test_clock.c: the tempo map, tempo sources and MIDI clock out. */
#include "test.h"
#include "engine/clock.h"

TEST(clock_maps_beats_and_frames_both_ways)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    CHECK_NEAR(clock_beat_at(&c, 24000), 1.0, 1e-12);
    CHECK_EQ_INT(clock_frame_at(&c, 3.0), 72000);
    for (int64_t f = 0; f < 10 * 48000; f += 4801)
        CHECK_EQ_INT(clock_frame_at(&c, clock_beat_at(&c, f)), f);
}

TEST(clock_tempo_change_keeps_beat_position_continuous)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    double before = clock_beat_at(&c, 100000);
    clock_set_tempo(&c, 100000, 90);
    CHECK_NEAR(clock_beat_at(&c, 100000), before, 1e-12);
    /* after the change a beat lasts 60/90 s */
    CHECK_NEAR(clock_beat_at(&c, 100000 + 32000) - before, 1.0, 1e-12);
    clock_set_tempo(&c, 200000, 10000); /* clamped */
    CHECK_NEAR(c.map.bpm, BM_MAX_BPM, 1e-9);
    clock_set_tempo(&c, 200000, 0.0 / 0.0);
    CHECK_NEAR(c.map.bpm, BM_MIN_BPM, 1e-9);
}

TEST(clock_stopped_freezes_beats)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    clock_set_rolling(&c, 48000, 0);
    CHECK_NEAR(clock_beat_at(&c, 96000), 2.0, 1e-12);
    CHECK_EQ_INT(clock_frame_at(&c, 3.0), INT64_MAX);
    clock_set_rolling(&c, 96000, 1);
    CHECK_NEAR(clock_beat_at(&c, 96000 + 24000), 3.0, 1e-12);
}

TEST(clock_tap_tempo_sets_bpm_from_taps)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    CHECK(clock_tap(&c, 0) == 0);
    CHECK(clock_tap(&c, 30000) == 1); /* 0.625 s = 96 BPM */
    CHECK_NEAR(c.map.bpm, 96.0, 1e-9);
    CHECK(clock_tap(&c, 60000) == 1);
    CHECK(clock_tap(&c, 90500) == 1);
    CHECK_NEAR(c.map.bpm, 60.0 * 48000 / (90500 / 3.0), 1e-6);
    /* a tap after a long pause starts over */
    CHECK(clock_tap(&c, 90500 + 5 * 48000) == 0);
}

TEST(clock_follows_midi_clock_with_jitter_and_tempo_change)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    clock_set_source(&c, BM_TEMPO_MIDI_CLOCK);
    /* an external clock at 100 BPM: 1200 frames per tick, with +-64 frames of jitter */
    double period = 48000 * 60.0 / 100 / 24;
    clock_midi_realtime(&c, 0, 0xfa);
    unsigned seed = 1;
    double t = 1000;
    for (int i = 0; i < 24 * 16; i++) {
        seed = seed * 1103515245 + 12345;
        int jitter = (int)((seed >> 16) % 129) - 64;
        clock_midi_realtime(&c, (int64_t)t + jitter, 0xf8);
        t += period;
    }
    CHECK_NEAR(c.map.bpm, 100.0, 1.0);
    /* beat position at the next tick's ideal time: 16 beats after start */
    CHECK_NEAR(clock_beat_at(&c, (int64_t)t), 16.0, 0.05);
    /* the external clock speeds up to 130 BPM: followed within a few beats, no jump */
    period = 48000 * 60.0 / 130 / 24;
    double last_beat = clock_beat_at(&c, (int64_t)t);
    for (int i = 0; i < 24 * 8; i++) {
        clock_midi_realtime(&c, (int64_t)t, 0xf8);
        double b = clock_beat_at(&c, (int64_t)t);
        CHECK(b >= last_beat);         /* time never runs backwards */
        CHECK(b - last_beat < 0.1);    /* nor jumps */
        last_beat = b;
        t += period;
    }
    CHECK_NEAR(c.map.bpm, 130.0, 1.0);
    CHECK_NEAR(clock_beat_at(&c, (int64_t)t), 24.0, 0.05);
    clock_midi_realtime(&c, (int64_t)t, 0xfc);
    CHECK(!c.map.rolling);
}

TEST(clock_follows_jack_transport_and_relocates)
{
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    clock_set_source(&c, BM_TEMPO_JACK);
    bm_transport_info t = {1, 1, 3, 2, 960, 1920, 140, 4, 4};
    clock_follow_transport(&c, 1000, &t); /* bar 3 beat 2 and a half = beat 9.5 */
    CHECK_NEAR(clock_beat_at(&c, 1000), 9.5, 1e-9);
    CHECK_NEAR(c.map.bpm, 140, 1e-9);
    bm_transport_info out;
    clock_fill_transport(&c, 1000 + 48000 * 60 / 140, 1920, &out);
    CHECK_EQ_INT(out.bar, 3);
    CHECK_EQ_INT(out.beat, 3);
    CHECK(out.tick >= 955 && out.tick <= 965);
}

TEST(clock_midi_clock_out_ticks_are_sample_accurate)
{
    bm_clock c;
    clock_init(&c, 48000, 125, 4, 4, 4); /* 960 frames per tick */
    uint32_t off[64];
    int total = 0;
    for (int64_t start = 0; start < 48000; start += 64) {
        int n = clock_midi_ticks_in(&c, start, 64, off, 64);
        for (int i = 0; i < n; i++) {
            int64_t f = start + off[i];
            CHECK_EQ_INT(f % 960, 0);
            total++;
        }
    }
    CHECK_EQ_INT(total, 50); /* 48000 / 960 */
}

TEST(clock_published_copy_matches)
{
    bm_clock c;
    clock_init(&c, 44100, 97, 3, 4, 4);
    clock_set_tempo(&c, 12345, 101);
    clock_publish(&c);
    bm_clock_map m;
    clock_read_published(&c, &m);
    CHECK(!memcmp(&m, &c.map, sizeof m));
}
