/* An SDK-style application whose main runs on the fabric controller: it opens
 * the cluster, allocates L1 from the FC, offloads a synchronous task (DMA copy
 * structures in and out, a float dot-product-per-row forked on the team, stack
 * sizes and core count set) and an asynchronous one that overlaps work of the
 * FC's own, prints a float figure and closes the cluster.
 * tests/test_sdk_fc.py checks the results against numpy and the timing
 * (offload latency, the FC asleep while the cluster works). */
#include "pmsis.h"

#define ROWS 16
#define COLS 24
#define CORES 4

PI_L2 float mat[ROWS * COLS] = {1};     /* written by the test */
PI_L2 float vec[COLS] = {1};
PI_L2 float out[ROWS];
PI_L2 int32_t scaled[ROWS];
PI_L2 uint32_t fc_sum;                  /* the FC's own work during the async task */
PI_L2 uint32_t fc_work[256] = {1};

/* What the test reads back: ids seen on each side, stacks, cycles. */
uint32_t fc_hartid, fc_ids[3];          /* mhartid, hal_cluster_id, hal_core_id on the FC */
uint32_t cl_hartid[8], cl_cluster_id[8];
uintptr_t stack_seen[8];
uint32_t t_send, t_entry, t_end, t_back;           /* sync task: FC send, cluster entry/end, FC back */
uint32_t a_send, a_entry, a_end, a_back, a_fc_done; /* async task, and when the FC's own work ended */

static inline uint32_t now(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }
static inline uint32_t hartid(void) { uint32_t v; __asm__ volatile("csrr %0, mhartid" : "=r"(v)); return v; }

struct job {
    float *m, *v, *o;
};

static void rows(void *arg)
{
    struct job *j = arg;
    volatile int here = 0;
    int core = pi_core_id();
    stack_seen[core] = (uintptr_t)&here;
    cl_hartid[core] = hartid();
    cl_cluster_id[core] = hal_cluster_id();
    for (int r = core; r < ROWS; r += pi_cl_team_nb_cores()) {
        float acc = 0.0f;
        for (int c = 0; c < COLS; c++)
            acc += j->m[r * COLS + c] * j->v[c];
        j->o[r] = acc;
    }
    pi_cl_team_barrier();
}

static void sync_entry(void *arg)
{
    struct job *j = arg;
    t_entry = now();
    pi_cl_dma_copy_t cm = {.dir = PI_CL_DMA_DIR_EXT2LOC, .size = sizeof mat, .ext = (uint32_t)mat,
                           .loc = (uint32_t)j->m};
    pi_cl_dma_copy_t cv = {.dir = PI_CL_DMA_DIR_EXT2LOC, .size = sizeof vec, .ext = (uint32_t)vec,
                           .loc = (uint32_t)j->v};
    pi_cl_dma_memcpy(&cm);
    pi_cl_dma_memcpy(&cv);
    pi_cl_dma_wait(&cm);
    pi_cl_dma_wait(&cv);
    pi_cl_team_fork(0, rows, j);            /* 0: the task's nb_cores */
    pi_cl_dma_copy_t co = {.dir = PI_CL_DMA_DIR_LOC2EXT, .size = sizeof out, .ext = (uint32_t)out,
                           .loc = (uint32_t)j->o};
    pi_cl_dma_memcpy(&co);
    pi_cl_dma_wait(&co);
    t_end = now();
}

static void scale(void *arg)
{
    (void)arg;
    for (int r = pi_core_id(); r < ROWS; r += pi_cl_team_nb_cores())
        scaled[r] = (int32_t)(out[r] * 8.0f);
}

static void async_entry(void *arg)
{
    a_entry = now();
    pi_cl_team_fork(0, scale, arg);
    a_end = now();
}

int main(void)
{
    fc_hartid = hartid();
    fc_ids[0] = hal_cluster_id();
    fc_ids[1] = hal_core_id();
    fc_ids[2] = pi_is_fc();

    struct pi_device cluster;
    struct pi_cluster_conf conf;
    pi_cluster_conf_init(&conf);
    conf.id = 0;
    pi_open_from_conf(&cluster, &conf);
    if (pi_cluster_open(&cluster))
        pmsis_exit(-1);

    struct job j = {pi_l1_malloc(&cluster, sizeof mat), pi_l1_malloc(&cluster, sizeof vec),
                    pi_l1_malloc(&cluster, sizeof out)};
    struct pi_cluster_task task;
    pi_cluster_task(&task, sync_entry, &j);
    task.stack_size = 4096;                 /* more than the start-up stacks: from L1 */
    task.slave_stack_size = 3072;
    task.nb_cores = CORES;
    t_send = now();
    if (pi_cluster_send_task_to_cl(&cluster, &task))
        pmsis_exit(-2);
    t_back = now();
    printf("rows on %d cores: %u cycles, %.3f MAC/cycle, out[0] = %f\n", CORES, (unsigned)(t_end - t_entry),
           (float)(ROWS * COLS) / (float)(t_end - t_entry), out[0]);

    struct pi_cluster_task task2;
    pi_task_t done;
    pi_cluster_task(&task2, async_entry, 0);
    task2.nb_cores = 2;
    a_send = now();
    pi_cluster_send_task_to_cl_async(&cluster, &task2, pi_task_block(&done));
    uint32_t sum = 0;                       /* the FC works while the cluster does */
    for (int i = 0; i < 256; i++)
        sum += fc_work[i] * (uint32_t)(i + 1);
    fc_sum = sum;
    a_fc_done = now();
    pi_task_wait_on(&done);
    a_back = now();

    pi_l1_free(&cluster, j.o, sizeof out);
    pi_l1_free(&cluster, j.v, sizeof vec);
    pi_l1_free(&cluster, j.m, sizeof mat);
    pi_cluster_close(&cluster);
    return 0;
}
