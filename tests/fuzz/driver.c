/* driver.c: replays a fuzz target over seed files plus deterministic mutations of them.
 * Usage: fuzz_NAME [-n MUTATIONS] [-s SEED] FILE_OR_DIR...
 * The same target file builds for libFuzzer with `make fuzz`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct blob {
    uint8_t *data;
    size_t size;
};

static struct blob seeds[4096];
static int n_seeds;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f || n_seeds == 4096) {
        if (f) fclose(f);
        return;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len < 0 || len > (1 << 24)) {
        fclose(f);
        return;
    }
    uint8_t *d = malloc((size_t)len + 1);
    size_t got = fread(d, 1, (size_t)len, f);
    fclose(f);
    seeds[n_seeds++] = (struct blob){d, got};
}

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz driver: %s does not exist\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    char names[1024][256];
    int n = 0;
    while (d && (e = readdir(d)) && n < 1024)
        if (e->d_name[0] != '.') snprintf(names[n++], 256, "%s", e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        add_path(p);
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One mutated copy of a seed: flips, interesting bytes, truncation, insertion, duplication. */
static size_t mutate(const struct blob *s, uint8_t *out, size_t cap)
{
    size_t n = s->size < cap ? s->size : cap;
    memcpy(out, s->data, n);
    int edits = 1 + (int)(rnd() % 8);
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20};
    for (int k = 0; k < edits; k++) {
        size_t pos = n ? rnd() % n : 0;
        switch (rnd() % 7) {
        case 0: if (n) out[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: if (n) out[pos] = interesting[rnd() % sizeof interesting]; break;
        case 2: if (n) out[pos] = (uint8_t)rnd(); break;
        case 3: n = pos; break; /* truncate */
        case 4: /* insert random bytes */
            if (n + 4 <= cap) {
                memmove(out + pos + 4, out + pos, n - pos);
                for (int i = 0; i < 4; i++) out[pos + i] = (uint8_t)rnd();
                n += 4;
            }
            break;
        case 5: /* duplicate a chunk */
            if (n > 8 && n * 2 <= cap) {
                size_t len = 1 + rnd() % (n / 2);
                size_t from = rnd() % (n - len);
                memmove(out + pos + len, out + pos, n - pos);
                memmove(out + pos, out + from + (from >= pos ? len : 0), len);
                n += len;
            }
            break;
        case 6: /* 32-bit big or small value */
            if (n >= 4 && pos + 4 <= n) {
                uint32_t v = (rnd() & 1) ? 0xffffffffu : (uint32_t)(rnd() % 70000);
                memcpy(out + pos, &v, 4);
            }
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    long mutations = 2000;
    uint64_t seed = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) mutations = atol(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [-n MUTATIONS] [-s SEED] FILE_OR_DIR...\n", argv[0]);
            return 2;
        }
    }
    for (; i < argc; i++) add_path(argv[i]);
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int k = 0; k < n_seeds; k++) LLVMFuzzerTestOneInput(seeds[k].data, seeds[k].size);
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    for (long m = 0; m < mutations && n_seeds; m++) {
        const struct blob *s = &seeds[rnd() % (uint64_t)n_seeds];
        size_t n = mutate(s, buf, s->size * 2 + 64 < cap ? s->size * 2 + 64 : cap);
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    for (int k = 0; k < n_seeds; k++) free(seeds[k].data);
    printf("%d seeds, %ld mutations, no crash\n", n_seeds, mutations);
    return 0;
}
