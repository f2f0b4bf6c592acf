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

double beat_track_bpm_at(const bm_beat_track *b, int64_t frame)
{
    if (!b->locked) return 0;
    double u = ((double)frame - b->anchor) / b->period;
    u = u < 0 ? 0 : u > 4 ? 4 : u;
    return 60.0 * b->sr / (b->period + b->trend * u);
}

double beat_track_position(const bm_beat_track *b, int64_t frame)
{
    double d = (double)frame - b->anchor, u = d / b->period;
    /* with a trend, the mean period over the beats since the anchor (for a few beats ahead) */
    double ua = u < 0 ? 0 : u > 4 ? 4 : u;
    return (double)b->k_anchor + d / (b->period + 0.5 * b->trend * ua);
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
    b->trend = 0;
    b->miss_run = 0;
    b->relocks++;
}

/* 3x3 determinant. */
static double det3(double a, double b, double c, double d, double e, double f, double g, double h, double i)
{
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
}

/* Weighted least squares of frame against beat number over the fit points, newer points weighing
 * more: a line, or with enough points a parabola, whose slope at the newest beat is the period
 * now and whose curvature is the tempo's trend (a performer speeding up or slowing down). */
static void refit(bm_beat_track *b)
{
    int64_t kmax = b->fit[b->nfit - 1].k;
    double s[5] = {0}, r[3] = {0}, t0 = b->fit[b->nfit - 1].t;
    for (int i = 0; i < b->nfit; i++) {
        double u = (double)(b->fit[i].k - kmax), t = b->fit[i].t - t0;
        double w = b->fit[i].w * pow(FIT_DECAY, -u);
        double up = 1;
        for (int k = 0; k < 5; k++, up *= u) s[k] += w * up;
        r[0] += w * t;
        r[1] += w * u * t;
        r[2] += w * u * u * t;
    }
    double span = (double)(kmax - b->fit[0].k);
    double p = b->period, a = 0, curv = 0;
    int solved = 0;
    if (b->nfit >= 6 && span >= 5) { /* t = a + p u + curv u^2 */
        double d = det3(s[0], s[1], s[2], s[1], s[2], s[3], s[2], s[3], s[4]);
        if (fabs(d) > 1e-12 * s[0] * s[4] * s[4]) {
            a = det3(r[0], s[1], s[2], r[1], s[2], s[3], r[2], s[3], s[4]) / d;
            p = det3(s[0], r[0], s[2], s[1], r[1], s[3], s[2], r[2], s[4]) / d;
            curv = det3(s[0], s[1], r[0], s[1], s[2], r[1], s[2], s[3], r[2]) / d;
            solved = 1;
        }
    }
    if (!solved && b->nfit >= 3) {
        double den = s[0] * s[2] - s[1] * s[1];
        if (den > 1e-9 * s[0] * s[0]) {
            p = (s[0] * r[1] - s[1] * r[0]) / den;
            a = (r[0] - p * s[1]) / s[0];
            solved = 1;
        }
    }
    if (solved) {
        /* bounded: the period by at most 15 % per onset, the trend to 3 % per beat */
        if (p > 1.15 * b->period) p = 1.15 * b->period;
        if (p < 0.87 * b->period) p = 0.87 * b->period;
        double tr = 2 * curv, lim = 0.03 * p;
        b->trend = tr > lim ? lim : tr < -lim ? -lim : tr;
        b->period = p;
        b->anchor = t0 + a;
    } else {
        /* too few points for a slope: move the phase half way to the newest onset */
        double pred = b->anchor + (double)(kmax - b->k_anchor) * b->period;
        b->anchor = pred + 0.5 * (t0 - pred);
        b->trend = 0;
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
        if (b->miss_run++ == 0) b->first_miss = frame;
    }
    /* lost the beat? Every half beat, compare the grid with the best one for the last few beats
     * (the onsets since the beat was lost, when onsets have been missing it) and move to that one
     * when it explains them clearly better */
    if ((double)(frame - b->last_search) < 0.5 * b->period) return;
    double window = 4.0 * b->period / b->sr;
    if (window < 1.5) window = 1.5;
    if (b->miss_run >= 2) {
        double since = (double)(frame - b->first_miss) / b->sr + 0.45 * b->period / b->sr;
        if (since < window) window = since;
    }
    int recent = 0;
    for (int i = 0; i < b->count; i++)
        if ((double)(frame - onset_at(b, i)->frame) <= window * b->sr) recent++;
    if (recent < 4) return;
    b->last_search = frame;
    float cur = grid_fit(b, frame, b->period, b->anchor, window);
    if (cur >= 0.8f) return;
    double p, a, keep = b->anchor;
    float fit = search(b, frame, b->period / 1.6, b->period * 1.6, b->period, 0.35, window, 10.0, &keep, &p, &a);
    if (fit >= 0.7f && fit >= cur + 0.15f) {
        relock(b, p, a);
        b->miss_run = 0;
    }
}
