/* An application written the PULP SDK way: main hands over to pmsis_kickoff,
 * which opens the cluster, allocates L1 with pi_l1_malloc, and offloads a task
 * (stack sizes and core count set) that moves data with DMA copy structures,
 * forks an int8 matrix product on the team, and measures it with pi_perf; the
 * MAC/cycle figure is printed as a float. A second, asynchronous offload
 * doubles the result in place. tests/test_sdk_programs.py checks it all. */
#include "pmsis.h"

#define M 24
#define K 32
#define N 16
#define CORES 4

PI_L2 int8_t mat_a[M * K] = {1};    /* written by the test */
PI_L2 int8_t mat_b[N * K] = {1};    /* B transposed: row n = column n of B */
PI_L2 int32_t mat_c[M * N];
uint32_t matmul_cycles;
uintptr_t stack_seen[8];            /* an address on each core's stack in the task */

struct job {
    int8_t *a, *b;
    int32_t *c;
};

static void matmul(void *arg)
{
    struct job *j = arg;
    volatile int here = 0;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    stack_seen[core] = (uintptr_t)&here;
    for (int m = core; m < M; m += cores)
        for (int n = 0; n < N; n++) {
            int32_t acc = 0;
            for (int k = 0; k < K; k += 4)
                acc = __builtin_pulp_sdotsp4(*(v4s *)&j->a[m * K + k], *(v4s *)&j->b[n * K + k], acc);
            j->c[m * N + n] = acc;
        }
    pi_cl_team_barrier();
}

static void cluster_entry(void *arg)
{
    struct job *j = arg;
    pi_cl_dma_copy_t ca = {.dir = PI_CL_DMA_DIR_EXT2LOC, .merge = 0, .size = M * K, .id = 0,
                           .ext = (uint32_t)mat_a, .loc = (uint32_t)j->a};
    /* B in two halves of rows, as a 2-D copy: K-byte lines, K bytes apart */
    pi_cl_dma_copy_2d_t cb = {.dir = PI_CL_DMA_DIR_EXT2LOC, .merge = 0, .size = N * K, .id = 0,
                              .ext = (uint32_t)mat_b, .loc = (uint32_t)j->b, .stride = K, .length = K};
    pi_cl_dma_memcpy(&ca);
    pi_cl_dma_memcpy_2d(&cb);
    pi_cl_dma_wait(&ca);
    pi_cl_dma_wait(&cb);
    pi_perf_conf(1 << PI_PERF_CYCLES);
    pi_perf_reset();
    pi_perf_start();
    pi_cl_team_fork(0, matmul, j);          /* 0: the task's nb_cores */
    pi_perf_stop();
    matmul_cycles = pi_perf_read(PI_PERF_CYCLES);
    pi_cl_dma_cmd_t out;
    pi_cl_dma_cmd((uint32_t)mat_c, (uint32_t)j->c, M * N * sizeof(int32_t), PI_CL_DMA_DIR_LOC2EXT, &out);
    pi_cl_dma_cmd_wait(&out);
}

static void double_c(void *arg)
{
    (void)arg;
    for (int i = pi_core_id(); i < M * N; i += pi_cl_team_nb_cores())
        mat_c[i] *= 2;
}

static void double_entry(void *arg) { pi_cl_team_fork(0, double_c, arg); }

static void test_entry(void)
{
    struct pi_device cluster_dev;
    struct pi_cluster_conf conf;
    struct pi_cluster_task task;
    pi_cluster_conf_init(&conf);
    conf.id = 0;
    pi_open_from_conf(&cluster_dev, &conf);
    if (pi_cluster_open(&cluster_dev))
        pmsis_exit(-1);
    struct job j = {pi_l1_malloc(&cluster_dev, M * K), pi_l1_malloc(&cluster_dev, N * K),
                    pi_l1_malloc(&cluster_dev, M * N * sizeof(int32_t))};
    pi_cluster_task(&task, cluster_entry, &j);
    task.stack_size = 4096;                 /* more than the start-up stacks: honoured */
    task.slave_stack_size = 3072;
    task.nb_cores = CORES;
    if (pi_cluster_send_task_to_cl(&cluster_dev, &task))
        pmsis_exit(-2);
    printf("matmul %dx%dx%d on %d cores: %u cycles, %.2f MAC/cycle\n", M, K, N, CORES, (unsigned)matmul_cycles,
           (float)(M * K * N) / (float)matmul_cycles);

    struct pi_cluster_task task2;
    pi_task_t done;
    pi_cluster_task(&task2, double_entry, 0);
    task2.nb_cores = 2;
    pi_cluster_send_task_to_cl_async(&cluster_dev, &task2, pi_task_block(&done));
    pi_task_wait_on(&done);
    pi_l1_free(&cluster_dev, j.c, M * N * sizeof(int32_t));
    pi_l1_free(&cluster_dev, j.a, M * K);
    pi_l1_free(&cluster_dev, j.b, N * K);
    pi_cluster_close(&cluster_dev);
    pmsis_exit(0);
}

int main(void) { return pmsis_kickoff((void *)test_entry); }
