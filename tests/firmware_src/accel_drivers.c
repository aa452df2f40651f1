/* Exercises the dma.h, ima.h and dwa.h drivers from firmware (core 0):
 * DMA L2 -> TCDM (1-D and 2-D) and back, IMA weight programming and a multi-job
 * pointwise run, a depthwise job. Data come from an LCG; the Python test checks
 * the buffers against numpy golden models. BAD_ADC leaves the ADC range at 0. */
#include "pmsis.h"
#include "dma.h"
#include "ima.h"
#include "dwa.h"

static uint32_t seed = 12345;
static int lcg(void) { seed = seed * 1103515245u + 12345u; return (int)((seed >> 16) & 0x7FFF); }

/* DMA */
#define N 1000
uint8_t l2_src[N];
uint8_t l2_back[N];
PI_L1 uint8_t l1_copy[N];
#define TROWS 6
#define TLINE 20
#define TSTRIDE 100
PI_L1 uint8_t l1_tile[TROWS * TLINE];

/* IMA: R x COLS weights at (row 8, column 16), NJ jobs */
#define R 48
#define COLS 24
#define NJ 6
int8_t w4[R][COLS];
uint32_t words[R * ((COLS + 7) / 8)];
int8_t l2_ima_in[NJ * R];
int8_t l2_ima_out[NJ * COLS];
PI_L1 int8_t ima_in[NJ * R];
PI_L1 int8_t ima_out[NJ * COLS];
uint32_t readback;

/* DWA */
#define H 10
#define W 10
#define C 8
PI_L1 int8_t dw_in[H * W * C];
PI_L1 int8_t dw_w[9 * C];
PI_L1 int32_t dw_bias[C];
PI_L1 int32_t dw_mult[C];
PI_L1 uint8_t dw_shift[C];
PI_L1 int8_t dw_out[5 * 5 * C];

int main(void)
{
    for (int i = 0; i < N; i++)
        l2_src[i] = (uint8_t)lcg();

    int t = plp_dma_extToL1((uint32_t)l1_copy, (uint32_t)l2_src, N);
    int t2 = plp_dma_extToL1_2d((uint32_t)l1_tile, (uint32_t)l2_src + 3, TROWS * TLINE, TSTRIDE, TLINE);
    plp_dma_wait(t);
    plp_dma_wait(t2);
    pi_cl_dma_cmd_t cmd;
    pi_cl_dma_cmd((uint32_t)l2_back, (uint32_t)l1_copy, N, PI_CL_DMA_DIR_LOC2EXT, &cmd);
    pi_cl_dma_wait(&cmd);
    int dma_ok = 1;
    for (int i = 0; i < N; i++)
        if (l2_back[i] != l2_src[i]) dma_ok = 0;
    for (int r = 0; r < TROWS; r++)
        for (int k = 0; k < TLINE; k++)
            if (l1_tile[r * TLINE + k] != l2_src[3 + r * TSTRIDE + k]) dma_ok = 0;
    printf("dma %s\n", dma_ok ? "ok" : "BAD");

    /* IMA */
    for (int r = 0; r < R; r++) {
        for (int c = 0; c < COLS; c++)
            w4[r][c] = (int8_t)(lcg() % 15 - 7);
        for (int g = 0; g < (COLS + 7) / 8; g++) {
            uint32_t word = 0;
            for (int k = 0; k < 8 && 8 * g + k < COLS; k++)
                word |= (uint32_t)(w4[r][8 * g + k] & 0xF) << (4 * k);
            words[r * ((COLS + 7) / 8) + g] = word;
        }
    }
    for (int i = 0; i < NJ * R; i++)
        l2_ima_in[i] = (int8_t)(lcg() & 0xFF);
    t = plp_dma_extToL1((uint32_t)ima_in, (uint32_t)l2_ima_in, sizeof ima_in);
    ima_program(0, 16, 8, COLS, R, words);
    plp_dma_wait(t);
#ifndef BAD_ADC
    ima_adc_range(0, 3000, 2500);
#endif
    ima_job(0, 16, 8, COLS, R, (uint32_t)ima_in, 0, (uint32_t)ima_out, R, 1, NJ);
    ima_steps(0, NJ, R, 1, 0, NJ, COLS, 1, 0);
    ima_trigger(0);
    ima_wait(0);
    readback = ima_read_weights(0, 16, 9);
    t = plp_dma_l1ToExt((uint32_t)l2_ima_out, (uint32_t)ima_out, sizeof ima_out);
    plp_dma_wait(t);
    printf("ima done\n");

    /* DWA */
    for (int i = 0; i < H * W * C; i++) dw_in[i] = (int8_t)(lcg() & 0xFF);
    for (int i = 0; i < 9 * C; i++) dw_w[i] = (int8_t)(lcg() & 0xFF);
    for (int c = 0; c < C; c++) {
        dw_bias[c] = lcg() - 16384;
        dw_mult[c] = 1 + lcg() % 4096;
        dw_shift[c] = (uint8_t)(12 + lcg() % 6);
    }
    dwa_job_t job = { dw_in, dw_out, dw_w, dw_bias, dw_mult, dw_shift, H, W, C, 2, DWA_PAD_SAME, 0, 127, 0, 0 };
    dwa_acquire();
    dwa_start(&job);
    dwa_wait();
    printf("dwa done\n");
    return dma_ok ? 0 : 1;
}
