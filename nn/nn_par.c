/* nn_par.c: persistent workers woken per parallel region; tasks taken from a shared counter. */
#include "nn/nn_par.h"
#include "nn/nn_ops.h"

#include <pthread.h>

#define MAX_WORKERS 63

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static int n_workers, busy;
static unsigned long generation;
static void (*job_fn)(void *, int);
static void *job_ctx;
static int job_n, job_next;
static _Thread_local int in_region;

int nn_in_parallel(void) { return in_region; }

/* Takes and runs tasks until none are left. */
static void drain(void)
{
    in_region = 1;
    for (;;) {
        pthread_mutex_lock(&lock);
        int i = job_next < job_n ? job_next++ : -1;
        pthread_mutex_unlock(&lock);
        if (i < 0) break;
        job_fn(job_ctx, i);
    }
    in_region = 0;
}

static void *worker(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (generation == seen) pthread_cond_wait(&wake, &lock);
        seen = generation;
        pthread_mutex_unlock(&lock);
        drain();
        pthread_mutex_lock(&lock);
        if (--busy == 0) pthread_cond_signal(&done_cv);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void nn_parallel(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    int threads = nn_threads();
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    while (n_workers < threads - 1) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) break;
        pthread_detach(t);
        n_workers++;
    }
    if (n <= 1 || n_workers == 0) {
        for (int i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&lock);
    job_fn = fn;
    job_ctx = ctx;
    job_n = n;
    job_next = 0;
    busy = n_workers;
    generation++;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    drain();
    pthread_mutex_lock(&lock);
    while (busy > 0) pthread_cond_wait(&done_cv, &lock);
    pthread_mutex_unlock(&lock);
}
