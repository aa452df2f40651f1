/* The cluster runtime: main on core 0 (programs without the cluster API), the
 * workers' dispatch loop, team fork, barrier, critical sections, exit, time.
 * The fabric controller and the PMSIS cluster/task API are cluster.c's. */
#include "pmsis.h"

extern int main(void);
/* Call fn(arg) with sp at stack_top (crt0.S). */
extern void __iss_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);

#define CTRL_REG(off) (*(volatile uint32_t *)(ARCHI_CLUSTER_CTRL + (off)))

static int team_cores = 1;
/* Set by cluster.c around a cluster task: the team size of forks asked with
 * nb_cores 0 (the task's nb_cores), and the stacks of cores 1..N-1
 * (slave_stack_size apart). */
int __iss_default_team;
char *__iss_slave_stacks;
uint32_t __iss_slave_stack_size;

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
void pmsis_exit(int code) { exit(code); }

int pmsis_kickoff(void *entry)
{
    ((void (*)(void))entry)();
    return 0;
}

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

/* A fork inside a cluster task with slave_stack_size: the workers switch to
 * their task stacks around the entry. */
struct fork_on_stacks {
    void (*entry)(void *);
    void *arg;
};

static void worker_on_task_stack(void *p)
{
    struct fork_on_stacks *f = p;
    char *top = __iss_slave_stacks + (uint32_t)pi_core_id() * __iss_slave_stack_size;
    __iss_call_on_stack(f->entry, f->arg, top);
}

void pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg)
{
    int present = pi_cl_cluster_nb_cores();
    if (nb_cores <= 0)
        nb_cores = __iss_default_team;
    if (nb_cores <= 0 || nb_cores > present)
        nb_cores = present;
    uint32_t team = (1u << nb_cores) - 1;
    team_cores = nb_cores;
    eu_bar_setup(0, team);
    struct fork_on_stacks on_stacks = {entry, arg};
    if (nb_cores > 1) {
        eu_dispatch_team_config(team & ~1u);
        if (__iss_slave_stacks) {
            eu_dispatch_push((uint32_t)worker_on_task_stack);
            eu_dispatch_push((uint32_t)&on_stacks);
        } else {
            eu_dispatch_push((uint32_t)entry);
            eu_dispatch_push((uint32_t)arg);
        }
    }
    entry(arg);
    eu_bar_trig_wait_clr(0);
    team_cores = 1;
}

void __pi_cl_team_barrier(void) { eu_bar_trig_wait_clr(0); }

void pi_cl_team_critical_enter(void) { eu_mutex_lock(0); }
void pi_cl_team_critical_exit(void) { eu_mutex_unlock(0); }

/* -- time ----------------------------------------------------------------------- */
static inline uint32_t cycles_now(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
    return v;
}

uint32_t pi_freq_get(int domain)
{
    (void)domain;
    return CTRL_REG(CTRL_CLOCK_KHZ) * 1000u;
}

uint32_t pi_time_get_us(void)
{
    uint32_t khz = CTRL_REG(CTRL_CLOCK_KHZ);
    return (uint32_t)((uint64_t)cycles_now() * 1000u / khz);
}

void pi_time_wait_us(int us)
{
    if (us <= 0)
        return;
    uint32_t wait = (uint32_t)((uint64_t)(uint32_t)us * CTRL_REG(CTRL_CLOCK_KHZ) / 1000u);
    uint32_t start = cycles_now();
    while (cycles_now() - start < wait)
        ;
}
