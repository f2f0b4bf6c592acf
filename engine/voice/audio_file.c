/* audio_file.c: libsndfile in and out for the voice analysis. */
#include "engine/voice/audio_file.h"
#include "engine/util.h"
#include "engine/voice/analysis.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int voice_audio_read(const char *path, int mixdown, float **x, size_t *n, int *sr, char *err,
                     size_t errlen)
{
    *x = NULL;
    *n = 0;
    *sr = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        bm_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        bm_errf(err, errlen, "%s is a directory, not an audio file", path);
        return -1;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        if (st.st_size == 0)
            bm_errf(err, errlen, "%s is empty (0 bytes), not an audio file", path);
        else
            bm_errf(err, errlen, "%s is not an audio file libsndfile can read (%s)", path,
                    sf_strerror(NULL));
        return -1;
    }
    int rc = -1;
    float *buf = NULL;
    if (info.channels < 1) {
        bm_errf(err, errlen, "%s has no audio channels", path);
    } else if (info.channels > 1 && !mixdown) {
        bm_errf(err, errlen,
                "%s has %d channels; analyse one instrument on one channel (mix it down, e.g. "
                "'sox IN.wav -c 1 OUT.wav')",
                path, info.channels);
    } else if (info.frames <= 0) {
        bm_errf(err, errlen, "%s holds no samples", path);
    } else if (info.samplerate < VOICE_MIN_RATE || info.samplerate > VOICE_MAX_RATE) {
        bm_errf(err, errlen,
                "%s is sampled at %d Hz; use %d to %d Hz (e.g. 'sox IN.wav -r 48000 OUT.wav')", path,
                info.samplerate, VOICE_MIN_RATE, VOICE_MAX_RATE);
    } else if (info.frames > (sf_count_t)info.samplerate * VOICE_AUDIO_MAX_SECONDS) {
        bm_errf(err, errlen, "%s is longer than an hour; cut it into shorter recordings", path);
    } else {
        size_t frames = (size_t)info.frames, ch = (size_t)info.channels;
        buf = malloc(frames * ch * sizeof *buf);
        float *mono = ch > 1 ? malloc(frames * sizeof *mono) : buf;
        if (!buf || !mono) {
            bm_errf(err, errlen, "out of memory reading %s", path);
            if (mono != buf) free(mono);
        } else {
            sf_count_t got = sf_readf_float(f, buf, (sf_count_t)frames);
            if (got <= 0) {
                bm_errf(err, errlen, "cannot read the samples of %s (%s)", path, sf_strerror(f));
                if (mono != buf) free(mono);
            } else {
                size_t nread = (size_t)got;
                if (ch > 1)
                    for (size_t i = 0; i < nread; i++) {
                        double s = 0.0;
                        for (size_t c = 0; c < ch; c++) s += buf[i * ch + c];
                        mono[i] = (float)(s / (double)ch);
                    }
                if (mono != buf) {
                    free(buf);
                    buf = mono;
                }
                size_t bad = 0;
                while (bad < nread && isfinite(buf[bad])) bad++;
                if (bad < nread) {
                    bm_errf(err, errlen, "%s is damaged: sample %zu is not a number", path, bad);
                } else {
                    *x = buf;
                    *n = nread;
                    *sr = info.samplerate;
                    buf = NULL;
                    rc = 0;
                }
            }
        }
    }
    free(buf);
    sf_close(f);
    return rc;
}

int voice_audio_write(const char *path, const float *x, size_t n, int sr, int float32, char *err,
                      size_t errlen)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sr;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | (float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        bm_errf(err, errlen, "cannot write %s (%s)", path, sf_strerror(NULL));
        return -1;
    }
    if (!float32) sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t w = sf_writef_float(f, x, (sf_count_t)n);
    int closed = sf_close(f);
    if (w != (sf_count_t)n || closed != 0) {
        bm_errf(err, errlen, "cannot write %s (disk full?)", path);
        return -1;
    }
    return 0;
}
