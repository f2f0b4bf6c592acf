/* osc_queue.h: messages from time-tagged bundles that are due later, kept in time order in a
 * fixed pool until their time comes on the engine's frame timeline. Control thread only. */
#pragma once

#include "engine/control/osc_net.h"

#include <stddef.h>
#include <stdint.h>

#define OSC_QUEUE_CAPACITY 512
#define OSC_QUEUE_SLOT 1024      /* largest message that can wait */

typedef struct osc_queued {
    int64_t wake;                /* frame at which to handle it */
    int64_t due;                 /* frame the bundle asked for (notes sound exactly then) */
    uint64_t seq;                /* arrival order, for ties */
    osc_peer from;
    uint16_t len;
    uint8_t data[OSC_QUEUE_SLOT];
} osc_queued;

typedef struct osc_queue {
    osc_queued *items;           /* OSC_QUEUE_CAPACITY, sorted by (wake, seq) */
    int n;
    uint64_t seq;
} osc_queue;

/* Allocates the pool; 0 or -1. */
int osc_queue_init(osc_queue *q);

/* Frees it. */
void osc_queue_free(osc_queue *q);

/* Keeps a message until wake; 0, or -1 when full or the message is too large. */
int osc_queue_push(osc_queue *q, int64_t wake, int64_t due, const osc_peer *from, const void *data, size_t len);

/* Takes the earliest message whose wake frame is at or before now into out; 0, or -1 if none. */
int osc_queue_pop_due(osc_queue *q, int64_t now, osc_queued *out);

/* The earliest wake frame, or INT64_MAX when empty. */
int64_t osc_queue_next(const osc_queue *q);
