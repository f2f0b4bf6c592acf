/* cmd_eval_voices.c: `bandmate eval voices`: the trained decoder's resynthesis of the data set's
 * held-out notes against the average-spectrum baseline, one instrument per line, instruments
 * shared out over worker processes (FFTW's planner is not thread-safe; processes are). */
#include "engine/voice/eval_model.h"
#include "engine/voice/voice_eval_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate eval voices [--decoder FILE] [--data DIR] [--max-notes N] [--jobs N] [--markdown]\n"
            "\n"
            "Decodes every held-out note of the voice data set (held-out pitches and velocity of the\n"
            "trained instruments, and the instruments held out entirely) from its own f0, loudness and\n"
            "time since onset, with the instrument's voice placed by the encoder (a held-out instrument\n"
            "from its notes at the other pitches) and with the note's own frames placed, resynthesises\n"
            "it and prints the multi-scale spectral distance to the original, and the f0 and loudness\n"
            "errors of the resynthesis analysed again, beside the per-instrument average-spectrum\n"
            "baseline (docs/voices.md).\n"
            "\n"
            "  --decoder FILE   the trained model (default voices/decoder.bmnn)\n"
            "  --data DIR       the feature files (default voicedata/features; make voices-data)\n"
            "  --max-notes N    at most N notes per instrument, spread evenly (default: all)\n"
            "  --jobs N         worker processes (default 2)\n"
            "  --only TEXT      only the feature files whose names hold TEXT\n"
            "  --markdown       print a Markdown table\n");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* One worker's answer for one file, written whole into a pipe. */
struct answer {
    int file;
    int ok;
    voice_model_eval r;
    char err[256];
};

int eval_voices_main(int argc, char **argv)
{
    const char *decoder = "voices/decoder.bmnn", *data = "voicedata/features", *only = NULL;
    long max_notes = 0, jobs = 2;
    int markdown = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--markdown")) {
            markdown = 1;
            continue;
        } else if (!v) {
            fprintf(stderr, "bandmate eval voices: '%s' needs a value or is not an option; 'bandmate eval voices --help' lists them.\n", a);
            return 2;
        } else if (!strcmp(a, "--decoder")) decoder = v;
        else if (!strcmp(a, "--only")) only = v;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--max-notes")) {
            max_notes = strtol(v, &end, 10);
            if (*end || max_notes < 0) {
                fprintf(stderr, "bandmate eval voices: --max-notes needs a count, not '%s'.\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--jobs")) {
            jobs = strtol(v, &end, 10);
            if (*end || jobs < 1 || jobs > 64) {
                fprintf(stderr, "bandmate eval voices: --jobs needs 1..64, not '%s'.\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "bandmate eval voices: '%s' is not an option; 'bandmate eval voices --help' lists them.\n", a);
            return 2;
        }
        i++;
    }
    char err[512];
    voice_model vm;
    if (voice_model_load(&vm, decoder, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate eval voices: %s.\n", err);
        return 1;
    }
    DIR *d = opendir(data);
    if (!d) {
        fprintf(stderr, "bandmate eval voices: cannot open %s (%s); build the data set with 'make voices-data'.\n", data,
                strerror(errno));
        voice_model_free(&vm);
        return 1;
    }
    char *files[256];
    int nf = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nf < 256) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".bmvf") || (only && !strstr(e->d_name, only))) continue;
        size_t plen = strlen(data) + len + 2;
        files[nf] = malloc(plen);
        if (!files[nf]) break;
        snprintf(files[nf], plen, "%s/%s", data, e->d_name);
        nf++;
    }
    closedir(d);
    if (!nf) {
        fprintf(stderr, "bandmate eval voices: %s holds no feature files; build them with 'make voices-data'.\n", data);
        voice_model_free(&vm);
        return 1;
    }
    qsort(files, (size_t)nf, sizeof *files, cmp_str);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(stdout);
    int fds[2];
    if (pipe(fds) != 0) {
        perror("bandmate eval voices: pipe");
        return 1;
    }
    if (jobs > nf) jobs = nf;
    pid_t pids[64];
    for (int w = 0; w < jobs; w++) {
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("bandmate eval voices: fork");
            return 1;
        }
        if (pids[w] == 0) {
            close(fds[0]);
            for (int i = w; i < nf; i += (int)jobs) {
                struct answer ans;
                memset(&ans, 0, sizeof ans);
                ans.file = i;
                ans.ok = voice_model_eval_file(&vm, files[i], (size_t)max_notes, &ans.r, ans.err, sizeof ans.err) == 0;
                if (write(fds[1], &ans, sizeof ans) != (ssize_t)sizeof ans) _exit(1);
            }
            _exit(0);
        }
    }
    close(fds[1]);
    struct answer *res = calloc((size_t)nf, sizeof *res);
    int got = 0, rc = 0;
    if (!res) {
        fprintf(stderr, "bandmate eval voices: out of memory.\n");
        rc = 1;
    }
    struct answer ans;
    size_t have = 0;
    unsigned char *buf = (unsigned char *)&ans;
    for (;;) {
        ssize_t k = read(fds[0], buf + have, sizeof ans - have);
        if (k <= 0) break;
        have += (size_t)k;
        if (have < sizeof ans) continue;
        have = 0;
        if (res && ans.file >= 0 && ans.file < nf) {
            res[ans.file] = ans;
            got++;
        }
    }
    close(fds[0]);
    for (int w = 0; w < jobs; w++) waitpid(pids[w], NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!res) return 1;
    if (got < nf) {
        fprintf(stderr, "bandmate eval voices: a worker stopped early; %d of %d instruments evaluated.\n", got, nf);
        rc = 1;
    }
    if (markdown) {
        printf("| instrument | held out | notes | voice: distance | f0 err | loudness err | one point | autoencoder "
               "| baseline: distance | f0 err | loudness err |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    } else {
        printf("%-24s %5s %5s | %9s %8s %8s | %9s %9s | %9s %8s %8s\n", "instrument", "split", "notes", "voice-MSD",
               "f0-err", "loud-err", "point-MSD", "self-MSD", "base-MSD", "f0-err", "loud-err");
    }
    double sums[2][5] = {{0}};
    int counts[2] = {0}, worse = 0;
    for (int i = 0; i < nf; i++) {
        const struct answer *a = &res[i];
        if (!a->ok) {
            if (a->err[0]) fprintf(stderr, "bandmate eval voices: %s.\n", a->err);
            rc = 1;
            continue;
        }
        const voice_model_eval *r = &a->r;
        if (!r->notes) continue;
        if (markdown)
            printf("| %s | %s | %zu | %.2f dB | %.2f ct | %.2f dB | %.2f dB | %.2f dB | %.2f dB | %.2f ct | %.2f dB |\n",
                   r->instrument, r->held_out ? "instrument" : "pitches, velocity", r->notes, r->voice_msd,
                   r->voice_f0_cents, r->voice_loud_db, r->point_msd, r->self_msd, r->base_msd, r->base_f0_cents,
                   r->base_loud_db);
        else
            printf("%-24s %5s %5zu | %7.2fdB %6.2fct %6.2fdB | %7.2fdB %7.2fdB | %7.2fdB %6.2fct %6.2fdB%s\n",
                   r->instrument, r->held_out ? "inst" : "p+v", r->notes, r->voice_msd, r->voice_f0_cents,
                   r->voice_loud_db, r->point_msd, r->self_msd, r->base_msd, r->base_f0_cents, r->base_loud_db,
                   r->voice_msd < r->base_msd ? "" : "   <- not below the baseline");
        int h = r->held_out;
        sums[h][0] += r->voice_msd;
        sums[h][1] += r->self_msd;
        sums[h][2] += r->base_msd;
        sums[h][3] += r->point_msd;
        counts[h]++;
        worse += r->voice_msd >= r->base_msd;
    }
    printf("\n");
    for (int h = 0; h < 2; h++)
        if (counts[h])
            printf("%s (%d instruments): voice %.2f dB (one point %.2f dB), autoencoder %.2f dB, baseline %.2f dB\n",
                   h ? "held-out instruments" : "held-out pitches and velocity", counts[h], sums[h][0] / counts[h],
                   sums[h][3] / counts[h], sums[h][1] / counts[h], sums[h][2] / counts[h]);
    printf("instruments where the voice is not below the baseline: %d; %.0f s with %ld jobs\n", worse,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), jobs);
    free(res);
    for (int i = 0; i < nf; i++) free(files[i]);
    voice_model_free(&vm);
    return rc;
}
