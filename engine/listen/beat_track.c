/* beat_track.c: onset autocorrelation for the period, a phase histogram for the beat, a weighted
 * line fit (beat number against frame) to follow both. */
#include "engine/listen/beat_track.h"

#include <math.h>
#include <string.h>

#define MERGE_S 0.03          /* onsets closer than this are one */
#define WINDOW_S 6.0          /* onsets older than this are forgotten */
#define LOCK_ONSETS 4         /* onsets needed before a first search */
#define LOCK_SPAN_S 1.2       /* ... spanning at least this long */
#define ON_GRID 0.2           /* |phase error| (beats) for an onset to count as on the beat */
#define FIT_DECAY 0.7         /* weight per beat of age in the line fit */
#define LAG_RES_S 0.005       /* autocorrelation bin width */
#define MIN_BPM 40.0
#define MAX_BPM 240.0
#define TWO_PI 6.28318530717958647692

void beat_track_init(bm_beat_track *b, double sr, double prior_bpm)
{
    memset(b, 0, sizeof *b);
    b->sr = sr > 0 ? sr : 48000;
    beat_track_set_prior(b, prior_bpm);
    b->last_search = INT64_MIN / 2;
    b->last_onset = INT64_MIN / 2;
}

void beat_track_set_prior(bm_beat_track *b, double bpm)
{
    if (!(bpm >= MIN_BPM)) bpm = MIN_BPM;
    if (bpm > MAX_BPM) bpm = MAX_BPM;
    b->prior_period = 60.0 * b->sr / bpm;
}

int beat_track_locked(const bm_beat_track *b) { return b->locked; }

double beat_track_bpm(const bm_beat_track *b) { return b->locked ? 60.0 * b->sr / b->period : 0; }

double beat_track_position(const bm_beat_track *b, int64_t frame)
{
    return (double)b->k_anchor + ((double)frame - b->anchor) / b->period;
}

float beat_track_confidence(const bm_beat_track *b)
{
    return b->locked && b->total > 0 ? b->hit / b->total : 0;
}

static const bm_beat_onset *onset_at(const bm_beat_track *b, int i) /* 0 = oldest */
{
    return &b->on[(b->head - b->count + i + BT_MAX_ONSETS) % BT_MAX_ONSETS];
}

/* Weighted autocorrelation of the onsets newer than window seconds (recency time constant tau)
 * into b->lag; returns how many onsets took part. */
static int autocorrelate(bm_beat_track *b, int64_t now, double window, double tau)
{
    memset(b->lag, 0, sizeof b->lag);
    double res = LAG_RES_S * b->sr;
    int first = 0;
    while (first < b->count && (double)(now - onset_at(b, first)->frame) > window * b->sr) first++;
    float r[BT_MAX_ONSETS];
    for (int i = first; i < b->count; i++) {
        const bm_beat_onset *o = onset_at(b, i);
        r[i] = o->weight * (float)exp(-(double)(now - o->frame) / (tau * b->sr));
    }
    for (int i = first; i < b->count; i++)
        for (int j = i + 1; j < b->count; j++) {
            double d = (double)(onset_at(b, j)->frame - onset_at(b, i)->frame) / res;
            if (d < 0) d = -d;
            int c = (int)lround(d);
            if (c + 3 >= BT_LAG_BINS) continue;
            float w = r[i] * r[j];
            /* a triangle 7 bins wide tolerates the timing of a human */
            for (int k = -3; k <= 3; k++)
                if (c + k >= 0) b->lag[c + k] += w * (float)(4 - (k < 0 ? -k : k)) * 0.25f;
        }
    return b->count - first;
}

static float lag_at(const bm_beat_track *b, double period)
{
    double x = period / (LAG_RES_S * b->sr);
    int i = (int)x;
    if (i < 0 || i + 1 >= BT_LAG_BINS) return 0;
    double f = x - i;
    return (float)((1 - f) * b->lag[i] + f * b->lag[i + 1]);
}

/* Share of recent onset weight within ON_GRID of a grid (period, anchor). */
static float grid_fit(const bm_beat_track *b, int64_t now, double period, double anchor, double window)
{
    float on = 0, all = 0;
    for (int i = 0; i < b->count; i++) {
        const bm_beat_onset *o = onset_at(b, i);
        if ((double)(now - o->frame) > window * b->sr) continue;
        double x = ((double)o->frame - anchor) / period;
        double e = x - floor(x + 0.5);
        all += o->weight;
        if (fabs(e) <= ON_GRID) on += o->weight;
    }
    return all > 0 ? on / all : 0;
}

/* Finds the best period in [lo, hi] (frames) near prior (sigma in octaves) and the phase of its
 * beats; sets *period and *anchor (a beat frame near the newest onset). Returns the grid fit. */
static float search(bm_beat_track *b, int64_t now, double lo, double hi, double prior, double sigma,
                    double window, double tau, const double *keep_phase, double *period, double *anchor)
{
    if (autocorrelate(b, now, window, tau) < 3) return 0;
    double best_p = 0;
    float best = 0;
    for (double p = lo; p <= hi; p *= 1.01) {
        double oct = log2(p / prior) / sigma;
        float s = (lag_at(b, p) + 0.5f * lag_at(b, 2 * p)) * (float)exp(-0.5 * oct * oct);
        if (s > best) {
            best = s;
            best_p = p;
        }
    }
    if (best_p <= 0) return 0;
    /* the phase: a circular histogram of the onsets' positions within the beat */
    enum { NPH = 48 };
    float ph[NPH] = {0};
    double ref = (double)b->last_onset;
    for (int i = 0; i < b->count; i++) {
        const bm_beat_onset *o = onset_at(b, i);
        if ((double)(now - o->frame) > window * b->sr) continue;
        double x = ((double)o->frame - ref) / best_p;
        x -= floor(x);
        float w = o->weight * (float)exp(-(double)(now - o->frame) / (tau * b->sr));
        int c = (int)lround(x * NPH);
        for (int k = -2; k <= 2; k++) ph[((c + k) % NPH + NPH) % NPH] += w * (float)(3 - (k < 0 ? -k : k));
    }
    double keep = 0;
    if (keep_phase) { /* the current grid's phase, in the same frame of reference */
        keep = (*keep_phase - ref) / best_p;
        keep -= floor(keep);
    }
    int bi = 0;
    float bv = -1;
    for (int i = 0; i < NPH; i++) {
        float v = ph[i];
        if (keep_phase) v *= 1.0f + 0.25f * (float)cos(TWO_PI * ((double)i / NPH - keep));
        if (v > bv) {
            bv = v;
            bi = i;
        }
    }
    double phase = (double)bi / NPH;
    *period = best_p;
    *anchor = ref + phase * best_p;
    if (*anchor > ref + 0.5 * best_p) *anchor -= best_p;
    return grid_fit(b, now, best_p, *anchor, window);
}

static void relock(bm_beat_track *b, double period, double anchor)
{
    /* the beat numbers carry on from the old grid */
    int64_t k = b->locked ? (int64_t)floor(beat_track_position(b, (int64_t)anchor) + 0.5) : 0;
    b->period = period;
    b->anchor = anchor;
    b->k_anchor = k;
    b->locked = 1;
    b->nfit = 0;
    b->miss_run = 0;
    b->relocks++;
}

/* Weighted least squares of frame against beat number over the fit points. */
static void refit(bm_beat_track *b)
{
    int64_t kmax = b->fit[b->nfit - 1].k;
    double sw = 0, su = 0, st = 0, suu = 0, sut = 0, t0 = b->fit[b->nfit - 1].t;
    for (int i = 0; i < b->nfit; i++) {
        double u = (double)(b->fit[i].k - kmax), t = b->fit[i].t - t0;
        double w = b->fit[i].w * pow(FIT_DECAY, -u);
        sw += w;
        su += w * u;
        st += w * t;
        suu += w * u * u;
        sut += w * u * t;
    }
    double den = sw * suu - su * su;
    if (b->nfit >= 3 && den > 1e-9 * sw * sw) {
        double p = (sw * sut - su * st) / den;
        double a = (st - p * su) / sw;
        /* bounded: at most 15 % per onset */
        if (p > 1.15 * b->period) p = 1.15 * b->period;
        if (p < 0.87 * b->period) p = 0.87 * b->period;
        b->period = p;
        b->anchor = t0 + a;
    } else {
        /* too few points for a slope: move the phase half way to the newest onset */
        double pred = b->anchor + (double)(kmax - b->k_anchor) * b->period;
        b->anchor = pred + 0.5 * (t0 - pred);
    }
    b->k_anchor = kmax;
    double lo = 60.0 * b->sr / MAX_BPM, hi = 60.0 * b->sr / MIN_BPM;
    if (b->period < lo) b->period = lo;
    if (b->period > hi) b->period = hi;
}

void beat_track_onset(bm_beat_track *b, int64_t frame, float weight)
{
    if (!(weight > 0)) return;
    if (weight > 1) weight = 1;
    double merge = MERGE_S * b->sr;
    if (b->count && fabs((double)(frame - b->last_onset)) < merge) {
        bm_beat_onset *last = &b->on[(b->head - 1 + BT_MAX_ONSETS) % BT_MAX_ONSETS];
        last->weight = last->weight + weight > 1.5f ? 1.5f : last->weight + weight;
        return;
    }
    b->on[b->head] = (bm_beat_onset){frame, weight};
    b->head = (b->head + 1) % BT_MAX_ONSETS;
    if (b->count < BT_MAX_ONSETS) b->count++;
    if (frame > b->last_onset) b->last_onset = frame;
    while (b->count && (double)(b->last_onset - onset_at(b, 0)->frame) > WINDOW_S * b->sr) b->count--;

    double lo = 60.0 * b->sr / MAX_BPM, hi = 60.0 * b->sr / MIN_BPM;
    if (!b->locked) {
        if (b->count < LOCK_ONSETS ||
            (double)(b->last_onset - onset_at(b, 0)->frame) < LOCK_SPAN_S * b->sr)
            return;
        double p, a;
        float fit = search(b, frame, lo, hi, b->prior_period, 0.6, WINDOW_S, 3.0, NULL, &p, &a);
        if (fit >= 0.5f) {
            relock(b, p, a);
            b->hit = fit;
            b->total = 1;
            b->last_search = frame;
        }
        return;
    }

    double x = ((double)frame - b->anchor) / b->period;
    double kf = floor(x + 0.5), e = x - kf;
    b->hit *= 0.85f;
    b->total *= 0.85f;
    b->total += weight;
    if (fabs(e) <= ON_GRID) {
        b->hit += weight;
        b->miss_run = 0;
        int64_t k = b->k_anchor + (int64_t)kf;
        if (b->nfit && b->fit[b->nfit - 1].k == k) { /* a second onset on the same beat */
            if (weight > b->fit[b->nfit - 1].w) {
                b->fit[b->nfit - 1].t = (double)frame;
                b->fit[b->nfit - 1].w = weight;
            }
        } else if (!b->nfit || k > b->fit[b->nfit - 1].k) {
            if (b->nfit == BT_FIT) {
                memmove(b->fit, b->fit + 1, (BT_FIT - 1) * sizeof b->fit[0]);
                b->nfit--;
            }
            b->fit[b->nfit].t = (double)frame;
            b->fit[b->nfit].k = k;
            b->fit[b->nfit].w = weight;
            b->nfit++;
        }
        refit(b);
    } else if (fabs(e) < 0.4 && weight >= 0.3f) { /* neither on the beat nor half way */
        b->miss_run++;
    }
    /* lost the beat? look again, preferring the current tempo and phase */
    int due = b->miss_run >= 3 || ((double)(frame - b->last_search) > 2.0 * b->sr && b->hit < 0.5f * b->total);
    if (due) {
        b->last_search = frame;
        double p, a, keep = b->anchor;
        float cur = grid_fit(b, frame, b->period, b->anchor, 3.0);
        float fit = search(b, frame, b->period / 1.6, b->period * 1.6, b->period, 0.35, 3.0, 1.5, &keep, &p, &a);
        if (fit > cur + 0.1f) relock(b, p, a);
        b->miss_run = 0;
    }
}
