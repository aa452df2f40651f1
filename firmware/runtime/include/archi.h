/* Addresses and register offsets of the simulated PULP cluster. Usable from C
 * and assembly. Must agree with iss/memory.py and the peripheral models in
 * iss/periph/ (tests/periph/test_headers.py checks its addresses, register offsets
 * and event lines against them). */
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

/* The cores run the CORE-V extensions (iss cc's default -mcpu; not with --no-corev):
 * corev.h needs them, pmsis.h includes the PULP builtins only with them. */
#if defined(__riscv_xcvsimd) && defined(__riscv_xcvmac) && defined(__riscv_xcvalu) && \
    defined(__riscv_xcvmem) && defined(__riscv_xcvelw)
#define ARCHI_HAS_COREV          1
#else
#define ARCHI_HAS_COREV          0
#endif

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
#define CTRL_TCDM_SIZE           0x3F0  /* simulator-specific, read-only */
#define CTRL_L2_SIZE             0x3F4  /* simulator-specific, read-only */
#define CTRL_CLOCK_KHZ           0x3F8  /* simulator-specific, read-only */

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

/* The fabric controller (programs whose main runs on it: those using the
 * cluster API, firmware/runtime/cluster.c): its cluster id in mhartid, as on
 * PULP; the software event the runtime offloads tasks with (FC -> cluster core
 * 0, and back); the SW_EVENT core-mask bit that reaches the FC; its stack (L2). */
#define ARCHI_FC_CID             31
#define ISS_EVT_OFFLOAD          7
#define EU_FC_MASK               (1u << 31)
#ifndef ISS_FC_STACK_SIZE
#define ISS_FC_STACK_SIZE        8192
#endif

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


/* The PULP SDK's names for the same places (archi/chips/pulp/memory_map.h,
 * archi/cluster, archi/eu/eu_v3.h), so low-level PULP code finds them. */
#define ARCHI_L2_ADDR                     ARCHI_L2_BASE
#define ARCHI_CLUSTER_ADDR                ARCHI_TCDM_BASE
#define ARCHI_TCDM_ADDR                   ARCHI_TCDM_BASE
#define ARCHI_CLUSTER_GLOBAL_ADDR(cid)    (0x10000000 + (cid) * 0x400000)
#define ARCHI_CLUSTER_PERIPHERALS_OFFSET  0x00200000
#define ARCHI_CLUSTER_PERIPHERALS_ADDR    ARCHI_CLUSTER_PERIPH
#define ARCHI_CLUSTER_PERIPHERALS_GLOBAL_ADDR(cid) (ARCHI_CLUSTER_GLOBAL_ADDR(cid) + ARCHI_CLUSTER_PERIPHERALS_OFFSET)
#define ARCHI_CLUSTER_CTRL_OFFSET         0x00000000
#define ARCHI_TIMER_OFFSET                0x00000400
#define ARCHI_EU_OFFSET                   0x00000800
#define ARCHI_HWCE_OFFSET                 0x00001000
#define ARCHI_MCHAN_EXT_OFFSET            0x00001800
#define ARCHI_CLUSTER_CTRL_ADDR           ARCHI_CLUSTER_CTRL
#define ARCHI_CLUSTER_TIMER_ADDR          ARCHI_TIMER_BASE
#define ARCHI_TIMER_ADDR                  ARCHI_TIMER_BASE
#define ARCHI_EU_ADDR                     ARCHI_EU_BASE
#define ARCHI_HWCE_ADDR                   ARCHI_HWPE_BASE
#define ARCHI_MCHAN_EXT_ADDR              ARCHI_DMA_BASE
#define ARCHI_DEMUX_PERIPHERALS_OFFSET    0x00204000
#define ARCHI_EU_DEMUX_OFFSET             0x00000
#define ARCHI_MCHAN_DEMUX_OFFSET          0x00400
#define ARCHI_DEMUX_PERIPHERALS_ADDR      EU_DEMUX_BASE
#define ARCHI_EU_DEMUX_ADDR               EU_DEMUX_BASE
#define ARCHI_MCHAN_DEMUX_ADDR            DMA_DEMUX_BASE
#define ARCHI_SOC_PERIPHERALS_ADDR        0x1A100000
#define SOC_PERIPHERALS_ADDR              ARCHI_SOC_PERIPHERALS_ADDR
#define ARCHI_STDOUT_ADDR                 ARCHI_STDOUT_BASE
#define ARCHI_HAS_L1                      1
#define ARCHI_HAS_CLUSTER                 1
#define ARCHI_NB_CLUSTER                  1

/* cluster event lines */
#define ARCHI_CL_EVT_DMA0                 EVT_DMA0
#define ARCHI_CL_EVT_DMA1                 EVT_DMA1
#define ARCHI_CL_EVT_TIMER0               EVT_TIMER0
#define ARCHI_CL_EVT_TIMER1               EVT_TIMER1
#define ARCHI_CL_EVT_ACC0                 EVT_ACC0
#define ARCHI_CL_EVT_ACC1                 EVT_ACC1
#define ARCHI_CL_EVT_ACC2                 EVT_ACC2
#define ARCHI_CL_EVT_ACC3                 EVT_ACC3
#define ARCHI_CL_EVT_BAR                  EVT_BARRIER
#define ARCHI_CL_EVT_MUTEX                EVT_MUTEX
#define ARCHI_CL_EVT_DISPATCH             EVT_DISPATCH
#define ARCHI_EVT_DMA0                    EVT_DMA0
#define CL_IRQ_DMA0                       (8)
#define CL_IRQ_DMA1                       (9)

/* event unit registers (eu_v3 names) */
#define EU_CORE_MASK                      EU_MASK
#define EU_CORE_MASK_AND                  EU_MASK_AND
#define EU_CORE_MASK_OR                   EU_MASK_OR
#define EU_CORE_STATUS                    EU_STATUS
#define EU_CORE_BUFFER                    EU_BUFFER
#define EU_CORE_BUFFER_MASKED             EU_BUFFER_MASKED
#define EU_CORE_BUFFER_CLEAR              EU_BUFFER_CLEAR
#define EU_CORE_EVENT_WAIT                EU_EVENT_WAIT
#define EU_CORE_EVENT_WAIT_CLEAR          EU_EVENT_WAIT_CLEAR
#define EU_DISPATCH_DEMUX_OFFSET          0x80
#define EU_MUTEX_DEMUX_OFFSET             0xC0
#define EU_SW_EVENTS_DEMUX_OFFSET         0x100
#define EU_BARRIER_DEMUX_OFFSET           0x200
#define EU_BARRIER_SIZE                   0x20

#endif
