/* features.c: the voice feature file: a strict, bounded reader and an atomic, streaming writer. */
#include "engine/voice/features.h"
#include "engine/util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char MAGIC[8] = {'B', 'M', 'V', 'F', 'E', 'A', 'T', 0};
static const char NOTE_MAGIC[4] = {'N', 'O', 'T', 'E'};
#define VERSION 1u
#define FIXED_HEADER 60u
#define HEADER_BYTES (FIXED_HEADER + 4u * (VOICE_BANDS + 1u) + 4u)
#define FRAME_WORDS (4u + VOICE_HARMONICS + VOICE_BANDS + 1u)
#define FRAME_BYTES (4u * FRAME_WORDS)
#define NOTE_FIXED 96u
#define MAX_FILE_BYTES (8ull << 30)

/* ---- bands ---- */

static double band_edges[VOICE_BANDS + 1];
static pthread_once_t bands_once = PTHREAD_ONCE_INIT;

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

static void bands_init(void)
{
    double top = hz_to_mel(VOICE_BAND_TOP_HZ);
    for (int i = 0; i <= VOICE_BANDS; i++) band_edges[i] = mel_to_hz(top * i / VOICE_BANDS);
    band_edges[0] = 0.0;
    band_edges[VOICE_BANDS] = VOICE_BAND_TOP_HZ;
}

const double *voice_band_edges(void)
{
    pthread_once(&bands_once, bands_init);
    return band_edges;
}

double voice_band_centre(int band)
{
    const double *e = voice_band_edges();
    return mel_to_hz(0.5 * (hz_to_mel(e[band]) + hz_to_mel(e[band + 1])));
}

/* ---- CRC-32 (IEEE, reflected) ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian helpers ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_f32(uint8_t *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32(p, u);
}
static float get_f32(const uint8_t *p)
{
    uint32_t u = get_u32(p);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

/* ---- validation ---- */

static int in_range(float v, float lo, float hi) { return isfinite(v) && v >= lo && v <= hi; }

int voice_frame_valid(const voice_frame *f)
{
    if (!in_range(f->f0_hz, 0.0f, 30000.0f) || !in_range(f->periodicity, 0.0f, 1.0f) ||
        !in_range(f->loudness_db, VOICE_FLOOR_DB, 60.0f) ||
        !in_range(f->since_onset_s, 0.0f, 1e7f) || (f->flags & ~(uint32_t)VOICE_FLAGS_ALL))
        return 0;
    for (int h = 0; h < VOICE_HARMONICS; h++)
        if (!in_range(f->harm[h], 0.0f, 1000.0f)) return 0;
    for (int b = 0; b < VOICE_BANDS; b++)
        if (!in_range(f->noise_db[b], VOICE_FLOOR_DB, 100.0f)) return 0;
    return 1;
}

/* One sentence naming what is wrong with a note's metadata, or NULL. */
static const char *note_meta_problem(const voice_note *n)
{
    if (n->program < -1 || n->program > 127) return "its program is out of range";
    if (n->pitch < -1 || n->pitch > 127) return "its pitch is out of range";
    if (n->velocity < 0 || n->velocity > 127) return "its velocity is out of range";
    if (n->split < 0 || n->split >= VOICE_SPLIT_COUNT) return "its split is unknown";
    if (!in_range(n->length_s, 0.0f, 1e5f)) return "its length is out of range";
    if (n->sample_rate < 1000 || n->sample_rate > 768000) return "its sample rate is out of range";
    if (!in_range(n->peak, 0.0f, 1e6f)) return "its peak level is out of range";
    if (n->n_frames > VOICE_MAX_FRAMES) return "it has too many frames";
    if (n->n_audio > VOICE_MAX_AUDIO) return "it keeps too much audio";
    size_t len = strnlen(n->instrument, VOICE_INSTRUMENT_NAME);
    if (len == VOICE_INSTRUMENT_NAME) return "its instrument name is not terminated";
    for (size_t i = 0; i < len; i++)
        if (n->instrument[i] < 0x20 || n->instrument[i] > 0x7e)
            return "its instrument name holds a character that is not printable";
    return NULL;
}

const char *voice_split_name(int split)
{
    static const char *names[] = {"train", "pitch", "velocity", "instrument", "recording"};
    return split >= 0 && split < VOICE_SPLIT_COUNT ? names[split] : "unknown";
}

/* ---- writer ---- */

struct voice_features_writer {
    FILE *f;
    char *path, *tmp;
    uint32_t n_notes;
    int failed;
};

static void header_bytes(uint8_t *h, uint32_t n_notes)
{
    memset(h, 0, HEADER_BYTES);
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, VERSION);
    put_u32(h + 12, HEADER_BYTES);
    put_u32(h + 16, VOICE_FRAME_RATE);
    put_u32(h + 20, VOICE_HARMONICS);
    put_u32(h + 24, VOICE_BANDS);
    put_u32(h + 28, FRAME_BYTES);
    put_u32(h + 32, n_notes);
    const double *e = voice_band_edges();
    for (int i = 0; i <= VOICE_BANDS; i++) put_f32(h + FIXED_HEADER + 4 * i, (float)e[i]);
    put_u32(h + HEADER_BYTES - 4, crc_update(0, h, HEADER_BYTES - 4));
}

voice_features_writer *voice_features_create(const char *path, char *err, size_t errlen)
{
    voice_features_writer *w = calloc(1, sizeof *w);
    size_t plen = strlen(path);
    if (w) {
        w->path = strdup(path);
        w->tmp = malloc(plen + 32);
    }
    if (!w || !w->path || !w->tmp) {
        if (w) {
            free(w->path);
            free(w->tmp);
        }
        free(w);
        bm_errf(err, errlen, "out of memory writing %s", path);
        return NULL;
    }
    snprintf(w->tmp, plen + 32, "%s.tmp%d", path, (int)getpid());
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        bm_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(w->path);
        free(w->tmp);
        free(w);
        return NULL;
    }
    uint8_t h[HEADER_BYTES];
    header_bytes(h, 0);
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h) w->failed = 1;
    return w;
}

/* Where serialised bytes go: a file or a growing memory buffer; the CRC runs over what is put. */
struct sink {
    FILE *f;
    uint8_t *mem;
    size_t len, cap;
    uint32_t crc;
    int failed;
};

static void sink_raw(struct sink *s, const void *data, size_t len)
{
    if (s->failed) return;
    if (s->f) {
        if (fwrite(data, 1, len, s->f) != len) s->failed = 1;
        return;
    }
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len) cap *= 2;
        uint8_t *m = realloc(s->mem, cap);
        if (!m) {
            s->failed = 1;
            return;
        }
        s->mem = m;
        s->cap = cap;
    }
    memcpy(s->mem + s->len, data, len);
    s->len += len;
}

static void sink_put(struct sink *s, const void *data, size_t len)
{
    s->crc = crc_update(s->crc, data, len);
    sink_raw(s, data, len);
}

static void frame_bytes(uint8_t *p, const voice_frame *fr)
{
    put_f32(p, fr->f0_hz);
    put_f32(p + 4, fr->periodicity);
    put_f32(p + 8, fr->loudness_db);
    put_f32(p + 12, fr->since_onset_s);
    p += 16;
    for (int h = 0; h < VOICE_HARMONICS; h++, p += 4) put_f32(p, fr->harm[h]);
    for (int b = 0; b < VOICE_BANDS; b++, p += 4) put_f32(p, fr->noise_db[b]);
    put_u32(p, fr->flags);
}

/* Validates and serialises one note record (index counts from 1, for messages). */
static int put_note(struct sink *s, const voice_note *n, uint32_t index, char *err, size_t errlen)
{
    const char *why = note_meta_problem(n);
    if (!why && index > VOICE_MAX_NOTES) why = "the file already holds the most notes allowed";
    for (size_t i = 0; !why && i < n->n_frames; i++)
        if (!voice_frame_valid(&n->frames[i])) why = "a frame holds a value out of range";
    float peak = 0.0f;
    for (size_t i = 0; !why && i < n->n_audio; i++) {
        if (!isfinite(n->audio[i])) why = "its audio holds a sample that is not a number";
        else if (fabsf(n->audio[i]) > peak) peak = fabsf(n->audio[i]);
    }
    if (!why && peak > 1e6f) why = "its audio is louder than any recording";
    if (why) {
        bm_errf(err, errlen, "cannot write note %u (%s): %s", index, n->instrument, why);
        return -1;
    }
    size_t audio_bytes = (n->n_audio * 2 + 3) & ~(size_t)3;
    size_t record = NOTE_FIXED + n->n_frames * FRAME_BYTES + audio_bytes + 4;
    if (record > 0xffffffffu) {
        bm_errf(err, errlen, "cannot write note %u (%s): it is larger than 4 GiB", index,
                n->instrument);
        return -1;
    }
    float scale = n->n_audio && peak > 0.0f ? peak / 32767.0f : 0.0f;
    uint8_t head[NOTE_FIXED];
    memset(head, 0, sizeof head);
    memcpy(head, NOTE_MAGIC, 4);
    put_u32(head + 4, (uint32_t)record);
    put_u32(head + 8, (uint32_t)n->program);
    put_u32(head + 12, (uint32_t)n->pitch);
    put_u32(head + 16, (uint32_t)n->velocity);
    put_u32(head + 20, (uint32_t)n->split);
    put_f32(head + 24, n->length_s);
    put_u32(head + 28, (uint32_t)n->sample_rate);
    put_f32(head + 32, n->peak);
    memcpy(head + 36, n->instrument, strnlen(n->instrument, VOICE_INSTRUMENT_NAME - 1));
    put_u32(head + 84, (uint32_t)n->n_frames);
    put_u32(head + 88, (uint32_t)n->n_audio);
    put_f32(head + 92, scale);
    s->crc = 0;
    sink_put(s, head, sizeof head);
    uint8_t buf[FRAME_BYTES * 16];
    for (size_t i = 0; i < n->n_frames;) {
        size_t k = 0;
        for (; k < 16 && i < n->n_frames; k++, i++) frame_bytes(buf + k * FRAME_BYTES, &n->frames[i]);
        sink_put(s, buf, k * FRAME_BYTES);
    }
    for (size_t i = 0; i < n->n_audio;) {
        size_t k = 0;
        for (; k < sizeof buf / 2 && i < n->n_audio; k++, i++) {
            long q = scale > 0.0f ? lrintf(n->audio[i] / scale) : 0;
            if (q > 32767) q = 32767;
            if (q < -32767) q = -32767;
            uint16_t u = (uint16_t)(int16_t)q;
            buf[2 * k] = (uint8_t)u;
            buf[2 * k + 1] = (uint8_t)(u >> 8);
        }
        sink_put(s, buf, 2 * k);
    }
    if (n->n_audio & 1) {
        static const uint8_t pad[2];
        sink_put(s, pad, 2);
    }
    uint8_t crc[4];
    put_u32(crc, s->crc);
    sink_raw(s, crc, 4);
    return 0;
}

int voice_features_append(voice_features_writer *w, const voice_note *n, char *err, size_t errlen)
{
    struct sink s = {.f = w->f};
    if (put_note(&s, n, w->n_notes + 1, err, errlen) != 0) return -1;
    if (s.failed) {
        w->failed = 1;
        bm_errf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
        return -1;
    }
    w->n_notes++;
    return 0;
}

int voice_features_write_mem(const voice_note *notes, size_t n, uint8_t **out, size_t *len,
                             char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (n > VOICE_MAX_NOTES) {
        bm_errf(err, errlen, "%zu notes are more than a feature file may hold", n);
        return -1;
    }
    struct sink s = {0};
    uint8_t h[HEADER_BYTES];
    header_bytes(h, (uint32_t)n);
    sink_raw(&s, h, sizeof h);
    for (size_t i = 0; i < n; i++)
        if (put_note(&s, &notes[i], (uint32_t)i + 1, err, errlen) != 0) {
            free(s.mem);
            return -1;
        }
    if (s.failed) {
        free(s.mem);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    *out = s.mem;
    *len = s.len;
    return 0;
}

static void writer_free(voice_features_writer *w)
{
    free(w->path);
    free(w->tmp);
    free(w);
}

void voice_features_abort(voice_features_writer *w)
{
    if (!w) return;
    if (w->f) fclose(w->f);
    unlink(w->tmp);
    writer_free(w);
}

int voice_features_close(voice_features_writer *w, char *err, size_t errlen)
{
    uint8_t h[HEADER_BYTES];
    header_bytes(h, w->n_notes);
    int ok = !w->failed && fseek(w->f, 0, SEEK_SET) == 0 && fwrite(h, 1, sizeof h, w->f) == sizeof h &&
             fflush(w->f) == 0 && fsync(fileno(w->f)) == 0;
    int closed = fclose(w->f) == 0;
    w->f = NULL;
    if (!ok || !closed || rename(w->tmp, w->path) != 0) {
        bm_errf(err, errlen, "cannot write %s: %s", w->path, strerror(errno ? errno : EIO));
        unlink(w->tmp);
        writer_free(w);
        return -1;
    }
    writer_free(w);
    return 0;
}

int voice_features_write(const char *path, const voice_note *notes, size_t n, char *err,
                         size_t errlen)
{
    voice_features_writer *w = voice_features_create(path, err, errlen);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++)
        if (voice_features_append(w, &notes[i], err, errlen) != 0) {
            voice_features_abort(w);
            return -1;
        }
    return voice_features_close(w, err, errlen);
}

/* ---- reader ---- */

void voice_note_clear(voice_note *n)
{
    if (!n) return;
    free(n->frames);
    free(n->audio);
    n->frames = NULL;
    n->audio = NULL;
    n->n_frames = n->n_audio = 0;
}

void voice_set_free(voice_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_notes; i++) voice_note_clear(&s->notes[i]);
    free(s->notes);
    free(s);
}

static int read_header(const uint8_t *d, size_t len, unsigned flags, uint32_t *n_notes, char *err,
                       size_t errlen)
{
    if (len < 8 || memcmp(d, MAGIC, 8) != 0) {
        bm_errf(err, errlen, "it is not a bandmate voice feature file (no BMVFEAT header)");
        return -1;
    }
    if (len < FIXED_HEADER) {
        bm_errf(err, errlen, "it is truncated inside its header");
        return -1;
    }
    uint32_t version = get_u32(d + 8);
    if (version != VERSION) {
        bm_errf(err, errlen, "it has format version %u; this bandmate reads version %u", version,
                VERSION);
        return -1;
    }
    uint32_t rate = get_u32(d + 16), harm = get_u32(d + 20), bands = get_u32(d + 24);
    if (rate != VOICE_FRAME_RATE || harm != VOICE_HARMONICS || bands != VOICE_BANDS ||
        get_u32(d + 28) != FRAME_BYTES || get_u32(d + 12) != HEADER_BYTES) {
        bm_errf(err, errlen,
                "it was made with %u frames/s, %u harmonics and %u noise bands; this bandmate "
                "reads %u, %u and %u (rebuild it)",
                rate, harm, bands, VOICE_FRAME_RATE, VOICE_HARMONICS, VOICE_BANDS);
        return -1;
    }
    if (len < HEADER_BYTES) {
        bm_errf(err, errlen, "it is truncated inside its header");
        return -1;
    }
    if (!(flags & VOICE_READ_NO_CHECKSUM) &&
        get_u32(d + HEADER_BYTES - 4) != crc_update(0, d, HEADER_BYTES - 4)) {
        bm_errf(err, errlen, "its header is damaged (checksum mismatch)");
        return -1;
    }
    const double *e = voice_band_edges();
    for (int i = 0; i <= VOICE_BANDS; i++)
        if (!(fabs(get_f32(d + FIXED_HEADER + 4 * i) - e[i]) <= 0.01 + 1e-6 * e[i])) {
            bm_errf(err, errlen, "its noise bands are not the ones this bandmate uses (rebuild it)");
            return -1;
        }
    *n_notes = get_u32(d + 32);
    if (*n_notes > VOICE_MAX_NOTES || *n_notes > (len - HEADER_BYTES) / (NOTE_FIXED + 4)) {
        bm_errf(err, errlen, "its header announces %u notes, more than the file can hold", *n_notes);
        return -1;
    }
    return 0;
}

static void frame_read(voice_frame *fr, const uint8_t *p)
{
    fr->f0_hz = get_f32(p);
    fr->periodicity = get_f32(p + 4);
    fr->loudness_db = get_f32(p + 8);
    fr->since_onset_s = get_f32(p + 12);
    p += 16;
    for (int h = 0; h < VOICE_HARMONICS; h++, p += 4) fr->harm[h] = get_f32(p);
    for (int b = 0; b < VOICE_BANDS; b++, p += 4) fr->noise_db[b] = get_f32(p);
    fr->flags = get_u32(p);
}

/* Reads the note at d (at most len bytes); returns its size or 0 with err set. */
static size_t read_note(const uint8_t *d, size_t len, unsigned flags, uint32_t index, voice_note *n,
                        char *err, size_t errlen)
{
    if (len < NOTE_FIXED + 4) {
        bm_errf(err, errlen, "note %u is truncated", index);
        return 0;
    }
    if (memcmp(d, NOTE_MAGIC, 4) != 0) {
        bm_errf(err, errlen, "note %u is damaged (no NOTE marker where it should start)", index);
        return 0;
    }
    size_t record = get_u32(d + 4);
    n->program = (int32_t)get_u32(d + 8);
    n->pitch = (int32_t)get_u32(d + 12);
    n->velocity = (int32_t)get_u32(d + 16);
    n->split = (int32_t)get_u32(d + 20);
    n->length_s = get_f32(d + 24);
    n->sample_rate = (int32_t)get_u32(d + 28);
    n->peak = get_f32(d + 32);
    memcpy(n->instrument, d + 36, VOICE_INSTRUMENT_NAME);
    n->n_frames = get_u32(d + 84);
    n->n_audio = get_u32(d + 88);
    float scale = get_f32(d + 92);
    size_t audio_bytes = (n->n_audio * 2 + 3) & ~(size_t)3;
    if (n->n_frames > VOICE_MAX_FRAMES || n->n_audio > VOICE_MAX_AUDIO ||
        record != NOTE_FIXED + n->n_frames * FRAME_BYTES + audio_bytes + 4) {
        bm_errf(err, errlen, "note %u is damaged (its size does not match its contents)", index);
        n->n_frames = n->n_audio = 0;
        return 0;
    }
    if (record > len) {
        bm_errf(err, errlen, "note %u is truncated", index);
        n->n_frames = n->n_audio = 0;
        return 0;
    }
    if (!(flags & VOICE_READ_NO_CHECKSUM) && get_u32(d + record - 4) != crc_update(0, d, record - 4)) {
        bm_errf(err, errlen, "note %u is damaged (checksum mismatch)", index);
        n->n_frames = n->n_audio = 0;
        return 0;
    }
    const char *why = note_meta_problem(n);
    if (!why && n->n_audio && !(isfinite(scale) && scale >= 0.0f && scale <= 1e6f))
        why = "its audio scale is out of range";
    if (why) {
        bm_errf(err, errlen, "note %u is damaged (%s)", index, why);
        n->n_frames = n->n_audio = 0;
        return 0;
    }
    n->frames = n->n_frames ? malloc(n->n_frames * sizeof *n->frames) : NULL;
    n->audio = n->n_audio ? malloc(n->n_audio * sizeof *n->audio) : NULL;
    if ((n->n_frames && !n->frames) || (n->n_audio && !n->audio)) {
        voice_note_clear(n);
        bm_errf(err, errlen, "out of memory reading note %u", index);
        return 0;
    }
    const uint8_t *p = d + NOTE_FIXED;
    for (size_t i = 0; i < n->n_frames; i++, p += FRAME_BYTES) {
        frame_read(&n->frames[i], p);
        if (!voice_frame_valid(&n->frames[i])) {
            bm_errf(err, errlen, "note %u is damaged (frame %zu holds a value out of range)", index, i);
            voice_note_clear(n);
            return 0;
        }
    }
    for (size_t i = 0; i < n->n_audio; i++, p += 2)
        n->audio[i] = (float)(int16_t)(uint16_t)(p[0] | p[1] << 8) * scale;
    return record;
}

int voice_features_read_mem(const uint8_t *data, size_t len, unsigned flags, voice_set **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    uint32_t n_notes;
    if (read_header(data, len, flags, &n_notes, err, errlen) != 0) return -1;
    voice_set *s = calloc(1, sizeof *s);
    if (s && n_notes) s->notes = calloc(n_notes, sizeof *s->notes);
    if (!s || (n_notes && !s->notes)) {
        free(s);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    size_t pos = HEADER_BYTES;
    for (uint32_t i = 0; i < n_notes; i++) {
        size_t used = read_note(data + pos, len - pos, flags, i + 1, &s->notes[i], err, errlen);
        if (!used) {
            s->n_notes = i;
            voice_set_free(s);
            return -1;
        }
        s->n_notes = i + 1;
        pos += used;
    }
    if (pos != len) {
        bm_errf(err, errlen, "it has %zu bytes after its last note (damaged or not a feature file)",
                len - pos);
        voice_set_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int voice_features_read_file(const char *path, voice_set **out, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *buf;
    size_t got;
    if (bm_read_file(path, MAX_FILE_BYTES, &buf, &got, err, errlen) != 0) return -1;
    char why[256];
    int rc = voice_features_read_mem(buf, got, 0, out, why, sizeof why);
    free(buf);
    if (rc != 0) bm_errf(err, errlen, "%s is not a usable voice feature file: %s", path, why);
    return rc;
}
