/* The fabric controller and cluster offload (PMSIS cluster and task API), as
 * on PULP: main runs on the fabric controller (FC, mhartid cluster 31 / core 0),
 * which opens the cluster (boot addresses and fetch enable in the cluster
 * controller), hands tasks to cluster core 0 through a mailbox in L2 and an
 * event-unit software event, and sleeps until the cluster's event says the task
 * is done. Cluster core 0 runs each task (on the task's stacks, with its
 * nb_cores as the team size of forks) and the other cores wait in the
 * team-fork dispatch loop.
 *
 * This file is linked only into programs that use the cluster or task API
 * (the build puts it in an archive): its note below then tells the simulator
 * to give the program a fabric-controller hart (iss info shows it). Programs
 * that do not use the API run main on cluster core 0, as before. */
#include "pmsis.h"

#define CTRL_REG(off) (*(volatile uint32_t *)(ARCHI_CLUSTER_CTRL + (off)))

/* "main runs on the fabric controller" (iss/elf.py reads it; crt0.S has the
 * build note of type 1). */
__asm__(".pushsection .note.iss, \"\", @note\n"
        ".balign 4\n"
        ".word 4\n"             /* name size */
        ".word 4\n"             /* descriptor size */
        ".word 2\n"             /* type: main on the fabric controller */
        ".asciz \"ISS\"\n"
        ".word 1\n"
        ".popsection");

/* The FC's stack (crt0.S points sp at its end): in L2, where the FC works;
 * not in .bss, which the FC clears at start-up. */
__attribute__((aligned(16), section(".noinit.iss_fc_stack"))) char __iss_fc_stack[ISS_FC_STACK_SIZE];

extern void _start(void);
extern int main(void);
extern int __iss_call_requested(void), __iss_call_main(void);
extern void __iss_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
/* Forks inside a task (runtime.c): team size and worker stacks. */
extern int __iss_default_team;
extern char *__iss_slave_stacks;
extern uint32_t __iss_slave_stack_size;

/* FC -> cluster core 0: the task to run; cluster -> FC: its status. In L2. */
static struct {
    struct pi_cluster_task *volatile task;
    volatile int finished;
    volatile int status;
    volatile int call;          /* the pytest plugin's fw.call: core 0 runs it, no tasks */
} mailbox;

/* FC side: the task in flight (one at a time) and what it releases. */
static struct pi_cluster_task *in_flight;
static pi_task_t *in_flight_done;
static int cluster_booted, cluster_open;

/* -- tasks (pi_task_t) ------------------------------------------------------------- */
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
void pi_task_destroy(pi_task_t *task) { (void)task; }

/* FC: sleep until the cluster ends the task in flight, then release its
 * pi_task (its callback runs here, on the FC). 0: nothing was in flight. */
static int complete_in_flight(void)
{
    if (!in_flight)
        return 0;
    while (!mailbox.finished)
        eu_evt_wait_clr(1u << ISS_EVT_OFFLOAD);
    mailbox.finished = 0;
    in_flight = 0;
    if (in_flight_done)
        pi_task_push(in_flight_done);
    return 1;
}

void pi_task_wait_on(pi_task_t *task)
{
    while (!task->done) {
        if (!complete_in_flight()) {
            printf("pi_task_wait_on: waiting for a task nothing will release (no cluster task in flight)\n");
            exit(1);
        }
    }
}

/* -- the cluster device (FC side) ----------------------------------------------------- */
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

/* Power the cluster up as the PULP runtime does: every core boots at the
 * start-up code (boot address registers), then fetch enable. */
static void boot_cluster(void)
{
    if (cluster_booted)
        return;
    for (int c = 0; c < NUM_CORES; c++)
        CTRL_REG(CTRL_BOOT_ADDR(c)) = (uint32_t)_start;
    CTRL_REG(CTRL_FETCH_EN) = (1u << NUM_CORES) - 1;
    cluster_booted = 1;
}

int pi_cluster_open(struct pi_device *device)
{
    struct pi_cluster_conf *conf = device->config;
    if (conf && conf->id != 0) {
        printf("pi_cluster_open: there is no cluster %d (one cluster, id 0)\n", conf->id);
        return -1;
    }
    if (!pi_is_fc()) {
        printf("pi_cluster_open: called on cluster core %d; the fabric controller (main) opens the cluster\n",
               pi_core_id());
        return -1;
    }
    boot_cluster();
    cluster_open = 1;
    return 0;
}

/* The cores stay clock-gated in the runtime's waits; a later open reuses them. */
int pi_cluster_close(struct pi_device *device)
{
    (void)device;
    complete_in_flight();
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

int pi_cluster_send_task_to_cl_async(struct pi_device *device, struct pi_cluster_task *task, pi_task_t *done)
{
    (void)device;
    if (!cluster_open) {
        printf("pi_cluster_send_task_to_cl: the cluster is not open (pi_cluster_open first)\n");
        return -1;
    }
    int present = pi_cl_cluster_nb_cores();
    if (task->nb_cores > present) {
        printf("pi_cluster_send_task_to_cl: the task asks for %d cores; the cluster has %d\n", task->nb_cores,
               present);
        return -1;
    }
    complete_in_flight();               /* one task at a time: the previous one ends first */
    in_flight = task;
    in_flight_done = done;
    mailbox.task = task;
    eu_sw_event_send(ISS_EVT_OFFLOAD, 1u << 0);     /* wake cluster core 0 */
    return 0;
}

int pi_cluster_send_task_to_cl(struct pi_device *device, struct pi_cluster_task *task)
{
    pi_task_t done;
    int r = pi_cluster_send_task_to_cl_async(device, task, pi_task_block(&done));
    if (r)
        return r;
    pi_task_wait_on(&done);
    return mailbox.status;
}

/* -- the cluster side ------------------------------------------------------------------ */
/* Stacks grow down from the end of their area; keep them 16-byte aligned. */
static uint32_t stack_round(uint32_t size) { return (size + 15u) & ~15u; }

/* Cluster core 0: run one task, 0 when done. */
static int run_task(struct pi_cluster_task *task)
{
    int cores = task->nb_cores > 0 ? task->nb_cores : pi_cl_cluster_nb_cores();
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
    __iss_default_team = cores;
    if (slave) {
        __iss_slave_stacks = area + master;  /* core c's stack ends c * slave above */
        __iss_slave_stack_size = slave;
    }
    if (master)
        __iss_call_on_stack(task->entry, task->arg, area + master);
    else
        task->entry(task->arg);
    __iss_default_team = 0;
    __iss_slave_stacks = 0;
    __iss_slave_stack_size = 0;
    if (area && !task->stacks)
        pi_l1_free(0, area, (int)total);
    return 0;
}

/* Cluster core 0 after start-up (crt0.S): serve the FC's tasks for good. */
void __iss_cluster_main(void)
{
    if (mailbox.call)
        exit(__iss_call_main());
    for (;;) {
        struct pi_cluster_task *task;
        while (!(task = mailbox.task))
            eu_evt_wait_clr(1u << ISS_EVT_OFFLOAD);
        mailbox.task = 0;
        mailbox.status = run_task(task);
        mailbox.finished = 1;
        eu_sw_event_send(ISS_EVT_OFFLOAD, EU_FC_MASK);   /* the FC's event */
    }
}

/* The FC after start-up (crt0.S cleared .bss): main, or the cluster runs a
 * call the pytest plugin asked for (call.c) while the FC sleeps. */
void __iss_fc_main(void)
{
    if (__iss_call_requested()) {
        mailbox.call = 1;
        boot_cluster();
        for (;;)
            eu_evt_wait_clr(0);         /* nothing wakes it: the call ends the run */
    }
    exit(main());
}
