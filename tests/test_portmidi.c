/* test_portmidi.c: hardware MIDI through PortMidi, as far as a machine without ALSA allows: the
 * device list, absent devices, the time mapping, and delivery onto the engine's timeline. */
#include "test.h"
#include "engine/pm_driver.h"

TEST(portmidi_absent_device_is_one_clear_sentence)
{
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    char err[512];
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECK(e);
    bm_pm_device devs[64];
    int n = pm_list_devices(devs, 64);
    CHECK(n >= 0);
    CHECK(pm_driver_open(e, "No Such Keyboard 9000", NULL, 256, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "no MIDI input device matches 'No Such Keyboard 9000'");
    CHECK(pm_driver_open(e, NULL, "No Such Synth", 256, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "no MIDI output device matches 'No Such Synth'");
    CHECK(!strchr(err, '\n'));
    engine_destroy(e);
}

TEST(portmidi_time_mapping_round_trips)
{
    /* anchor: frame 480000 at t = 10 s; 48 kHz */
    int64_t ns0 = 10000000000LL;
    CHECK_EQ_INT(pm_time_to_frame(ns0, 480000, ns0, 48000, 0), 480000);
    CHECK_EQ_INT(pm_time_to_frame(ns0 + 1000000, 480000, ns0, 48000, 0), 480048);
    CHECK_EQ_INT(pm_time_to_frame(ns0 - 2500000, 480000, ns0, 48000, 64), 480000 - 120 + 64);
    for (int64_t f = 400000; f < 600000; f += 777) {
        int64_t t = pm_frame_to_time(f, 480000, ns0, 48000);
        CHECK_EQ_INT(pm_time_to_frame(t, 480000, ns0, 48000, 0), f);
    }
}

TEST(portmidi_input_lands_on_the_engine_timeline)
{
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "silent");
    char err[512];
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECK(e);
    static float l[256], r[256];
    bm_io io = {0};
    io.nframes = 256;
    io.audio_out[0] = l;
    io.audio_out[1] = r;
    io.now_ns = 5000000000LL; /* the period starting at frame 0 began at t = 5 s */
    io.frame = 0;
    engine_process(e, &io);
    /* three key presses 1, 2 and 3 ms after that: with a delay of 256 frames they are due at
     * 48 + 256, 96 + 256, 144 + 256 */
    for (int k = 1; k <= 3; k++) {
        uint8_t msg[3] = {0x90, (uint8_t)(60 + k), 100};
        CHECK(pm_deliver(e, io.now_ns + k * 1000000LL, msg, 3, 256) == 0);
    }
    uint8_t bad[3] = {0xf0, 1, 2};
    CHECK(pm_deliver(e, io.now_ns, bad, 3, 256) == -1); /* sysex is not routed */
    int64_t frames[3] = {0};
    int got = 0;
    for (int64_t start = 256; start < 2048; start += 256) {
        io.frame = start;
        io.now_ns += 256 * 1000000000LL / 48000;
        engine_process(e, &io);
        bm_event ev;
        while (ring_pop(engine_feedback_ring(e), &ev) == 0)
            if (ev.type == BM_EV_NOTE_ON && ev.part == BM_PART_HUMAN && got < 3) frames[got++] = ev.frame;
    }
    CHECK_EQ_INT(got, 3);
    CHECK_EQ_INT(frames[0], 48 + 256);
    CHECK_EQ_INT(frames[1], 96 + 256);
    CHECK_EQ_INT(frames[2], 144 + 256);
    engine_destroy(e);
}
