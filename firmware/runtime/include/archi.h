/* Addresses and register offsets of the simulated PULP cluster. Usable from C
 * and assembly. Must agree with iss/memory.py and the peripheral models in
 * iss/periph/ (tests/test_headers_agree.py checks it). */
#ifndef ISS_ARCHI_H
#define ISS_ARCHI_H

#define ARCHI_TCDM_BASE          0x10000000
#define ARCHI_L2_BASE            0x1C000000
#define ARCHI_CLUSTER_PERIPH     0x10200000
#define ARCHI_CLUSTER_CTRL       (ARCHI_CLUSTER_PERIPH + 0x000)
#define ARCHI_TIMER_BASE         (ARCHI_CLUSTER_PERIPH + 0x400)
#define ARCHI_EU_BASE            (ARCHI_CLUSTER_PERIPH + 0x800)
#define ARCHI_HWPE_BASE          (ARCHI_CLUSTER_PERIPH + 0x1000)
#define ARCHI_DMA_BASE           (ARCHI_CLUSTER_PERIPH + 0x1800)
#define ARCHI_ACCEL_BASE         0x10210000
#define EU_DEMUX_BASE            0x10204000
#define DMA_DEMUX_BASE           (EU_DEMUX_BASE + 0x400)
#define ARCHI_STDOUT_BASE        0x1A10F000

/* cluster controller */
#define CTRL_EOC                 0x00
#define CTRL_FETCH_EN            0x08
#define CTRL_BOOT_ADDR(c)        (0x40 + 4 * (c))
#define CTRL_TRAP                0xF0   /* simulator: the default trap vector reports mcause here */

/* cluster timer (PULP timer_unit, GVSoC timer_v2), at ARCHI_TIMER_BASE */
#define TIMER_CFG_LO             0x00
#define TIMER_CFG_HI             0x04
#define TIMER_CNT_LO             0x08
#define TIMER_CNT_HI             0x0C
#define TIMER_CMP_LO             0x10
#define TIMER_CMP_HI             0x14
#define TIMER_START_LO           0x18
#define TIMER_START_HI           0x1C
#define TIMER_RESET_LO           0x20
#define TIMER_RESET_HI           0x24
#define TIMER_CFG_ENABLE         0x1        /* counting */
#define TIMER_CFG_RESET          0x2        /* write 1: counter to 0 */
#define TIMER_CFG_IRQEN          0x4        /* interrupt (event line) on compare match */
#define TIMER_CFG_IEM            0x8        /* input event mask (no input events here) */
#define TIMER_CFG_MODE           0x10       /* 1: counter back to 0 on match (periodic) */
#define TIMER_CFG_ONE_S          0x20       /* 1: stop counting on match (one-shot) */
#define TIMER_CFG_PEN            0x40       /* prescaler on: one count per PVAL+1 cycles */
#define TIMER_CFG_CCFG           0x80       /* 1: count the 32 kHz reference clock */
#define TIMER_CFG_PVAL(v)        (((v) & 0xFFu) << 8)
#define TIMER_CFG_CASC           0x80000000 /* CFG_LO only: LO and HI form one 64-bit counter */

/* event unit, core-private view (EU_DEMUX_BASE) */
#define EU_MASK                  0x00
#define EU_MASK_AND              0x04
#define EU_MASK_OR               0x08
#define EU_IRQ_MASK              0x0C
#define EU_IRQ_MASK_AND          0x10
#define EU_IRQ_MASK_OR           0x14
#define EU_STATUS                0x18
#define EU_BUFFER                0x1C
#define EU_BUFFER_MASKED         0x20
#define EU_BUFFER_IRQ_MASKED     0x24
#define EU_BUFFER_CLEAR          0x28
#define EU_EVENT_WAIT            0x38
#define EU_EVENT_WAIT_CLEAR      0x3C
#define EU_DISPATCH_FIFO         0x80
#define EU_DISPATCH_TEAM         0x84
#define EU_MUTEX(m)              (0xC0 + 4 * (m))
#define EU_SW_EVENT(e)           (0x100 + 4 * (e))
#define EU_BARRIER(b)            (0x200 + 0x20 * (b))
#define EU_BARRIER_TRIG_MASK     0x00
#define EU_BARRIER_STATUS        0x04
#define EU_BARRIER_TARGET_MASK   0x0C
#define EU_BARRIER_TRIGGER       0x10
#define EU_BARRIER_TRIGGER_SELF  0x14
#define EU_BARRIER_TRIGGER_WAIT  0x18
#define EU_BARRIER_TRIGGER_WAIT_CLEAR 0x1C

/* event lines */
#define EVT_DMA0                 8
#define EVT_DMA1                 9
#define EVT_TIMER0               10
#define EVT_TIMER1               11
#define EVT_ACC0                 12
#define EVT_ACC1                 13
#define EVT_ACC2                 14
#define EVT_ACC3                 15
#define EVT_BARRIER              16
#define EVT_MUTEX                17
#define EVT_DISPATCH             18

#endif
