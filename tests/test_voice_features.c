/* test_voice_features.c: the voice feature file round-trips and refuses damaged files clearly. */
#include "test.h"

#include "engine/voice/features.h"

#include <stdint.h>
#include <unistd.h>

/* Two notes: a training note without audio and a held-out one with a little audio. */
static void make_notes(voice_note notes[2])
{
    memset(notes, 0, 2 * sizeof *notes);
    for (int i = 0; i < 2; i++) {
        voice_note *n = &notes[i];
        n->program = 73;
        n->pitch = 69 + i;
        n->velocity = 64 + i;
        n->split = i ? VOICE_SPLIT_PITCH : VOICE_SPLIT_TRAIN;
        n->length_s = 0.6f;
        n->sample_rate = 48000;
        n->peak = 0.5f;
        snprintf(n->instrument, sizeof n->instrument, "Flute");
        n->n_frames = 5 + (size_t)i;
        n->frames = calloc(n->n_frames, sizeof *n->frames);
        for (size_t k = 0; k < n->n_frames; k++) {
            voice_frame *f = &n->frames[k];
            f->f0_hz = 440.0f + (float)k;
            f->periodicity = 0.9f;
            f->loudness_db = -20.0f - (float)k;
            f->since_onset_s = (float)k / VOICE_FRAME_RATE;
            for (int h = 0; h < VOICE_HARMONICS; h++) f->harm[h] = 0.1f / (h + 1);
            for (int b = 0; b < VOICE_BANDS; b++) f->noise_db[b] = -60.0f - b;
            f->flags = VOICE_VOICED | (k == 0 ? VOICE_ONSET : 0);
        }
    }
    notes[1].n_audio = 101;
    notes[1].audio = malloc(101 * sizeof(float));
    for (int i = 0; i < 101; i++) notes[1].audio[i] = 0.5f * sinf(0.1f * i);
}

static void free_notes(voice_note notes[2])
{
    voice_note_clear(&notes[0]);
    voice_note_clear(&notes[1]);
}

TEST(voice_features_round_trip_through_a_file)
{
    voice_note notes[2];
    make_notes(notes);
    char err[256];
    const char *path = test_path("notes.bmvf");
    CHECKF(voice_features_write(path, notes, 2, err, sizeof err) == 0, "%s", err);
    voice_set *s;
    CHECKF(voice_features_read_file(path, &s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(s->n_notes, 2);
    for (int i = 0; i < 2; i++) {
        const voice_note *a = &notes[i], *b = &s->notes[i];
        CHECK_EQ_INT(b->program, a->program);
        CHECK_EQ_INT(b->pitch, a->pitch);
        CHECK_EQ_INT(b->velocity, a->velocity);
        CHECK_EQ_INT(b->split, a->split);
        CHECK_EQ_INT(b->sample_rate, a->sample_rate);
        CHECK(!strcmp(b->instrument, "Flute"));
        CHECK_EQ_INT(b->n_frames, a->n_frames);
        CHECK(!memcmp(b->frames, a->frames, a->n_frames * sizeof *a->frames));
        CHECK_EQ_INT(b->n_audio, a->n_audio);
        for (size_t k = 0; k < a->n_audio; k++) CHECK_NEAR(b->audio[k], a->audio[k], 0.5 / 32767 + 1e-7);
    }
    voice_set_free(s);
    /* the memory writer gives the same bytes as the file writer */
    uint8_t *mem;
    size_t len;
    CHECKF(voice_features_write_mem(notes, 2, &mem, &len, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(path, "rb");
    uint8_t *disk = malloc(len + 1);
    CHECK_EQ_INT(fread(disk, 1, len + 1, f), len);
    fclose(f);
    CHECK(!memcmp(mem, disk, len));
    free(disk);
    free(mem);
    free_notes(notes);
}

TEST(voice_features_refuse_every_truncation_and_bit_flip)
{
    voice_note notes[2];
    make_notes(notes);
    char err[256];
    uint8_t *mem;
    size_t len;
    CHECKF(voice_features_write_mem(notes, 2, &mem, &len, err, sizeof err) == 0, "%s", err);
    voice_set *s;
    for (size_t cut = 0; cut < len; cut++) {
        err[0] = 0;
        CHECKF(voice_features_read_mem(mem, cut, 0, &s, err, sizeof err) == -1, "accepted %zu of %zu bytes", cut, len);
        CHECK(s == NULL);
        CHECKF(strlen(err) > 10 && !strchr(err, '\n'), "no clear message for a cut at %zu: '%s'", cut, err);
    }
    CHECK(voice_features_read_mem(mem, 30, 0, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "truncated");
    for (size_t pos = 0; pos < len; pos += 7) {
        mem[pos] ^= 0x10;
        CHECKF(voice_features_read_mem(mem, len, 0, &s, err, sizeof err) == -1, "accepted a flip at %zu", pos);
        mem[pos] ^= 0x10;
    }
    mem[len - 10] ^= 1; /* inside the second note's audio: only the checksum can tell */
    CHECK(voice_features_read_mem(mem, len, 0, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "note 2 is damaged (checksum mismatch)");
    mem[len - 10] ^= 1;
    CHECK(voice_features_read_mem(mem, len, 0, &s, err, sizeof err) == 0);
    voice_set_free(s);
    free(mem);
    free_notes(notes);
}

TEST(voice_features_refuse_garbage_other_formats_and_trailing_bytes)
{
    char err[256];
    voice_set *s;
    const char *text = "this is not a feature file at all, just some text";
    CHECK(voice_features_read_mem((const uint8_t *)text, strlen(text), 0, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "not a bandmate voice feature file");
    voice_note notes[2];
    make_notes(notes);
    uint8_t *mem;
    size_t len;
    CHECK(voice_features_write_mem(notes, 2, &mem, &len, err, sizeof err) == 0);
    uint8_t *big = malloc(len + 3);
    memcpy(big, mem, len);
    memset(big + len, 0, 3);
    CHECK(voice_features_read_mem(big, len + 3, 0, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "3 bytes after its last note");
    big[20] = 32; /* 32 harmonics: another configuration */
    CHECK(voice_features_read_mem(big, len, VOICE_READ_NO_CHECKSUM, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "32 harmonics");
    CHECK_STR_CONTAINS(err, "rebuild it");
    free(big);
    /* a value out of range is refused even when the checksums are not checked */
    memcpy(mem + len - 4 - 204 - 436 + 8, "\x00\x00\xc0\x7f", 4); /* a NaN loudness in the last frame */
    CHECK(voice_features_read_mem(mem, len, VOICE_READ_NO_CHECKSUM, &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "out of range");
    free(mem);
    CHECK(voice_features_read_file("/nonexistent/x.bmvf", &s, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "cannot open /nonexistent/x.bmvf");
    free_notes(notes);
}

TEST(voice_features_writer_refuses_bad_values_and_leaves_no_file)
{
    voice_note notes[2];
    make_notes(notes);
    notes[1].frames[2].harm[3] = NAN;
    char err[256];
    const char *path = test_path("bad.bmvf");
    CHECK(voice_features_write(path, notes, 2, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "note 2 (Flute)");
    CHECK(access(path, F_OK) != 0);
    notes[1].frames[2].harm[3] = 0.0f;
    snprintf(notes[0].instrument, sizeof notes[0].instrument, "bad\tname");
    CHECK(voice_features_write(path, notes, 2, err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "not printable");
    free_notes(notes);
}
