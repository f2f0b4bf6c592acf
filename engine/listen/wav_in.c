/* wav_in.c: reading the performer's audio with libsndfile. */
#include "engine/listen/wav_in.h"
#include "engine/util.h"

#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int wav_in_load(const char *path, double want_rate, bm_wav_in *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        bm_errf(err, errlen, "the performer's audio %s does not exist or cannot be read (%s)", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        bm_errf(err, errlen, "%s is a folder, not the performer's audio", path);
        return -1;
    }
    if (st.st_size == 0) {
        bm_errf(err, errlen, "the performer's audio %s is empty", path);
        return -1;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        bm_errf(err, errlen, "%s is not a sound file bandmate can read (%s)", path, sf_strerror(NULL));
        return -1;
    }
    int rc = -1;
    if (info.frames <= 0) {
        bm_errf(err, errlen, "the performer's audio %s holds no sound (0 frames)", path);
    } else if (info.channels != 1) {
        bm_errf(err, errlen, "%s has %d channels, but bandmate listens to one: mix it down first "
                "(sox %s -c 1 mono.wav)", path, info.channels, path);
    } else if (info.samplerate < 8000 || info.samplerate > 384000) {
        bm_errf(err, errlen, "%s is sampled at %d Hz, outside the 8000..384000 Hz bandmate works at", path,
                info.samplerate);
    } else if (want_rate > 0 && (double)info.samplerate != want_rate) {
        bm_errf(err, errlen, "%s is sampled at %d Hz but the session runs at %.0f Hz: leave out "
                "--sample-rate, or resample it (sox %s -r %.0f out.wav)", path, info.samplerate, want_rate,
                path, want_rate);
    } else if ((double)info.frames > BM_WAV_IN_MAX_SECONDS * info.samplerate) {
        bm_errf(err, errlen, "%s is longer than %.0f minutes, more than an offline render takes", path,
                BM_WAV_IN_MAX_SECONDS / 60);
    } else if (!(out->samples = malloc((size_t)info.frames * sizeof(float)))) {
        bm_errf(err, errlen, "out of memory reading %s", path);
    } else {
        sf_count_t got = sf_readf_float(f, out->samples, info.frames);
        if (got <= 0) {
            bm_errf(err, errlen, "%s could not be read: %s", path, sf_strerror(f));
            free(out->samples);
            out->samples = NULL;
        } else {
            out->frames = got;
            out->sample_rate = info.samplerate;
            rc = 0;
        }
    }
    sf_close(f);
    return rc;
}

void wav_in_free(bm_wav_in *w)
{
    free(w->samples);
    memset(w, 0, sizeof *w);
}
