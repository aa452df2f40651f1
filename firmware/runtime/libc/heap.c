/* The firmware's memory allocators: malloc/free/calloc/realloc on the L2 heap,
 * and the PULP SDK's pi_l2_malloc/pi_l1_malloc/pmsis_l1_malloc families.
 *
 * Each heap (L2 after the program's data, TCDM after the stacks) is an
 * address-ordered list of free blocks; an allocation takes the first block
 * that fits, a free puts the range back and merges it with its neighbours, so
 * blocks may be freed in any order and the space comes back whole. As in the
 * PULP SDK, pi_*_free is given the size that was allocated (no header: a
 * TCDM block costs exactly its size); malloc keeps the size in 8 bytes in
 * front of the block so free(p) needs none. Sizes round up to 8 bytes.
 *
 * The heaps' ends are the configured memory sizes, read from the cluster
 * controller (iss/periph/cluster_ctrl.py). Cores allocate concurrently under
 * event-unit mutex ISS_LIBC_MUTEX (the team's critical section uses mutex 0). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include "archi.h"

#define ISS_LIBC_MUTEX 7
#define ALIGN 8u

extern char __l1_heap_start[], __l2_heap_start[];

struct free_block {
    size_t size;                 /* bytes, multiple of ALIGN */
    struct free_block *next;     /* next free block, at a higher address */
};

struct heap {
    struct free_block *free;
    int ready;
};

static struct heap l1_heap, l2_heap;

static inline void lock(void) { (void)*(volatile uint32_t *)(EU_DEMUX_BASE + EU_MUTEX(ISS_LIBC_MUTEX)); }
static inline void unlock(void) { *(volatile uint32_t *)(EU_DEMUX_BASE + EU_MUTEX(ISS_LIBC_MUTEX)) = 0; }

static inline uint32_t ctrl(uint32_t off) { return *(volatile uint32_t *)(ARCHI_CLUSTER_CTRL + off); }

static void heap_init(struct heap *h, char *start, uintptr_t end)
{
    uintptr_t s = ((uintptr_t)start + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    h->ready = 1;
    h->free = 0;
    if (end > s + sizeof(struct free_block)) {
        h->free = (struct free_block *)s;
        h->free->size = (end - s) & ~(uintptr_t)(ALIGN - 1);
        h->free->next = 0;
    }
}

static struct heap *heap_l1(void)
{
    if (!l1_heap.ready)
        heap_init(&l1_heap, __l1_heap_start, ARCHI_TCDM_BASE + ctrl(CTRL_TCDM_SIZE));
    return &l1_heap;
}

static struct heap *heap_l2(void)
{
    if (!l2_heap.ready)
        heap_init(&l2_heap, __l2_heap_start, ARCHI_L2_BASE + ctrl(CTRL_L2_SIZE));
    return &l2_heap;
}

static size_t round_size(size_t size) { return size ? (size + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN; }

/* First fit with `align` (a power of two >= ALIGN); the unused head and tail
 * of the chosen block stay free. */
static void *heap_alloc(struct heap *h, size_t size, size_t align)
{
    if (size > 0x7FFFFFF0u)
        return 0;
    size = round_size(size);
    lock();
    void *result = 0;
    for (struct free_block **link = &h->free, *b; (b = *link); link = &b->next) {
        uintptr_t start = (uintptr_t)b, end = start + b->size;
        uintptr_t p = (start + align - 1) & ~(uintptr_t)(align - 1);
        if (p != start && p - start < sizeof(struct free_block))
            p = (start + sizeof(struct free_block) + align - 1) & ~(uintptr_t)(align - 1);
        if (p + size > end)
            continue;
        struct free_block *after = b->next;
        if (end - (p + size) >= sizeof(struct free_block)) {
            struct free_block *tail = (struct free_block *)(p + size);
            tail->size = end - (p + size);
            tail->next = after;
            after = tail;
        } else {
            size = end - p;  /* a sliver too small to track goes with the block */
        }
        if (p != start) {
            b->size = p - start;
            b->next = after;
        } else {
            *link = after;
        }
        result = (void *)p;
        break;
    }
    unlock();
    return result;
}

static void heap_free(struct heap *h, void *chunk, size_t size)
{
    if (!chunk)
        return;
    size = round_size(size);
    struct free_block *n = chunk;
    n->size = size;
    lock();
    struct free_block **link = &h->free, *prev = 0;
    while (*link && *link < n) {
        prev = *link;
        link = &(*link)->next;
    }
    n->next = *link;
    *link = n;
    if (n->next && (char *)n + n->size == (char *)n->next) {
        n->size += n->next->size;
        n->next = n->next->next;
    }
    if (prev && (char *)prev + prev->size == (char *)n) {
        prev->size += n->size;
        prev->next = n->next;
    }
    unlock();
}

/* -- PULP SDK allocators ------------------------------------------------------ */
void *pi_l2_malloc(int size) { return heap_alloc(heap_l2(), (size_t)size, ALIGN); }
void pi_l2_free(void *chunk, int size) { heap_free(heap_l2(), chunk, (size_t)size); }
void *pi_l1_malloc(void *device, int size) { (void)device; return heap_alloc(heap_l1(), (size_t)size, ALIGN); }
void pi_l1_free(void *device, void *chunk, int size) { (void)device; heap_free(heap_l1(), chunk, (size_t)size); }
void *pmsis_l1_malloc(uint32_t size) { return heap_alloc(heap_l1(), size, ALIGN); }
void pmsis_l1_malloc_free(void *chunk, int size) { heap_free(heap_l1(), chunk, (size_t)size); }
void *pmsis_l1_malloc_align(int size, int align)
{
    return heap_alloc(heap_l1(), (size_t)size, align > (int)ALIGN ? (size_t)align : ALIGN);
}
void *pmsis_l2_malloc(uint32_t size) { return heap_alloc(heap_l2(), size, ALIGN); }
void pmsis_l2_malloc_free(void *chunk, int size) { heap_free(heap_l2(), chunk, (size_t)size); }
void *pi_l2_malloc_align(int size, int align)
{
    return heap_alloc(heap_l2(), (size_t)size, align > (int)ALIGN ? (size_t)align : ALIGN);
}

/* -- C library ------------------------------------------------------------------ */
static void *c_alloc(size_t size, size_t align)
{
    if (size > 0x7FFFFF00u) {
        errno = ENOMEM;
        return 0;
    }
    /* The size lives in the 8 bytes before the block; with a larger alignment
     * the header sits at the end of an aligned prefix. */
    size_t head = align > ALIGN ? align : ALIGN;
    char *raw = heap_alloc(heap_l2(), size + head, head);
    if (!raw) {
        errno = ENOMEM;
        return 0;
    }
    char *p = raw + head;
    ((size_t *)p)[-1] = size + head;
    ((size_t *)p)[-2] = head;
    return p;
}

void *malloc(size_t size) { return c_alloc(size, ALIGN); }

void free(void *p)
{
    if (!p)
        return;
    size_t total = ((size_t *)p)[-1], head = ((size_t *)p)[-2];
    heap_free(heap_l2(), (char *)p - head, total);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size) {
        errno = ENOMEM;
        return 0;
    }
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t size)
{
    if (!p)
        return malloc(size);
    size_t old = ((size_t *)p)[-1] - ((size_t *)p)[-2];
    void *q = malloc(size);
    if (q) {
        memcpy(q, p, old < size ? old : size);
        free(p);
    }
    return q;
}

void *aligned_alloc(size_t align, size_t size)
{
    if (align & (align - 1)) {
        errno = EINVAL;
        return 0;
    }
    return c_alloc(size, align);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = c_alloc(size, align);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *memalign(size_t align, size_t size) { return aligned_alloc(align, size); }
