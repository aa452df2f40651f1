/* The cluster runtime: main on core 0, the workers' dispatch loop, team fork,
 * barrier, critical sections, allocators and exit. */
#include "pmsis.h"

extern int main(void);
extern char __l1_heap_start[], __l2_heap_start[];

#define CTRL_REG(off) (*(volatile uint32_t *)(ARCHI_CLUSTER_CTRL + (off)))

static int team_cores = 1;

int pi_cl_cluster_nb_cores(void)
{
    return __builtin_popcount(CTRL_REG(CTRL_FETCH_EN));
}

int pi_cl_team_nb_cores(void) { return team_cores; }

void exit(int code)
{
    CTRL_REG(CTRL_EOC) = (uint32_t)code;
    for (;;)
        __asm__ volatile("wfi");
}

void abort(void) { exit(134); }

/* Core 0 after start-up: main, or a call the pytest plugin asked for (call.c). */
extern int __iss_call_requested(void), __iss_call_main(void);
void __iss_main(void) { exit(__iss_call_requested() ? __iss_call_main() : main()); }

/* Cores 1..N-1: sleep until the team fork pushes an entry point and argument. */
void __iss_worker(void)
{
    for (;;) {
        void (*entry)(void *) = (void (*)(void *))eu_dispatch_pop();
        void *arg = (void *)eu_dispatch_pop();
        entry(arg);
        eu_bar_trig_wait_clr(0);
    }
}

void pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg)
{
    int present = pi_cl_cluster_nb_cores();
    if (nb_cores <= 0 || nb_cores > present)
        nb_cores = present;
    uint32_t team = (1u << nb_cores) - 1;
    team_cores = nb_cores;
    eu_bar_setup(0, team);
    if (nb_cores > 1) {
        eu_dispatch_team_config(team & ~1u);
        eu_dispatch_push((uint32_t)entry);
        eu_dispatch_push((uint32_t)arg);
    }
    entry(arg);
    eu_bar_trig_wait_clr(0);
    team_cores = 1;
}

void __pi_cl_team_barrier(void) { eu_bar_trig_wait_clr(0); }

void pi_cl_team_critical_enter(void) { eu_mutex_lock(0); }
void pi_cl_team_critical_exit(void) { eu_mutex_unlock(0); }

/* -- allocators: bump pointers, the last block can be given back ------------- */
static char *l1_top = __l1_heap_start, *l2_top = __l2_heap_start;

static void *bump(char **top, size_t size)
{
    char *p = *top;
    *top = p + ((size + 7) & ~(size_t)7);
    return p;
}

static void unbump(char **top, void *chunk, size_t size)
{
    if ((char *)chunk + ((size + 7) & ~(size_t)7) == *top)
        *top = chunk;
}

void *pi_l1_malloc(void *device, size_t size) { (void)device; return bump(&l1_top, size); }
void pi_l1_free(void *device, void *chunk, size_t size) { (void)device; unbump(&l1_top, chunk, size); }
void *pi_l2_malloc(size_t size) { return bump(&l2_top, size); }
void pi_l2_free(void *chunk, size_t size) { unbump(&l2_top, chunk, size); }

/* -- memory and strings (the compiler emits calls to these) ----------------- */
void *memcpy(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    char *d = dst;
    while (n--)
        *d++ = (char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
