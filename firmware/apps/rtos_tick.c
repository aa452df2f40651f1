/* A small RTOS-style demo of machine mode: on core 0, the cluster timer ticks
 * every TICK cycles and its interrupt handler switches between two tasks (a
 * preemptive round robin: it saves every register of the running task on its
 * stack and resumes the other one), while cores 1-7 compute a parallel sum.
 *
 * The switch is an assembly handler installed in mtvec (direct mode, so every
 * trap of core 0 lands there: only the timer line is enabled). Task A is main's
 * own flow; task B gets a stack and a first frame that "returns" into it. The
 * compiler makes the tasks' loops hardware loops: the switch saves and restores
 * the hardware-loop registers with the rest of the task's context. */
#include "pmsis.h"
#include "corev.h"

#define TICK 4000
#define N 4096
#define WORK_A 3000
#define WORK_B 2000

static int32_t data[N];
static volatile int64_t partial[8];
static volatile uint32_t work_a, work_b, done_b, switches;
static uint32_t stack_b[512] __attribute__((aligned(16)));
static uint32_t task_sp[2];
static int current;

/* The frame the switch saves: mepc at 0, register xk at 4k (x2 = sp itself is the
 * frame's address), the hardware-loop registers lpstart0..lpcount1 at 128..148. */
#define FRAME_WORDS 40
__asm__(".section .text.rtos_vector, \"ax\"\n"
        ".balign 256\n"
        ".globl rtos_vector\n"
        "rtos_vector:\n"
        "  addi sp, sp, -160\n"
        "  sw x1, 4(sp)\n  sw x3, 12(sp)\n  sw x4, 16(sp)\n  sw x5, 20(sp)\n  sw x6, 24(sp)\n"
        "  sw x7, 28(sp)\n  sw x8, 32(sp)\n  sw x9, 36(sp)\n  sw x10, 40(sp)\n  sw x11, 44(sp)\n"
        "  sw x12, 48(sp)\n  sw x13, 52(sp)\n  sw x14, 56(sp)\n  sw x15, 60(sp)\n  sw x16, 64(sp)\n"
        "  sw x17, 68(sp)\n  sw x18, 72(sp)\n  sw x19, 76(sp)\n  sw x20, 80(sp)\n  sw x21, 84(sp)\n"
        "  sw x22, 88(sp)\n  sw x23, 92(sp)\n  sw x24, 96(sp)\n  sw x25, 100(sp)\n  sw x26, 104(sp)\n"
        "  sw x27, 108(sp)\n  sw x28, 112(sp)\n  sw x29, 116(sp)\n  sw x30, 120(sp)\n  sw x31, 124(sp)\n"
        "  csrr t0, mepc\n  sw t0, 0(sp)\n"
        "  csrr t0, 0xcc0\n  sw t0, 128(sp)\n  csrr t0, 0xcc1\n  sw t0, 132(sp)\n"
        "  csrr t0, 0xcc2\n  sw t0, 136(sp)\n  csrr t0, 0xcc3\n  sw t0, 140(sp)\n"
        "  csrr t0, 0xcc4\n  sw t0, 144(sp)\n  csrr t0, 0xcc5\n  sw t0, 148(sp)\n"
        "  mv a0, sp\n"
        "  call rtos_tick\n"            /* returns the frame of the task to resume */
        "  mv sp, a0\n"
        "  lw t0, 0(sp)\n  csrw mepc, t0\n"
        "  lw t0, 128(sp)\n  cv.start 0, t0\n  lw t0, 132(sp)\n  cv.end 0, t0\n"
        "  lw t0, 136(sp)\n  cv.count 0, t0\n"
        "  lw t0, 140(sp)\n  cv.start 1, t0\n  lw t0, 144(sp)\n  cv.end 1, t0\n"
        "  lw t0, 148(sp)\n  cv.count 1, t0\n"
        "  lw x1, 4(sp)\n  lw x3, 12(sp)\n  lw x4, 16(sp)\n  lw x5, 20(sp)\n  lw x6, 24(sp)\n"
        "  lw x7, 28(sp)\n  lw x8, 32(sp)\n  lw x9, 36(sp)\n  lw x10, 40(sp)\n  lw x11, 44(sp)\n"
        "  lw x12, 48(sp)\n  lw x13, 52(sp)\n  lw x14, 56(sp)\n  lw x15, 60(sp)\n  lw x16, 64(sp)\n"
        "  lw x17, 68(sp)\n  lw x18, 72(sp)\n  lw x19, 76(sp)\n  lw x20, 80(sp)\n  lw x21, 84(sp)\n"
        "  lw x22, 88(sp)\n  lw x23, 92(sp)\n  lw x24, 96(sp)\n  lw x25, 100(sp)\n  lw x26, 104(sp)\n"
        "  lw x27, 108(sp)\n  lw x28, 112(sp)\n  lw x29, 116(sp)\n  lw x30, 120(sp)\n  lw x31, 124(sp)\n"
        "  addi sp, sp, 160\n"
        "  mret\n"
        ".text\n");
extern char rtos_vector[];

/* Called by the vector with the interrupted task's frame: round robin. */
uint32_t rtos_tick(uint32_t frame)
{
    task_sp[current] = frame;
    current ^= 1;
    switches++;
    return task_sp[current];
}

static uint32_t mix(uint32_t x) { x ^= x >> 13; x *= 0x5bd1e995u; return x ^ (x >> 15); }

static void task_b(void)
{
    for (uint32_t i = 0; i < WORK_B; i++)
        work_b += mix(i + 7);
    done_b = 1;
    for (;;)
        pi_irq_wait();          /* idle until the next tick switches back */
}

static void start_task_b(void)
{
    uint32_t *frame = &stack_b[512 - FRAME_WORDS];
    for (int k = 0; k < FRAME_WORDS; k++)
        frame[k] = 0;
    frame[0] = (uint32_t)task_b;                        /* mepc: where it starts */
    __asm__ volatile("mv %0, gp" : "=r"(frame[3]));     /* its global and thread pointers */
    __asm__ volatile("mv %0, tp" : "=r"(frame[4]));
    task_sp[1] = (uint32_t)frame;
}

static void cluster_entry(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    if (core != 0) {
        /* Cores 1-7: a parallel sum over the data. */
        int64_t s = 0;
        for (int i = core - 1; i < N; i += 7)
            s += data[i];
        partial[core] = s;
        return;
    }
    /* Core 0: the two tasks, preempted by the tick. */
    start_task_b();
    pi_irq_vector_set(rtos_vector, 0);
    pi_irq_mask_enable(EVT_TIMER0);
    timer_periodic_lo(TICK);
    pi_irq_enable();
    for (uint32_t i = 0; i < WORK_A; i++)                 /* task A */
        work_a += mix(i);
    while (!done_b)
        ;
    pi_irq_disable();
    timer_stop_lo();
    pi_irq_vector_default();
}

int main(void)
{
    int64_t expect = 0;
    for (int i = 0; i < N; i++) {
        data[i] = i * 13 - 20000;
        expect += data[i];
    }
    pi_cl_team_fork(8, cluster_entry, 0);
    int64_t sum = 0;
    for (int c = 1; c < 8; c++)
        sum += partial[c];
    printf("task A 0x%08x, task B 0x%08x, %u task switches\n", (unsigned)work_a, (unsigned)work_b,
           (unsigned)switches);
    printf("cluster sum %d (%s)\n", (int)sum, sum == expect ? "ok" : "WRONG");
    return sum == expect ? 0 : 1;
}
