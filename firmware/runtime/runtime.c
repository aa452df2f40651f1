/* The cluster runtime: main on core 0, the workers' dispatch loop, team fork,
 * barrier, critical sections, exit, time, and the PMSIS cluster/task API
 * (pmsis.h says how it maps onto a cluster whose core 0 runs main). */
#include "pmsis.h"

extern int main(void);
/* Call fn(arg) with sp at stack_top (crt0.S). */
extern void __iss_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);

#define CTRL_REG(off) (*(volatile uint32_t *)(ARCHI_CLUSTER_CTRL + (off)))

static int team_cores = 1;
/* Team size of forks asked with nb_cores 0 (the running cluster task's nb_cores). */
static int default_team = 0;
/* Stacks for cores 1..N-1 during the running cluster task (slave_stack_size). */
static char *slave_stacks;
static uint32_t slave_stack_size;

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
    char *top = slave_stacks + (uint32_t)pi_core_id() * slave_stack_size;
    __iss_call_on_stack(f->entry, f->arg, top);
}

void pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg)
{
    int present = pi_cl_cluster_nb_cores();
    if (nb_cores <= 0)
        nb_cores = default_team;
    if (nb_cores <= 0 || nb_cores > present)
        nb_cores = present;
    uint32_t team = (1u << nb_cores) - 1;
    team_cores = nb_cores;
    eu_bar_setup(0, team);
    struct fork_on_stacks on_stacks = {entry, arg};
    if (nb_cores > 1) {
        eu_dispatch_team_config(team & ~1u);
        if (slave_stacks) {
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

/* -- tasks ------------------------------------------------------------------------ */
pi_task_t *pi_task_block(pi_task_t *task)
{
    task->callback = 0;
    task->arg = 0;
    task->done = 0;
    return task;
}

pi_task_t *pi_task_callback(pi_task_t *task, void (*callback)(void *), void *arg)
{
    task->callback = callback;
    task->arg = arg;
    task->done = 0;
    return task;
}

void pi_task_push(pi_task_t *task)
{
    task->done = 1;
    if (task->callback)
        task->callback(task->arg);
}

void pi_task_release(pi_task_t *task) { pi_task_push(task); }

/* Work sent asynchronously has already run by the time the sender can wait
 * (one core runs both sides here), so this never sleeps. */
void pi_task_wait_on(pi_task_t *task)
{
    while (!task->done)
        ;
}

void pi_task_destroy(pi_task_t *task) { (void)task; }

/* -- the cluster ----------------------------------------------------------------- */
void pi_cluster_conf_init(struct pi_cluster_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    conf->device_type = PI_DEVICE_CLUSTER_TYPE;
}

void pi_open_from_conf(struct pi_device *device, void *conf)
{
    device->api = 0;
    device->config = conf;
    device->data = 0;
}

static int cluster_open;

int pi_cluster_open(struct pi_device *device)
{
    struct pi_cluster_conf *conf = device->config;
    if (conf && conf->id != 0) {
        printf("pi_cluster_open: there is no cluster %d (one cluster, id 0)\n", conf->id);
        return -1;
    }
    cluster_open = 1;
    return 0;
}

int pi_cluster_close(struct pi_device *device)
{
    (void)device;
    cluster_open = 0;
    return 0;
}

int pi_cluster_is_on(void) { return cluster_open; }

struct pi_cluster_task *pi_cluster_task(struct pi_cluster_task *task, void (*entry)(void *), void *arg)
{
    memset(task, 0, sizeof *task);
    task->entry = entry;
    task->arg = arg;
    return task;
}

struct pi_cluster_task *pi_cluster_task_stacks(struct pi_cluster_task *task, void *stacks, int stack_size)
{
    task->stacks = stacks;
    task->slave_stack_size = (uint32_t)stack_size;
    return task;
}

/* Stacks grow down from the end of their area; keep them 16-byte aligned. */
static uint32_t stack_round(uint32_t size) { return (size + 15u) & ~15u; }

int pi_cluster_send_task_to_cl(struct pi_device *device, struct pi_cluster_task *task)
{
    (void)device;
    int present = pi_cl_cluster_nb_cores();
    int cores = task->nb_cores > 0 ? task->nb_cores : present;
    if (cores > present) {
        printf("pi_cluster_send_task_to_cl: the task asks for %d cores; the cluster has %d\n", cores, present);
        return -1;
    }
    /* Stacks larger than the start-up ones (ISS_STACK_SIZE) come from the
     * task's `stacks` or the L1 heap: master first, then one per worker. */
    uint32_t master = task->stack_size > ISS_STACK_SIZE ? stack_round(task->stack_size) : 0;
    uint32_t slave = task->slave_stack_size > ISS_STACK_SIZE ? stack_round(task->slave_stack_size) : 0;
    uint32_t total = master + slave * (uint32_t)(cores - 1);
    char *area = 0;
    if (total) {
        area = task->stacks ? task->stacks : pi_l1_malloc(0, (int)total);
        if (!area) {
            printf("pi_cluster_send_task_to_cl: no L1 memory for %u bytes of task stacks\n", (unsigned)total);
            return -1;
        }
    }
    int saved_team = default_team;
    char *saved_stacks = slave_stacks;
    uint32_t saved_size = slave_stack_size;
    default_team = cores;
    if (slave) {
        slave_stacks = area + master;  /* core c's stack ends c * slave above */
        slave_stack_size = slave;
    }
    if (master)
        __iss_call_on_stack(task->entry, task->arg, area + master);
    else
        task->entry(task->arg);
    default_team = saved_team;
    slave_stacks = saved_stacks;
    slave_stack_size = saved_size;
    if (area && !task->stacks)
        pi_l1_free(0, area, (int)total);
    return 0;
}

int pi_cluster_send_task_to_cl_async(struct pi_device *device, struct pi_cluster_task *task, pi_task_t *done)
{
    int r = pi_cluster_send_task_to_cl(device, task);
    if (done)
        pi_task_push(done);
    return r;
}
