/* The PULP runtime API this simulator's firmware uses (a pmsis subset).
 *
 * main() runs on core 0 while the other cores sleep in the dispatch loop;
 * pi_cl_team_fork() wakes them, runs entry(arg) on cores 0..nb_cores-1 and
 * returns after the team's closing barrier. */
#ifndef PMSIS_H
#define PMSIS_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include "archi.h"
#include "eu.h"
#include "irq.h"
#include "timer.h"

#ifndef NUM_CORES
#define NUM_CORES 8
#endif

#define PI_L1     __attribute__((section(".l1")))
#define PI_CL_L1  PI_L1
#define PI_L1_BSS __attribute__((section(".l1_bss")))
#define PI_L2

/* Core id (mhartid bits 4:0) and cluster id (bits 10:5); the start-up code keeps
 * mhartid in tp, so these cost one instruction. */
static inline int pi_core_id(void) { int r; __asm__("andi %0, tp, 0x1f" : "=r"(r)); return r; }
static inline int pi_cluster_id(void) { int r; __asm__("srli %0, tp, 5\n\tandi %0, %0, 0x3f" : "=r"(r)); return r; }
static inline int pi_is_fc(void) { return 0; }

/* Cores present in the simulated cluster (may be fewer than NUM_CORES). */
int pi_cl_cluster_nb_cores(void);
/* Cores of the current team (the last fork's nb_cores; 1 outside a fork). */
int pi_cl_team_nb_cores(void);

/* Run entry(arg) on cores 0..nb_cores-1 (0: all cores) and wait for all of them. */
void pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg);
/* Barrier of the current team. Accepts the legacy form with an argument, as
 * PULP-NN calls it: pi_cl_team_barrier(0). */
void __pi_cl_team_barrier(void);
#define pi_cl_team_barrier(...) __pi_cl_team_barrier()
void pi_cl_team_critical_enter(void);
void pi_cl_team_critical_exit(void);

/* Performance counters (per core), from the simulator's cycle model:
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

/* Memory: bump allocators over the free L1 (TCDM) and L2 space; free() of the
 * last block returns it. */
void *pi_l1_malloc(void *device, size_t size);
void pi_l1_free(void *device, void *chunk, size_t size);
void *pi_l2_malloc(size_t size);
void pi_l2_free(void *chunk, size_t size);
#define pi_cl_l1_malloc(dev, size) pi_l1_malloc(dev, size)
#define pi_cl_l1_free(dev, chunk, size) pi_l1_free(dev, chunk, size)

/* Output goes to the simulator's stdout, one line at a time per core. */
int putchar(int c);
int puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* End the simulation with this exit code (iss run exits with it). */
void exit(int code) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
