/* ring.h: single-producer/single-consumer lock-free rings of fixed-size plain structs.
 * ring_push and ring_pop are safe from the process thread: no allocation, no locks, no syscalls.
 * The memory is the caller's (ring_memneeded -> ring_init), so a ring can live anywhere. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ring {
    _Alignas(64) atomic_size_t head;  /* written by the producer */
    _Alignas(64) atomic_size_t tail;  /* written by the consumer */
    _Alignas(64) size_t mask;         /* capacity - 1 (capacity is a power of two) */
    size_t elem_size;
    unsigned char *data;
} ring;

/* Bytes a ring of capacity elements of elem_size needs (capacity rounded up to a power of two). */
size_t ring_memneeded(size_t elem_size, size_t capacity);

/* Lays a ring out in mem (ring_memneeded bytes, 64-byte aligned) and returns it. */
ring *ring_init(void *mem, size_t elem_size, size_t capacity);

/* Allocates and initialises a ring (not for the process thread); free with ring_destroy. */
ring *ring_create(size_t elem_size, size_t capacity);

/* Frees a ring made by ring_create. */
void ring_destroy(ring *r);

/* Producer: copies one element in; returns 0, or -1 if the ring is full (nothing written). */
int ring_push(ring *r, const void *elem);

/* Producer: copies n elements in, all or nothing; returns 0 or -1. */
int ring_push_n(ring *r, const void *elems, size_t n);

/* Consumer: copies one element out; returns 0, or -1 if the ring is empty. */
int ring_pop(ring *r, void *elem);

/* Consumer: copies up to max elements out; returns how many. */
size_t ring_pop_n(ring *r, void *elems, size_t max);

/* Consumer: a pointer to the oldest element without removing it, or NULL when empty. */
const void *ring_peek(ring *r);

/* Elements ready to pop (exact for the consumer, a lower bound for the producer). */
size_t ring_count(const ring *r);

/* Free slots (exact for the producer, a lower bound for the consumer). */
size_t ring_space(const ring *r);

/* The ring's capacity in elements. */
size_t ring_capacity(const ring *r);
