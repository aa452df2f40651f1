/* The PULP runtime API (PMSIS, as in the PULP SDK) on the simulated cluster.
 *
 * What `#include "pmsis.h"` gives, as the SDK's does: the C library headers
 * (stdio, stdlib, string), the PULP builtins and vector types
 * (pulp_builtins.h), the event unit (eu.h), the cluster DMA (dma.h), the
 * addresses (archi.h), and below: core ids, team fork/barrier, performance
 * counters, allocators, time, the cluster device and task API, and the legacy
 * rt_* / hal_* names.
 *
 * Where main runs, as on PULP: a program that uses the cluster or task API
 * (pi_cluster_open, pi_cluster_send_task_to_cl, pi_task_*...) runs main on the
 * fabric controller (FC: its own hart, cluster id 31, core 0), which opens the
 * cluster (boot addresses, fetch enable), sends tasks to cluster core 0 and
 * sleeps until the cluster's event says they are done (cluster.c); the task's
 * entry runs on core 0, on a stack of the task's stack_size when one is given,
 * with its nb_cores as the team size of the forks inside it, the workers on
 * slave_stack_size stacks. A program that does not use that API runs main on
 * cluster core 0 while the other cores sleep in the dispatch loop (no FC).
 * `iss info` says which. */
#ifndef PMSIS_H
#define PMSIS_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "archi.h"
#include "eu.h"
#include "irq.h"
#include "timer.h"
/* The PULP builtins are CORE-V instructions: not in a --no-corev (plain RV32IMC) build. */
#if ARCHI_HAS_COREV
#include "pulp_builtins.h"
#endif
#include "dma.h"

#ifndef NUM_CORES
#define NUM_CORES 8
#endif
#define ARCHI_CLUSTER_NB_PE NUM_CORES

/* Data placement. L1 = the cluster TCDM; FC L1 and L2 = L2 (no FC TCDM here). */
#define PI_L1     __attribute__((section(".l1")))
#define PI_CL_L1  PI_L1
#define PI_L1_BSS __attribute__((section(".l1_bss")))
#define PI_L2
#define PI_FC_L1
#define PI_L1_GLOBAL PI_L1
#define PI_FC_TINY
#define PI_INLINE_L1 static inline
#define RT_L1_DATA PI_L1
#define RT_L1_GLOBAL_DATA PI_L1
#define RT_L2_DATA
#define RT_FC_GLOBAL_DATA
#define L1_DATA PI_L1
#define L2_DATA

/* -- ids ------------------------------------------------------------------------ */
/* Core id (mhartid bits 4:0) and cluster id (bits 10:5); the start-up code keeps
 * mhartid in tp, so these cost one instruction. */
static inline int pi_core_id(void) { int r; __asm__("andi %0, tp, 0x1f" : "=r"(r)); return r; }
static inline int pi_cluster_id(void) { int r; __asm__("srli %0, tp, 5\n\tandi %0, %0, 0x3f" : "=r"(r)); return r; }
/* 1 on the fabric controller (cluster id ARCHI_FC_CID). */
static inline int pi_is_fc(void) { return pi_cluster_id() == ARCHI_FC_CID; }
#define __builtin_pulp_CoreId() pi_core_id()
#define __builtin_pulp_ClusterId() pi_cluster_id()
#define __builtin_pulp_IsFc() pi_is_fc()
#define __builtin_pulp_CoreCount() pi_cl_cluster_nb_cores()

/* Cores present in the simulated cluster (may be fewer than NUM_CORES). */
int pi_cl_cluster_nb_cores(void);
/* Cores of the current team (the last fork's nb_cores; 1 outside a fork). */
int pi_cl_team_nb_cores(void);

/* -- team --------------------------------------------------------------------- */
/* Run entry(arg) on cores 0..nb_cores-1 and wait for all of them. nb_cores 0:
 * the current task's nb_cores (all cores outside a task). Asking for more cores
 * than the cluster has stops the simulation with an error. */
void pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg);
/* Barrier of the current team. Accepts the legacy form with an argument, as
 * PULP-NN calls it: pi_cl_team_barrier(0). */
void __pi_cl_team_barrier(void);
#define pi_cl_team_barrier(...) __pi_cl_team_barrier()
void pi_cl_team_critical_enter(void);
void pi_cl_team_critical_exit(void);

/* -- performance counters ----------------------------------------------------- */
/* Per core, from the simulator's cycle model:
 *   pi_perf_conf(1 << PI_PERF_CYCLES | 1 << PI_PERF_INSTR);
 *   pi_perf_reset(); pi_perf_start();  ...code...  pi_perf_stop();
 *   unsigned cycles = pi_perf_read(PI_PERF_CYCLES);
 * Event e is also readable directly at CSR mhpmcounter(3 + e). */
typedef enum {
    PI_PERF_CYCLES = 0,        /* cycles (clock-gated ones included) */
    PI_PERF_ACTIVE_CYCLES = 1, /* cycles not clock-gated */
    PI_PERF_INSTR = 2,         /* instructions retired */
    PI_PERF_LD_STALL = 3,      /* load-use stall cycles */
    PI_PERF_JR_STALL = 4,      /* jump and taken-branch stall cycles */
    PI_PERF_IMISS = 5,         /* instruction-cache misses (not modelled: 0) */
    PI_PERF_LD = 6,            /* loads */
    PI_PERF_ST = 7,            /* stores */
    PI_PERF_JUMP = 8,          /* jumps */
    PI_PERF_BRANCH = 9,        /* conditional branches */
    PI_PERF_BTAKEN = 10,       /* conditional branches taken */
    PI_PERF_RVC = 11,          /* compressed instructions */
    PI_PERF_LD_EXT = 12,       /* loads from L2 */
    PI_PERF_ST_EXT = 13,       /* stores to L2 */
    PI_PERF_LD_EXT_CYC = 14,   /* cycles of L2 loads beyond the first */
    PI_PERF_ST_EXT_CYC = 15,   /* cycles of L2 stores beyond the first */
    PI_PERF_TCDM_CONT = 16,    /* cycles waiting for a TCDM bank */
    PI_PERF_NB_EVENTS = 17
} pi_perf_event_e;
void pi_perf_conf(unsigned events);
void pi_perf_reset(void);
void pi_perf_start(void);
void pi_perf_stop(void);
unsigned int pi_perf_read(int event);
#define pi_perf_cl_conf pi_perf_conf
#define pi_perf_cl_reset pi_perf_reset
#define pi_perf_cl_start pi_perf_start
#define pi_perf_cl_stop pi_perf_stop
#define pi_perf_cl_read pi_perf_read
#define pi_perf_fc_conf pi_perf_conf
#define pi_perf_fc_reset pi_perf_reset
#define pi_perf_fc_start pi_perf_start
#define pi_perf_fc_stop pi_perf_stop
#define pi_perf_fc_read pi_perf_read

/* The PULP HAL's counter names (archi/riscv/pcer_v2.h), numbered as this
 * simulator counts: CSR_PCER_X is the PI_PERF_X event. */
#define CSR_PCER_CYCLES        PI_PERF_CYCLES
#define CSR_PCER_INSTR         PI_PERF_INSTR
#define CSR_PCER_LD_STALL      PI_PERF_LD_STALL
#define CSR_PCER_JMP_STALL     PI_PERF_JR_STALL
#define CSR_PCER_IMISS         PI_PERF_IMISS
#define CSR_PCER_LD            PI_PERF_LD
#define CSR_PCER_ST            PI_PERF_ST
#define CSR_PCER_JUMP          PI_PERF_JUMP
#define CSR_PCER_BRANCH        PI_PERF_BRANCH
#define CSR_PCER_TAKEN_BRANCH  PI_PERF_BTAKEN
#define CSR_PCER_RVC           PI_PERF_RVC
#define CSR_PCER_LD_EXT        PI_PERF_LD_EXT
#define CSR_PCER_ST_EXT        PI_PERF_ST_EXT
#define CSR_PCER_LD_EXT_CYC    PI_PERF_LD_EXT_CYC
#define CSR_PCER_ST_EXT_CYC    PI_PERF_ST_EXT_CYC
#define CSR_PCER_TCDM_CONT     PI_PERF_TCDM_CONT
#define CSR_PCER_NB_EVENTS     PI_PERF_NB_EVENTS
#define CSR_PCER_EVENT_MASK(e) (1u << (e))
#define CSR_PCER_ALL_EVENTS_MASK ((1u << PI_PERF_NB_EVENTS) - 1)
/* The HAL's per-core counter functions, on the same counters. */
static inline void cpu_perf_conf_events(unsigned mask) { pi_perf_conf(mask); }
static inline void cpu_perf_conf(unsigned conf) { (void)conf; pi_perf_start(); }
static inline void cpu_perf_setall(unsigned value) { (void)value; pi_perf_reset(); }
static inline unsigned cpu_perf_get(int event) { return pi_perf_read(event); }
#define perf_reset pi_perf_reset
#define perf_start pi_perf_start
#define perf_stop pi_perf_stop
#define perf_enable_all() pi_perf_conf(CSR_PCER_ALL_EVENTS_MASK)
#define perf_get_cycles() pi_perf_read(PI_PERF_CYCLES)

/* -- memory ----------------------------------------------------------------------- */
/* First-fit allocators over the free TCDM (L1) and L2; blocks can be freed in
 * any order (pass the size that was allocated, as in the SDK). malloc/free/
 * calloc (stdlib.h) use the L2 heap. NULL when the heap is exhausted. */
struct pi_device;
void *pi_l1_malloc(struct pi_device *device, int size);
void pi_l1_free(struct pi_device *device, void *chunk, int size);
void *pi_l2_malloc(int size);
void pi_l2_free(void *chunk, int size);
void *pi_l2_malloc_align(int size, int align);
void *pmsis_l1_malloc(uint32_t size);
void pmsis_l1_malloc_free(void *chunk, int size);
void *pmsis_l1_malloc_align(int size, int align);
void *pmsis_l2_malloc(uint32_t size);
void pmsis_l2_malloc_free(void *chunk, int size);
#define pmsis_l1_free pmsis_l1_malloc_free
#define pmsis_l2_free pmsis_l2_malloc_free
#define pi_cl_l1_malloc(dev, size) pi_l1_malloc(dev, size)
#define pi_cl_l1_free(dev, chunk, size) pi_l1_free(dev, chunk, size)
#define pi_fc_l1_malloc(size) pi_l2_malloc(size)
#define pi_fc_l1_free(chunk, size) pi_l2_free(chunk, size)
#define pi_fc_tcdm_malloc(size) pi_l2_malloc(size)
#define pi_fc_tcdm_free(chunk, size) pi_l2_free(chunk, size)

/* -- time ------------------------------------------------------------------------ */
/* Microseconds since reset, from this core's cycle counter and the configured
 * clock; pi_time_wait_us busy-waits (the cycles count as the core's). */
uint32_t pi_time_get_us(void);
void pi_time_wait_us(int us);
uint32_t pi_freq_get(int domain);
#define PI_FREQ_DOMAIN_FC 0
#define PI_FREQ_DOMAIN_CL 1
#define PI_FREQ_DOMAIN_PERIPH 2

/* -- end of the program ------------------------------------------------------------ */
/* End the simulation with this exit code (iss run exits with it). */
void pmsis_exit(int code) __attribute__((noreturn));
/* The SDK's start: main() { return pmsis_kickoff((void *)entry); }. Runs
 * entry(); if it returns, the program ends with exit code 0. */
int pmsis_kickoff(void *entry);

/* -- devices, tasks and the cluster ------------------------------------------------ */
typedef enum { PI_DEVICE_UNKWN_TYPE, PI_DEVICE_CLUSTER_TYPE } pi_device_e;

struct pi_device {
    void *api;
    void *config;
    void *data;
};

typedef struct pi_task {
    void (*callback)(void *);   /* pi_task_callback(): run when the work is done */
    void *arg;
    volatile int done;
    int id;
    uint32_t data[4];
} pi_task_t;

pi_task_t *pi_task_block(pi_task_t *task);
pi_task_t *pi_task_callback(pi_task_t *task, void (*callback)(void *), void *arg);
void pi_task_push(pi_task_t *task);
void pi_task_wait_on(pi_task_t *task);
void pi_task_release(pi_task_t *task);
void pi_task_destroy(pi_task_t *task);
#define pi_task_block_no_mutex pi_task_block

/* pi_yield/pi_evt_sig_wait: nothing else to run while waiting here. */
static inline void pi_yield(void) {}

typedef enum { PI_CLUSTER_FLAGS_FORK_BASED = 0, PI_CLUSTER_FLAGS_TASK_BASED = 1 } pi_cluster_flags_e;

struct pi_cluster_conf {
    pi_device_e device_type;    /* set by pi_cluster_conf_init */
    int id;                     /* cluster id: 0 (the one cluster) */
    void *heap_start;           /* ignored: the L1 heap is the TCDM after the stacks */
    uint32_t heap_size;
    void *event_kernel;
    pi_cluster_flags_e flags;
    uint32_t cc_stack_size;     /* accepted; stacks are per task here */
    int icache_conf;
    int scratch_size;
};

struct pi_cluster_task {
    void (*entry)(void *);      /* runs on cluster core 0 (the master core) */
    void *arg;
    void *stacks;               /* optional: memory for the stacks (master first) */
    uint32_t stack_size;        /* master (core 0) stack; 0: the start-up stack */
    uint32_t slave_stack_size;  /* stack of cores 1..nb_cores-1 in forks; 0: theirs */
    int nb_cores;               /* team size of forks with nb_cores 0; 0: all cores */
    pi_task_t *completion_callback;
    int stack_allocated;
    struct pi_cluster_task *next;
};

void pi_cluster_conf_init(struct pi_cluster_conf *conf);
void pi_open_from_conf(struct pi_device *device, void *conf);
int pi_cluster_open(struct pi_device *device);
int pi_cluster_close(struct pi_device *device);
int pi_cluster_is_on(void);
/* Fill a task (entry, arg; everything else 0) and return it. */
struct pi_cluster_task *pi_cluster_task(struct pi_cluster_task *task, void (*entry)(void *), void *arg);
struct pi_cluster_task *pi_cluster_task_stacks(struct pi_cluster_task *task, void *stacks, int stack_size);
/* Run the task on the cluster and wait for it (0: done). */
int pi_cluster_send_task_to_cl(struct pi_device *device, struct pi_cluster_task *task);
/* Run the task; `done` is released (or its callback run) when it ends. */
int pi_cluster_send_task_to_cl_async(struct pi_device *device, struct pi_cluster_task *task, pi_task_t *done);
#define pi_cluster_send_task pi_cluster_send_task_to_cl
#define pi_cluster_send_task_async pi_cluster_send_task_to_cl_async
static inline void pi_cluster_wait_free(struct pi_device *device) { (void)device; }
static inline void pi_cluster_wait_on_task(struct pi_device *device, pi_task_t *task) { (void)device; pi_task_wait_on(task); }

/* -- legacy names (pulp-rt, hal) ------------------------------------------------------ */
#define rt_core_id pi_core_id
#define rt_cluster_id pi_cluster_id
#define rt_is_fc pi_is_fc
#define rt_nb_pe pi_cl_cluster_nb_cores
#define rt_team_fork pi_cl_team_fork
#define rt_team_barrier() __pi_cl_team_barrier()
#define rt_team_critical_enter pi_cl_team_critical_enter
#define rt_team_critical_exit pi_cl_team_critical_exit
#define rt_time_get_us pi_time_get_us
#define rt_time_wait_us pi_time_wait_us
#define rt_alloc_l1(size) pi_l1_malloc(0, size)
#define rt_free_l1(chunk, size) pi_l1_free(0, chunk, size)
#define hal_core_id pi_core_id
#define hal_cluster_id pi_cluster_id
#define hal_is_fc pi_is_fc
#define hal_nb_pe pi_cl_cluster_nb_cores
#define get_core_id pi_core_id
#define get_cluster_id pi_cluster_id
#define plp_coreId pi_core_id
#define plp_clusterId pi_cluster_id
#define plp_isFc pi_is_fc
#define synch_barrier() __pi_cl_team_barrier()

/* Memory-mapped register access, as the HAL spells it. */
static inline void pulp_write32(uint32_t addr, uint32_t value) { *(volatile uint32_t *)addr = value; }
static inline uint32_t pulp_read32(uint32_t addr) { return *(volatile uint32_t *)addr; }
#define hal_write32(addr, value) pulp_write32((uint32_t)(addr), (uint32_t)(value))
#define hal_read32(addr) pulp_read32((uint32_t)(addr))
#define IP_WRITE(base, offset, value) pulp_write32((uint32_t)(base) + (offset), (value))
#define IP_READ(base, offset) pulp_read32((uint32_t)(base) + (offset))

#endif
