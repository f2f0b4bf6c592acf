/* jackd_spawn.c: private dummy-backend JACK servers. */
#include "engine/jackd_spawn.h"

#include <dirent.h>
#include <jack/jack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define JACKD "/usr/bin/jackd"

static void quiet(const char *m) { (void)m; }

/* 1 when the server accepts clients, 0 when jackd exited, -1 on timeout. */
static int try_start(bm_jackd *j, const char *log)
{
    pid_t parent = getpid();
    fflush(NULL); /* the child must not write our buffered output again */
    j->pid = fork();
    if (j->pid < 0) return 0;
    if (j->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        if (!freopen(log ? log : "/dev/null", "w", stdout)) _exit(1);
        dup2(1, 2);
        char r[16], p[16];
        snprintf(r, sizeof r, "%d", j->rate);
        snprintf(p, sizeof p, "%d", j->period);
        setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
        execl(JACKD, "jackd", "-n", j->name, "-d", "dummy", "-r", r, "-p", p, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        int status;
        if (waitpid(j->pid, &status, WNOHANG) == j->pid) {
            j->pid = 0;
            return 0;
        }
        jack_status_t st;
        jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, j->name);
        if (c) {
            jack_client_close(c);
            return 1;
        }
        usleep(50000);
    }
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    j->pid = 0;
    return -1;
}

/* JACK keeps at most 8 servers in its registry and frees the entry of a server that was killed
 * only when a server of the same name starts again. So a name whose server died is started once
 * more and stopped cleanly. */
static void reclaim_name(const char *name)
{
    bm_jackd j = {0};
    snprintf(j.name, sizeof j.name, "%s", name);
    j.rate = 48000;
    j.period = 1024;
    if (try_start(&j, NULL) == 1) jackd_stop(&j);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf /dev/shm/*_%s_* /dev/shm/jack-*/%s 2>/dev/null", name, name);
    if (system(cmd) != 0) { /* nothing was left */ }
}

/* Finds servers that left files in /dev/shm but do not answer, and reclaims their names. */
static void reclaim_stale(void)
{
    DIR *d = opendir("/dev/shm");
    if (!d) return;
    struct dirent *e;
    char names[32][64];
    int n = 0;
    while ((e = readdir(d)) && n < 32) {
        const char *p = e->d_name;
        if (strncmp(p, "jack_sem.", 9) != 0) continue;
        p = strchr(p, '_');                 /* jack_sem.UID_SERVER_CLIENT */
        if (!p || !(p = strchr(p + 1, '_'))) continue;
        p++;
        const char *end = strrchr(p, '_');
        if (!end || end == p || (size_t)(end - p) >= sizeof names[0]) continue;
        char name[64];
        memcpy(name, p, (size_t)(end - p));
        name[end - p] = 0;
        int seen = 0;
        for (int i = 0; i < n; i++) seen |= !strcmp(names[i], name);
        if (!seen) snprintf(names[n++], sizeof names[0], "%s", name);
    }
    closedir(d);
    for (int i = 0; i < n; i++) {
        jack_status_t st;
        jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, names[i]);
        if (c) jack_client_close(c);
        else reclaim_name(names[i]);
    }
}

int jackd_spawn(bm_jackd *j, int rate, int period, const char *log, char *err, size_t errlen)
{
    if (access(JACKD, X_OK) != 0) {
        snprintf(err, errlen, "jackd is not installed ('make deps' installs jackd2)");
        return -1;
    }
    static int counter;
    j->rate = rate;
    j->period = period;
    jack_set_error_function(quiet);
    jack_set_info_function(quiet);
    for (int attempt = 0; attempt < 3; attempt++) {
        /* a name of our own: never another run's server */
        snprintf(j->name, sizeof j->name, "bm%d-%d", (int)getpid(), counter++);
        int r = try_start(j, log);
        if (r == 1) return 0;
        if (r < 0) {
            snprintf(err, errlen, "jackd did not accept clients within 5 s%s%s", log ? "; see " : "", log ? log : "");
            return -1;
        }
        reclaim_stale(); /* the registry may be full of servers that were killed */
    }
    snprintf(err, errlen, "no private JACK server could start%s%s", log ? "; see " : "", log ? log : "");
    return -1;
}

void jackd_stop(bm_jackd *j)
{
    if (j->pid <= 0) return;
    kill(j->pid, SIGTERM);
    for (int i = 0; i < 60; i++) {
        if (waitpid(j->pid, NULL, WNOHANG) == j->pid) {
            j->pid = 0;
            return;
        }
        usleep(50000);
    }
    jackd_kill(j);
}

void jackd_kill(bm_jackd *j)
{
    if (j->pid <= 0) return;
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    j->pid = 0;
    reclaim_name(j->name);
}
