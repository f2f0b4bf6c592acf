/* ring.c: SPSC lock-free ring (acquire/release on head and tail; elements copied by memcpy). */
#include "engine/ring.h"

#include <stdlib.h>
#include <string.h>

static size_t round_pow2(size_t n)
{
    size_t p = 2;
    while (p < n) p <<= 1;
    return p;
}

static size_t header_size(void) { return (sizeof(ring) + 63) & ~(size_t)63; }

size_t ring_memneeded(size_t elem_size, size_t capacity)
{
    return header_size() + round_pow2(capacity) * elem_size;
}

ring *ring_init(void *mem, size_t elem_size, size_t capacity)
{
    ring *r = mem;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = round_pow2(capacity) - 1;
    r->elem_size = elem_size;
    r->data = (unsigned char *)mem + header_size();
    return r;
}

ring *ring_create(size_t elem_size, size_t capacity)
{
    void *mem = aligned_alloc(64, (ring_memneeded(elem_size, capacity) + 63) & ~(size_t)63);
    if (!mem) return NULL;
    memset(mem, 0, ring_memneeded(elem_size, capacity));
    return ring_init(mem, elem_size, capacity);
}

void ring_destroy(ring *r) { free(r); }

size_t ring_capacity(const ring *r) { return r->mask + 1; }

size_t ring_count(const ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail;
}

size_t ring_space(const ring *r) { return ring_capacity(r) - ring_count(r); }

int ring_push_n(ring *r, const void *elems, size_t n)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (ring_capacity(r) - (head - tail) < n) return -1;
    const unsigned char *src = elems;
    for (size_t i = 0; i < n; i++)
        memcpy(r->data + ((head + i) & r->mask) * r->elem_size, src + i * r->elem_size, r->elem_size);
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    return 0;
}

int ring_push(ring *r, const void *elem) { return ring_push_n(r, elem, 1); }

size_t ring_pop_n(ring *r, void *elems, size_t max)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t n = head - tail;
    if (n > max) n = max;
    unsigned char *dst = elems;
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * r->elem_size, r->data + ((tail + i) & r->mask) * r->elem_size, r->elem_size);
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}

int ring_pop(ring *r, void *elem) { return ring_pop_n(r, elem, 1) == 1 ? 0 : -1; }

const void *ring_peek(ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail) return NULL;
    return r->data + (tail & r->mask) * r->elem_size;
}
