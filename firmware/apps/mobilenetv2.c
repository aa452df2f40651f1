/* End-to-end MobileNetV2 on the heterogeneous cluster: a layer-table
 * interpreter. The host (iss/study/mobilenetv2.py) places one image at the
 * start of the L2 heap before the run: header, op table, the IMA layer table
 * (iss.nn.mapping.Mapping.to_blob), the tiles' issue order, SUBMIT_PLOT words,
 * core weights, requantization parameters and every activation buffer. This
 * program runs the ops in order and writes each op's cycles back (cycles[i];
 * cycles[n_ops + i]: the time of the chain starting at op i, 0 elsewhere;
 * cycles[2 n_ops + i]: the mcycle at which op i started).
 *
 * Units (op_t.unit): cores (first conv, residual adds, average pool, the
 * classifier, the partial-sum requantization of row-split IMA layers, and
 * every layer of the cores-only baseline), IMA (pointwise; IMA i is the
 * mapping's array i), DWA (depthwise). Activations live in L2 and go through
 * the TCDM heap (__l1_heap_start, header.l1_size bytes) with the DMA:
 *   - pointwise on the IMAs: blocks of op.tile pixels, double-buffered: the
 *     next block's input and the previous block's output move while the IMAs
 *     compute; each tile of the layer is one job sequence (one job per pixel)
 *     on its array's window; tiles on different arrays run in parallel; a
 *     layer split into row tiles writes one int8 partial buffer per row tile,
 *     which the cores sum in int16 and requantize (iss.nn.ima_model.mvm_tiled);
 *   - pointwise on the cores: pw_conv_int8_l2 (its own double buffering);
 *     the classifier in chunks of output channels;
 *   - 3x3 layers: bands of op.tile output rows with their halo rows; the DWA
 *     pads only the image's true edges; the core kernels pad every edge, so a
 *     band after the first starts one output row early and drops it;
 *   - residual add: chunks of op.tile bytes of both inputs.
 * Overlap (the paper's schedule): the host groups consecutive layers into
 * chains (op.chain on the first member; iss.study.mobilenetv2.plan_chains).
 * A chain runs in steps over row bands: in step s every member computes its
 * band s - op.lag, the cores, the DWA and the IMAs at the same time, while the
 * DMA loads step s+1's bands and stores step s-1's (op_chain below). Layers
 * outside chains, and every layer with the host's overlap off, run alone as
 * described above.
 * IMA weights are programmed (header.n_prog plot records; 0 when the host
 * preloaded the crossbars) before the timed part.
 *
 * -DMNV2_CORES_ONLY builds the programmable baseline: no accelerator code;
 * an accelerator op is an error. */
#include "pmsis.h"
#include "dma.h"
#include "kernels.h"
#ifndef MNV2_CORES_ONLY
#include "ima.h"
#include "dwa.h"
#endif

#include "pointwise.c"
#include "pointwise_l2.c" /* also dma_copy(): chunked 1-D copies on one TID */
#include "depthwise.c"
#include "elementwise.c"

#include "mobilenetv2_image.h" /* the records of the image, shared with the host */

extern char __l2_heap_start[], __l1_heap_start[];
static hdr_t *hdr;
static int8_t *l1;
static uint32_t l1_size;

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

static void fail(const char *what, int op)
{
  printf("mobilenetv2: error: %s (op %d)\n", what, op);
  exit(2);
}

/* Carve TCDM buffers from the heap (word aligned), checking the planner's size. */
static int8_t *l1_top;
static int cur_op;
static int8_t *l1_take(uint32_t size)
{
  int8_t *p = l1_top;
  l1_top += (size + 3) & ~3u;
  if ((uint32_t)(l1_top - l1) > l1_size)
    fail("TCDM buffers exceed the heap", cur_op);
  return p;
}

static void dma_sync(uint32_t ext, void *loc, uint32_t size, int ext2loc)
{
  if (size)
    plp_dma_wait(dma_copy(ext, (uint32_t)loc, size, ext2loc));
}

/* -- team entries ---------------------------------------------------------- */
typedef struct {
  const int8_t *in, *in2, *w;
  const int32_t *bias, *mult_p;
  const uint8_t *shift_p;
  int8_t *out, *scratch;
  int h, w_, cin, cout, stride, relu, n, n_parts, part_stride, ho, top;
  int32_t mult, shift, mult_b, lo, hi, tile;
} kargs_t;

static void k_conv(void *a)
{
  kargs_t *k = a;
  conv3x3_s2_int8(k->in, k->w, k->bias, k->out, k->h, k->w_, k->cin, k->cout, k->mult, k->shift, k->relu,
                  k->scratch);
}

static void k_conv_rows(void *a)
{
  kargs_t *k = a;
  conv3x3_s2_rows_int8(k->in, k->w, k->bias, k->out, k->h, k->w_, k->cin, k->cout, k->ho, k->top, k->mult,
                       k->shift, k->relu, k->scratch);
}

static void k_dw(void *a)
{
  kargs_t *k = a;
  dw_conv3x3_int8(k->in, k->w, k->bias, k->mult_p, k->shift_p, k->out, k->h, k->w_, k->cin, k->stride, k->relu,
                  k->scratch);
}

static void k_pw_l2(void *a)
{
  kargs_t *k = a;
  pw_conv_int8_l2(k->in, k->w, k->bias, k->out, k->n, k->cin, k->cout, k->mult, k->shift, k->relu, k->scratch,
                  k->tile);
}

static void k_add(void *a)
{
  kargs_t *k = a;
  residual_add_int8(k->in, k->in2, k->out, k->n, k->mult, k->mult_b, k->shift);
}

static void k_pool(void *a)
{
  kargs_t *k = a;
  avgpool_int8(k->in, k->out, k->n, k->cin, k->mult, k->shift);
}

/* Row-split IMA layer: out[i] = clamp((s*mult + rnd) >> shift, lo, hi) with
 * s = sum over the n_parts int8 partial outputs (int16-exact); [lo, hi] is
 * [0, 127] (ReLU6) or [-128, 127] (iss.nn.mobilenetv2's calibration). */
static void k_psum(void *a)
{
  kargs_t *k = a;
  int start, end;
  k_split(k->n, 4, &start, &end);
  const int np = k->n_parts, ps = k->part_stride, relu = k->lo == 0;
  const int32_t mult = k->mult, shift = k->shift;
  const int8_t *in = k->in;
  int8_t *out = k->out;
#define PSUM_LOOP(SUM, RELU)                                                   \
  for (int i = start; i < end; i++)                                            \
    out[i] = (int8_t)k_requant(SUM, mult, shift, RELU);
#define P(t) in[(t) * ps + i]
  if (np == 2)
    if (relu) { PSUM_LOOP(P(0) + P(1), 1) } else { PSUM_LOOP(P(0) + P(1), 0) }
  else if (np == 3)
    if (relu) { PSUM_LOOP(P(0) + P(1) + P(2), 1) } else { PSUM_LOOP(P(0) + P(1) + P(2), 0) }
  else if (np == 4)
    if (relu) { PSUM_LOOP(P(0) + P(1) + P(2) + P(3), 1) } else { PSUM_LOOP(P(0) + P(1) + P(2) + P(3), 0) }
  else
    for (int i = start; i < end; i++) {
      int32_t s = 0;
      for (int t = 0; t < np; t++)
        s += P(t);
      out[i] = (int8_t)k_requant(s, mult, shift, relu);
    }
#undef P
#undef PSUM_LOOP
  pi_cl_team_barrier();
}

/* -- ops ------------------------------------------------------------------- */
/* 3x3 layer on the cores (first conv: stride 2, dense; or depthwise) in bands
 * of output rows. The kernels pad every edge: a band after the first starts
 * one output row early (input row (o0-1)*s) and drops that row. */
static void op_conv_cores(const op_t *op, int dw)
{
  const int H = op->h, W = op->w, C = op->cin, Co = op->cout, s = op->stride;
  const int Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1, R = op->tile;
  kargs_t k = {0};
  int wsize = dw ? DW4_SIZE(C) : PW4_SIZE(9 * C, Co);
  k.w = l1_take(wsize);
  k.bias = (const int32_t *)l1_take(4 * Co);
  dma_sync(op->wgt, (void *)k.w, wsize, 1);
  dma_sync(op->bias, (void *)k.bias, 4 * Co, 1);
  if (dw) {
    k.mult_p = (const int32_t *)l1_take(4 * C);
    k.shift_p = (const uint8_t *)l1_take(C);
    dma_sync(op->mult_p, (void *)k.mult_p, 4 * C, 1);
    dma_sync(op->shift_p, (void *)k.shift_p, C, 1);
  }
  int8_t *in = l1_take((R * s + 2) * W * C);
  int8_t *out = l1_take((R + 2) * Wo * Co);
  k.scratch = dw ? l1_take(pi_cl_cluster_nb_cores() * DW_SCRATCH_SIZE(R * s + 2, W))
                 : l1_take(pi_cl_cluster_nb_cores() * CONV3X3_SCRATCH_SIZE(C));
  k.in = in;
  k.out = out;
  k.w_ = W;
  k.cin = C;
  k.cout = Co;
  k.stride = s;
  k.relu = op->relu;
  k.mult = op->mult;
  k.shift = op->shift;
  for (int o0 = 0; o0 < Ho; o0 += R) {
    int o1 = imin(Ho, o0 + R);
    int a = o0 ? (o0 - 1) * s : 0, e = imin(H, (o1 - 1) * s + 2), skip = o0 ? 1 : 0;
    dma_sync(op->in + a * W * C, in, (e - a) * W * C, 1);
    k.h = e - a;
    pi_cl_team_fork(0, dw ? k_dw : k_conv, &k);
    dma_sync(op->out + o0 * Wo * Co, out + skip * Wo * Co, (o1 - o0) * Wo * Co, 0);
  }
}

static void op_pw_cores(const op_t *op)
{
  kargs_t k = {0};
  k.in = (const int8_t *)op->in;
  k.w = (const int8_t *)op->wgt;
  k.bias = (const int32_t *)op->bias;
  k.out = (int8_t *)op->out;
  k.n = op->h * op->w;
  k.cin = op->cin;
  k.cout = op->cout;
  k.mult = op->mult;
  k.shift = op->shift;
  k.relu = op->relu;
  k.tile = op->tile;
  k.scratch = l1_take(PW_L2_BUF_SIZE(op->cin, op->cout, op->tile));
  pi_cl_team_fork(0, k_pw_l2, &k);
}

/* Classifier on the cores: chunks of op.tile output channels (a chunk of
 * output groups is contiguous in the PW4 layout), double-buffered: the DMA
 * brings chunk i+1's weights while the cores compute chunk i (fc_int8). */
static void k_fc(void *a)
{
  kargs_t *k = a;
  fc_int8(k->in, k->w, k->bias, k->out, k->cin, k->cout, k->mult, k->shift, k->relu);
}

static void op_fc_cores(const op_t *op)
{
  const int K4 = KERNELS_ROUND4(op->cin), chunk = op->tile, cout = op->cout;
  int8_t *w[2], *in, *out;
  int32_t *bias[2];
  w[0] = l1_take(K4 * chunk);
  w[1] = l1_take(K4 * chunk);
  bias[0] = (int32_t *)l1_take(4 * chunk);
  bias[1] = (int32_t *)l1_take(4 * chunk);
  in = l1_take(op->cin);
  out = l1_take(cout);
  dma_sync(op->in, in, op->cin, 1);
  kargs_t k = {0};
  k.in = in;
  k.cin = op->cin;
  k.mult = op->mult;
  k.shift = op->shift;
  k.relu = op->relu;
  int tw = dma_copy(op->wgt, (uint32_t)w[0], K4 * KERNELS_ROUND4(imin(chunk, cout)), 1);
  int tb = dma_copy(op->bias, (uint32_t)bias[0], 4 * imin(chunk, cout), 1);
  for (int i = 0, c0 = 0; c0 < cout; i++, c0 += chunk) {
    plp_dma_wait(tw);
    plp_dma_wait(tb);
    const int c1 = c0 + chunk;
    if (c1 < cout) {
      const int n1 = imin(chunk, cout - c1);
      tw = dma_copy(op->wgt + c1 * K4, (uint32_t)w[(i + 1) & 1], K4 * KERNELS_ROUND4(n1), 1);
      tb = dma_copy(op->bias + 4 * c1, (uint32_t)bias[(i + 1) & 1], 4 * n1, 1);
    }
    k.cout = imin(chunk, cout - c0);
    k.w = w[i & 1];
    k.bias = bias[i & 1];
    k.out = out + c0;
    pi_cl_team_fork(0, k_fc, &k);
  }
  dma_sync(op->out, out, cout, 0);
}

static void op_add(const op_t *op)
{
  const int n = op->h * op->w * op->cout, chunk = op->tile;
  int8_t *a = l1_take(chunk), *b = l1_take(chunk), *o = l1_take(chunk);
  kargs_t k = {0};
  k.in = a;
  k.in2 = b;
  k.out = o;
  k.mult = op->mult;
  k.mult_b = op->mult_b;
  k.shift = op->shift;
  for (int i = 0; i < n; i += chunk) {
    int c = imin(chunk, n - i);
    int t0 = dma_copy(op->in + i, (uint32_t)a, c, 1);
    int t1 = dma_copy(op->in2 + i, (uint32_t)b, c, 1);
    plp_dma_wait(t0);
    plp_dma_wait(t1);
    k.n = c;
    pi_cl_team_fork(0, k_add, &k);
    dma_sync(op->out + i, o, c, 0);
  }
}

static void op_pool(const op_t *op)
{
  const int n = op->h * op->w, C = op->cin;
  int8_t *in = l1_take(n * C), *out = l1_take(C);
  dma_sync(op->in, in, n * C, 1);
  kargs_t k = {0};
  k.in = in;
  k.out = out;
  k.n = n;
  k.cin = C;
  k.mult = op->mult;
  k.shift = op->shift;
  pi_cl_team_fork(0, k_pool, &k);
  dma_sync(op->out, out, C, 0);
}

#ifndef MNV2_CORES_ONLY
static const tile_rec_t *tile_rec(int i)
{
  return (const tile_rec_t *)(hdr->map_blob + MAP_BLOB_HEADER + i * sizeof(tile_rec_t));
}

/* Depthwise on the DWA in bands of op.tile output rows (halo rows loaded;
 * padding only at the image's edges). */
static void op_dw_dwa(const op_t *op)
{
  const int H = op->h, W = op->w, C = op->cin, s = op->stride;
  const int Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1, R = op->tile;
  int8_t *w = l1_take(9 * C);
  int32_t *bias = (int32_t *)l1_take(4 * C), *mult = (int32_t *)l1_take(4 * C);
  uint8_t *shift = (uint8_t *)l1_take(C);
  int8_t *in = l1_take((R * s + 2) * W * C), *out = l1_take((R + 2) * Wo * C);
  int t0 = dma_copy(op->wgt, (uint32_t)w, 9 * C, 1);
  int t1 = dma_copy(op->bias, (uint32_t)bias, 4 * C, 1);
  int t2 = dma_copy(op->mult_p, (uint32_t)mult, 4 * C, 1);
  int t3 = dma_copy(op->shift_p, (uint32_t)shift, C, 1);
  plp_dma_wait(t0);
  plp_dma_wait(t1);
  plp_dma_wait(t2);
  plp_dma_wait(t3);
  dwa_job_t j = {in, out, w, bias, mult, shift, 0, W, C, s, 0, op->relu ? 0 : -128, 127, 0, 0};
  for (int o0 = 0; o0 < Ho; o0 += R) {
    int o1 = imin(Ho, o0 + R);
    int a = imax(0, o0 * s - 1), e = imin(H, (o1 - 1) * s + 2);
    int pad = DWA_PAD_LEFT | DWA_PAD_RIGHT | (o0 * s - 1 < 0 ? DWA_PAD_TOP : 0) |
              ((o1 - 1) * s + 1 >= H ? DWA_PAD_BOTTOM : 0);
    dma_sync(op->in + a * W * C, in, (e - a) * W * C, 1);
    j.h = e - a;
    j.padding = pad;
    dwa_start(&j);
    dwa_wait();
    dma_sync(op->out + o0 * Wo * C, out, (o1 - o0) * Wo * C, 0);
  }
}

/* Pointwise (or classifier) on the IMAs, blocks of op.tile pixels. */
static void op_pw_ima(const op_t *op)
{
  const int n_pix = op->h * op->w, cin = op->cin, cout = op->cout, tp = op->tile, nrt = op->n_row_tiles;
  const int isz = KERNELS_ROUND4(tp * cin), osz = KERNELS_ROUND4(tp * cout);
  int8_t *bin[2], *bout[2], *psum = 0;
  bin[0] = l1_take(isz);
  bin[1] = l1_take(isz);
  bout[0] = l1_take(osz);
  bout[1] = l1_take(osz);
  if (nrt > 1)
    psum = l1_take(nrt * osz);
  const uint16_t *order = (const uint16_t *)hdr->order + op->tile_first;
  const int nb = (n_pix + tp - 1) / tp;
  int tid_out[2] = {-1, -1};
  dma_sync(op->in, bin[0], imin(tp, n_pix) * cin, 1);
  kargs_t k = {0};
  k.n_parts = nrt;
  k.part_stride = osz;
  k.in = psum;
  k.mult = op->mult;
  k.shift = op->shift;
  k.lo = op->lo;
  k.hi = op->hi;
  for (int b = 0; b < nb; b++) {
    const int p0 = b * tp, cnt = imin(tp, n_pix - p0);
    int8_t *in = bin[b & 1], *out = bout[b & 1];
    if (tid_out[b & 1] >= 0) {
      plp_dma_wait(tid_out[b & 1]);
      tid_out[b & 1] = -1;
    }
    for (int i = 0; i < op->tile_count; i++) {
      const tile_rec_t *t = tile_rec(order[i]);
      const int a = t->array;
      int8_t *dst = (nrt > 1 ? psum + t->row_tile * osz : out) + t->col_off;
      ima_wait(a);
      ima_adc_range(a, op->adc_low, op->adc_high);
      ima_steps(a, cnt, cin, 1, 0, cnt, cout, 1, 0);
      ima_job(a, t->x, t->y, t->width, t->height, (uint32_t)(in + t->row_off), 0, (uint32_t)dst, t->height, 1,
              cnt);
      ima_trigger(a);
    }
    int tid_in = -1;
    if (b + 1 < nb)
      tid_in = dma_copy(op->in + (p0 + tp) * cin, (uint32_t)bin[(b + 1) & 1], imin(tp, n_pix - p0 - tp) * cin, 1);
    for (int i = 0; i < op->tile_count; i++)
      ima_wait(tile_rec(order[i])->array);
    if (nrt > 1) {
      k.out = out;
      k.n = cnt * cout;
      pi_cl_team_fork(0, k_psum, &k);
    }
    tid_out[b & 1] = dma_copy(op->out + p0 * cout, (uint32_t)out, cnt * cout, 0);
    if (tid_in >= 0)
      plp_dma_wait(tid_in);
  }
  for (int i = 0; i < 2; i++)
    if (tid_out[i] >= 0)
      plp_dma_wait(tid_out[i]);
}

/* -- chains: consecutive layers overlapped over row bands -------------------
 * The host groups consecutive ops into a chain (op.chain = its length, on the
 * first op) and gives each member op.tile output rows per band and op.lag.
 * Step s runs band s - lag of every member at once: the first conv and the
 * residual add on the cores, depthwise on the DWA, pointwise on the IMAs.
 * Every member reads its band (with halo rows) from L2 and writes it back to
 * L2 through double buffers: at the start of step s core 0 starts the loads
 * of step s+1, at its end the stores of step s. The host's lags guarantee
 * that a band's inputs were computed two steps earlier, so their stores were
 * pushed before the loads that read them (the DMA serves in push order). */

typedef struct {
  const op_t *op;
  int ho, wo, nb, in_bytes_row, out_bytes_row;
  int8_t *in[2], *in2[2], *out[2];
  kargs_t k;
  dwa_job_t j;
  uint32_t t_first, t_last;
} stage_t;

/* Input rows [a, e) of band b (output rows [o0, o1)); returns the DWA padding
 * or, for the first conv, whether the band starts at the top edge. */
static int band_in_rows(const stage_t *st, int b, int *o0, int *o1, int *a, int *e)
{
  const op_t *op = st->op;
  const int R = op->tile, H = op->h;
  *o0 = b * R;
  *o1 = imin(st->ho, *o0 + R);
  if (op->kind == KIND_CONV) {
    *a = *o0 ? 2 * *o0 - 1 : 0;
    *e = imin(H, 2 * (*o1 - 1) + 2);
    return *o0 == 0;
  }
  if (op->kind == KIND_DW) {
    const int s = op->stride;
    *a = imax(0, *o0 * s - 1);
    *e = imin(H, (*o1 - 1) * s + 2);
    return DWA_PAD_LEFT | DWA_PAD_RIGHT | (*o0 * s - 1 < 0 ? DWA_PAD_TOP : 0) |
           ((*o1 - 1) * s + 1 >= H ? DWA_PAD_BOTTOM : 0);
  }
  *a = *o0;
  *e = *o1;
  return 0;
}

static int band_of(const stage_t *st, int s) { return s - st->op->lag; }
static int band_live(const stage_t *st, int b) { return b >= 0 && b < st->nb; }

static void chain_load(stage_t *st, int n, int s)
{
  for (int i = 0; i < n; i++) {
    const int b = band_of(&st[i], s);
    if (!band_live(&st[i], b))
      continue;
    int o0, o1, a, e;
    band_in_rows(&st[i], b, &o0, &o1, &a, &e);
    const int rb = st[i].in_bytes_row;
    dma_push(st[i].op->in + a * rb, (uint32_t)st[i].in[b & 1], (e - a) * rb, 1);
    if (st[i].op->kind == KIND_ADD)
      dma_push(st[i].op->in2 + a * rb, (uint32_t)st[i].in2[b & 1], (e - a) * rb, 1);
  }
}

static void chain_pw_job(const stage_t *st, const tile_rec_t *t, int b, int cnt)
{
  const op_t *op = st->op;
  const int a = t->array;
  ima_wait(a);
  ima_adc_range(a, op->adc_low, op->adc_high);
  ima_steps(a, cnt, op->cin, 1, 0, cnt, op->cout, 1, 0);
  ima_job(a, t->x, t->y, t->width, t->height, (uint32_t)(st->in[b & 1] + t->row_off), 0,
          (uint32_t)(st->out[b & 1] + t->col_off), t->height, 1, cnt);
  ima_trigger(a);
}

static void chain_dw_start(stage_t *x, int b, int rows, int pad)
{
  x->j.in = x->in[b & 1];
  x->j.out = x->out[b & 1];
  x->j.h = rows;
  x->j.padding = pad;
  dwa_start(&x->j);
}

static void op_chain(const op_t *first)
{
  const int n = first->chain;
  if (n > MAX_CHAIN)
    fail("chain longer than MAX_CHAIN", cur_op);
  static stage_t st[MAX_CHAIN]; /* static: the cores' stacks are small */
  const uint32_t t_start = mcycle();
  int steps = 0;
  /* weights and buffers */
  for (int i = 0; i < n; i++) {
    stage_t *x = &st[i];
    const op_t *op = first + i;
    const int s = op->kind == KIND_CONV ? 2 : op->kind == KIND_DW ? op->stride : 1;
    x->op = op;
    x->ho = (op->h - 1) / s + 1;
    x->wo = (op->w - 1) / s + 1;
    x->nb = (x->ho + op->tile - 1) / op->tile;
    x->in_bytes_row = op->w * op->cin;
    x->out_bytes_row = x->wo * op->cout;
    x->t_first = x->t_last = 0;
    const int rows_in = op->kind == KIND_CONV || op->kind == KIND_DW ? (op->tile - 1) * s + 3 : op->tile;
    for (int p = 0; p < 2; p++) {
      x->in[p] = l1_take(rows_in * x->in_bytes_row);
      x->out[p] = l1_take(op->tile * x->out_bytes_row);
      x->in2[p] = op->kind == KIND_ADD ? l1_take(rows_in * x->in_bytes_row) : 0;
    }
    kargs_t *k = &x->k;
    *k = (kargs_t){0};
    k->w_ = op->w;
    k->cin = op->cin;
    k->cout = op->cout;
    k->relu = op->relu;
    k->mult = op->mult;
    k->mult_b = op->mult_b;
    k->shift = op->shift;
    if (op->kind == KIND_CONV) {
      const int wsize = PW4_SIZE(9 * op->cin, op->cout);
      k->w = l1_take(wsize);
      k->bias = (const int32_t *)l1_take(4 * op->cout);
      k->scratch = l1_take(pi_cl_cluster_nb_cores() * CONV3X3_SCRATCH_SIZE(op->cin));
      dma_sync(op->wgt, (void *)k->w, wsize, 1);
      dma_sync(op->bias, (void *)k->bias, 4 * op->cout, 1);
    } else if (op->kind == KIND_DW) {
      const int C = op->cin;
      int8_t *w = l1_take(9 * C);
      int32_t *bias = (int32_t *)l1_take(4 * C), *mult = (int32_t *)l1_take(4 * C);
      uint8_t *shift = (uint8_t *)l1_take(C);
      int t = plp_dma_counter_alloc();
      dma_push(op->wgt, (uint32_t)w, 9 * C, 1);
      dma_push(op->bias, (uint32_t)bias, 4 * C, 1);
      dma_push(op->mult_p, (uint32_t)mult, 4 * C, 1);
      dma_push(op->shift_p, (uint32_t)shift, C, 1);
      plp_dma_wait(t);
      x->j = (dwa_job_t){0, 0, w, bias, mult, shift, 0, op->w, C, op->stride, 0, op->relu ? 0 : -128, 127, 0, 0};
    } else if (op->kind == KIND_PW) {
      if (op->unit != UNIT_IMA || op->n_row_tiles > 1)
        fail("chained pointwise layer not on the IMA or split into row tiles", cur_op + i);
    } else if (op->kind != KIND_ADD) {
      fail("op kind cannot be chained", cur_op + i);
    }
    steps = imax(steps, op->lag + x->nb);
  }
  int tid_in = plp_dma_counter_alloc(), tid_out[2] = {-1, -1};
  chain_load(st, n, 0);
  for (int s = 0; s < steps; s++) {
    plp_dma_wait(tid_in);
    if (tid_out[s & 1] >= 0)
      plp_dma_wait(tid_out[s & 1]); /* step s-2's stores: their buffers are reused now */
    tid_in = plp_dma_counter_alloc();
    chain_load(st, n, s + 1);
    const uint32_t t0 = mcycle();
    /* accelerators first; a job whose unit already runs one of this step
     * waits until the cores' work is forked and done */
    uint64_t busy = 0;
    int dwa_used = 0, deferred = 0;
    for (int i = 0; i < n; i++) {
      stage_t *x = &st[i];
      const int b = band_of(x, s);
      if (!band_live(x, b))
        continue;
      if (!x->t_first)
        x->t_first = t0;
      int o0, o1, a, e;
      const int pad = band_in_rows(x, b, &o0, &o1, &a, &e);
      if (x->op->kind == KIND_DW) {
        if (dwa_used) {
          deferred = 1;
          continue;
        }
        chain_dw_start(x, b, e - a, pad);
        dwa_used = 1;
      } else if (x->op->kind == KIND_PW) {
        const uint16_t *order = (const uint16_t *)hdr->order + x->op->tile_first;
        for (int t = 0; t < x->op->tile_count; t++) {
          const tile_rec_t *r = tile_rec(order[t]);
          if (busy >> r->array & 1) {
            deferred = 1;
            continue;
          }
          busy |= 1ull << r->array;
          chain_pw_job(x, r, b, (o1 - o0) * x->op->w);
        }
      }
    }
    for (int i = 0; i < n; i++) {
      stage_t *x = &st[i];
      const int b = band_of(x, s);
      if (!band_live(x, b) || x->op->unit != UNIT_CORES)
        continue;
      int o0, o1, a, e;
      const int top = band_in_rows(x, b, &o0, &o1, &a, &e);
      kargs_t *k = &x->k;
      k->in = x->in[b & 1];
      k->out = x->out[b & 1];
      if (x->op->kind == KIND_CONV) {
        k->h = e - a;
        k->ho = o1 - o0;
        k->top = top;
        pi_cl_team_fork(0, k_conv_rows, k);
      } else {
        k->in2 = x->in2[b & 1];
        k->n = (o1 - o0) * x->out_bytes_row;
        pi_cl_team_fork(0, k_add, k);
      }
    }
    if (deferred) { /* the second and later jobs of a unit, in chain order */
      uint64_t again = 0;
      dwa_used = 0;
      for (int i = 0; i < n; i++) {
        stage_t *x = &st[i];
        const int b = band_of(x, s);
        if (!band_live(x, b))
          continue;
        int o0, o1, a, e;
        const int pad = band_in_rows(x, b, &o0, &o1, &a, &e);
        if (x->op->kind == KIND_DW) {
          if (dwa_used++ == 0)
            continue;
          chain_dw_start(x, b, e - a, pad);
        } else if (x->op->kind == KIND_PW) {
          const uint16_t *order = (const uint16_t *)hdr->order + x->op->tile_first;
          for (int t = 0; t < x->op->tile_count; t++) {
            const tile_rec_t *r = tile_rec(order[t]);
            if (again >> r->array & 1)
              chain_pw_job(x, r, b, (o1 - o0) * x->op->w); /* waits for the array */
            again |= 1ull << r->array;
          }
        }
      }
    }
    dwa_wait();
    for (int i = 0; i < n; i++) {
      stage_t *x = &st[i];
      const int b = band_of(x, s);
      if (!band_live(x, b) || x->op->kind != KIND_PW)
        continue;
      const uint16_t *order = (const uint16_t *)hdr->order + x->op->tile_first;
      for (int t = 0; t < x->op->tile_count; t++)
        ima_wait(tile_rec(order[t])->array);
    }
    /* stores of step s */
    tid_out[s & 1] = plp_dma_counter_alloc();
    const uint32_t t1 = mcycle();
    for (int i = 0; i < n; i++) {
      stage_t *x = &st[i];
      const int b = band_of(x, s);
      if (!band_live(x, b))
        continue;
      int o0, o1, a, e;
      band_in_rows(x, b, &o0, &o1, &a, &e);
      dma_push(x->op->out + o0 * x->out_bytes_row, (uint32_t)x->out[b & 1], (o1 - o0) * x->out_bytes_row, 0);
      x->t_last = t1;
    }
  }
  plp_dma_wait(tid_in);
  for (int p = 0; p < 2; p++)
    if (tid_out[p] >= 0)
      plp_dma_wait(tid_out[p]);
  const uint32_t t_end = mcycle();
  uint32_t *cycles = (uint32_t *)hdr->cycles;
  for (int i = 0; i < n; i++) /* each member's span, first band to last; spans overlap */
    cycles[cur_op + i] = (i == n - 1 ? t_end : st[i].t_last) - st[i].t_first;
  cycles[hdr->n_ops + cur_op] = t_end - t_start; /* the chain's own time */
  for (int i = 0; i < n; i++)
    cycles[2 * hdr->n_ops + cur_op + i] = st[i].t_first;
}

/* Program every tile's window: core c programs the arrays a with a % cores == c. */
static void k_program(void *arg)
{
  (void)arg;
  const prog_t *p = (const prog_t *)hdr->prog;
  const int core = pi_core_id(), nc = pi_cl_team_nb_cores();
  for (uint32_t i = 0; i < hdr->n_prog; i++)
    if ((int)(p[i].array % nc) == core)
      ima_program(p[i].array, p[i].x, p[i].y, p[i].width, p[i].height, (const uint32_t *)p[i].words);
  for (uint32_t i = 0; i < hdr->n_prog; i++)
    if ((int)(p[i].array % nc) == core)
      ima_wait(p[i].array);
  pi_cl_team_barrier();
}
#endif

static void run_op(const op_t *op)
{
  switch (op->kind) {
  case KIND_CONV:
    op_conv_cores(op, 0);
    return;
  case KIND_DW:
    if (op->unit == UNIT_CORES) {
      op_conv_cores(op, 1);
      return;
    }
#ifndef MNV2_CORES_ONLY
    if (op->unit == UNIT_DWA) {
      op_dw_dwa(op);
      return;
    }
#endif
    break;
  case KIND_PW:
  case KIND_FC:
    if (op->unit == UNIT_CORES) {
      if (op->kind == KIND_FC)
        op_fc_cores(op);
      else
        op_pw_cores(op);
      return;
    }
#ifndef MNV2_CORES_ONLY
    if (op->unit == UNIT_IMA) {
      op_pw_ima(op);
      return;
    }
#endif
    break;
  case KIND_ADD:
    op_add(op);
    return;
  case KIND_POOL:
    op_pool(op);
    return;
  }
  fail("op kind/unit not supported by this build", cur_op);
}

int main(void)
{
  hdr = (hdr_t *)__l2_heap_start;
  if (hdr->magic != MNV2_MAGIC || hdr->version != MNV2_VERSION) {
    printf("mobilenetv2: no network image at %p (the host writes it: iss/study/mobilenetv2.py)\n", hdr);
    return 1;
  }
  l1 = (int8_t *)__l1_heap_start;
  l1_size = hdr->l1_size;
  uint32_t t = mcycle();
  if (hdr->n_prog) {
#ifdef MNV2_CORES_ONLY
    fail("IMA weights given to the cores-only build", -1);
#else
    pi_cl_team_fork(0, k_program, 0);
#endif
  }
  hdr->prog_cycles = mcycle() - t;
  const op_t *ops = (const op_t *)hdr->ops;
  uint32_t *cycles = (uint32_t *)hdr->cycles;
  uint32_t t0 = mcycle();
  for (uint32_t i = 0; i < hdr->n_ops; i++) {
    uint32_t s = mcycle();
    cur_op = (int)i;
    l1_top = l1;
    if (ops[i].chain > 1) {
#ifdef MNV2_CORES_ONLY
      fail("chained ops given to the cores-only build", cur_op);
#else
      op_chain(&ops[i]);
      i += ops[i].chain - 1;
#endif
      continue;
    }
    run_op(&ops[i]);
    cycles[i] = mcycle() - s;
    cycles[2 * hdr->n_ops + i] = s;
  }
  hdr->total_cycles = mcycle() - t0;
  hdr->status = 1;
  printf("mobilenetv2: %u ops, %u cycles\n", (unsigned)hdr->n_ops, (unsigned)hdr->total_cycles);
  return 0;
}
