/* Depthwise 3x3 accelerator (DWA) driver; model and register semantics:
 * iss/periph/dwa.py (offsets checked against it by tests/periph/test_headers.py).
 *
 * One job: int8 HWC input [H][W][C] -> int8 [Ho][Wo][C],
 *     acc = bias[c] + sum_{kh,kw} x_pad[i*S+kh][j*S+kw][c] * w[kh][kw][c]
 *     out = clamp((acc*mult[c] + (shift[c] ? 1 << (shift[c]-1) : 0)) >> shift[c], lo, hi)
 * (iss.nn.layers.depthwise + iss.nn.quant.requantize, bit for bit).
 * Timing: setup_cycles + max(ceil(Ho*Wo*C*9 / macs_per_cycle),
 *                            ceil((H*W*C + Ho*Wo*C + 18*C) / port_bytes)).
 * End of job: event EVT_ACC1 (13) on every core. */
#ifndef ISS_DWA_H
#define ISS_DWA_H
#include <stdint.h>
#include "archi.h"
#include "eu.h"

#define DWA_BASE                 ARCHI_ACCEL_BASE
#define DWA_EVENT                EVT_ACC1

#define DWA_TRIGGER              0x00
#define DWA_ACQUIRE              0x04
#define DWA_FINISHED_JOBS        0x08
#define DWA_STATUS               0x0C
#define DWA_RUNNING_TASK         0x10
#define DWA_SOFT_CLEAR           0x14
#define DWA_IN_ADDR              0x20
#define DWA_OUT_ADDR             0x24
#define DWA_WEIGHT_ADDR          0x28
#define DWA_BIAS_ADDR            0x2C
#define DWA_MULT_ADDR            0x30
#define DWA_SHIFT_ADDR           0x34
#define DWA_DIM_H                0x38
#define DWA_DIM_W                0x3C
#define DWA_DIM_C                0x40
#define DWA_STRIDE               0x44
#define DWA_PADDING              0x48
#define DWA_CLAMP_LO             0x4C
#define DWA_CLAMP_HI             0x50
#define DWA_IN_ROW_STRIDE        0x54
#define DWA_OUT_ROW_STRIDE       0x58

#define DWA_PAD_TOP              1
#define DWA_PAD_BOTTOM           2
#define DWA_PAD_LEFT             4
#define DWA_PAD_RIGHT            8
#define DWA_PAD_SAME             0xF

#define __DWA_REG(off) (*(volatile uint32_t *)(DWA_BASE + (off)))

typedef struct {
    const int8_t *in;      /* [H][W][C], rows in_row_stride apart (0: W*C) */
    int8_t *out;           /* [Ho][Wo][C], rows out_row_stride apart (0: Wo*C) */
    const int8_t *weights; /* [3][3][C] */
    const int32_t *bias;   /* [C] */
    const int32_t *mult;   /* [C], >= 0 */
    const uint8_t *shift;  /* [C], 0..31 */
    int h, w, c, stride, padding, clamp_lo, clamp_hi;
    uint32_t in_row_stride, out_row_stride;
} dwa_job_t;

static inline void dwa_acquire(void)
{
    while ((int32_t)__DWA_REG(DWA_ACQUIRE) < 0)
        eu_evt_wait_clr(1u << DWA_EVENT);
}

static inline int dwa_busy(void);
static inline void dwa_wait(void);

/* Configure and start a job (waits for the previous one first: the registers
 * must not change under a running job). */
static inline void dwa_start(const dwa_job_t *j)
{
    dwa_wait();
    __DWA_REG(DWA_IN_ADDR) = (uint32_t)j->in;
    __DWA_REG(DWA_OUT_ADDR) = (uint32_t)j->out;
    __DWA_REG(DWA_WEIGHT_ADDR) = (uint32_t)j->weights;
    __DWA_REG(DWA_BIAS_ADDR) = (uint32_t)j->bias;
    __DWA_REG(DWA_MULT_ADDR) = (uint32_t)j->mult;
    __DWA_REG(DWA_SHIFT_ADDR) = (uint32_t)j->shift;
    __DWA_REG(DWA_DIM_H) = j->h;
    __DWA_REG(DWA_DIM_W) = j->w;
    __DWA_REG(DWA_DIM_C) = j->c;
    __DWA_REG(DWA_STRIDE) = j->stride;
    __DWA_REG(DWA_PADDING) = j->padding;
    __DWA_REG(DWA_CLAMP_LO) = (uint32_t)j->clamp_lo;
    __DWA_REG(DWA_CLAMP_HI) = (uint32_t)j->clamp_hi;
    __DWA_REG(DWA_IN_ROW_STRIDE) = j->in_row_stride;
    __DWA_REG(DWA_OUT_ROW_STRIDE) = j->out_row_stride;
    __DWA_REG(DWA_TRIGGER) = 0;
}

static inline int dwa_busy(void) { return __DWA_REG(DWA_STATUS) != 0; }

static inline void dwa_wait(void)
{
    while (dwa_busy())
        eu_evt_wait_clr(1u << DWA_EVENT);
}

#endif
