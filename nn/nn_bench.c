/* nn_bench.c: `bandmate bench nn`: the streaming LSTM step (batch 1, one thread) and training
 * throughput (embedding + 2x256 LSTM + softmax over 200, batch 32 x 64, both cores), beside
 * PyTorch measured in the same run (tools/nn_bench_torch.py) when python3-torch is installed. */
#include "nn/nn_bench.h"
#include "nn/nn_mem.h"
#include "nn/nn_model.h"
#include "nn/nn_ops.h"
#include "nn/nn_optim.h"
#include "nn/nn_rng.h"
#include "nn/nn_seqnet.h"
#include "nn/nn_stream.h"

#include <immintrin.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_SIZES 3
static const int sizes[N_SIZES] = {128, 256, 512};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- peak: 12 independent FMA chains in registers, enough to cover the FMA latency ---- */

#define FMA12(F, a, m, c)                                                                    \
    a##0 = F(a##0, m, c), a##1 = F(a##1, m, c), a##2 = F(a##2, m, c), a##3 = F(a##3, m, c),  \
    a##4 = F(a##4, m, c), a##5 = F(a##5, m, c), a##6 = F(a##6, m, c), a##7 = F(a##7, m, c),  \
    a##8 = F(a##8, m, c), a##9 = F(a##9, m, c), a##10 = F(a##10, m, c), a##11 = F(a##11, m, c)

static volatile float peak_sink;

__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    float f = peak_sink; /* distinct starting values keep the compiler from merging chains */
    __m256 a0 = _mm256_set1_ps(f), a1 = _mm256_set1_ps(f + 1), a2 = _mm256_set1_ps(f + 2),
           a3 = _mm256_set1_ps(f + 3), a4 = _mm256_set1_ps(f + 4), a5 = _mm256_set1_ps(f + 5),
           a6 = _mm256_set1_ps(f + 6), a7 = _mm256_set1_ps(f + 7), a8 = _mm256_set1_ps(f + 8),
           a9 = _mm256_set1_ps(f + 9), a10 = _mm256_set1_ps(f + 10), a11 = _mm256_set1_ps(f + 11);
    long iters = 500000;
    double t = now_s();
    for (long k = 0; k < iters; k++) FMA12(_mm256_fmadd_ps, a, m, c);
    t = now_s() - t;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    peak_sink = _mm256_cvtss_f32(s);
    return 12.0 * 8 * 2 * (double)iters / t;
}

__attribute__((target("avx512f"))) static double peak_avx512(void)
{
    __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    float f = peak_sink; /* distinct starting values keep the compiler from merging chains */
    __m512 a0 = _mm512_set1_ps(f), a1 = _mm512_set1_ps(f + 1), a2 = _mm512_set1_ps(f + 2),
           a3 = _mm512_set1_ps(f + 3), a4 = _mm512_set1_ps(f + 4), a5 = _mm512_set1_ps(f + 5),
           a6 = _mm512_set1_ps(f + 6), a7 = _mm512_set1_ps(f + 7), a8 = _mm512_set1_ps(f + 8),
           a9 = _mm512_set1_ps(f + 9), a10 = _mm512_set1_ps(f + 10), a11 = _mm512_set1_ps(f + 11);
    long iters = 500000;
    double t = now_s();
    for (long k = 0; k < iters; k++) FMA12(_mm512_fmadd_ps, a, m, c);
    t = now_s() - t;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    peak_sink = _mm512_reduce_add_ps(s);
    return 12.0 * 16 * 2 * (double)iters / t;
}

/* ---- streaming ---- */

struct stream_result {
    double med_us, p99_us, gflops;
    size_t bytes;
};

static nn_model *lstm2_model(int H)
{
    nn_model *m = nn_model_create();
    char name[32];
    for (int l = 0; l < 2; l++) {
        snprintf(name, sizeof name, "lstm%d.w_ih", l);
        nn_model_add(m, name, 2, (int[]){4 * H, H});
        snprintf(name, sizeof name, "lstm%d.w_hh", l);
        nn_model_add(m, name, 2, (int[]){4 * H, H});
        snprintf(name, sizeof name, "lstm%d.b", l);
        nn_model_add(m, name, 1, (int[]){4 * H});
    }
    if (nn_model_alloc(m)) {
        nn_model_free(m);
        return NULL;
    }
    nn_rng r;
    nn_rng_seed(&r, (uint64_t)H);
    float k = 1.0f / sqrtf((float)H);
    nn_init_uniform(&r, nn_model_data(m), nn_model_size(m), -k, k);
    return m;
}

static int bench_stream(int H, int flags, int steps, struct stream_result *res)
{
    nn_model *m = lstm2_model(H);
    if (!m) return -1;
    nn_stream_desc d = {.dense_in = H, .n_layers = 2, .max_batch = 1, .flags = flags};
    for (int l = 0; l < 2; l++) {
        d.layer[l] = (nn_stream_layer){NN_STREAM_LSTM, H, NN_ACT_NONE, ""};
        snprintf(d.layer[l].prefix, sizeof d.layer[l].prefix, "lstm%d", l);
    }
    char err[256];
    nn_stream *s = nn_stream_create(&d, m, err, sizeof err);
    nn_model_free(m);
    if (!s) {
        fprintf(stderr, "bench nn: %s\n", err);
        return -1;
    }
    float *state = nn_alloc_array(nn_stream_state_size(s), sizeof(float));
    float *x = nn_alloc_array((size_t)H, sizeof(float)), *y = nn_alloc_array((size_t)H, sizeof(float));
    double *t = malloc(sizeof(double) * (size_t)steps);
    nn_rng r;
    nn_rng_seed(&r, 7);
    for (int i = 0; i < H; i++) x[i] = nn_rng_normal(&r);
    int warm = steps / 10 > 50 ? steps / 10 : 50;
    for (int i = 0; i < warm + steps; i++) {
        double t0 = now_s();
        nn_stream_step(s, 1, &state, NULL, x, y);
        double t1 = now_s();
        if (i >= warm) t[i - warm] = (t1 - t0) * 1e6;
    }
    qsort(t, (size_t)steps, sizeof(double), cmp_double);
    res->med_us = t[steps / 2];
    res->p99_us = t[(int)(steps * 0.99)];
    res->gflops = nn_stream_flops(s) / (res->med_us * 1e3);
    res->bytes = nn_stream_weight_bytes(s);
    free(t);
    nn_free(state), nn_free(x), nn_free(y);
    nn_stream_free(s);
    return 0;
}

/* ---- training ---- */

static double bench_train(int steps, int threads, double *final_loss)
{
    nn_set_threads(threads);
    nn_seqnet_config cfg = {.n_embed = 1, .embed_vocab = {200}, .embed_dim = {256}, .layers = 2,
                            .hidden = 256, .n_heads = 1, .head_kind = {NN_HEAD_SOFTMAX},
                            .head_size = {200}};
    int T = 64, B = 32;
    char err[256];
    nn_model *m = nn_seqnet_model_create(&cfg, 1, err, sizeof err);
    nn_seqnet *s = m ? nn_seqnet_create(m, T, B, err, sizeof err) : NULL;
    if (!s) {
        fprintf(stderr, "bench nn: %s\n", err);
        nn_model_free(m);
        return -1;
    }
    size_t n = nn_model_size(m);
    float *g = nn_alloc_array(n, sizeof(float));
    int *ids = malloc(sizeof(int) * (size_t)(T + 1) * B);
    nn_adam opt;
    if (!g || !ids || nn_adam_init(&opt, nn_adam_defaults(), n)) {
        fprintf(stderr, "bench nn: out of memory\n");
        return -1;
    }
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int i = 0; i < (T + 1) * B; i++) ids[i] = (int)nn_rng_below(&r, 200);
    nn_seqnet_batch b = {.T = T, .B = B, .ids = ids, .targets = {ids + B}};
    double t0 = 0;
    float loss = 0;
    for (int i = 0; i < steps + 1; i++) {
        if (i == 1) t0 = now_s(); /* the first step warms caches and thread pools */
        memset(g, 0, sizeof(float) * n);
        loss = nn_seqnet_loss(s, &b, g, NULL);
        nn_clip_grad_norm(g, n, 1.0f);
        nn_adam_step(&opt, nn_model_data(m), g, 1e-3f);
    }
    double rate = (double)steps * T * B / (now_s() - t0);
    *final_loss = loss;
    nn_adam_free(&opt);
    nn_free(g);
    free(ids);
    nn_seqnet_free(s);
    nn_model_free(m);
    return rate;
}

/* ---- PyTorch ---- */

struct torch_result {
    int ok;
    char version[64], python[PATH_MAX];
    double med[N_SIZES], p99[N_SIZES], train2, train1;
};

static int find_script(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *cands[4] = {"tools/nn_bench_torch.py", NULL, NULL, NULL};
    char c1[PATH_MAX + 64], c2[PATH_MAX + 64];
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(c1, sizeof c1, "%s/../tools/nn_bench_torch.py", exe);
        snprintf(c2, sizeof c2, "%s/../../tools/nn_bench_torch.py", exe);
        cands[1] = c1;
        cands[2] = c2;
    }
    for (int i = 0; i < 3; i++)
        if (cands[i] && access(cands[i], R_OK) == 0) {
            snprintf(out, cap, "%s", cands[i]);
            return 0;
        }
    return -1;
}

static int find_python(char *out, size_t cap)
{
    const char *env = getenv("BM_PYTHON");
    const char *cands[3] = {env, "python3", "/usr/bin/python3"};
    for (int i = 0; i < 3; i++) {
        if (!cands[i]) continue;
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) {
            snprintf(out, cap, "%s", cands[i]);
            return 0;
        }
    }
    return -1;
}

static void run_torch(struct torch_result *t, int quick, int train_steps)
{
    memset(t, 0, sizeof *t);
    char script[PATH_MAX];
    if (find_python(t->python, sizeof t->python) || find_script(script, sizeof script)) return;
    for (int pass = 0; pass < 2; pass++) {
        char cmd[3 * PATH_MAX];
        if (pass == 0)
            snprintf(cmd, sizeof cmd, "%s %s --steps %d --train-steps %d --threads 2", t->python,
                     script, quick ? 300 : 2000, train_steps);
        else
            snprintf(cmd, sizeof cmd, "%s %s --sizes '' --train-steps %d --threads 1", t->python,
                     script, train_steps);
        FILE *p = popen(cmd, "r");
        if (!p) return;
        char line[256];
        while (fgets(line, sizeof line, p)) {
            int h;
            double a, b;
            if (sscanf(line, "stream %d %lf %lf", &h, &a, &b) == 3) {
                for (int i = 0; i < N_SIZES; i++)
                    if (sizes[i] == h) t->med[i] = a, t->p99[i] = b;
            } else if (sscanf(line, "train %lf", &a) == 1) {
                if (pass == 0) t->train2 = a;
                else t->train1 = a;
            } else if (!strncmp(line, "torch ", 6)) {
                snprintf(t->version, sizeof t->version, "%s", line + 6);
                t->version[strcspn(t->version, "\n")] = 0;
                t->ok = 1;
            }
        }
        pclose(p);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bandmate bench nn [--quick] [--no-torch]\n\n"
               "Times nn/ beside PyTorch (when python3 can import torch; set BM_PYTHON to choose\n"
               "the interpreter):\n"
               "  - the streaming step of a 2-layer LSTM at batch 1, hidden 128/256/512, one\n"
               "    thread: median and p99 microseconds, GFLOP/s and the share of one core's\n"
               "    single-precision peak, with f32 and half-float weights;\n"
               "  - training throughput of embedding + 2x256 LSTM + softmax over 200 classes,\n"
               "    batch 32 x 64 steps, Adam, on both cores (torch also on one thread).\n\n"
               "  --quick     fewer repetitions (a few seconds; noisier)\n"
               "  --no-torch  skip the PyTorch column\n");
}

int nn_bench_main(int argc, char **argv)
{
    int quick = 0, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else {
            fprintf(stderr, "bandmate bench nn: unknown option '%s'; try --help.\n", argv[i]);
            return 2;
        }
    }
    int steps = quick ? 500 : 3000, train_steps = quick ? 3 : 10;
    char cpu[128] = "unknown CPU";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[256];
        while (fgets(line, sizeof line, ci))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        fclose(ci);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int avx2 = nn_cpu_has_avx2();
    __builtin_cpu_init();
    double p2 = 0, p512 = 0; /* best of many short runs: a neighbour on the machine only lowers it */
    for (int i = 0; i < 20; i++) {
        double a = avx2 ? peak_avx2() : 0;
        double b = __builtin_cpu_supports("avx512f") ? peak_avx512() : 0;
        p2 = a > p2 ? a : p2;
        p512 = b > p512 ? b : p512;
    }
    double peak = p512 > p2 ? p512 : p2;

    struct stream_result ours[N_SIZES][2];
    for (int i = 0; i < N_SIZES; i++)
        for (int v = 0; v < 2; v++)
            if (bench_stream(sizes[i], v ? NN_STREAM_F16 : 0, steps, &ours[i][v])) return 1;
    double loss = 0, train = bench_train(train_steps, 2, &loss);
    if (train < 0) return 1;
    struct torch_result t;
    if (torch) run_torch(&t, quick, quick ? 2 : 5);
    else memset(&t, 0, sizeof t);

    printf("bandmate bench nn: %s, %ld cores; kernels: %s\n", cpu, cores, avx2 ? "avx2" : "scalar");
    printf("one core's single-precision peak (measured FMA loop): AVX2 %.1f GFLOP/s, AVX-512 %.1f "
           "GFLOP/s; %%peak is of %.1f\n", p2 / 1e9, p512 / 1e9, peak / 1e9);
    if (t.ok) printf("PyTorch %s (%s), measured in this run\n", t.version, t.python);
    else printf("PyTorch: not measured (%s); its columns are skipped\n",
                torch ? "python3 cannot import torch: install python3-torch" : "--no-torch");
    printf("\nstreaming step, 2-layer LSTM, batch 1, one thread (%d steps each)\n", steps);
    printf("%-6s %-8s %9s %10s %9s %8s %7s", "hidden", "weights", "MiB", "median us", "p99 us",
           "GFLOP/s", "%peak");
    if (t.ok) printf(" %11s %10s %9s %9s", "torch med", "torch p99", "x median", "x p99");
    printf("\n");
    for (int i = 0; i < N_SIZES; i++)
        for (int v = 0; v < 2; v++) {
            struct stream_result *o = &ours[i][v];
            printf("%-6d %-8s %9.2f %10.1f %9.1f %8.1f %6.1f%%", sizes[i], v ? "f16" : "f32",
                   o->bytes / 1048576.0, o->med_us, o->p99_us, o->gflops,
                   peak > 0 ? 100.0 * o->gflops * 1e9 / peak : 0);
            if (t.ok && t.med[i] > 0)
                printf(" %11.1f %10.1f %8.1fx %8.1fx", t.med[i], t.p99[i], t.med[i] / o->med_us,
                       t.p99[i] / o->p99_us);
            printf("\n");
        }
    printf("\ntraining: embedding + 2x256 LSTM + softmax(200), batch 32 x 64, Adam (%d steps)\n",
           train_steps);
    printf("  bandmate, 2 threads: %8.0f tokens/s (loss %.3f)\n", train, loss);
    if (t.ok && t.train2 > 0)
        printf("  torch,    2 threads: %8.0f tokens/s   bandmate is %.1fx\n", t.train2,
               train / t.train2);
    if (t.ok && t.train1 > 0)
        printf("  torch,    1 thread:  %8.0f tokens/s   bandmate is %.1fx (torch's best setting "
               "here)\n", t.train1, train / t.train1);
    return 0;
}
