/* chroma.c: onsets on short hops; chroma from a long phase-vocoder window folded onto the twelve
 * pitch classes, each bin weighted by how close it lies to a semitone's centre. */
#include "engine/listen/chroma.h"
#include "engine/util.h"

#include <aubio/aubio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHROMA_LOW_HZ 55.0
#define CHROMA_HIGH_HZ 2100.0

struct bm_chroma {
    bm_chroma_config cfg;
    uint32_t win, hop, ohop;
    aubio_pvoc_t *pv;
    cvec_t *grain;
    fvec_t *hopbuf;           /* chroma hop */
    aubio_onset_t *onset;
    fvec_t *ohopbuf, *oout;
    uint32_t fill, ofill;
    int16_t *bin_pc;          /* semitone (MIDI note) of each FFT bin, -1 outside the range */
    float *bin_w;             /* its weight */
    float gate;
    int64_t next_frame;
    int started;
};

bm_chroma *chroma_create(const bm_chroma_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->sample_rate >= 8000 && cfg->sample_rate <= 384000)) {
        bm_errf(err, errlen, "the sample rate %.0f Hz is outside 8000..384000", cfg->sample_rate);
        return NULL;
    }
    bm_chroma *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->cfg = *cfg;
    /* a window of about 170 ms resolves semitones down to about 100 Hz */
    uint32_t win = 1024;
    while (win < 0.17 * cfg->sample_rate && win < 32768) win <<= 1;
    c->win = win;
    c->hop = win / 8;
    c->ohop = 256;
    while (c->ohop > 64 && c->ohop > 0.006 * cfg->sample_rate) c->ohop >>= 1;
    uint_t sr = (uint_t)lround(cfg->sample_rate);
    c->pv = new_aubio_pvoc(win, c->hop);
    c->grain = new_cvec(win);
    c->hopbuf = new_fvec(c->hop);
    c->onset = new_aubio_onset("hfc", c->ohop * 4, c->ohop, sr);
    c->ohopbuf = new_fvec(c->ohop);
    c->oout = new_fvec(1);
    uint32_t nbins = win / 2 + 1;
    c->bin_pc = malloc(nbins * sizeof *c->bin_pc);
    c->bin_w = malloc(nbins * sizeof *c->bin_w);
    if (!c->pv || !c->grain || !c->hopbuf || !c->onset || !c->ohopbuf || !c->oout || !c->bin_pc || !c->bin_w)
        goto oom;
    for (uint32_t k = 0; k < nbins; k++) {
        double hz = (double)k * cfg->sample_rate / win;
        c->bin_pc[k] = -1;
        c->bin_w[k] = 0;
        if (hz < CHROMA_LOW_HZ || hz > CHROMA_HIGH_HZ) continue;
        double m = 69.0 + 12.0 * log2(hz / 440.0);
        double d = fabs(m - floor(m + 0.5));
        c->bin_pc[k] = (int16_t)floor(m + 0.5);
        c->bin_w[k] = (float)(d < 0.4 ? 1.0 - d * 2.0 : 0.2); /* off-centre bins count less */
    }
    aubio_onset_set_threshold(c->onset, cfg->onset_threshold);
    aubio_onset_set_silence(c->onset, cfg->silence_db);
    aubio_onset_set_minioi_ms(c->onset, 50);
    c->gate = powf(10.0f, cfg->silence_db / 20.0f);
    chroma_reset(c);
    return c;
oom:
    bm_errf(err, errlen, "out of memory (or no FFT) while setting up the chroma analysis");
    chroma_destroy(c);
    return NULL;
}

void chroma_destroy(bm_chroma *c)
{
    if (!c) return;
    if (c->pv) del_aubio_pvoc(c->pv);
    if (c->grain) del_cvec(c->grain);
    if (c->hopbuf) del_fvec(c->hopbuf);
    if (c->onset) del_aubio_onset(c->onset);
    if (c->ohopbuf) del_fvec(c->ohopbuf);
    if (c->oout) del_fvec(c->oout);
    free(c->bin_pc);
    free(c->bin_w);
    free(c);
}

void chroma_reset(bm_chroma *c)
{
    aubio_onset_reset(c->onset);
    fvec_zeros(c->hopbuf);
    for (uint32_t i = 0; i < c->win / c->hop + 1; i++) aubio_pvoc_do(c->pv, c->hopbuf, c->grain);
    c->fill = c->ofill = 0;
    c->started = 0;
}

uint32_t chroma_window(const bm_chroma *c) { return c->win; }
uint32_t chroma_hop(const bm_chroma *c) { return c->hop; }
uint32_t chroma_onset_hop(const bm_chroma *c) { return c->ohop; }

static void chroma_frame(bm_chroma *c, bm_chroma_out *out)
{
    aubio_pvoc_do(c->pv, c->hopbuf, c->grain);
    float sum = 0;
    for (uint32_t i = 0; i < c->hop; i++) sum += c->hopbuf->data[i] * c->hopbuf->data[i];
    float rms = sqrtf(sum / c->hop);
    out->db = rms > 1e-10f ? 20.0f * log10f(rms) : -200.0f;
    out->active = rms >= c->gate;
    float semi[128] = {0}, v[12] = {0};
    if (out->active) {
        uint32_t nbins = c->win / 2 + 1;
        for (uint32_t k = 0; k < nbins; k++)
            if (c->bin_pc[k] >= 0 && c->bin_pc[k] < 128) {
                float m = c->grain->norm[k];
                semi[c->bin_pc[k]] += c->bin_w[k] * m * m;
            }
        /* a note's upper partials land on other pitch classes (the fifth, the major third): take
         * an expected share of each semitone's magnitude away from its partials, lowest notes first */
        static const struct { int up; float share; } partials[5] = {{12, 0.3f}, {19, 0.3f}, {24, 0.2f}, {28, 0.2f}, {31, 0.15f}};
        for (int m = 0; m < 128; m++) semi[m] = sqrtf(semi[m]);
        for (int m = 0; m < 128; m++)
            for (int h = 0; h < 5; h++) {
                int u = m + partials[h].up;
                if (u < 128) semi[u] = semi[u] > partials[h].share * semi[m] ? semi[u] - partials[h].share * semi[m] : 0;
            }
        for (int m = 0; m < 128; m++) v[m % 12] += semi[m];
    }
    float mx = 0;
    for (int pc = 0; pc < 12; pc++)
        if (v[pc] > mx) mx = v[pc];
    for (int pc = 0; pc < 12; pc++) out->chroma[pc] = mx > 0 ? v[pc] / mx : 0;
    out->new_chroma = 1;
}

void chroma_process(bm_chroma *c, const float *in, uint32_t n, int64_t frame, bm_chroma_out *out)
{
    out->n_onsets = 0;
    out->new_chroma = 0;
    if (!c->started || frame != c->next_frame) {
        c->fill = c->ofill = 0;
        c->started = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        float x = in[i] == in[i] ? in[i] : 0;
        c->hopbuf->data[c->fill++] = x;
        if (c->fill == c->hop) {
            chroma_frame(c, out);
            c->fill = 0;
        }
        c->ohopbuf->data[c->ofill++] = x;
        if (c->ofill == c->ohop) {
            c->ofill = 0;
            aubio_onset_do(c->onset, c->ohopbuf, c->oout);
            if (c->oout->data[0] > 0 && out->n_onsets < 8) {
                int64_t end = frame + i + 1;
                /* aubio's own estimate of where the onset lies, counted from its start */
                float sum = 0;
                for (uint32_t k = 0; k < c->ohop; k++) sum += c->ohopbuf->data[k] * c->ohopbuf->data[k];
                float rms = sqrtf(sum / c->ohop);
                int64_t at = end - (int64_t)aubio_onset_get_delay(c->onset) - (int64_t)c->ohop / 2;
                out->onset_frame[out->n_onsets] = at;
                out->onset_db[out->n_onsets] = rms > 1e-10f ? 20.0f * log10f(rms) : -200.0f;
                out->onset_detected[out->n_onsets] = end;
                out->n_onsets++;
            }
        }
    }
    c->next_frame = frame + n;
}
