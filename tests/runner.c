/* runner.c: runs every registered test in its own process, with a timeout; last line "N passed, N failed". */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 1024
#define EXIT_SKIP 77

struct test_entry {
    const char *name;
    const char *file;
    test_fn fn;
    int timeout_s;
};

static struct test_entry tests[MAX_TESTS];
static int n_tests;
static int report_fd = -1;      /* child: where failure/skip messages go */
static char tmpdir[PATH_MAX];   /* child: this test's scratch directory */
static char bindir[PATH_MAX] = ".";

void test_register(const char *name, const char *file, test_fn fn, int timeout_s)
{
    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "too many tests: raise MAX_TESTS in tests/runner.c\n");
        exit(2);
    }
    tests[n_tests++] = (struct test_entry){name, file, fn, timeout_s};
}

static void report(const char *prefix, const char *fmt, va_list ap)
{
    char msg[2048];
    int n = snprintf(msg, sizeof msg, "%s", prefix);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (report_fd >= 0) {
        ssize_t w = write(report_fd, msg, strlen(msg));
        (void)w;
    } else {
        fprintf(stderr, "%s\n", msg);
    }
}

_Noreturn void test_fail(const char *file, int line, const char *fmt, ...)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    report(prefix, fmt, ap);
    va_end(ap);
    exit(1);
}

_Noreturn void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
    exit(EXIT_SKIP);
}

const char *test_tmpdir(void)
{
    if (tmpdir[0] && access(tmpdir, F_OK) != 0 && mkdir(tmpdir, 0700) != 0)
        test_fail(__FILE__, __LINE__, "cannot create %s: %s", tmpdir, strerror(errno));
    return tmpdir;
}

const char *test_path(const char *name)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *b = bufs[next++ & 7];
    snprintf(b, PATH_MAX, "%s/%s", test_tmpdir(), name);
    return b;
}

const char *test_bindir(void) { return bindir; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int test_run(const char *cmd, char *out, size_t cap, int timeout_s)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    size_t len = 0;
    double deadline = now_s() + timeout_s;
    int status = 0, done = 0, timed_out = 0;
    for (;;) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r > 0) {
            char buf[4096];
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n > 0) {
                if (out && len + 1 < cap) {
                    size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
                    memcpy(out + len, buf, k);
                    len += k;
                }
                continue;
            }
            if (n == 0 && done) break;
        }
        if (!done && waitpid(pid, &status, WNOHANG) == pid) done = 1;
        if (done && r <= 0) break;
        if (!done && now_s() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            done = 1;
            timed_out = 1;
        }
    }
    close(fds[0]);
    kill(-pid, SIGKILL); /* anything the command left behind in its group */
    if (out) out[len] = 0;
    if (timed_out) return 124;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

static void remove_tree(const char *path)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    int r = system(cmd);
    (void)r;
}

static int matches(const struct test_entry *t, int argc, char **argv, int first)
{
    if (first >= argc) return 1;
    for (int i = first; i < argc; i++)
        if (strstr(t->name, argv[i]) || strstr(t->file, argv[i])) return 1;
    return 0;
}

static int by_file_then_order(const void *a, const void *b)
{
    const struct test_entry *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c) return c;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int first = 1, list_only = 0, jobs = 1;
    const char *env_bindir = getenv("BM_BINDIR");
    if (env_bindir) snprintf(bindir, sizeof bindir, "%s", env_bindir);
    while (first < argc && argv[first][0] == '-') {
        if (!strcmp(argv[first], "-l")) list_only = 1;
        else if (!strcmp(argv[first], "-j") && first + 1 < argc) {
            jobs = atoi(argv[++first]);
            if (jobs < 1) jobs = 1;
            if (jobs > 16) jobs = 16;
        }
        else if (!strcmp(argv[first], "-h") || !strcmp(argv[first], "--help")) {
            printf("usage: %s [-l] [-j N] [PATTERN...]\n  runs the tests whose name or file contains a "
                   "PATTERN (all without one), N at a time; -l lists them\n", argv[0]);
            return 0;
        } else {
            fprintf(stderr, "unknown option %s; try --help\n", argv[first]);
            return 2;
        }
        first++;
    }
    qsort(tests, (size_t)n_tests, sizeof tests[0], by_file_then_order);

    int passed = 0, failed = 0, skipped = 0;
    char failures[8192] = "";
    double t_all = now_s();
    /* up to `jobs` tests run at once, each in its own process; results print as they finish */
    struct slot {
        pid_t pid;
        int fd;
        double t0;
        struct test_entry *t;
        char dir[PATH_MAX];
        char msg[2048];
        size_t len;
    } slots[16];
    int running = 0, next = 0;
    for (;;) {
        while (running < jobs && next < n_tests) {
            struct test_entry *t = &tests[next++];
            if (!matches(t, argc, argv, first)) continue;
            if (list_only) {
                printf("%s (%s)\n", t->name, t->file);
                continue;
            }
            struct slot *sl = &slots[running];
            snprintf(sl->dir, sizeof sl->dir, "/tmp/bm-test-%d-%s", (int)getpid(), t->name);
            int fds[2];
            if (pipe(fds) != 0) {
                perror("pipe");
                return 2;
            }
            fflush(stdout);
            sl->t = t;
            sl->len = 0;
            sl->t0 = now_s();
            sl->pid = fork();
            if (sl->pid == 0) {
                close(fds[0]);
                report_fd = fds[1];
                snprintf(tmpdir, sizeof tmpdir, "%s", sl->dir);
                alarm((unsigned)t->timeout_s);
                t->fn();
                exit(0);
            }
            close(fds[1]);
            sl->fd = fds[0];
            running++;
        }
        if (running <= 0 || running > 16) break;
        struct pollfd pfd[16];
        for (int k = 0; k < running; k++) pfd[k] = (struct pollfd){slots[k].fd, POLLIN, 0};
        if (poll(pfd, (nfds_t)(unsigned)running, -1) < 0) continue;
        for (int k = 0; k < running; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            struct slot *sl = &slots[k];
            ssize_t n = read(sl->fd, sl->msg + sl->len, sizeof sl->msg - 1 - sl->len);
            if (n > 0) {
                sl->len += (size_t)n;
                if (sl->len < sizeof sl->msg - 1) continue;
            }
            /* end of the test's report: collect it */
            sl->msg[sl->len] = 0;
            close(sl->fd);
            int status;
            waitpid(sl->pid, &status, 0);
            double dt = now_s() - sl->t0;
            struct test_entry *t = sl->t;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                passed++;
                printf("ok    %-44s %7.2f s\n", t->name, dt);
                remove_tree(sl->dir);
            } else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP) {
                skipped++;
                printf("skip  %-44s %s\n", t->name, sl->msg);
                remove_tree(sl->dir);
            } else {
                failed++;
                char why[2300];
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                    snprintf(why, sizeof why, "timed out after %d s", t->timeout_s);
                else if (WIFSIGNALED(status))
                    snprintf(why, sizeof why, "killed by signal %d %s", WTERMSIG(status), sl->msg);
                else
                    snprintf(why, sizeof why, "%s", sl->len ? sl->msg : "exited non-zero");
                printf("FAIL  %-44s %7.2f s  %s (scratch: %s)\n", t->name, dt, why, sl->dir);
                size_t fl = strlen(failures);
                snprintf(failures + fl, sizeof failures - fl, "  %s\n", t->name);
            }
            fflush(stdout);
            slots[k] = slots[--running];
            pfd[k] = pfd[running];
            k--;
        }
    }
    if (list_only) return 0;
    if (failed) printf("failed tests:\n%s", failures);
    if (skipped) printf("%d skipped\n", skipped);
    printf("total %.1f s\n", now_s() - t_all);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
