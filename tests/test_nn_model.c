/* test_nn_model.c: the model container and file format: round trips, and every kind of bad file
 * refused with one clear sentence (truncated, damaged, wrong version, malformed, wrong shape, NaN,
 * out of memory). */
#include "nn/nn_kern.h"
#include "nn/nn_mem.h"
#include "nn/nn_model.h"
#include "test_nn_util.h"

static nn_model *sample(void)
{
    nn_model *m = nn_model_create();
    CHECK(nn_model_add(m, "embed0", 2, (int[]){5, 3}) == 0);
    CHECK(nn_model_add(m, "lstm0.b", 1, (int[]){17}) == 1);
    CHECK(nn_model_add(m, "lstm0.b", 1, (int[]){4}) == -1);  /* duplicate */
    CHECK(nn_model_add(m, "bad name", 1, (int[]){4}) == -1); /* space */
    CHECK(nn_model_add(m, "x", 2, (int[]){0, 4}) == -1);
    CHECK(nn_model_alloc(m) == 0);
    for (size_t i = 0; i < 15; i++) nn_model_find(m, "embed0")->data[i] = (float)i * 0.5f;
    for (size_t i = 0; i < 17; i++) nn_model_find(m, "lstm0.b")->data[i] = -(float)i;
    CHECK(nn_model_set_int(m, "hidden", 256) == 0);
    CHECK(nn_model_set_float(m, "lr", 1e-3) == 0);
    CHECK(nn_model_set_meta(m, "vocabulary", "C\nC#\nD\n") == 0);
    CHECK(nn_model_set_meta(m, "date", "2024-05-01") == 0);
    return m;
}

static uint8_t *serialize(size_t *len)
{
    nn_model *m = sample();
    uint8_t *buf = nn_model_serialize(m, len);
    CHECK(buf);
    nn_model_free(m);
    return buf;
}

/* Rewrites the trailing checksum so a deliberately malformed body gets past the CRC check. */
static void fix_crc(uint8_t *buf, size_t len)
{
    uint32_t c = nn_crc32(0, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

TEST(nn_model_round_trip_through_a_file)
{
    nn_model *m = sample();
    char err[256];
    const char *path = test_path("m.bmnn");
    CHECKF(nn_model_save(m, path, err, sizeof err) == 0, "%s", err);
    nn_model *r = nn_model_load(path, err, sizeof err);
    CHECKF(r, "%s", err);
    CHECK_EQ_INT(nn_model_count(r), 2);
    CHECK_EQ_INT(nn_model_size(r), nn_model_size(m));
    CHECK(memcmp(nn_model_data(r), nn_model_data(m), nn_model_size(m) * 4) == 0);
    int64_t h;
    double lr;
    CHECK(nn_model_get_int(r, "hidden", &h) == 0 && h == 256);
    CHECK(nn_model_get_float(r, "lr", &lr) == 0 && lr == 1e-3);
    CHECK(nn_model_get_int(r, "lr", &h) == -1);
    CHECK(strcmp(nn_model_meta(r, "vocabulary"), "C\nC#\nD\n") == 0);
    CHECK(nn_model_bind(r, "embed0", 2, (int[]){5, 3}, err, sizeof err));
    CHECK(!nn_model_bind(r, "embed0", 2, (int[]){6, 3}, err, sizeof err));
    CHECK_STR_CONTAINS(err, "'embed0' is 5x3 where this architecture needs 6x3");
    CHECK(!nn_model_bind(r, "heads.w", 1, (int[]){3}, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no tensor 'heads.w'");
    nn_model_free(r);
    nn_model_free(m);
}

TEST(nn_model_python_writer_files_load)
{
    char err[256];
    nn_model *m = nn_model_load("tests/fixtures/nn/seqnet.bmnn", err, sizeof err);
    CHECKF(m, "%s", err);
    CHECK_STR_CONTAINS(nn_model_meta(m, "generator"), "nn_reference.py");
    nn_model_free(m);
}

TEST(nn_model_every_truncation_is_refused)
{
    size_t len;
    uint8_t *buf = serialize(&len);
    char err[256];
    for (size_t n = 0; n < len; n++) {
        err[0] = 0;
        nn_model *m = nn_model_load_mem(buf, n, "m.bmnn", err, sizeof err);
        CHECKF(!m, "a file cut to %zu of %zu bytes loaded", n, len);
        CHECKF(strstr(err, "m.bmnn") && !strchr(err, '\n'), "bad message: %s", err);
    }
    nn_model_load_mem(buf, 20, "m.bmnn", err, sizeof err);
    CHECK_STR_CONTAINS(err, "too short");
    nn_model_load_mem(buf, len - 1, "m.bmnn", err, sizeof err);
    CHECK_STR_CONTAINS(err, "truncated or damaged");
    nn_free(buf);
}

TEST(nn_model_damage_and_versions_are_named)
{
    size_t len;
    uint8_t *buf = serialize(&len);
    char err[256];
    buf[len / 2] ^= 0x10;
    CHECK(!nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err));
    CHECK_STR_CONTAINS(err, "checksum does not match");
    buf[len / 2] ^= 0x10;
    buf[8] = 7;
    CHECK(!nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err));
    CHECK_STR_CONTAINS(err, "version 7 but this bandmate reads version 1");
    buf[8] = 1;
    buf[1] = 'X';
    CHECK(!nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err));
    CHECK_STR_CONTAINS(err, "not a bandmate model file");
    buf[1] = 'B';
    nn_model *m = nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err);
    CHECKF(m, "%s", err);
    nn_model_free(m);
    nn_free(buf);
}

TEST(nn_model_malformed_bodies_with_good_checksums_are_refused)
{
    nn_model *m = sample();
    size_t len;
    uint8_t *good = nn_model_serialize(m, &len), *buf = nn_alloc(len);
    char err[256];
    /* a NaN in the data */
    memcpy(buf, good, len);
    float nanv = NAN;
    size_t data_at = len - 8 - nn_model_size(m) * 4;
    memcpy(buf + data_at + 4, &nanv, 4);
    fix_crc(buf, len);
    CHECK(!nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err));
    CHECK_STR_CONTAINS(err, "NaN or infinite value in tensor 'embed0'");
    /* every single byte of the header and tables set to a few bad values */
    for (size_t pos = 8; pos < data_at; pos++) {
        static const uint8_t vals[] = {0x00, 0x01, 0x20, 0x7f, 0xff};
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(buf, good, len);
            if (buf[pos] == vals[v]) continue;
            buf[pos] = vals[v];
            fix_crc(buf, len);
            nn_model *r = nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err);
            if (r) nn_model_free(r); /* some edits are still valid files (a renamed key) */
            else CHECKF(strstr(err, "m.bmnn") != NULL, "message without the file name: %s", err);
        }
    }
    nn_free(buf);
    nn_free(good);
    nn_model_free(m);
}

TEST(nn_model_load_survives_every_allocation_failure)
{
    size_t len;
    uint8_t *buf = serialize(&len);
    char err[256];
    int refused = 0;
    for (long k = 0; k < 64; k++) {
        nn_alloc_fail_after(k);
        nn_model *m = nn_model_load_mem(buf, len, "m.bmnn", err, sizeof err);
        nn_alloc_fail_after(-1);
        if (m) {
            nn_model_free(m);
            break;
        }
        CHECK_STR_CONTAINS(err, "out of memory");
        refused++;
    }
    CHECK(refused > 3);
    nn_free(buf);
}

TEST(nn_model_missing_file_is_one_sentence)
{
    char err[256];
    CHECK(!nn_model_load("/nonexistent/x.bmnn", err, sizeof err));
    CHECK_STR_CONTAINS(err, "cannot open the model file /nonexistent/x.bmnn");
    nn_model *m = sample();
    CHECK(nn_model_save(m, "/nonexistent/dir/x.bmnn", err, sizeof err) == -1);
    CHECK_STR_CONTAINS(err, "cannot write");
    nn_model_free(m);
}

TEST(nn_half_floats_match_the_hardware_conversion)
{
    /* every half value converts to float exactly, and floats round to the nearest even half */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = nn_f16_to_f32((uint16_t)h);
        if (f != f) continue;
        CHECKF(nn_f32_to_f16(f) == h || (h == 0x8000 && nn_f32_to_f16(f) == 0x8000),
               "half 0x%04x -> %g -> 0x%04x", h, f, nn_f32_to_f16(f));
    }
    CHECK_EQ_INT(nn_f32_to_f16(1.0f), 0x3c00);
    CHECK_EQ_INT(nn_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie to even */
    CHECK_EQ_INT(nn_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
    CHECK_EQ_INT(nn_f32_to_f16(65520.0f), 0x7c00);           /* overflow to infinity */
    CHECK_NEAR(nn_f16_to_f32(0x0001), 5.9604645e-8, 1e-15);  /* smallest subnormal */
    CHECK_EQ_INT(nn_f32_to_f16(2.9802322e-8f), 0x0000);      /* half of it ties to even zero */
}
