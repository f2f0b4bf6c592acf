/* test_musician.c: the musician's data pipeline and representation: the corpus reader (parts,
 * skips with reasons, damaged files), charts, the grid and swing map, tokens and their round trip
 * through note events, the harmony estimate, voicing, the performer memory and the PPM baseline. */
#include "test.h"
#include "test_musician.h"

#include "engine/musician/mus_band.h"
#include "engine/musician/mus_batch.h"
#include "engine/musician/mus_chart.h"
#include "engine/musician/mus_chords.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_harmony.h"
#include "engine/musician/mus_listen.h"
#include "engine/musician/mus_memory.h"
#include "engine/musician/mus_ppm.h"
#include "engine/musician/mus_sample.h"
#include "engine/musician/mus_voicing.h"
#include "engine/smf.h"

#include <sys/stat.h>

static char report_buf[16384];

static FILE *report_file(void)
{
    memset(report_buf, 0, sizeof report_buf);
    return fmemopen(report_buf, sizeof report_buf - 1, "w");
}

TEST(musician_reader_finds_parts_by_name_channel_program_and_register)
{
    static const tm_note low[] = {{0, 4, 36, 90}, {4, 4, 38, 90}, {8, 4, 40, 90}, {12, 4, 41, 90}};
    static const tm_note kit[] = {{0, 1, 36, 110}, {4, 1, 38, 60}, {8, 1, 42, 80}, {12, 1, 49, 120}};
    static const tm_note chords[] = {{0, 8, 60, 70}, {0, 8, 64, 70}, {0, 8, 67, 70}, {8, 8, 62, 90}, {8, 8, 65, 90}, {8, 8, 69, 90}};
    static const tm_note tune[] = {{0, 2, 72, 90}, {2, 2, 74, 90}, {4, 4, 76, 90}, {8, 8, 79, 90}};
    /* no names: channel 10 is drums, program 33 is a bass, a polyphonic track is comping, the
     * rest (a trumpet) is the lead */
    tm_track tr[4] = {{NULL, 4, 33, low, 4}, {NULL, 9, -1, kit, 4}, {NULL, 1, -1, chords, 6}, {NULL, 2, 56, tune, 4}};
    const char *path = test_path("anon.mid");
    tm_write_song(path, tr, 4, 4);
    mus_song s;
    char why[512];
    CHECKF(mus_song_read(path, NULL, &s, NULL, why, sizeof why) == 0, "%s", why);
    CHECK_EQ_INT(s.present, 0xf);
    CHECK_EQ_INT(s.nsteps, 16);
    CHECK_EQ_INT(s.beats_per_bar, 4);
    CHECK_EQ_INT(s.frame[0].bass, mus_mono_token(36, MUS_BASS_LOW));
    CHECK_EQ_INT(s.frame[1].bass, MUS_TOK_HOLD);
    CHECK_EQ_INT(s.frame[4].bass, mus_mono_token(38, MUS_BASS_LOW));
    CHECK_EQ_INT(s.frame[0].lead, mus_mono_token(72, MUS_LEAD_LOW));
    CHECK_EQ_INT(s.frame[0].comp, MUS_COMP_SOFT);
    CHECK_EQ_INT(s.frame[8].comp, MUS_COMP_LOUD);
    CHECK_EQ_INT(s.frame[3].comp, MUS_COMP_HOLD);
    CHECK_EQ_INT(mus_chord_root(s.frame[0].chord), 0);                 /* C major */
    CHECK_EQ_INT(mus_chord_pcs(s.frame[0].chord), 0x091);
    CHECK_EQ_INT(mus_chord_pcs(s.frame[8].chord), mus_pcs_transpose(0x089, 2)); /* D minor */
    CHECK(s.frame[0].drums >> (mus_drum_piece(36) * MUS_NVEL + 2) & 1);  /* a loud kick */
    CHECK(s.frame[4].drums >> (mus_drum_piece(38) * MUS_NVEL + 0) & 1);  /* a soft snare */
    CHECK_EQ_INT(s.hsum[0 * MUS_NPARTS + MUS_COMP].onset_pcs, 0x091);
    CHECK_EQ_INT(s.hsum[2 * MUS_NPARTS + MUS_COMP].onset_pcs, 0);
    CHECK_EQ_INT(s.hsum[2 * MUS_NPARTS + MUS_COMP].sound_pcs, 0x091);
    mus_song_free(&s);

    /* names win over programs: a piano program on a track called "Bass" is the bass, until its
     * register says it is a riff in the middle (comping) */
    static const tm_note mid[] = {{0, 4, 60, 90}, {4, 4, 62, 90}, {8, 4, 64, 90}};
    tm_track named[2] = {{"Bass", 0, 0, low, 4}, {"Bass-Riff", 1, 0, mid, 3}};
    tm_write_song(path, named, 2, 4);
    CHECKF(mus_song_read(path, NULL, &s, NULL, why, sizeof why) == 0, "%s", why);
    CHECK_EQ_INT(s.present, (1 << MUS_BASS) | (1 << MUS_COMP));
    mus_song_free(&s);
}

TEST(musician_reader_reports_what_it_skips_and_why)
{
    /* a percussion pattern on a pitched channel (notes shorter than a 64th) is skipped, and said */
    static const tm_note clicks[] = {{0, 0, 60, 90}, {1, 0, 60, 90}, {2, 0, 60, 90}};
    static const tm_note low[] = {{0, 4, 36, 90}, {4, 4, 38, 90}};
    tm_track tr[2] = {{"Chord-Clicks", 2, 0, clicks, 3}, {"Bass", 1, 33, low, 2}};
    const char *path = test_path("skips.mid");
    tm_write_song(path, tr, 2, 4);
    mus_song s;
    char why[512];
    FILE *rep = report_file();
    CHECKF(mus_song_read(path, NULL, &s, rep, why, sizeof why) == 0, "%s", why);
    fclose(rep);
    CHECK_STR_CONTAINS(report_buf, "'Chord-Clicks'");
    CHECK_STR_CONTAINS(report_buf, "percussion pattern on a pitched channel");
    CHECK_EQ_INT(s.tracks_skipped, 1);
    CHECK_EQ_INT(s.present, 1 << MUS_BASS);
    mus_song_free(&s);

    /* a file with nothing a band plays is refused, with the reason */
    tm_track only[1] = {{"Chord-Clicks", 2, 0, clicks, 3}};
    tm_write_song(path, only, 1, 4);
    CHECK(mus_song_read(path, NULL, &s, NULL, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(why, "no track bandmate can read as bass, drums, comping or lead");

    /* a folder: the damaged file is refused in one sentence, the good one read, both counted */
    const char *dir = test_path("folder");
    mkdir(dir, 0755);
    char good[1024], bad[1024];
    snprintf(good, sizeof good, "%s/good.mid", dir);
    snprintf(bad, sizeof bad, "%s/bad.mid", dir);
    tm_write_song(good, tr, 2, 4);
    FILE *f = fopen(bad, "wb");
    static const char damaged[] = "MThd\0\0\0\6\0\1\0\2\0\x60MTrk\0\0\1\0\0\x90";
    fwrite(damaged, 1, sizeof damaged - 1, f);
    fclose(f);
    mus_corpus c;
    rep = report_file();
    CHECKF(mus_corpus_load(dir, NULL, &c, rep, why, sizeof why) == 0, "%s", why);
    fclose(rep);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.files_seen, 2);
    CHECK_EQ_INT(c.files_skipped, 1);
    CHECK_STR_CONTAINS(report_buf, "skipped");
    CHECK_STR_CONTAINS(report_buf, "bad.mid");
    CHECK_STR_CONTAINS(report_buf, "1 damaged or unreadable");
    mus_corpus_free(&c);

    /* an empty folder, or a missing one: one sentence */
    const char *empty = test_path("empty");
    mkdir(empty, 0755);
    CHECK(mus_corpus_load(empty, NULL, &c, NULL, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(why, "holds no MIDI file bandmate can learn from");
    CHECK(mus_corpus_load(test_path("nowhere"), NULL, &c, NULL, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(why, "does not exist or cannot be read");
    CHECK(!strchr(why, '\n'));
}

TEST(musician_charts_are_read_strictly)
{
    const char *path = test_path("a.chart");
    int roots[4] = {0, 5, 7, 0};
    tm_write_chart(path, "a", "valid", "blues", 4, roots);
    mus_chart c;
    char err[512];
    CHECKF(mus_chart_read(path, &c, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(c.beats_per_bar, 4);
    CHECK_EQ_INT(c.nchords, 4);
    CHECK_EQ_INT(c.chords[1].root, 5);
    CHECK_EQ_INT(c.chords[1].pcs, (1 << 0) | (1 << 5) | (1 << 9));
    CHECK(!strcmp(c.split, "valid") && !strcmp(c.genre, "blues"));
    CHECK_EQ_INT(mus_chart_chord_at(&c, 5.5), 1);
    mus_chart_free(&c);
    static const char *const bad[] = {
        "# not a chart\n",
        "# bandmate chart 1\nmeter 4 4/4\nbars 1\nbeats 4\nchord 2 0 M 0 0,4,7 C\nend 4\n",
        "# bandmate chart 1\nmeter 4 4/4\nbars 2\nbeats 4\nchord 0 0 M 0 0,4,7 C\nend 4\n",
        "# bandmate chart 1\nmeter 4 4/4\nbars 1\nbeats 4\nchord 0 0 M 0 0,4,7 C\nchord -1 0 M 0 0,4,7 C\nend 4\n",
        "# bandmate chart 1\nmeter 4 4/4\nbars 1\nbeats 4\nchord 0 0 M 0 0,4,99 C\nend 4\n",
    };
    static const char *const why[] = {"does not start", "no chord at beat 0", "disagree", "backwards",
                                      "cannot read"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i], f);
        fclose(f);
        CHECKF(mus_chart_read(path, &c, err, sizeof err) == -1, "bad chart %zu was accepted", i);
        CHECK_STR_CONTAINS(err, why[i]);
    }
}

TEST(musician_swing_map_round_trips_the_grid)
{
    for (int k = 0; k < 64; k++) {
        double b = k / 4.0;
        CHECK_NEAR(mus_unswing(mus_swing(b, 1.0)), b, 1e-9);
        CHECK_NEAR(mus_swing(b, 0.0), b, 1e-12);
    }
    CHECK_NEAR(mus_swing(0.5, 1.0), 2.0 / 3.0, 1e-9);   /* swung eighths: off-beats at 2/3 */
    CHECK_NEAR(mus_swing(1.25, 1.0), 1 + 1.0 / 3.0, 1e-9); /* triplets on steps 0, 1, 2 */
    CHECK_NEAR(mus_unswing(2.0 / 3.0), 0.5, 1e-9);
    /* a swung song is read on the straight grid */
    static const tm_note swung[] = {{0, 2, 36, 90}};
    tm_note drums[32];
    int n = 0;
    for (int beat = 0; beat < 8; beat++) { /* ride on the beat and on the swung off-beat (2/3) */
        drums[n++] = (tm_note){beat * 4, 1, 51, 90};
    }
    tm_track tr[2] = {{"Bass", 1, 33, swung, 1}, {"Drum", 9, -1, drums, n}};
    const char *path = test_path("swing.mid");
    /* write the off-beats at 2/3 of the beat by hand (the helper places notes on 16ths) */
    smf *s = smf_new(96);
    int t = smf_add_track(s, "Drum");
    for (int beat = 0; beat < 8; beat++)
        for (int half = 0; half < 2; half++) {
            uint64_t tick = (uint64_t)beat * 96 + (half ? 64 : 0);
            uint8_t on[3] = {0x99, 51, 90}, off[3] = {0x89, 51, 0};
            smf_add_midi(s, t, tick, on, 3);
            smf_add_midi(s, t, tick + 10, off, 3);
        }
    char err[256];
    CHECK(smf_write_file(s, path, err, sizeof err) == 0);
    smf_free(s);
    (void)tr;
    mus_song song;
    CHECKF(mus_song_read(path, NULL, &song, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(song.swing, 1);
    for (int st = 0; st < 32; st++) {
        int hit = song.frame[st].drums != 0;
        CHECKF(hit == (st % 4 == 0 || st % 4 == 2), "step %d: swung off-beats belong on the eighth", st);
    }
    mus_song_free(&song);
}

/* The tokens of a step, through note events and a MIDI file, back to the same tokens. */
TEST(musician_representation_round_trips_through_midi)
{
    mus_vocab_init();
    char err[512];
    mus_model *m = tm_random_model(test_path("r.bmnn"), 1, 16);
    mus_band *b = mus_band_create(m, err, sizeof err);
    CHECKF(b, "%s", err);
    mus_band_ctl ctl = mus_band_ctl_defaults();
    uint8_t channel[BM_NUM_PARTS] = {0, 1, 9, 2, 3};
    enum { N = 96 };
    mus_frame frames[N];
    uint64_t rng = 5;
    static const int qualities[] = {0, 1, 7, 8, 9}; /* triads: voiced whole */
    for (int t = 0; t < N; t++) {
        mus_frame f = mus_frame_rest();
        int r = (int)(mus_rand(&rng) * 4);
        f.bass = (uint8_t)(r == 0 ? MUS_TOK_REST : r == 1 && t && frames[t - 1].bass != MUS_TOK_REST ? MUS_TOK_HOLD
                                                                                                      : 2 + (int)(mus_rand(&rng) * 40));
        r = (int)(mus_rand(&rng) * 4);
        f.lead = (uint8_t)(r == 0 ? MUS_TOK_REST : r == 1 && t && frames[t - 1].lead != MUS_TOK_REST ? MUS_TOK_HOLD
                                                                                                      : 2 + (int)(mus_rand(&rng) * 48));
        r = (int)(mus_rand(&rng) * 4);
        f.comp = (uint8_t)(r == 1 && t && frames[t - 1].comp == MUS_COMP_REST ? MUS_COMP_REST : r);
        if (f.comp >= MUS_COMP_SOFT)
            f.chord = (uint16_t)((int)(mus_rand(&rng) * 12) * MUS_NQUALITY + qualities[(int)(mus_rand(&rng) * 5)]);
        for (int p = 0; p < MUS_NPIECES; p++)
            if (mus_rand(&rng) < 0.2) f.drums |= 1ull << (p * MUS_NVEL + (int)(mus_rand(&rng) * MUS_NVEL));
        frames[t] = f;
    }
    /* perform into a MIDI file with one track per part */
    smf *s = smf_new(96);
    static const char *const names[BM_NUM_PARTS] = {"human", "bass", "drums", "comping", "lead"};
    for (int p = 0; p < BM_NUM_PARTS; p++) smf_add_track(s, names[p]);
    bm_event ev[128];
    for (int t = 0; t <= N; t++) {
        int n = t < N ? mus_band_perform(b, &ctl, &frames[t], t / 4.0, channel, ev, 128)
                      : mus_band_release(b, t / 4.0, channel, ev, 128);
        for (int i = 0; i < n; i++) {
            uint8_t msg[3];
            int len = bm_event_to_midi(&ev[i], msg);
            CHECK(len == 3);
            smf_add_midi(s, ev[i].part, (uint64_t)llround(ev[i].beat * 96), msg, 3);
        }
    }
    const char *path = test_path("round.mid");
    CHECK(smf_write_file(s, path, err, sizeof err) == 0);
    smf_free(s);
    mus_song song;
    CHECKF(mus_song_read(path, NULL, &song, NULL, err, sizeof err) == 0, "%s", err);
    for (int t = 0; t < N; t++) {
        const mus_frame *a = &frames[t], *r = &song.frame[t];
        CHECKF(r->bass == a->bass, "step %d: bass %d came back as %d", t, a->bass, r->bass);
        CHECKF(r->lead == a->lead, "step %d: lead %d came back as %d", t, a->lead, r->lead);
        CHECKF(r->drums == a->drums, "step %d: drums differ", t);
        CHECKF(r->comp == a->comp, "step %d: comping %d came back as %d", t, a->comp, r->comp);
        if (a->comp >= MUS_COMP_SOFT) /* (an inversion may name an augmented or sus chord otherwise) */
            CHECKF(mus_chord_pcs(r->chord) == mus_chord_pcs(a->chord), "step %d: chord %d came back as %d", t,
                   a->chord, r->chord);
    }
    mus_song_free(&song);
    mus_band_free(b);
    mus_model_free(m);
}

TEST(musician_listener_reads_a_performer_like_the_corpus_reader)
{
    mus_vocab_init();
    mus_listen l;
    mus_listen_reset(&l);
    mus_hsum h;
    mus_frame f;
    mus_listen_note(&l, 1, 60, 100);
    mus_listen_note(&l, 1, 64, 100);
    mus_listen_note(&l, 1, 67, 100);
    mus_listen_close(&l, MUS_ROLE_COMP, &h, &f);
    CHECK_EQ_INT(f.comp, MUS_COMP_LOUD);
    CHECK_EQ_INT(mus_chord_pcs(f.chord), 0x091);
    CHECK_EQ_INT(h.onset_pcs, 0x091);
    CHECK_EQ_INT(h.lo, 60);
    mus_listen_close(&l, MUS_ROLE_COMP, &h, &f); /* still held */
    CHECK_EQ_INT(f.comp, MUS_COMP_HOLD);
    CHECK_EQ_INT(h.sound_pcs, 0x091);
    CHECK_EQ_INT(h.n_on, 0);
    mus_listen_note(&l, 0, 60, 0);
    mus_listen_note(&l, 0, 64, 0);
    mus_listen_note(&l, 0, 67, 0);
    mus_listen_note(&l, 1, 43, 80); /* a bass note: the lowest onset */
    mus_listen_note(&l, 1, 50, 80);
    mus_listen_close(&l, MUS_ROLE_BASS, &h, &f);
    CHECK_EQ_INT(f.bass, mus_mono_token(43, MUS_BASS_LOW));
    mus_listen_note(&l, 0, 43, 0);
    mus_listen_note(&l, 0, 50, 0);
    mus_listen_close(&l, MUS_ROLE_BASS, &h, &f);
    CHECK_EQ_INT(f.bass, MUS_TOK_REST);
    /* the role guess: chords make a comping performer */
    for (int i = 0; i < 12; i++) {
        mus_listen_note(&l, 1, 60, 90);
        mus_listen_note(&l, 1, 64, 90);
        mus_listen_note(&l, 1, 67, 90);
        mus_listen_close(&l, MUS_ROLE_NONE, &h, &f);
        mus_listen_note(&l, 0, 60, 0);
        mus_listen_note(&l, 0, 64, 0);
        mus_listen_note(&l, 0, 67, 0);
    }
    CHECK_EQ_INT(mus_listen_guess_role(&l), MUS_ROLE_COMP);
}

TEST(musician_harmony_estimate_follows_the_performer)
{
    mus_vocab_init();
    mus_harmony h;
    mus_harmony_reset(&h);
    mus_hsum s;
    memset(&s, 0, sizeof s);
    /* an A minor arpeggio, a bar of it */
    int notes[4] = {57, 60, 64, 69};
    for (int t = 0; t < 16; t++) {
        memset(&s, 0, sizeof s);
        if (t % 2 == 0) {
            int p = notes[(t / 2) % 4];
            s.onset_pcs = s.sound_pcs = (uint16_t)(1u << (p % 12));
            s.lo = s.hi = (uint8_t)(t % 8 == 0 ? 45 : p);
            s.n_on = 1;
        }
        mus_harmony_update(&h, &s);
    }
    CHECK_EQ_INT(mus_chord_root(h.chord), 9);
    CHECK_EQ_INT(mus_chord_pcs(h.chord), mus_pcs_transpose(0x089, 9));
    float x[MUS_HARMONY_FEATURES];
    mus_harmony_features(&h, x);
    CHECK_NEAR(x[9], 1.0, 1e-6); /* A is the strongest pitch class */
    CHECK(x[36 + 9] == 1 && x[36 + 0] == 1 && x[36 + 4] == 1 && x[36 + 7] == 0);
    /* the key: A minor or C major (relatives); then the performer moves to F# major */
    CHECK(h.key_tonic == 9 || h.key_tonic == 0);
    int fs[3] = {66, 70, 73};
    for (int t = 0; t < 64; t++) {
        memset(&s, 0, sizeof s);
        int p = fs[t % 3];
        s.onset_pcs = s.sound_pcs = (uint16_t)(1u << (p % 12));
        s.lo = s.hi = (uint8_t)p;
        s.n_on = 1;
        mus_harmony_update(&h, &s);
    }
    CHECK_EQ_INT(mus_chord_root(h.chord), 6);
}

TEST(musician_voicing_moves_little_and_keeps_chord_tones)
{
    mus_vocab_init();
    mus_voicing v;
    mus_voicing_reset(&v, 62);
    uint8_t a[MUS_VOICES_MAX], b[MUS_VOICES_MAX];
    int c_maj7 = 0 * MUS_NQUALITY + 3, f_maj7 = 5 * MUS_NQUALITY + 3, g7 = 7 * MUS_NQUALITY + 2;
    int na = mus_voice_chord(&v, c_maj7, -1, a);
    CHECK_EQ_INT(na, 4);
    for (int i = 0; i < na; i++) CHECK(mus_chord_pcs(c_maj7) >> (a[i] % 12) & 1);
    int nb = mus_voice_chord(&v, f_maj7, -1, b);
    CHECK_EQ_INT(nb, 4);
    int moved = 0;
    for (int i = 0; i < nb; i++) {
        CHECK(mus_chord_pcs(f_maj7) >> (b[i] % 12) & 1);
        int best = 127;
        for (int j = 0; j < na; j++) best = abs(b[i] - a[j]) < best ? abs(b[i] - a[j]) : best;
        moved += best;
    }
    CHECKF(moved <= 6, "C maj7 to F maj7 moved the voices %d semitones in all", moved);
    /* the bass's note is left out of a four-note chord */
    int n = mus_voice_chord(&v, g7, 7, b);
    for (int i = 0; i < n; i++) CHECK(b[i] % 12 != 7);
    for (int i = 0; i < n; i++) CHECK(b[i] >= 48 && b[i] <= 84);
}

TEST(musician_memory_continues_the_performers_phrase)
{
    mus_memory m;
    mus_memory_reset(&m);
    float d[128];
    CHECK_EQ_INT(mus_memory_predict(&m, NULL, 0, d), -1);
    static const uint8_t phrase[] = {60, 62, 64, 65, 67, 65, 64, 62};
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < sizeof phrase; i++) mus_memory_add(&m, phrase[i]);
    uint8_t ctx[3] = {62, 64, 65}; /* after 62 64 65 the performer always played 67 */
    CHECK_EQ_INT(mus_memory_predict(&m, ctx, 3, d), 3);
    CHECK_NEAR(d[67], 1.0, 1e-6);
    uint8_t ctx2[2] = {61, 65}; /* an unheard context falls back to a shorter one */
    CHECK_EQ_INT(mus_memory_predict(&m, ctx2, 2, d), 1);
    CHECK(d[67] > 0.4f && d[64] > 0.4f);
    uint8_t ctx3[1] = {99}; /* nothing matches: the performer's pitch frequencies */
    CHECK_EQ_INT(mus_memory_predict(&m, ctx3, 1, d), 0);
    CHECK_NEAR(d[65], 2.0 / 8.0, 1e-6);
}

TEST(musician_ppm_learns_a_repeating_part)
{
    mus_vocab_init();
    const char *dir = tm_tiny_corpus(test_path("c"), 5);
    mus_corpus c;
    char err[512];
    CHECKF(mus_corpus_load(dir, NULL, &c, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(c.n, 5);
    mus_ppm *p = mus_ppm_create(MUS_PPM_BASS, 8);
    CHECK(p);
    for (int i = 0; i < c.n; i++) CHECK(mus_ppm_train(p, &c.songs[i]) == 0);
    double nll[MUS_PPM_MAX_ORDER + 1] = {0};
    long steps = 0;
    mus_ppm_score(p, &c.songs[0], nll, &steps);
    CHECK_EQ_INT(steps, c.songs[0].nsteps);
    /* longer contexts know more: the bass of a seen song costs little at order 8 */
    CHECKF(nll[8] / steps < 0.2 && nll[8] < 0.5 * nll[0], "order 8: %.3f nats per step, order 0: %.3f",
           nll[8] / steps, nll[0] / steps);
    mus_ppm_free(p);
    mus_corpus_free(&c);
}

/* The chord tracker hears a performer's part step by step, as the band does live. Returns the share
 * of steps (after the first beat of each chart chord, or on it) whose predicted chord is the chart's. */
static double track_accuracy(const mus_chords_model *cm, const mus_song *s, int role, int first_beat)
{
    mus_chords tr;
    mus_chords_reset(&tr);
    static const mus_hsum silence;
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, since = 0;
    long n = 0, right = 0;
    for (int t = 0; t < s->nsteps; t++) {
        const mus_hsum *heard = t ? &s->hsum[(size_t)(t - 1) * MUS_NPARTS + role - 1] : &silence;
        mus_chords_hear(&tr, cm, heard, role, s->beats_per_bar, ((t - 1) % bar + bar) % bar, 0, 0);
        if (t && (s->chart_root[t] != s->chart_root[t - 1] || s->chart_pcs[t] != s->chart_pcs[t - 1])) since = t;
        if (t < 2 * bar || (t - since < MUS_STEPS_PER_BEAT) != first_beat) continue; /* after two bars heard */
        n++;
        right += mus_chords_best(&tr, NULL) == mus_chords_state_of(s->chart_root[t], s->chart_pcs[t]);
    }
    return n ? (double)right / (double)n : 0;
}

TEST(musician_chord_tracker_learns_progressions_and_predicts_the_next_chord)
{
    mus_vocab_init();
    const char *dir = tm_tiny_corpus(test_path("corpus"), 10);
    mus_corpus c;
    char why[512];
    CHECKF(mus_corpus_load(dir, NULL, &c, NULL, why, sizeof why) == 0, "%s", why);
    mus_chords_counts *counts = calloc(1, sizeof *counts);
    mus_chords_model *cm = malloc(sizeof *cm);
    CHECK(counts && cm);
    const mus_song *test_song = NULL;
    for (int i = 0; i < c.n; i++) {
        if (c.songs[i].split == MUS_SPLIT_TRAIN) mus_chords_count_song(counts, &c.songs[i]);
        else if (c.songs[i].split == MUS_SPLIT_TEST) test_song = &c.songs[i];
    }
    CHECK(test_song && test_song->chart_root);
    mus_chords_model_build(cm, counts, NULL);
    /* I - V a bar each: heard from the comping part, the chord is known once it sounds, and the
     * change at the bar line is foreseen (the progression repeats, changes fall on bar lines) */
    double after = track_accuracy(cm, test_song, MUS_ROLE_COMP, 0), first = track_accuracy(cm, test_song, MUS_ROLE_COMP, 1);
    fprintf(stderr, "tracker from the comping: %.1f%% after the first beat, %.1f%% on it\n", 100 * after, 100 * first);
    CHECK(after > 0.95);
    CHECK(first > 0.6);
    /* from the bass line (root and fifth) the chord is still found */
    CHECK(track_accuracy(cm, test_song, MUS_ROLE_BASS, 0) > 0.8);
    /* the counts survive their text form (a model file's metadata), and damage is caught */
    char *text = mus_chords_counts_text(counts);
    CHECK(text);
    mus_chords_counts *back = calloc(1, sizeof *back);
    CHECK(back && mus_chords_counts_parse(back, text) == 0);
    CHECK(memcmp(back, counts, sizeof *counts) == 0);
    text[strlen(text) / 2] = 'x';
    CHECK(mus_chords_counts_parse(back, text) == -1);
    CHECK(mus_chords_counts_parse(back, "12 1 2 3") == -1);
    free(text);
    free(back);
    free(counts);
    free(cm);
    mus_corpus_free(&c);
}
