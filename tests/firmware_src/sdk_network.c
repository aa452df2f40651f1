/* A network the way PULP DNN compilers generate one: each layer is a function
 * forked on the team; core 0 moves weight tiles from L2 to L1 by programming
 * the mchan registers directly (ARCHI_MCHAN_DEMUX_ADDR, command bits, waits
 * with eu_evt_maskWaitAndClr on ARCHI_CL_EVT_DMA0); activations live in L2
 * buffers from malloc/pi_l2_malloc freed out of order; the classifier ends in
 * a float softmax with expf, printed with %f. tests/test_sdk_programs.py
 * checks every layer against numpy. */
#include "pmsis.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MCHAN_BASE_ADDR (ARCHI_MCHAN_DEMUX_ADDR)
#define MCHAN_LEN_BITS 17
#define MCHAN_FLAG_EXT2LOC (1u << (MCHAN_LEN_BITS + 0))
#define MCHAN_FLAG_INCREMENTAL (1u << (MCHAN_LEN_BITS + 1))
#define MCHAN_FLAG_2D_EXT (1u << (MCHAN_LEN_BITS + 2))
#define MCHAN_FLAG_EVENT (1u << (MCHAN_LEN_BITS + 3))
static volatile uint32_t *const mchan_cmd = (volatile uint32_t *)(MCHAN_BASE_ADDR + 0x0);
static volatile uint32_t *const mchan_status = (volatile uint32_t *)(MCHAN_BASE_ADDR + 0x4);

static uint32_t mchan_in_1d(void *loc, const void *ext, uint32_t bytes)
{
    uint32_t tid = *mchan_cmd;
    *mchan_cmd = bytes | MCHAN_FLAG_EXT2LOC | MCHAN_FLAG_INCREMENTAL | MCHAN_FLAG_EVENT;
    *mchan_cmd = (uint32_t)loc;
    *mchan_cmd = (uint32_t)ext;
    return tid;
}

static uint32_t mchan_in_2d(void *loc, const void *ext, uint32_t bytes, uint32_t line, uint32_t stride)
{
    uint32_t tid = *mchan_cmd;
    *mchan_cmd = bytes | MCHAN_FLAG_EXT2LOC | MCHAN_FLAG_INCREMENTAL | MCHAN_FLAG_2D_EXT | MCHAN_FLAG_EVENT;
    *mchan_cmd = (uint32_t)loc;
    *mchan_cmd = (uint32_t)ext;
    *mchan_cmd = line;
    *mchan_cmd = stride;
    return tid;
}

static void mchan_wait(uint32_t tid)
{
    while (*mchan_status & (1u << tid))
        eu_evt_maskWaitAndClr(1u << ARCHI_CL_EVT_DMA0);
    *mchan_status = 1u << tid;
}

#define IN 64
#define HID 32
#define OUT 10
#define W2_PITCH 40          /* layer-2 weights stored in rows of 40 bytes (padding) */
#define TILE_ROWS 8

int8_t net_input[IN] = {1};                 /* written by the test */
int8_t w1[HID * IN] = {1};
int32_t b1[HID] = {1};
int8_t w2[OUT * W2_PITCH] = {1};
int32_t b2[OUT] = {1};
uint8_t hidden_out[HID];
int32_t logits_out[OUT];
float probs_out[OUT];

struct layer {
    const int8_t *in;           /* L2 */
    int8_t *tile;               /* L1 */
    void *out;                  /* L2 */
};

/* hidden = relu(clip8((w1 . x + b1) * 13 >> 8)), weights tiled TILE_ROWS rows at a time */
static void layer_fc1(void *arg)
{
    struct layer *l = arg;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    uint8_t *out = l->out;
    for (int t = 0; t < HID; t += TILE_ROWS) {
        if (core == 0)
            mchan_wait(mchan_in_1d(l->tile, w1 + t * IN, TILE_ROWS * IN));
        pi_cl_team_barrier();
        for (int r = core; r < TILE_ROWS; r += cores) {
            int32_t acc = b1[t + r];
            for (int k = 0; k < IN; k += 4)
                acc = __builtin_pulp_sdotsp4(*(v4s *)&l->in[k], *(v4s *)&l->tile[r * IN + k], acc);
            int32_t q = __builtin_pulp_clip((acc * 13) >> 8, -128, 127);
            out[t + r] = (uint8_t)(q > 0 ? q : 0);
        }
        pi_cl_team_barrier();
    }
}

/* logits = w2 . hidden + b2, the weights fetched with one 2-D transfer */
static void layer_fc2(void *arg)
{
    struct layer *l = arg;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    const uint8_t *in = (const uint8_t *)l->in;
    int32_t *out = l->out;
    if (core == 0)
        mchan_wait(mchan_in_2d(l->tile, w2, OUT * HID, HID, W2_PITCH));
    pi_cl_team_barrier();
    for (int o = core; o < OUT; o += cores) {
        int32_t acc = b2[o];
        for (int k = 0; k < HID; k += 4)
            acc = __builtin_pulp_sdotusp4(*(v4u *)&in[k], *(v4s *)&l->tile[o * HID + k], acc);
        out[o] = acc;
    }
    pi_cl_team_barrier();
}

int main(void)
{
    int8_t *tile = pi_l1_malloc(0, TILE_ROWS * IN);
    /* L2 activation buffers, released out of order */
    int8_t *act_in = malloc(IN);
    uint8_t *act_hidden = pi_l2_malloc(HID);
    int32_t *act_logits = calloc(OUT, sizeof(int32_t));
    char *scratch = malloc(333);
    memcpy(act_in, net_input, IN);
    free(scratch);

    struct layer l1 = {act_in, tile, act_hidden};
    pi_cl_team_fork(NUM_CORES, layer_fc1, &l1);
    free(act_in);
    struct layer l2 = {(const int8_t *)act_hidden, tile, act_logits};
    pi_cl_team_fork(NUM_CORES, layer_fc2, &l2);
    memcpy(hidden_out, act_hidden, HID);
    memcpy(logits_out, act_logits, sizeof logits_out);
    pi_l2_free(act_hidden, HID);
    free(act_logits);

    float mx = (float)logits_out[0], sum = 0.0f;
    for (int o = 1; o < OUT; o++)
        mx = fmaxf(mx, (float)logits_out[o]);
    for (int o = 0; o < OUT; o++)
        sum += probs_out[o] = expf(((float)logits_out[o] - mx) / 64.0f);
    int best = 0;
    for (int o = 0; o < OUT; o++) {
        probs_out[o] /= sum;
        if (probs_out[o] > probs_out[best])
            best = o;
    }
    printf("class %d p=%f\n", best, (double)probs_out[best]);
    /* everything went back to the heap: one block of all of it fits again */
    void *again = malloc(IN + 333 + OUT * sizeof(int32_t));
    printf("heap whole again: %d\n", again != 0 && (char *)again <= (char *)scratch);
    pi_l1_free(0, tile, TILE_ROWS * IN);
    return 0;
}
