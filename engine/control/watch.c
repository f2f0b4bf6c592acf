/* watch.c: polling a file for changes. */
#include "engine/control/watch.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK_EVERY_NS 150000000

static void look(bm_watch *w, int *exists, struct timespec *mtime, off_t *size, ino_t *ino)
{
    struct stat st;
    memset(mtime, 0, sizeof *mtime);
    *size = 0;
    *ino = 0;
    *exists = stat(w->path, &st) == 0;
    if (*exists) {
        *mtime = st.st_mtim;
        *size = st.st_size;
        *ino = st.st_ino;
    }
}

void watch_set(bm_watch *w, const char *path, int64_t now_ns)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path ? path : "");
    if (w->path[0]) look(w, &w->exists, &w->mtime, &w->size, &w->ino);
    w->next_check_ns = now_ns + CHECK_EVERY_NS;
}

int watch_poll(bm_watch *w, int64_t now_ns)
{
    if (!w->path[0] || now_ns < w->next_check_ns) return 0;
    w->next_check_ns = now_ns + CHECK_EVERY_NS;
    int exists;
    struct timespec mtime;
    off_t size;
    ino_t ino;
    look(w, &exists, &mtime, &size, &ino);
    int same = exists == w->exists && size == w->size && ino == w->ino && mtime.tv_sec == w->mtime.tv_sec &&
               mtime.tv_nsec == w->mtime.tv_nsec;
    if (!same) { /* changed since the last look: wait one more look for it to settle */
        w->exists = exists;
        w->mtime = mtime;
        w->size = size;
        w->ino = ino;
        w->changing = 1;
        return 0;
    }
    if (w->changing && exists) {
        w->changing = 0;
        return 1;
    }
    return 0;
}
