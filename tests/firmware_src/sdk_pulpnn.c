/* Int8 kernels written the PULP-NN way, against pmsis.h only: v4s/v4u,
 * __builtin_pulp_sdotusp4, clipu_r requantisation, NUM_CORES row partitioning
 * with fl1, pi_cl_team_barrier(0), maxu4 pooling, and 4-bit packing with binsert
 * / bextractu whose masks and offsets are held in variables (the mixed-precision
 * style). main forks each kernel on the team; tests/test_sdk_programs.py checks
 * every output against numpy. */
#include "pmsis.h"

#define log2(x) __builtin_pulp_fl1(x)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define SumDotp(a, b, c) __builtin_pulp_sdotusp4(a, b, c)
#define clip8(x) __builtin_pulp_clipu_r(x, 255)
#define bitins(dst, not_mask, src, mask, off) __builtin_binsert(dst, not_mask, src, mask, off)
#define bitextu(x, size, off) __builtin_pulp_bextractu(x, size, off)

#define PIX 37            /* pixels: not a multiple of the core count */
#define CIN 20            /* not a multiple of 4: a leftover loop */
#define COUT 12
#define OUT_MULT 11
#define OUT_SHIFT 7

uint8_t pw_in[PIX * CIN] = {1};
int8_t pw_w[COUT * CIN] = {1};
int8_t pw_bias[COUT] = {1};
uint8_t pw_out[PIX * COUT];

#define POOL_N 64
uint8_t pool_a[POOL_N] = {1}, pool_b[POOL_N] = {1};
uint8_t pool_out[POOL_N];

#define NIB_N 48
uint8_t nib_in[NIB_N] = {1};      /* values 0..15 */
uint8_t nib_packed[NIB_N / 2];
uint8_t nib_back[NIB_N];

static void pointwise(void *arg)
{
    (void)arg;
    int core_id = pi_core_id();
    int chunk = (PIX >> log2(NUM_CORES)) + ((PIX & (NUM_CORES - 1)) != 0);
    int start = min(chunk * core_id, PIX), stop = min(start + chunk, PIX);
    for (int p = start; p < stop; p++) {
        const uint8_t *in = pw_in + p * CIN;
        for (int co = 0; co < COUT; co++) {
            const int8_t *w = pw_w + co * CIN;
            int sum = pw_bias[co];
            int ci = 0;
            for (; ci + 4 <= CIN; ci += 4) {
                v4u a = *(v4u *)(in + ci);
                v4s b = *(v4s *)(w + ci);
                sum = SumDotp(a, b, sum);
            }
            for (; ci < CIN; ci++)
                sum += in[ci] * w[ci];
            pw_out[p * COUT + co] = clip8((OUT_MULT * sum) >> OUT_SHIFT);
        }
    }
    pi_cl_team_barrier(0);
}

static void pool(void *arg)
{
    (void)arg;
    int core_id = pi_core_id(), words = POOL_N / 4;
    for (int i = core_id; i < words; i += NUM_CORES) {
        v4u a = ((v4u *)pool_a)[i], b = ((v4u *)pool_b)[i];
        ((v4u *)pool_out)[i] = __builtin_pulp_maxu4(a, b);
    }
    pi_cl_team_barrier(0);
}

static void nibbles(void *arg)
{
    (void)arg;
    int core_id = pi_core_id();
    for (int i = core_id; i < NIB_N / 2; i += NUM_CORES) {
        uint32_t packed = 0;
        for (int k = 0; k < 2; k++) {
            int off = 4 * k;                      /* offset and mask in variables */
            uint32_t mask = 0xFu << off;
            packed = bitins(packed, ~mask, nib_in[2 * i + k], mask, off);
        }
        nib_packed[i] = (uint8_t)packed;
    }
    pi_cl_team_barrier(0);
    for (int i = core_id; i < NIB_N; i += NUM_CORES)
        nib_back[i] = (uint8_t)bitextu((uint32_t)nib_packed[i >> 1], 4, 4 * (i & 1));
    pi_cl_team_barrier(0);
}

int main(void)
{
    pi_cl_team_fork(NUM_CORES, pointwise, 0);
    pi_cl_team_fork(NUM_CORES, pool, 0);
    pi_cl_team_fork(NUM_CORES, nibbles, 0);
    printf("pulp-nn style kernels done on %d cores (core %d of cluster %d)\n", NUM_CORES, __builtin_pulp_CoreId(),
           __builtin_pulp_ClusterId());
    return 0;
}
