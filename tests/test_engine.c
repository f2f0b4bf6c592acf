/* test_engine.c: the process function's commands and driver callbacks, driven directly. */
#include "test.h"
#include "engine/engine.h"

static float L[512], R[512];

static void run_periods(bm_engine *e, int64_t *frame, int n, uint32_t nframes)
{
    for (int i = 0; i < n; i++) {
        bm_io io = {0};
        io.frame = *frame;
        io.nframes = nframes;
        io.audio_out[0] = L;
        io.audio_out[1] = R;
        engine_process(e, &io);
        engine_musician_poll(e, *frame + nframes);
        *frame += nframes;
    }
}

static bm_engine *make(const char *mode)
{
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "%s", mode);
    char err[256];
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECKF(e, "%s", err);
    return e;
}

TEST(engine_follows_a_sample_rate_change_without_a_jump)
{
    bm_engine *e = make("silent");
    int64_t frame = 0;
    run_periods(e, &frame, 10, 256);
    double before = clock_beat_at(engine_clock(e), frame);
    engine_set_sample_rate(e, 44100);
    run_periods(e, &frame, 1, 256);
    bm_clock_map m;
    clock_read_published(engine_clock(e), &m);
    CHECK_NEAR(m.sample_rate, 44100, 0);
    CHECK_NEAR(m.beats_per_frame, 2.0 / 44100, 1e-12);
    /* the first period after the change started where the old rate left off */
    CHECK_NEAR(clock_map_beat_at(&m, frame - 256), before, 1e-9);
    engine_destroy(e);
}

TEST(engine_rejects_bad_configuration_with_a_sentence)
{
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.sample_rate = 0;
    char err[256];
    CHECK(engine_create(&cfg, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "sample rate");
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "polka");
    CHECK(engine_create(&cfg, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "'polka' is not a mode");
}

static int midi_count;
static int count_midi(void *ctx, uint32_t off, const uint8_t *b, size_t n)
{
    (void)ctx; (void)off; (void)n;
    if ((b[0] & 0xf0) == 0x90) midi_count++;
    return 0;
}

TEST(engine_panic_clears_what_the_band_planned)
{
    bm_engine *e = make("echo");
    int64_t frame = 0;
    run_periods(e, &frame, 4, 256);
    /* the performer plays a note: the echo plans two notes, half a beat and a beat later */
    bm_midi_in in = {10, 3, {0x90, 60, 100}};
    bm_io io = {0};
    io.frame = frame;
    io.nframes = 256;
    io.audio_out[0] = L;
    io.audio_out[1] = R;
    io.midi_in = &in;
    io.n_midi_in = 1;
    io.midi_write = count_midi;
    engine_process(e, &io);
    frame += 256;
    engine_musician_poll(e, frame);
    CHECK(engine_panic(e) == 0);
    midi_count = 0;
    for (int i = 0; i < 200; i++) {
        io.frame = frame;
        io.n_midi_in = 0;
        engine_process(e, &io);
        engine_musician_poll(e, frame + 256);
        frame += 256;
    }
    CHECK_EQ_INT(midi_count, 0);
    engine_destroy(e);
}

TEST(engine_swaps_an_instrument_and_hands_the_old_one_back)
{
    bm_engine *e = make("silent");
    int64_t frame = 0;
    for (int k = 0; k < 5; k++) {
        bm_command c = {BM_CMD_INSTRUMENT, BM_PART_LEAD, 0, synth_classic_create(k, 8, 48000)};
        CHECK(engine_command(e, &c) == 0);
        run_periods(e, &frame, 2, 256);
        engine_collect_garbage(e); /* frees the replaced instruments (ASan checks the frees) */
    }
    run_periods(e, &frame, 400, 256);
    engine_collect_garbage(e);
    engine_destroy(e);
}

TEST(engine_muted_part_is_silent_and_tempo_command_applies)
{
    bm_engine *e = make("echo");
    bm_command mute = {BM_CMD_PART_AUDIO, BM_PART_LEAD, 0, NULL};
    bm_command tempo = {BM_CMD_TEMPO, 0, 90, NULL};
    engine_command(e, &mute);
    engine_command(e, &tempo);
    int64_t frame = 0;
    bm_midi_in in = {0, 3, {0x90, 64, 120}};
    bm_io io = {0};
    io.frame = 0;
    io.nframes = 256;
    io.audio_out[0] = L;
    io.audio_out[1] = R;
    io.midi_in = &in;
    io.n_midi_in = 1;
    engine_process(e, &io);
    frame = 256;
    float peak = 0;
    for (int i = 0; i < 200; i++) {
        run_periods(e, &frame, 1, 256);
        for (int k = 0; k < 256; k++) peak = fmaxf(peak, fabsf(L[k]));
    }
    CHECK(peak == 0);
    bm_clock_map m;
    clock_read_published(engine_clock(e), &m);
    CHECK_NEAR(m.bpm, 90, 1e-9);
    CHECK(atomic_load(&engine_stats(e)->band_notes) >= 2); /* the band played, unheard */
    engine_destroy(e);
}
