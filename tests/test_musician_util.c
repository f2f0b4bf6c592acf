/* test_musician_util.c: fixture songs, corpora and models for the musician's tests. */
#include "test.h"
#include "test_musician.h"
#include "engine/smf.h"

#include <sys/stat.h>

#define PPQ 96

void tm_write_song(const char *path, const tm_track *tracks, int ntracks, int bpb)
{
    smf *s = smf_new(PPQ);
    CHECK(s);
    int t0 = smf_add_track(s, "tempo");
    smf_add_tempo(s, t0, 0, 500000);
    uint8_t ts[4] = {(uint8_t)bpb, 2, 24, 8};
    smf_add_meta(s, t0, 0, SMF_META_TIME_SIGNATURE, ts, 4);
    for (int i = 0; i < ntracks; i++) {
        int t = smf_add_track(s, tracks[i].name);
        CHECK(t >= 0);
        uint8_t ch = (uint8_t)tracks[i].channel;
        if (tracks[i].program >= 0) {
            uint8_t pc[2] = {(uint8_t)(0xc0 | ch), (uint8_t)tracks[i].program};
            smf_add_midi(s, t, 0, pc, 2);
        }
        for (int k = 0; k < tracks[i].n; k++) {
            const tm_note *n = &tracks[i].notes[k];
            uint8_t on[3] = {(uint8_t)(0x90 | ch), (uint8_t)n->pitch, (uint8_t)n->vel};
            uint8_t off[3] = {(uint8_t)(0x80 | ch), (uint8_t)n->pitch, 0};
            uint64_t on_tick = (uint64_t)n->step * PPQ / 4;
            /* a length of 0 is a click of 2 ticks; otherwise the note ends a tick early */
            uint64_t off_tick = n->len ? (uint64_t)(n->step + n->len) * PPQ / 4 - 1 : on_tick + 2;
            CHECK(smf_add_midi(s, t, on_tick, on, 3) == 0);
            CHECK(smf_add_midi(s, t, off_tick, off, 3) == 0);
        }
    }
    char err[256];
    CHECKF(smf_write_file(s, path, err, sizeof err) == 0, "%s", err);
    smf_free(s);
}

void tm_write_chart(const char *path, const char *id, const char *split, const char *genre, int bars,
                    const int *roots)
{
    FILE *f;
    f = fopen(path, "w");
    CHECK(f);
    fprintf(f, "# bandmate chart 1\nid %s\nsource generated test/test\nchart %s\nsplit %s\n", id, id, split);
    fprintf(f, "style Test stdlib/test test %s\nmeter 4 4/4\ntempo 120\nbars %d\nbeats %d\nlead solo\n", genre,
            bars, bars * 4);
    fprintf(f, "groove 0 Test\nkey 0 %d major\nsection 0 A\n", roots[0]);
    for (int b = 0; b < bars; b++) {
        int r = roots[b], p[3] = {r % 12, (r + 4) % 12, (r + 7) % 12};
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (p[j] < p[i]) {
                    int t = p[i];
                    p[i] = p[j];
                    p[j] = t;
                }
        fprintf(f, "chord %d %d M %d %d,%d,%d X\n", b * 4, r, r, p[0], p[1], p[2]);
    }
    fprintf(f, "end %d\n", bars * 4);
    fclose(f);
}

/* A two-bar groove, I - V, in key k, repeated for `bars` bars. */
static void groove_song(const char *mid, const char *chart, const char *id, const char *split, int k, int bars)
{
    static tm_note bass[64], drums[256], comp[256], lead[64];
    int nb = 0, nd = 0, nc = 0, nl = 0;
    int roots[64];
    for (int bar = 0; bar < bars; bar++) {
        int root = (k + (bar % 2 ? 7 : 0)) % 12;
        roots[bar] = root;
        int s = bar * 16;
        bass[nb++] = (tm_note){s, 4, 36 + root, 100};
        bass[nb++] = (tm_note){s + 8, 4, 36 + (root + 7) % 12, 90};
        for (int q = 0; q < 4; q++) {
            drums[nd++] = (tm_note){s + q * 4, 1, q % 2 ? 38 : 36, 100};
            drums[nd++] = (tm_note){s + q * 4 + 2, 1, 42, 70};
        }
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 3; i++) comp[nc++] = (tm_note){s + h * 8 + 4, 4, 60 + (root + (i == 0 ? 0 : i == 1 ? 4 : 7)) % 12, 70};
        lead[nl++] = (tm_note){s, 6, 72 + (root + 4) % 12, 90};
        lead[nl++] = (tm_note){s + 8, 6, 72 + (root + 7) % 12, 90};
    }
    tm_track tr[4] = {{"Bass", 1, 33, bass, nb}, {"Drum", 9, -1, drums, nd}, {"Chord", 2, 0, comp, nc},
                      {"Solo", 3, 65, lead, nl}};
    tm_write_song(mid, tr, 4, 4);
    tm_write_chart(chart, id, split, "rock", bars, roots);
}

const char *tm_tiny_corpus(const char *dir, int n)
{
    mkdir(dir, 0755);
    for (int i = 0; i < n; i++) {
        char mid[1024], chart[1024], id[64];
        snprintf(id, sizeof id, "song%02d", i);
        snprintf(mid, sizeof mid, "%s/%s.mid", dir, id);
        snprintf(chart, sizeof chart, "%s/%s.chart", dir, id);
        const char *split = i % 5 == 3 ? "valid" : i % 5 == 4 ? "test" : "train";
        groove_song(mid, chart, id, split, (i * 5) % 12, 16);
    }
    return dir;
}

mus_model *tm_random_model(const char *path, int layers, int hidden)
{
    char err[512];
    mus_model *m = mus_model_create(layers, hidden, 7, err, sizeof err);
    CHECKF(m, "%s", err);
    CHECKF(mus_model_save(m, path, err, sizeof err) == 0, "%s", err);
    return m;
}
