/* mus_sample.c: sampling under live controls. */
#include "engine/musician/mus_sample.h"

#include <math.h>

double mus_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

void mus_probs(const float *logits, int n, float temperature, const float *bias, const uint8_t *allowed,
               float *probs)
{
    if (temperature < 0.01f) temperature = 0.01f;
    int any = 0;
    for (int i = 0; i < n && allowed; i++) any |= allowed[i];
    if (!any) allowed = 0;
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (allowed && !allowed[i]) continue;
        float z = (logits[i] + (bias ? bias[i] : 0)) / temperature;
        probs[i] = z;
        mx = z > mx ? z : mx;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (allowed && !allowed[i]) {
            probs[i] = 0;
            continue;
        }
        probs[i] = expf(probs[i] - mx);
        sum += probs[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) probs[i] *= inv;
}

int mus_pick(const float *probs, int n, float top_p, int greedy, uint64_t *rng)
{
    if (n > MUS_SAMPLE_MAX) n = MUS_SAMPLE_MAX;
    if (greedy) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (probs[i] > probs[best]) best = i;
        return best;
    }
    double total = 0;
    for (int i = 0; i < n; i++) total += probs[i];
    if (total <= 0) return 0;
    float cut = 0; /* probabilities below this are left out */
    if (top_p < 0.999f) {
        /* the nucleus threshold by a shell sort of a copy (n is small) */
        float v[MUS_SAMPLE_MAX];
        for (int i = 0; i < n; i++) v[i] = probs[i];
        for (int gap = n / 2; gap > 0; gap /= 2)
            for (int i = gap; i < n; i++) {
                float x = v[i];
                int j = i;
                while (j >= gap && v[j - gap] < x) {
                    v[j] = v[j - gap];
                    j -= gap;
                }
                v[j] = x;
            }
        double acc = 0, need = (top_p > 0.01f ? top_p : 0.01f) * total;
        for (int i = 0; i < n; i++) {
            acc += v[i];
            if (acc >= need) {
                cut = v[i];
                break;
            }
        }
    }
    double kept = 0;
    for (int i = 0; i < n; i++)
        if (probs[i] >= cut) kept += probs[i];
    double u = mus_rand(rng) * kept;
    int last = 0;
    for (int i = 0; i < n; i++) {
        if (probs[i] < cut || probs[i] <= 0) continue;
        last = i;
        if (u < probs[i]) return i;
        u -= probs[i];
    }
    return last;
}

uint64_t mus_pick_drums(const float *logits, int npieces, int nvel, float temperature, float bias,
                        float top_p, uint64_t *rng)
{
    int greedy = temperature <= MUS_GREEDY_TEMPERATURE;
    if (temperature < 0.01f) temperature = 0.01f;
    float floor_p = top_p < 0.999f ? (1.0f - top_p) * 0.5f : 0.0f;
    uint64_t bits = 0;
    for (int p = 0; p < npieces; p++) {
        if (greedy) { /* the most likely class, when the piece is more likely hit than not */
            int best = 0;
            for (int c = 1; c < nvel; c++)
                if (logits[p * nvel + c] > logits[p * nvel + best]) best = c;
            if (logits[p * nvel + best] + bias > 0) bits |= 1ull << (p * nvel + best);
            continue;
        }
        float pc[8], none = 1.0f;
        for (int c = 0; c < nvel && c < 8; c++) {
            float z = (logits[p * nvel + c] + bias) / temperature;
            pc[c] = 1.0f / (1.0f + expf(-z));
            if (pc[c] < floor_p) pc[c] = 0;
            none *= 1.0f - pc[c];
        }
        float hit = 1.0f - none;
        if (mus_rand(rng) >= hit) continue;
        /* which velocity: a softmax of the class logits at the same temperature */
        float w[8], mx = -INFINITY, sum = 0;
        for (int c = 0; c < nvel && c < 8; c++) {
            w[c] = pc[c] > 0 ? (logits[p * nvel + c] + bias) / temperature : -INFINITY;
            mx = w[c] > mx ? w[c] : mx;
        }
        for (int c = 0; c < nvel && c < 8; c++) {
            w[c] = isfinite(w[c]) ? expf(w[c] - mx) : 0.0f;
            sum += w[c];
        }
        double u = mus_rand(rng) * sum;
        int cls = nvel - 1;
        for (int c = 0; c < nvel; c++) {
            if (u < w[c]) {
                cls = c;
                break;
            }
            u -= w[c];
        }
        bits |= 1ull << (p * nvel + cls);
    }
    return bits;
}

double mus_log_softmax_at(const float *l, int n, int k)
{
    float mx = l[0];
    for (int i = 1; i < n; i++) mx = l[i] > mx ? l[i] : mx;
    double s = 0;
    for (int i = 0; i < n; i++) s += exp((double)(l[i] - mx));
    return (double)(l[k] - mx) - log(s);
}

double mus_log_sigmoid_bits(const float *l, int n, uint64_t bits)
{
    double lp = 0;
    for (int i = 0; i < n; i++) {
        double x = l[i];
        /* log sigmoid(x) = -log(1 + e^-x); log(1 - sigmoid(x)) = -log(1 + e^x) */
        if (bits >> i & 1) lp -= x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
        else lp -= x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    }
    return lp;
}
