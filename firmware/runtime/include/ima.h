/* In-memory accelerator (IMA) driver: HWPE register map of GVSoC's ima_v1
 * (model: iss/periph/ima.py, which documents every register). The offsets are
 * checked against the model by tests/periph/test_headers.py.
 *
 * Instances: IMA 0 at ARCHI_HWPE_BASE (0x10201000), IMA i >= 1 at
 * ARCHI_ACCEL_BASE + 0x100*i; all raise event EVT_ACC0 (12) on every core at the
 * end of their last job.
 *
 * What a job computes (exact, integer; the numpy golden model is
 * iss.nn.ima_model.mvm): for the window rows J_START_Y.. (J_HEIGHT) and columns
 * J_START_X.. (J_WIDTH), with int8 inputs in[j] and 4-bit weights w[j][i] in -7..7
 *
 *     acc_i = sum_j in[j] * w[j][i]
 *     a     = clamp(acc_i, -ADC_LOW, ADC_HIGH)
 *     q     = round_half_away_from_zero(a * 127 / (ADC_LOW + ADC_HIGH))
 *     out_i = clamp(q, -127, 127)                                   (int8)
 *
 * which equals GVSoC's float formula sum (in/127)*(w/7) with ADC bounds in units
 * of acc: a GVSoC ADC register value R is 889*R here (889 = 127*7).
 *
 * Timing (cycles; P = [ima] stream_ports, L = JOB_LINE_LENGTH, F = JOB_FEAT_LENGTH,
 * W = J_WIDTH):
 *     S_in  = F * (ceil(ceil(L/4) / P) + 1) + fifo_cycles
 *     S_out = ceil(ceil(W/4) / P) + 1 + fifo_cycles
 *     C     = floor(eval_ns * f_MHz / 1000) + 1          (130 ns at 500 MHz: 66)
 *     one job: idle_cycles + S_in + C + S_out
 *     N jobs, pipelined (default), compute-bound (idle + S_in + S_out <= C):
 *         idle_cycles + S_in + N*C + S_out; otherwise one job every
 *         idle_cycles + S_in + S_out cycles in steady state;
 *     pipeline off: N * (idle_cycles + S_in + C + S_out).
 * Programming: each SUBMIT_PLOT word (8 weights) takes plot_write_ns (1000 ns). */
#ifndef ISS_IMA_H
#define ISS_IMA_H
#include <stdint.h>
#include "archi.h"
#include "eu.h"

#define IMA_TRIGGER              0x00
#define IMA_ACQUIRE              0x04
#define IMA_FINISHED_JOBS        0x08
#define IMA_STATUS               0x0C
#define IMA_RUNNING_TASK         0x10
#define IMA_SOFT_CLEAR           0x14
#define IMA_CHECK_STATE          0x18
#define IMA_P_START_X            0x20
#define IMA_P_START_Y            0x24
#define IMA_P_WIDTH              0x28
#define IMA_P_HEIGHT             0x2C
#define IMA_SUBMIT_PLOT          0x30
#define IMA_J_START_X            0x34
#define IMA_J_START_Y            0x38
#define IMA_J_WIDTH              0x3C
#define IMA_J_HEIGHT             0x40
#define IMA_J_SRC_ADDR           0x44
#define IMA_J_DST_ADDR           0x48
#define IMA_J_SRC_STRIDE         0x4C
#define IMA_J_DST_STRIDE         0x50
#define IMA_ADC_LOW              0x54
#define IMA_ADC_HIGH             0x58
#define IMA_FETCH_LENGTH         0x5C
#define IMA_STORE_LENGTH         0x60
#define IMA_JOB_LINE_LENGTH      0x64
#define IMA_JOB_FEAT_STRIDE      0x68
#define IMA_JOB_FEAT_LENGTH      0x6C
#define IMA_NUM_JOBS             0x70
#define IMA_ALPHA_IN_LENGTH      0x74
#define IMA_ALPHA_IN_STRIDE      0x78
#define IMA_BETA_IN_LENGTH       0x7C
#define IMA_BETA_IN_STRIDE       0x80
#define IMA_ALPHA_OUT_LENGTH     0x84
#define IMA_ALPHA_OUT_STRIDE     0x88
#define IMA_BETA_OUT_LENGTH      0x8C
#define IMA_BETA_OUT_STRIDE      0x90
#define IMA_JOB_LL_MEMT          0x94
#define IMA_JOB_FEAT_ROLL        0x98
#define IMA_DW_MODE              0x9C
#define IMA_PR_ADDR_X            0xA0
#define IMA_PR_ADDR_Y            0xA4
#define IMA_PR_VAL               0xA8

/* GVSoC ima_v1.h spellings */
#define IMA_P_HIGHT              IMA_P_HEIGHT
#define IMA_J_HIGHT              IMA_J_HEIGHT
#define IMA_J_SRC_STRID          IMA_J_SRC_STRIDE
#define IMA_J_DST_STRID          IMA_J_DST_STRIDE

#define IMA_XBAR_ROWS            256
#define IMA_XBAR_COLS            256
#define IMA_WINDOW_SIZE          0x100
#define IMA_EVENT                EVT_ACC0

static inline uint32_t ima_base(int index)
{
    return index == 0 ? (uint32_t)ARCHI_HWPE_BASE : (uint32_t)ARCHI_ACCEL_BASE + IMA_WINDOW_SIZE * (uint32_t)index;
}

static inline void ima_write(int index, uint32_t offset, uint32_t value)
{ *(volatile uint32_t *)(ima_base(index) + offset) = value; }
static inline uint32_t ima_read(int index, uint32_t offset)
{ return *(volatile uint32_t *)(ima_base(index) + offset); }

/* Lock the IMA for this core (sleeping on its event while another holds it;
 * returns at once if this core holds it already). */
static inline void ima_acquire(int index)
{
    while ((int32_t)ima_read(index, IMA_ACQUIRE) < 0)
        eu_evt_wait_clr(1u << IMA_EVENT);
}

/* Program a rows x cols weight window at (row y0, column x0): `words` holds
 * rows * ceil(cols/8) words, row by row, 8 weights per word, low nibble first
 * (iss.nn.ima_model.pack_plot_words). Each word takes plot_write_ns. */
static inline void ima_program(int index, int x0, int y0, int cols, int rows, const uint32_t *words)
{
    ima_acquire(index);
    ima_write(index, IMA_P_START_X, x0);
    ima_write(index, IMA_P_START_Y, y0);
    ima_write(index, IMA_P_WIDTH, cols);
    ima_write(index, IMA_P_HEIGHT, rows);
    int n = rows * ((cols + 7) / 8);
    for (int i = 0; i < n; i++)
        ima_write(index, IMA_SUBMIT_PLOT, words[i]);
}

/* 8 weights of row y from column x, packed as for SUBMIT_PLOT. */
static inline uint32_t ima_read_weights(int index, int x, int y)
{
    ima_write(index, IMA_PR_ADDR_X, x);
    ima_write(index, IMA_PR_ADDR_Y, y);
    return ima_read(index, IMA_PR_VAL);
}

static inline void ima_adc_range(int index, uint32_t adc_low, uint32_t adc_high)
{
    ima_write(index, IMA_ADC_LOW, adc_low);
    ima_write(index, IMA_ADC_HIGH, adc_high);
}

/* Job window and streamer: each job reads feat_length lines of line_length
 * bytes (src_stride apart) into rows y0.., and writes `cols` results to dst. */
static inline void ima_wait(int index);

static inline void ima_job(int index, int x0, int y0, int cols, int rows, uint32_t src, uint32_t src_stride,
                           uint32_t dst, int line_length, int feat_length, int num_jobs)
{
    ima_wait(index);   /* registers must not change under running jobs */
    ima_write(index, IMA_J_START_X, x0);
    ima_write(index, IMA_J_START_Y, y0);
    ima_write(index, IMA_J_WIDTH, cols);
    ima_write(index, IMA_J_HEIGHT, rows);
    ima_write(index, IMA_J_SRC_ADDR, src);
    ima_write(index, IMA_J_DST_ADDR, dst);
    ima_write(index, IMA_J_SRC_STRIDE, src_stride);
    ima_write(index, IMA_JOB_LINE_LENGTH, line_length);
    ima_write(index, IMA_JOB_FEAT_LENGTH, feat_length);
    ima_write(index, IMA_NUM_JOBS, num_jobs);
}

/* Address auto-increment between jobs (see iss/periph/ima.py): while the alpha
 * count < alpha_len add alpha_stride, else add beta_stride and count beta
 * (wrapping at beta_len); beta_len 0 disables stepping. */
static inline void ima_steps(int index, uint32_t a_in_len, int32_t a_in_stride, uint32_t b_in_len, int32_t b_in_stride,
                             uint32_t a_out_len, int32_t a_out_stride, uint32_t b_out_len, int32_t b_out_stride)
{
    ima_write(index, IMA_ALPHA_IN_LENGTH, a_in_len);
    ima_write(index, IMA_ALPHA_IN_STRIDE, (uint32_t)a_in_stride);
    ima_write(index, IMA_BETA_IN_LENGTH, b_in_len);
    ima_write(index, IMA_BETA_IN_STRIDE, (uint32_t)b_in_stride);
    ima_write(index, IMA_ALPHA_OUT_LENGTH, a_out_len);
    ima_write(index, IMA_ALPHA_OUT_STRIDE, (uint32_t)a_out_stride);
    ima_write(index, IMA_BETA_OUT_LENGTH, b_out_len);
    ima_write(index, IMA_BETA_OUT_STRIDE, (uint32_t)b_out_stride);
}

static inline void ima_trigger(int index) { ima_write(index, IMA_TRIGGER, 0); }
static inline int ima_busy(int index) { return ima_read(index, IMA_STATUS) != 0; }

/* Sleep until the IMA's job sequence is over. */
static inline void ima_wait(int index)
{
    while (ima_busy(index))
        eu_evt_wait_clr(1u << IMA_EVENT);
}

#endif
