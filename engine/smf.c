/* smf.c: Standard MIDI File reader (strict, bounded, for untrusted input) and writer. */
#include "engine/smf.h"
#include "engine/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

smf *smf_new(int division)
{
    smf *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->format = 1;
    s->division = division > 0 && division < 0x8000 ? division : 480;
    return s;
}

void smf_free(smf *s)
{
    if (!s) return;
    for (int i = 0; i < s->ntracks; i++) free(s->tracks[i].events);
    free(s->tracks);
    free(s->blob);
    free(s);
}

int smf_add_track(smf *s, const char *name)
{
    if (s->ntracks >= SMF_MAX_TRACKS) return -1;
    smf_track *t = realloc(s->tracks, (size_t)(s->ntracks + 1) * sizeof *t);
    if (!t) return -1;
    s->tracks = t;
    smf_track *tr = &s->tracks[s->ntracks];
    memset(tr, 0, sizeof *tr);
    int idx = s->ntracks++;
    if (name) {
        snprintf(tr->name, sizeof tr->name, "%s", name);
        if (smf_add_meta(s, idx, 0, SMF_META_TRACK_NAME, name, (uint32_t)strlen(name)) != 0)
            return -1;
    }
    return idx;
}

static smf_event *push_event(smf_track *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        smf_event *e = realloc(t->events, cap * sizeof *e);
        if (!e) return NULL;
        t->events = e;
        t->cap = cap;
    }
    smf_event *e = &t->events[t->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static int blob_append(smf *s, const void *data, uint32_t len, uint32_t *off)
{
    if (s->blob_len + len > UINT32_MAX) return -1;
    if (s->blob_len + len > s->blob_cap) {
        size_t cap = s->blob_cap ? s->blob_cap : 256;
        while (cap < s->blob_len + len) cap *= 2;
        uint8_t *b = realloc(s->blob, cap);
        if (!b) return -1;
        s->blob = b;
        s->blob_cap = cap;
    }
    if (len) memcpy(s->blob + s->blob_len, data, len);
    *off = (uint32_t)s->blob_len;
    s->blob_len += len;
    return 0;
}

int smf_add_midi(smf *s, int track, uint64_t tick, const uint8_t *bytes, int nbytes)
{
    if (track < 0 || track >= s->ntracks || nbytes < 1 || nbytes > 3) return -1;
    smf_event *e = push_event(&s->tracks[track]);
    if (!e) return -1;
    e->tick = tick;
    e->kind = SMF_MIDI;
    e->nbytes = (uint8_t)nbytes;
    memcpy(e->bytes, bytes, (size_t)nbytes);
    return 0;
}

int smf_add_meta(smf *s, int track, uint64_t tick, uint8_t type, const void *data, uint32_t len)
{
    if (track < 0 || track >= s->ntracks) return -1;
    uint32_t off;
    if (blob_append(s, data, len, &off) != 0) return -1;
    smf_event *e = push_event(&s->tracks[track]);
    if (!e) return -1;
    e->tick = tick;
    e->kind = SMF_META;
    e->meta_type = type;
    e->data_off = off;
    e->data_len = len;
    return 0;
}

int smf_add_tempo(smf *s, int track, uint64_t tick, uint32_t usec_per_quarter)
{
    uint8_t d[3] = {(uint8_t)(usec_per_quarter >> 16), (uint8_t)(usec_per_quarter >> 8),
                    (uint8_t)usec_per_quarter};
    return smf_add_meta(s, track, tick, SMF_META_TEMPO, d, 3);
}

/* ---- reading ---- */

struct reader {
    const uint8_t *p, *end;
};

static int rd_vlq(struct reader *r, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (r->p >= r->end) return -1;
        uint8_t b = *r->p++;
        v = (v << 7) | (b & 0x7f);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -2; /* longer than four bytes */
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int midi_data_len(uint8_t status)
{
    switch (status & 0xf0) {
    case 0xc0:
    case 0xd0: return 1;
    default: return 2;
    }
}

static int read_track(smf *s, int idx, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    struct reader r = {data, data + len};
    uint64_t tick = 0;
    uint8_t running = 0;
    smf_track *t = &s->tracks[idx];
    int ended = 0;
    while (r.p < r.end && !ended) {
        uint32_t delta;
        if (rd_vlq(&r, &delta) != 0) {
            bm_errf(err, errlen, "track %d is damaged (bad delta time)", idx + 1);
            return -1;
        }
        tick += delta;
        if (r.p >= r.end) {
            bm_errf(err, errlen, "track %d is truncated", idx + 1);
            return -1;
        }
        uint8_t b = *r.p;
        if (b == 0xff) {
            r.p++;
            if (r.p >= r.end) {
                bm_errf(err, errlen, "track %d is truncated", idx + 1);
                return -1;
            }
            uint8_t type = *r.p++;
            uint32_t mlen;
            if (rd_vlq(&r, &mlen) != 0 || mlen > (size_t)(r.end - r.p)) {
                bm_errf(err, errlen, "track %d is truncated (meta event runs past the end)", idx + 1);
                return -1;
            }
            if (type == SMF_META_END_OF_TRACK) {
                ended = 1;
            } else {
                if (smf_add_meta(s, idx, tick, type, r.p, mlen) != 0) goto oom;
                if (type == SMF_META_TRACK_NAME && !t->name[0]) {
                    size_t n = mlen < sizeof t->name - 1 ? mlen : sizeof t->name - 1;
                    memcpy(t->name, r.p, n);
                    t->name[n] = 0;
                    for (size_t i = 0; i < n; i++)
                        if ((unsigned char)t->name[i] < 0x20) t->name[i] = ' ';
                }
            }
            r.p += mlen;
            running = 0;
        } else if (b == 0xf0 || b == 0xf7) {
            r.p++;
            uint32_t slen;
            if (rd_vlq(&r, &slen) != 0 || slen > (size_t)(r.end - r.p)) {
                bm_errf(err, errlen, "track %d is truncated (system-exclusive message runs past the end)",
                        idx + 1);
                return -1;
            }
            uint32_t off;
            if (blob_append(s, r.p, slen, &off) != 0) goto oom;
            smf_event *e = push_event(t);
            if (!e) goto oom;
            e->tick = tick;
            e->kind = SMF_SYSEX;
            e->meta_type = b;
            e->data_off = off;
            e->data_len = slen;
            r.p += slen;
            running = 0;
        } else {
            uint8_t status;
            if (b & 0x80) {
                if (b >= 0xf0) {
                    bm_errf(err, errlen, "track %d is damaged (system message 0x%02X inside a track)",
                            idx + 1, b);
                    return -1;
                }
                status = b;
                r.p++;
            } else {
                if (!running) {
                    bm_errf(err, errlen, "track %d is damaged (data byte with no status)", idx + 1);
                    return -1;
                }
                status = running;
            }
            int n = midi_data_len(status);
            if ((size_t)(r.end - r.p) < (size_t)n) {
                bm_errf(err, errlen, "track %d is truncated", idx + 1);
                return -1;
            }
            uint8_t msg[3] = {status, 0, 0};
            for (int i = 0; i < n; i++) {
                if (r.p[i] & 0x80) {
                    bm_errf(err, errlen, "track %d is damaged (status byte where data was expected)",
                            idx + 1);
                    return -1;
                }
                msg[1 + i] = r.p[i];
            }
            r.p += n;
            running = status;
            if (smf_add_midi(s, idx, tick, msg, n + 1) != 0) goto oom;
        }
        if (tick > (uint64_t)1 << 40) {
            bm_errf(err, errlen, "track %d is damaged (it lasts longer than any performance)", idx + 1);
            return -1;
        }
    }
    return 0;
oom:
    bm_errf(err, errlen, "out of memory while reading track %d", idx + 1);
    return -1;
}

int smf_read_mem(const uint8_t *data, size_t len, smf **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len < 14 || memcmp(data, "MThd", 4) != 0) {
        bm_errf(err, errlen, "it is not a Standard MIDI File (no MThd header)");
        return -1;
    }
    uint32_t hlen = be32(data + 4);
    if (hlen < 6 || hlen > len - 8) {
        bm_errf(err, errlen, "its MIDI header is damaged");
        return -1;
    }
    int format = data[8] << 8 | data[9];
    int ntracks = data[10] << 8 | data[11];
    int division = data[12] << 8 | data[13];
    if (format > 2) {
        bm_errf(err, errlen, "it has an unknown MIDI file format %d", format);
        return -1;
    }
    if (ntracks == 0 || ntracks > SMF_MAX_TRACKS) {
        bm_errf(err, errlen, "its header announces %d tracks", ntracks);
        return -1;
    }
    if (division == 0) {
        bm_errf(err, errlen, "its header has a time division of zero");
        return -1;
    }
    smf *s = smf_new(480);
    if (!s) {
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    s->format = format == 0 ? 0 : 1;
    int smpte = (division & 0x8000) != 0;
    if (smpte) {
        /* frames per second (negative, two's complement) x ticks per frame = ticks per second;
         * stored as ticks per quarter at the default 120 BPM (half a second per quarter). */
        int fps = -(int8_t)(division >> 8);
        int tpf = division & 0xff;
        if (fps <= 0 || tpf == 0 || (fps * tpf) / 2 == 0 || (fps * tpf) / 2 >= 0x8000) {
            bm_errf(err, errlen, "its SMPTE time division is invalid");
            smf_free(s);
            return -1;
        }
        s->division = fps * tpf / 2;
    } else {
        s->division = division;
    }
    size_t pos = 8 + hlen;
    int found = 0;
    while (found < ntracks) {
        if (pos == len) break;
        if (len - pos < 8) {
            bm_errf(err, errlen, "it is truncated after %d of %d tracks", found, ntracks);
            smf_free(s);
            return -1;
        }
        uint32_t clen = be32(data + pos + 4);
        if (clen > len - pos - 8) {
            bm_errf(err, errlen, "it is truncated (track %d runs past the end of the file)", found + 1);
            smf_free(s);
            return -1;
        }
        if (memcmp(data + pos, "MTrk", 4) == 0) {
            int idx = smf_add_track(s, NULL);
            if (idx < 0) {
                bm_errf(err, errlen, "out of memory");
                smf_free(s);
                return -1;
            }
            if (read_track(s, idx, data + pos + 8, clen, err, errlen) != 0) {
                smf_free(s);
                return -1;
            }
            found++;
        }
        pos += 8 + (size_t)clen;
    }
    if (found < ntracks) {
        bm_errf(err, errlen, "it is truncated: %d of %d tracks are there", found, ntracks);
        smf_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int smf_read_file(const char *path, smf **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        bm_errf(err, errlen, "%s is not a usable MIDI file: it is %s", path,
                S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
        return -1;
    }
    uint8_t *buf;
    size_t got;
    if (bm_read_file(path, SMF_MAX_FILE_BYTES, &buf, &got, err, errlen) != 0) return -1;
    char why[256];
    int rc = smf_read_mem(buf, got, out, why, sizeof why);
    free(buf);
    if (rc != 0) bm_errf(err, errlen, "%s is not a usable MIDI file: %s", path, why);
    return rc;
}

/* ---- writing ---- */

struct wbuf {
    uint8_t *d;
    size_t n, cap;
    int failed;
};

static void wb_put(struct wbuf *w, const void *p, size_t n)
{
    if (w->failed || n == 0) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->n + n) cap *= 2;
        uint8_t *d = realloc(w->d, cap);
        if (!d) {
            w->failed = 1;
            return;
        }
        w->d = d;
        w->cap = cap;
    }
    memcpy(w->d + w->n, p, n);
    w->n += n;
}

static void wb_byte(struct wbuf *w, uint8_t b) { wb_put(w, &b, 1); }

static void wb_be32(struct wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    wb_put(w, b, 4);
}

static void wb_vlq(struct wbuf *w, uint32_t v)
{
    uint8_t tmp[5];
    int n = 0;
    tmp[n++] = v & 0x7f;
    while ((v >>= 7)) tmp[n++] = (uint8_t)(0x80 | (v & 0x7f));
    while (n) wb_byte(w, tmp[--n]);
}


/* Stable sort by tick: a merge sort, because qsort is not stable. */
static void sort_events(smf_event *ev, size_t n, smf_event *tmp)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_events(ev, h, tmp);
    sort_events(ev + h, n - h, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = ev[j].tick < ev[i].tick ? ev[j++] : ev[i++];
    while (i < h) tmp[k++] = ev[i++];
    while (j < n) tmp[k++] = ev[j++];
    memcpy(ev, tmp, n * sizeof *ev);
}

int smf_write_mem(smf *s, uint8_t **out, size_t *len)
{
    struct wbuf w = {0};
    wb_put(&w, "MThd", 4);
    wb_be32(&w, 6);
    uint8_t hdr[6] = {0, (uint8_t)(s->ntracks > 1 ? 1 : s->format), (uint8_t)(s->ntracks >> 8),
                      (uint8_t)s->ntracks, (uint8_t)(s->division >> 8), (uint8_t)s->division};
    wb_put(&w, hdr, 6);
    for (int ti = 0; ti < s->ntracks; ti++) {
        smf_track *t = &s->tracks[ti];
        if (t->n > 1) {
            smf_event *tmp = malloc(t->n * sizeof *tmp);
            if (!tmp) {
                free(w.d);
                return -1;
            }
            sort_events(t->events, t->n, tmp);
            free(tmp);
        }
        wb_put(&w, "MTrk", 4);
        size_t len_pos = w.n;
        wb_be32(&w, 0);
        size_t start = w.n;
        uint64_t last = 0;
        for (size_t i = 0; i < t->n; i++) {
            const smf_event *e = &t->events[i];
            uint64_t d = e->tick - last;
            while (d > 0x0fffffff) { /* split an enormous gap with empty text events */
                wb_vlq(&w, 0x0fffffff);
                wb_byte(&w, 0xff);
                wb_byte(&w, SMF_META_TEXT);
                wb_byte(&w, 0);
                d -= 0x0fffffff;
            }
            wb_vlq(&w, (uint32_t)d);
            last = e->tick;
            if (e->kind == SMF_MIDI) {
                wb_put(&w, e->bytes, e->nbytes);
            } else if (e->kind == SMF_META) {
                wb_byte(&w, 0xff);
                wb_byte(&w, e->meta_type);
                wb_vlq(&w, e->data_len);
                if (e->data_len) wb_put(&w, s->blob + e->data_off, e->data_len);
            } else {
                wb_byte(&w, e->meta_type);
                wb_vlq(&w, e->data_len);
                if (e->data_len) wb_put(&w, s->blob + e->data_off, e->data_len);
            }
        }
        wb_vlq(&w, 0);
        wb_put(&w, "\xff\x2f\x00", 3);
        if (w.failed) break;
        uint32_t tl = (uint32_t)(w.n - start);
        uint8_t b[4] = {(uint8_t)(tl >> 24), (uint8_t)(tl >> 16), (uint8_t)(tl >> 8), (uint8_t)tl};
        memcpy(w.d + len_pos, b, 4);
    }
    if (w.failed) {
        free(w.d);
        return -1;
    }
    *out = w.d;
    *len = w.n;
    return 0;
}

int smf_write_file(smf *s, const char *path, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    if (smf_write_mem(s, &buf, &len) != 0) {
        bm_errf(err, errlen, "out of memory writing %s", path);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        bm_errf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        free(buf);
        return -1;
    }
    size_t put = fwrite(buf, 1, len, f);
    free(buf);
    int ok = put == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        bm_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- tempo map ---- */

int smf_tempo_map_build(const smf *s, smf_tempo_map *map)
{
    memset(map, 0, sizeof *map);
    size_t count = 1;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind == SMF_META && e->meta_type == SMF_META_TEMPO && e->data_len == 3) count++;
        }
    map->tick = malloc(count * sizeof *map->tick);
    map->seconds = malloc(count * sizeof *map->seconds);
    map->sec_per_tick = malloc(count * sizeof *map->sec_per_tick);
    if (!map->tick || !map->seconds || !map->sec_per_tick) {
        smf_tempo_map_free(map);
        return -1;
    }
    /* collect (tick, usec) pairs, then sort by tick (insertion sort: tempo events are few) */
    size_t n = 0;
    map->tick[n] = 0;
    map->sec_per_tick[n] = 0.5 / s->division;
    n++;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind != SMF_META || e->meta_type != SMF_META_TEMPO || e->data_len != 3) continue;
            const uint8_t *d = s->blob + e->data_off;
            uint32_t us = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
            if (us == 0) us = 500000;
            size_t k = n++;
            while (k > 0 && map->tick[k - 1] > e->tick) {
                map->tick[k] = map->tick[k - 1];
                map->sec_per_tick[k] = map->sec_per_tick[k - 1];
                k--;
            }
            map->tick[k] = e->tick;
            map->sec_per_tick[k] = us * 1e-6 / s->division;
        }
    /* a tempo event at tick 0 replaces the default */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && map->tick[w - 1] == map->tick[i]) w--;
        map->tick[w] = map->tick[i];
        map->sec_per_tick[w] = map->sec_per_tick[i];
        w++;
    }
    map->n = w;
    map->seconds[0] = 0;
    for (size_t i = 1; i < w; i++)
        map->seconds[i] =
            map->seconds[i - 1] + (double)(map->tick[i] - map->tick[i - 1]) * map->sec_per_tick[i - 1];
    return 0;
}

double smf_tempo_map_seconds(const smf_tempo_map *map, uint64_t tick)
{
    size_t lo = 0, hi = map->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (map->tick[mid] <= tick) lo = mid;
        else hi = mid;
    }
    return map->seconds[lo] + (double)(tick - map->tick[lo]) * map->sec_per_tick[lo];
}

uint64_t smf_tempo_map_ticks(const smf_tempo_map *map, double seconds)
{
    if (seconds <= 0) return 0;
    size_t lo = 0, hi = map->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (map->seconds[mid] <= seconds) lo = mid;
        else hi = mid;
    }
    double t = (double)map->tick[lo] + (seconds - map->seconds[lo]) / map->sec_per_tick[lo];
    return (uint64_t)(t + 0.5);
}

void smf_tempo_map_free(smf_tempo_map *map)
{
    free(map->tick);
    free(map->seconds);
    free(map->sec_per_tick);
    memset(map, 0, sizeof *map);
}
