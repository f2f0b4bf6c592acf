/* osc_queue.c: a small sorted pool of timed messages. */
#include "engine/control/osc_queue.h"

#include <stdlib.h>
#include <string.h>

int osc_queue_init(osc_queue *q)
{
    memset(q, 0, sizeof *q);
    q->items = calloc(OSC_QUEUE_CAPACITY, sizeof *q->items);
    return q->items ? 0 : -1;
}

void osc_queue_free(osc_queue *q)
{
    free(q->items);
    q->items = NULL;
    q->n = 0;
}

int osc_queue_push(osc_queue *q, int64_t wake, int64_t due, const osc_peer *from, const void *data, size_t len)
{
    if (!q->items || q->n == OSC_QUEUE_CAPACITY || len > OSC_QUEUE_SLOT) return -1;
    int at = q->n;
    while (at > 0 && q->items[at - 1].wake > wake) at--;
    memmove(&q->items[at + 1], &q->items[at], (size_t)(q->n - at) * sizeof *q->items);
    osc_queued *it = &q->items[at];
    it->wake = wake;
    it->due = due;
    it->seq = q->seq++;
    it->from = *from;
    it->len = (uint16_t)len;
    memcpy(it->data, data, len);
    q->n++;
    return 0;
}

int osc_queue_pop_due(osc_queue *q, int64_t now, osc_queued *out)
{
    if (q->n == 0 || q->items[0].wake > now) return -1;
    *out = q->items[0];
    q->n--;
    memmove(&q->items[0], &q->items[1], (size_t)q->n * sizeof *q->items);
    return 0;
}

int64_t osc_queue_next(const osc_queue *q) { return q->n ? q->items[0].wake : INT64_MAX; }
